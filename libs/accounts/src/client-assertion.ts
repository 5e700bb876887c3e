import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx } from '@app/persistence';
import { algorithmsFor, ClientJwk } from './client-keys';
import { ServiceAccount } from './service-account.entity';
import { UsedClientAssertion } from './used-client-assertion.entity';
import { UsedClientAssertionRepository } from './used-client-assertion.repository';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How far ahead an assertion's `exp` may be: it is a one-time proof, not a credential to keep (OIDC Core §9). */
export const CLIENT_ASSERTION_MAX_LIFETIME_SECONDS = 300;
/** The clocks of the client and the service may differ this much. */
const CLOCK_SKEW_SECONDS = 30;
const JTI_MAX = 256;

export interface VerifiedClientAssertion {
  jti: string;
  expiresAt: Date;
}

/** The client an assertion names, unchecked (its `sub`, RFC 7523 §3 B): whom to look up, and whom a limit counts. */
export function assertionSubject(assertion: string): string | undefined {
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' && sub.length > 0 && sub.length <= 64 ? sub : undefined;
  } catch {
    return undefined;
  }
}

function refused(reason: string): AppError {
  return new AppError(ErrorCode.Unauthenticated, 'client authentication failed', reason);
}

/**
 * private_key_jwt client authentication (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OIDC Core §9): the assertion is signed
 * by one of the account's registered keys with an algorithm of that key's type, names the account as `iss` and
 * `sub`, this service as `aud`, expires within minutes, and its `jti` is accepted once.
 */
@Injectable()
export class ClientAssertionVerifier {
  private readonly audiences: string[];

  constructor(
    private readonly used: UsedClientAssertionRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // The issuer identifies this authorization server (RFC 7523 §3 C); OIDC Core §9 names the token endpoint URL.
    this.audiences = [config.jwt.issuer, `${config.publicUrl}/v1/oauth/token`];
  }

  /** Signature and claims; not yet the jti's single use (see `accept`). Throws `Unauthenticated` with a reason. */
  async verify(account: ServiceAccount, assertion: string): Promise<VerifiedClientAssertion> {
    const keys = account.jwks?.keys ?? [];
    if (!keys.length) throw refused('no_client_keys');
    let header;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw refused('assertion_malformed');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || !keys.some((key) => algorithmsFor(key).includes(alg)))
      throw refused('assertion_alg_refused');
    const candidates = keys.filter(
      (key) => (header.kid === undefined || key.kid === header.kid) && algorithmsFor(key).includes(alg),
    );
    if (!candidates.length) throw refused('assertion_unknown_key');
    for (const key of candidates) {
      const verified = await this.verifyWith(key, alg, account.clientId, assertion);
      if (verified) return verified;
    }
    throw refused('assertion_bad_signature');
  }

  /** In the grant's unit of work: the jti is used up, so a second presentation fails (`assertion_replayed`). */
  async accept(tx: Tx, account: ServiceAccount, verified: VerifiedClientAssertion): Promise<void> {
    const used = Object.assign(new UsedClientAssertion(), {
      id: randomUUID(),
      jtiHash: createHash('sha256').update(`${account.clientId}\n${verified.jti}`).digest('hex'),
      expiresAt: verified.expiresAt,
    });
    if (!(await this.used.claim(tx, used))) throw refused('assertion_replayed');
  }

  purgeExpired(tx: Tx): Promise<number> {
    return this.used.purgeExpired(tx, this.clock.now());
  }

  /** Null when the signature is not this key's; a refusal when the signature is but a claim is wrong. */
  private async verifyWith(
    key: ClientJwk,
    alg: string,
    clientId: string,
    assertion: string,
  ): Promise<VerifiedClientAssertion | null> {
    const now = this.clock.now();
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, createPublicKey({ key, format: 'jwk' }), {
        algorithms: [alg],
        issuer: clientId,
        subject: clientId,
        audience: this.audiences,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now,
      }));
    } catch (error) {
      if (error instanceof errors.JWSSignatureVerificationFailed) return null;
      if (error instanceof errors.JWTExpired) throw refused('assertion_expired');
      if (error instanceof errors.JWTClaimValidationFailed) throw refused(`assertion_bad_${error.claim}`.slice(0, 64));
      throw refused('assertion_invalid');
    }
    const nowSeconds = now.getTime() / 1000;
    const exp = payload.exp!;
    if (exp > nowSeconds + CLIENT_ASSERTION_MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS)
      throw refused('assertion_lifetime_too_long');
    if (payload.iat !== undefined && payload.iat > nowSeconds + CLOCK_SKEW_SECONDS)
      throw refused('assertion_issued_in_future');
    const jti = payload.jti;
    if (typeof jti !== 'string' || !jti || jti.length > JTI_MAX) throw refused('assertion_bad_jti');
    return { jti, expiresAt: new Date((exp + CLOCK_SKEW_SECONDS) * 1000) };
  }
}
