import { Injectable } from '@nestjs/common';
import { ServiceAccountsService, sessionsEndedWords, tokenGeneration, UsersService } from '@app/accounts';
import { AppError, ErrorCode } from '@app/errors';
import { LOGIN_CLIENT_ID, TokenVerifierService, VerifiedAccessToken } from '@app/tokens';
import { PasskeysService } from '@app/webauthn';
import type { Principal } from './principal';

/**
 * Turns a Bearer access token into the principal behind it: verifies the signature and claims, then re-reads the
 * account (and, for a person, the passkey the token was issued for). Token claims are a cache, not an authority.
 *
 * No cache of its own: the re-read costs one or two primary-key lookups (see bench/principal-reread.mjs), and a
 * cache would reopen the window in which a revoked principal still acts.
 */
@Injectable()
export class PrincipalService {
  constructor(
    private readonly verifier: TokenVerifierService,
    private readonly users: UsersService,
    private readonly passkeys: PasskeysService,
    private readonly serviceAccounts: ServiceAccountsService,
  ) {}

  async authenticate(token: string): Promise<Principal> {
    const claims = await this.verifier.verify(token);
    // An agent's token for a person is for Airflow, within its scope: never the person's own access to this API.
    if (claims.act !== undefined || claims.delegation_id !== undefined)
      throw new AppError(ErrorCode.Unauthenticated, 'a delegated token is for Airflow only', 'delegated_token');
    return claims.client_id === LOGIN_CLIENT_ID ? this.person(claims) : this.serviceAccount(claims);
  }

  private async person(claims: VerifiedAccessToken): Promise<Principal> {
    // Every sign-in token names the passkey it came from; one without it cannot be checked, so it is refused.
    if (typeof claims.passkey_id !== 'string' || !claims.passkey_id)
      throw new AppError(ErrorCode.Unauthenticated, 'access token is invalid', 'token_without_passkey');
    const [user, passkey] = await Promise.all([
      this.users.findById(claims.sub),
      this.passkeys.findById(claims.passkey_id),
    ]);
    if (!user) throw new AppError(ErrorCode.AccountUnknown, 'this account no longer exists');
    if (user.disabledAt) throw new AppError(ErrorCode.AccountDisabled, 'this account is disabled');
    requireCurrentGeneration(claims, user, 'session');
    if (!passkey || passkey.userId !== user.id || passkey.revokedAt) {
      throw new AppError(
        ErrorCode.PasskeyRevoked,
        'the passkey this sign-in used was revoked: sign in again with another passkey',
      );
    }
    if (passkey.flaggedAt)
      throw new AppError(
        ErrorCode.PasskeyFlagged,
        'the passkey this sign-in used was blocked after a security check; ask an administrator',
      );
    return { kind: 'user', id: user.id, name: user.username, groups: user.groups, scopes: [], token: claims };
  }

  private async serviceAccount(claims: VerifiedAccessToken): Promise<Principal> {
    const account = await this.serviceAccounts.findById(claims.sub);
    // The client id is part of the identity: a token whose client_id does not match its subject is not ours.
    if (!account || account.clientId !== claims.client_id)
      throw new AppError(ErrorCode.AccountUnknown, 'this service account no longer exists');
    if (account.disabledAt) throw new AppError(ErrorCode.AccountDisabled, 'this service account is disabled');
    requireCurrentGeneration(claims, account, 'token');
    return {
      kind: 'service_account',
      id: account.id,
      name: account.name,
      groups: account.groups,
      scopes: effectiveScopes(account.scopes, claims.scope),
      token: claims,
    };
  }
}

/**
 * A token issued before its account's sessions were ended for good (disabled, passkey flagged, signed out at the
 * provider, secret rotated) stays refused after the account is back: only a new sign-in or grant carries the
 * current generation.
 */
function requireCurrentGeneration(
  claims: VerifiedAccessToken,
  account: { sessionGeneration: number; sessionsEndedReason: string | null },
  what: string,
): void {
  if (tokenGeneration(claims) === account.sessionGeneration) return;
  const why = sessionsEndedWords(account.sessionsEndedReason);
  const message = `this ${what} was ended because ${why}: ${what === 'session' ? 'sign in again' : 'get a new token'}`;
  throw new AppError(ErrorCode.SessionEnded, message, `stale_session_${account.sessionsEndedReason ?? 'unknown'}`);
}

/**
 * The account's current scopes, narrowed to those its token was issued with when the token names any: removing a
 * scope takes effect at once, and a token never gains a scope it was not issued with. (A token without the claim
 * was issued before scopes existed or by a grant that does not state them; the current scopes alone decide.)
 */
function effectiveScopes(current: string[], tokenScope: string | undefined): string[] {
  if (tokenScope === undefined) return current;
  const granted = new Set(tokenScope.split(' ').filter(Boolean));
  return current.filter((s) => granted.has(s));
}
