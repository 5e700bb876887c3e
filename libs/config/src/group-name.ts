/**
 * The one rule for a group name, wherever a name enters: the ID token's groups claim, invites, the admin API, both
 * command lines, and the group lists in the environment (ADMIN_GROUPS, OIDC_ALLOWED_GROUPS,
 * FEDERATION_PASSKEY_REQUIRED_GROUPS). Every decision and every stored copy then compares the same string, so a
 * check on one spelling and a store of another (how " airflow-admins" once skipped the passkey step) cannot happen.
 *
 * - Unicode NFC, then the whitespace around the name removed: "café" typed either way, " ops\t" and "ops" are one.
 * - Case is kept and compared exactly: "Ops" and "ops" are two groups, here and in Airflow's role_mapping alike.
 *   Folding case would merge groups a provider keeps apart.
 * - What is left must be letters, digits (any script), combining marks and . _ : @ -, starting with a letter or a
 *   digit, at most 128 characters. Inner whitespace and control or invisible characters are never normalised away:
 *   such a name is refused (a clear error for an admin; left out of every decision for a provider's claim).
 */
const GROUP_NAME = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}._:@-]{0,127}$/u;

export const GROUP_NAME_RULE =
  'letters, digits and . _ : @ - (no spaces inside), starting with a letter or digit, at most 128 characters';

/** The stored and compared form of a group name, or undefined when the name is not usable under the rule. */
export function canonicalGroupName(raw: string): string | undefined {
  const name = raw.normalize('NFC').trim();
  return GROUP_NAME.test(name) ? name : undefined;
}

/**
 * A comma-separated group list from the environment, each name in its canonical form (duplicates once, order kept).
 * `*` is kept as is where `allowStar` says it means "everyone". A name the rule refuses is a start-up problem.
 */
export function parseGroupList(
  variable: string,
  raw: string | undefined,
  problems: string[],
  allowStar = false,
): string[] {
  const names: string[] = [];
  for (const entry of (raw ?? '').split(',')) {
    if (!entry.trim()) continue;
    const name = allowStar && entry.trim() === '*' ? '*' : canonicalGroupName(entry);
    if (name === undefined)
      problems.push(
        `${variable}: ${JSON.stringify(entry.trim().slice(0, 40))} is not a group name (${GROUP_NAME_RULE})`,
      );
    else if (!names.includes(name)) names.push(name);
  }
  return names;
}
