/**
 * Why an account's sessions (a person) or tokens (a service account) were last ended for good. Each of these raises
 * the account's `sessionGeneration`; a token issued under an older generation is refused from then on, whatever
 * the account's state becomes (enabled again, passkey unflagged, groups re-added): the person signs in again, the
 * client asks for a new token.
 */
export enum SessionsEndedReason {
  AccountDisabled = 'account_disabled',
  PasskeyFlagged = 'passkey_flagged',
  ProviderLogout = 'idp_logout',
  SecretRotated = 'secret_rotated',
}

/** What a refusal says, after "this session was ended" / "this token was ended". */
export const SESSIONS_ENDED_WORDS: Record<SessionsEndedReason, string> = {
  [SessionsEndedReason.AccountDisabled]: 'the account was disabled',
  [SessionsEndedReason.PasskeyFlagged]: 'a passkey of this account was blocked after a security check',
  [SessionsEndedReason.ProviderLogout]: 'the person signed out at the identity provider',
  [SessionsEndedReason.SecretRotated]: 'the client secret was rotated',
};

/** The claim naming the generation a token was issued under. */
export const SESSION_GENERATION_CLAIM = 'session_gen';

/** The generation a token was issued under: 0 for tokens from before the claim (every account's first one). */
export function tokenGeneration(claims: Record<string, unknown>): number {
  const value = claims[SESSION_GENERATION_CLAIM];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

/** Words for the current reason, or a neutral phrase for an account whose reason was never recorded. */
export function sessionsEndedWords(reason: string | null): string {
  return SESSIONS_ENDED_WORDS[reason as SessionsEndedReason] ?? 'it was ended by an administrator';
}
