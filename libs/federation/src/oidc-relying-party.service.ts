import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { createRemoteJWKSet, JWTPayload, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { APP_CONFIG, AppConfig, CLOCK, Clock, OidcConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';

/**
 * ID token signature algorithms accepted from the provider: asymmetric only. `none` and the HMAC family are never
 * accepted (an HMAC "signature" keyed with the provider's public key is the classic forgery).
 */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
const PROVIDER_TIMEOUT_SECONDS = 10;
/** Why the provider's answer was refused, for operators (audit reasons are short codes; this says which check). */
const log = new Logger('OpenIdProvider');
/** OpenID Connect Back-Channel Logout 1.0 §2.4: the member of `events` that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A logout token is sent the moment the provider ends the session: older ones are refused. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300;
/** Leeway for the provider's clock, on `iat` (and so on how long a used jti must be remembered). */
export const LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

/** What a logout token that passed every check names: the person (sub), their provider session (sid), or both. */
export interface VerifiedLogoutToken {
  issuer: string;
  subject?: string;
  sid?: string;
  jti: string;
}

/** The columns that hold them (users.idp_subject, idp_sessions.sid): a longer value can match nothing stored. */
const MAX_SUBJECT_LENGTH = 255;
export const MAX_SID_LENGTH = 255;

/** undefined: absent. null: present but not a non-empty string that fits its column (the token is refused). */
function optionalClaim(value: unknown, maxLength: number): string | undefined | null {
  if (value === undefined) return undefined;
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength ? value : null;
}

/** What a verified ID token says about the person (claims checked by openid-client: iss, aud, azp, exp, iat, nonce). */
export type IdTokenClaims = oidc.IDToken;

/** What /readyz says about the provider: never a reason to be unready (passkeys still work without it). */
export interface ProviderHealth {
  state: 'off' | 'pending' | 'ok' | 'failed';
  issuer?: string;
  /** For `failed`: the discovery URL and why, as in the log line. */
  error?: string;
}

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * The relying-party side of OpenID Connect, all protocol work done by openid-client: discovery (cached; retried
 * after a failure), the authorization URL with PKCE, the code exchange with state, nonce and ID token checks
 * (signature against the provider's JWKS, refetched when an unknown key id appears, so key rotation just works).
 */
@Injectable()
export class OidcRelyingParty implements OnApplicationBootstrap {
  private discovered?: Promise<oidc.Configuration>;
  private lastDiscovery: ProviderHealth = { state: 'pending' };
  /** The provider's keys for logout tokens (jose caches them and refetches when an unknown key id appears). */
  private logoutKeys?: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  get configured(): boolean {
    return this.config.oidc !== undefined;
  }

  /**
   * One start-up line saying provider sign-in is on, for which issuer and client, and whether discovery worked.
   * Not awaited: a provider that is down or slow must not hold up the service (passkeys work without it).
   */
  onApplicationBootstrap(): void {
    if (!this.config.oidc) return;
    const { issuer, clientId } = this.config.oidc;
    this.configuration(`provider sign-in on: issuer ${issuer}, client id ${clientId}; `).catch(() => undefined);
  }

  health(): ProviderHealth {
    if (!this.config.oidc) return { state: 'off' };
    return { ...this.lastDiscovery, issuer: this.config.oidc.issuer };
  }

  get settings(): OidcConfig {
    if (!this.config.oidc)
      throw new AppError(
        ErrorCode.NotFound,
        'sign-in through an identity provider is not configured here',
        'oidc_not_configured',
      );
    return this.config.oidc;
  }

  newRequest(): AuthorizationRequest {
    return { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
  }

  async authorizationUrl(request: AuthorizationRequest): Promise<string> {
    const configuration = await this.configuration();
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes.join(' '),
      state: request.state,
      nonce: request.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
    });
    return url.href;
  }

  /**
   * Exchanges the code the provider sent back (the callback's query string) and returns the ID token's verified
   * claims. Throws AppError: `idp_refused` (the provider said no), `id_token_invalid` (any check failed),
   * `idp_unavailable` (could not reach it or it answered nonsense).
   */
  async exchange(callbackQuery: string, request: AuthorizationRequest): Promise<IdTokenClaims> {
    const configuration = await this.configuration();
    const callback = new URL(this.settings.redirectUri);
    callback.search = callbackQuery;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims)
        throw new AppError(
          ErrorCode.AuthenticationFailed,
          'the identity provider sent no ID token',
          'id_token_missing',
        );
      return claims;
    } catch (error) {
      throw describeProviderError(error);
    }
  }

  /**
   * OpenID Connect Back-Channel Logout 1.0 §2.6: the logout token's signature (the provider's JWKS, asymmetric
   * algorithms only, via jose), iss, aud, iat (recent), jti, the `events` member, `sub` or `sid` (at least one), and
   * no `nonce`. Returns what it names; whose sessions that is, and that the jti is new, FederationService decides.
   * Throws AppError `logout_token_invalid` (400).
   */
  async verifyLogoutToken(token: string): Promise<VerifiedLogoutToken> {
    const configuration = await this.configuration();
    const metadata = configuration.serverMetadata();
    const refuse = (why: string) => {
      log.warn(`logout token refused: ${why}`);
      return new AppError(
        ErrorCode.InvalidRequest,
        `the logout token is not valid: ${why}`.slice(0, 200),
        'logout_token_invalid',
      );
    };
    if (!metadata.jwks_uri) throw refuse('the provider publishes no JWKS');
    this.logoutKeys ??= createRemoteJWKSet(new URL(metadata.jwks_uri), {
      timeoutDuration: PROVIDER_TIMEOUT_SECONDS * 1000,
    });
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.logoutKeys, {
        issuer: metadata.issuer,
        audience: this.settings.clientId,
        algorithms: [...ID_TOKEN_ALGORITHMS],
        requiredClaims: ['iat', 'jti'],
        maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
        clockTolerance: LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
        // The service's clock decides how old a logout token is, as it decides every other expiry.
        currentDate: this.clock.now(),
      }));
    } catch (error) {
      throw refuse((error as Error).message);
    }
    const events = claims.events as Record<string, unknown> | undefined;
    const event = events && typeof events === 'object' ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw refuse('no back-channel logout event');
    if (claims.nonce !== undefined) throw refuse('a logout token must not carry a nonce');
    // §2.4: sub, sid, or both. A sid is matched against the ones recorded at sign-in (FederationService).
    const subject = optionalClaim(claims.sub, MAX_SUBJECT_LENGTH);
    const sid = optionalClaim(claims.sid, MAX_SID_LENGTH);
    if (subject === null) throw refuse('sub is not a usable string');
    if (sid === null) throw refuse('sid is not a usable string');
    if (subject === undefined && sid === undefined) throw refuse('neither sub nor sid');
    if (typeof claims.jti !== 'string' || !claims.jti) throw refuse('jti is not a string');
    return { issuer: metadata.issuer, subject, sid, jti: claims.jti };
  }

  /** Discovery, cached; after a failure the next call tries again. Each attempt logs one line (`prefix` first). */
  private configuration(prefix = ''): Promise<oidc.Configuration> {
    if (!this.discovered) {
      const settings = this.settings;
      const url = discoveryUrl(settings.issuer);
      const discovered = oidc
        .discovery(
          new URL(settings.issuer),
          settings.clientId,
          // The header's alg must be one of these (openid-client compares it with this list before anything else).
          { id_token_signed_response_alg: ID_TOKEN_ALGORITHMS as unknown as string },
          oidc.ClientSecretBasic(settings.clientSecret),
          { execute: settings.allowHttp ? [oidc.allowInsecureRequests] : [], timeout: PROVIDER_TIMEOUT_SECONDS },
        )
        .then(
          (configuration) => {
            // Verify the ID token's signature too, although it came straight from the token endpoint: TLS to the
            // provider is then not the only thing standing between a forged token and a session.
            oidc.enableNonRepudiationChecks(configuration);
            this.lastDiscovery = { state: 'ok' };
            log.log(`${prefix}discovery ok (${url})`);
            return configuration;
          },
          (error: unknown) => {
            const why = `discovery of ${url} failed: ${describeCause(error)}`;
            this.lastDiscovery = { state: 'failed', error: why };
            // Expected when the provider is down or misconfigured: one line with the URL and cause, no stack.
            log.warn(`${prefix}${why}`);
            throw error;
          },
        );
      this.discovered = discovered;
      discovered.catch(() => {
        if (this.discovered === discovered) this.discovered = undefined;
      });
    }
    return this.discovered.catch(() => {
      throw new AppError(
        ErrorCode.IdpUnavailable,
        'the identity provider cannot be reached right now; try again later',
        'idp_discovery_failed',
      );
    });
  }
}

