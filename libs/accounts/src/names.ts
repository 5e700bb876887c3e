import { AppError, ErrorCode } from '@app/errors';

const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** Usernames compare case-insensitively: "Alice" and "alice" are one account. */
export function normalizeUsername(raw: string): string {
  const username = raw.trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw new AppError(ErrorCode.InvalidRequest, 'username must be 1-128 characters: letters, digits and . _ @ + -');
  }
  return username;
}

export function normalizeGroups(raw: readonly string[] | undefined): string[] {
  const groups = [...new Set((raw ?? []).map((g) => g.trim()).filter(Boolean))];
  const bad = groups.find((g) => !GROUP.test(g));
  if (bad !== undefined) throw new AppError(ErrorCode.InvalidRequest, `group "${bad.slice(0, 40)}" has characters that are not allowed`);
  if (groups.length > 64) throw new AppError(ErrorCode.InvalidRequest, 'at most 64 groups');
  return groups.sort();
}
