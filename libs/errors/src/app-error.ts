/** Every failure the service reports on purpose. Mapped to an HTTP status in exactly one place (the app's AppErrorFilter). */
export enum ErrorCode {
  InvalidRequest = 'invalid_request',
  InvalidInvite = 'invalid_invite',
  InvalidChallenge = 'invalid_challenge',
  RegistrationFailed = 'registration_failed',
  AuthenticationFailed = 'authentication_failed',
  Unauthenticated = 'unauthenticated',
  /** A valid token whose account (person or service account) is disabled now. */
  AccountDisabled = 'account_disabled',
  /** A valid token whose account no longer exists. */
  AccountUnknown = 'account_unknown',
  /** A person's token whose passkey (its `passkey_id`) was revoked since, or no longer exists. */
  PasskeyRevoked = 'passkey_revoked',
  /** A person's token whose passkey was flagged (possible clone) since; an admin can review and unflag it. */
  PasskeyFlagged = 'passkey_flagged',
  /**
   * A token issued before its account's sessions were ended for good (disabled, passkey flagged, signed out at the
   * provider, secret rotated): refused even once the account is back; sign in again.
   */
  SessionEnded = 'session_ended',
  /** A passkey the authenticator policy no longer allows for the person's groups, after its grace period. */
  AuthenticatorPolicy = 'authenticator_policy',
  /** The change would leave no enabled person in an admin group with an active passkey. */
  LastAdmin = 'last_admin',
  /** The caller is signed in, but this action needs a fresh, user-verified passkey assertion. */
  StepUpRequired = 'step_up_required',
  Forbidden = 'forbidden',
  /** A provider sign-in whose groups grant no Airflow role: refused before anything is stored. */
  NoAirflowRole = 'no_role',
  /** A service account's current scopes do not cover the request (RFC 6750 §3.1). */
  InsufficientScope = 'insufficient_scope',
  NotFound = 'not_found',
  Conflict = 'conflict',
  /** Too many attempts for what was attacked (client, credential, address); the answer carries Retry-After. */
  RateLimited = 'rate_limited',
  /** The service cannot sign tokens (e.g. its signing key cannot be decrypted): an operator must act. */
  SigningUnavailable = 'signing_key_unavailable',
  /** The OpenID provider could not be reached or answered nonsense: sign-in through it is not possible now. */
  IdpUnavailable = 'idp_unavailable',
}

export const ERROR_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.InvalidInvite]: 400,
  [ErrorCode.InvalidChallenge]: 400,
  [ErrorCode.RegistrationFailed]: 400,
  [ErrorCode.AuthenticationFailed]: 401,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.AccountDisabled]: 401,
  [ErrorCode.AccountUnknown]: 401,
  [ErrorCode.PasskeyRevoked]: 401,
  [ErrorCode.PasskeyFlagged]: 401,
  [ErrorCode.SessionEnded]: 401,
  [ErrorCode.AuthenticatorPolicy]: 401,
  [ErrorCode.StepUpRequired]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NoAirflowRole]: 403,
  [ErrorCode.InsufficientScope]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.LastAdmin]: 409,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.SigningUnavailable]: 503,
  [ErrorCode.IdpUnavailable]: 503,
};

export class AppError extends Error {
  /**
   * @param message shown to the client: must not say more than the client may know (e.g. whether a user exists).
   * @param reason machine-readable cause for the audit trail; may be more specific than the message.
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly reason: string = code,
  ) {
    super(message);
    this.name = 'AppError';
  }
}
