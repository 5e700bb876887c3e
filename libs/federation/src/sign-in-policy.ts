/** The part of the provider settings that decides who may sign in and who must also use a passkey. */
export interface SignInPolicy {
  /** Only members of one of these may sign in; null: anyone the provider vouches for. */
  allowedGroups: readonly string[] | null;
  /** Whose sign-in a passkey must complete; `*` is everyone. */
  passkeyRequiredGroups: readonly string[];
}

export interface SignInDecision {
  allowed: boolean;
  passkeyRequired: boolean;
}

/**
 * The sign-in decision on a person's groups. Called with the canonical groups (groupsFromProvider), the very list
 * the account then stores and the token carries; the policy's lists are canonical too (parseGroupList), so an exact
 * comparison is the whole rule.
 */
export function decideSignIn(policy: SignInPolicy, groups: readonly string[]): SignInDecision {
  const required = policy.passkeyRequiredGroups;
  return {
    allowed: policy.allowedGroups === null || groups.some((g) => policy.allowedGroups!.includes(g)),
    passkeyRequired: required.includes('*') || groups.some((g) => required.includes(g)),
  };
}
