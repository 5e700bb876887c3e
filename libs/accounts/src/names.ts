import { canonicalGroupName, GROUP_NAME_RULE } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';

const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;
const MAX_GROUPS = 64;

/** Usernames compare case-insensitively: "Alice" and "alice" are one account. */
export function normalizeUsername(raw: string): string {
  const username = raw.trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw new AppError(ErrorCode.InvalidRequest, 'username must be 1-128 characters: letters, digits and . _ @ + -');
  }
  return username;
}

function distinctSorted(groups: string[]): string[] {
  const distinct = [...new Set(groups)].sort();
  if (distinct.length > MAX_GROUPS) throw new AppError(ErrorCode.InvalidRequest, `at most ${MAX_GROUPS} groups`);
  return distinct;
}

/**
 * Groups an administrator gives (invites, the admin API, both command lines), in the form every decision and every
 * stored copy uses (see canonicalGroupName): a name the rule refuses is a clear 400, never silently changed further.
 */
export function normalizeGroups(raw: readonly string[] | undefined): string[] {
  const groups: string[] = [];
  for (const entry of raw ?? []) {
    if (!entry.trim()) continue;
    const name = canonicalGroupName(entry);
    if (name === undefined) {
      throw new AppError(
        ErrorCode.InvalidRequest,
        `group ${JSON.stringify(entry.trim().slice(0, 40))} is not allowed: use ${GROUP_NAME_RULE}`,
      );
    }
    groups.push(name);
  }
  return distinctSorted(groups);
}

/**
 * The groups claim of a verified ID token, read once where it enters: each name in its canonical form; a name the
 * rule refuses (inner spaces, control characters, not a string) is left out of every decision and never stored, so
 * it can neither grant nor spare anything. `ignored` counts those, for the audit trail.
 */
export function groupsFromProvider(claim: unknown): { groups: string[]; ignored: number } {
  const entries = Array.isArray(claim) ? (claim as unknown[]) : [];
  const groups: string[] = [];
  let ignored = 0;
  for (const entry of entries) {
    const name = typeof entry === 'string' ? canonicalGroupName(entry) : undefined;
    if (name === undefined) ignored += 1;
    else groups.push(name);
  }
  return { groups: distinctSorted(groups), ignored };
}
