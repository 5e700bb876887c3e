import { Inject, Injectable } from '@nestjs/common';
import { createLocalJWKSet, errors, jwtVerify, JWTPayload } from 'jose';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { KeyStoreService } from './key-store.service';

export interface VerifiedAccessToken extends JWTPayload {
  sub: string;
  groups: string[];
  client_id: string;
  preferred_username?: string;
  passkey_id?: string;
  /** The account's session generation when the token was issued; absent on tokens from before the claim (0). */
  session_gen?: number;
  /** Space-separated OAuth scopes of a service account's token (RFC 9068 §2.2.3). */
  scope?: string;
  /** RFC 8693 §4.1: present on a delegated token (an agent acting for `sub`). */
  act?: unknown;
  delegation_id?: string;
}

const ALLOWED_ALGORITHMS = ['EdDSA', 'ES256'];

/** Verifies this service's own access tokens (Bearer on the admin and self-service APIs), per RFC 8725 / 9068. */
@Injectable()
export class TokenVerifierService {
  constructor(
    private readonly keyStore: KeyStoreService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The key set of the last published kids: jose imports each key once per set, so a set per call re-imports. */
  private keySet?: { kids: string; set: ReturnType<typeof createLocalJWKSet> };

  async verify(token: string): Promise<VerifiedAccessToken> {
    const jwks = await this.localKeySet();
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: ALLOWED_ALGORITHMS,
        typ: 'at+jwt',
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        requiredClaims: ['exp', 'iat', 'nbf', 'jti', 'sub', 'client_id'],
        clockTolerance: 30,
        // The clock that stamped iat/nbf/exp (TokenIssuerService) is the one that checks them.
        currentDate: this.clock.now(),
      });
      if (!Array.isArray(payload.groups) || payload.groups.some((g) => typeof g !== 'string')) {
        throw new AppError(ErrorCode.Unauthenticated, 'access token is invalid', 'token_bad_groups');
      }
      if (payload.scope !== undefined && typeof payload.scope !== 'string')
        throw new AppError(ErrorCode.Unauthenticated, 'access token is invalid', 'token_bad_scope');
      return payload as VerifiedAccessToken;
    } catch (error) {
      if (error instanceof AppError) throw error;
      const reason =
        error instanceof errors.JWTExpired
          ? 'token_expired'
          : error instanceof errors.JOSEError
            ? error.code
            : 'token_invalid';
      throw new AppError(
        ErrorCode.Unauthenticated,
        error instanceof errors.JWTExpired ? 'access token has expired' : 'access token is invalid',
        reason,
      );
    }
  }

  /** A kid is its key's RFC 7638 thumbprint, so the same kids mean the same keys; rotation changes the kids. */
  private async localKeySet(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const published = await this.keyStore.jwks();
    const kids = published.keys.map((k) => k.kid).join(' ');
    if (this.keySet?.kids !== kids) this.keySet = { kids, set: createLocalJWKSet(published) };
    return this.keySet.set;
  }
}