/** Where openid-client looks (OpenID Connect Discovery 1.0 §4): for the log line and /readyz. */
function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * An error and its causes on one line, e.g. "fetch failed: connect ECONNREFUSED 127.0.0.1:9" or "unexpected HTTP
 * response status code: HTTP 404" (fetch and openid-client put the useful part in `cause`).
 */
export function describeCause(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  // Duck-typed, not instanceof: fetch's errors may come from another realm (undici, a test runner's sandbox).
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const link = current as { message?: unknown; code?: unknown; cause?: unknown; status?: unknown; headers?: unknown };
    if (typeof link.status === 'number' && link.headers !== undefined) {
      parts.push(`HTTP ${link.status}`);
      break;
    }
    if (typeof link.message !== 'string') {
      // A thrown string or number says something; an object without a message would only print [object Object].
      if (typeof current === 'string' || typeof current === 'number') parts.push(String(current));
      break;
    }
    const code = link.code;
    parts.push(typeof code === 'string' && !link.message.includes(code) ? `${link.message} (${code})` : link.message);
    current = link.cause;
  }
  return parts.join(': ').replace(/\s+/g, ' ').slice(0, 300);
}

const UNREACHABLE_CODES = new Set<string>(['OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON']);

/**
 * One place that turns openid-client's failures into what the person is told and the audit reason (a short code:
 * nothing from the provider's or the browser's answer goes into it, so it can never outgrow its column).
 */
function describeProviderError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  log.warn(`provider sign-in refused: ${(error as Error)?.name}: ${describeCause(error)}`.slice(0, 300));
  if (error instanceof oidc.AuthorizationResponseError) {
    return new AppError(ErrorCode.AuthenticationFailed, 'the identity provider did not sign you in', 'idp_refused');
  }
  if (error instanceof oidc.ResponseBodyError) {
    return new AppError(
      ErrorCode.AuthenticationFailed,
      'the identity provider refused this sign-in; start again',
      'code_rejected',
    );
  }
  if (error instanceof oidc.ClientError && error.code && !UNREACHABLE_CODES.has(error.code)) {
    return new AppError(
      ErrorCode.AuthenticationFailed,
      "the identity provider's answer did not pass the checks; no session was created",
      'id_token_invalid',
    );
  }
  return new AppError(
    ErrorCode.IdpUnavailable,
    'the identity provider cannot be reached right now; try again later',
    'idp_unavailable',
  );
}
