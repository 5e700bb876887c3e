import { Inject, Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { APP_CONFIG, AppConfig, OidcConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';

/**
 * ID token signature algorithms accepted from the provider: asymmetric only. `none` and the HMAC family are never
 * accepted (an HMAC "signature" keyed with the provider's public key is the classic forgery).
 */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
const PROVIDER_TIMEOUT_SECONDS = 10;

/** What a verified ID token says about the person (claims checked by openid-client: iss, aud, azp, exp, iat, nonce). */
export type IdTokenClaims = oidc.IDToken;

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
export class OidcRelyingParty {
  private discovered?: Promise<oidc.Configuration>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get configured(): boolean {
    return this.config.oidc !== undefined;
  }

  get settings(): OidcConfig {
    if (!this.config.oidc) throw new AppError(ErrorCode.NotFound, 'sign-in through an identity provider is not configured here', 'oidc_not_configured');
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
      if (!claims) throw new AppError(ErrorCode.AuthenticationFailed, 'the identity provider sent no ID token', 'id_token_missing');
      return claims;
    } catch (error) {
      throw describeProviderError(error);
    }
  }

  private configuration(): Promise<oidc.Configuration> {
    if (!this.discovered) {
      const settings = this.settings;
      const discovered = oidc
        .discovery(
          new URL(settings.issuer),
          settings.clientId,
          // The header's alg must be one of these (openid-client compares it with this list before anything else).
          { id_token_signed_response_alg: ID_TOKEN_ALGORITHMS as unknown as string },
          oidc.ClientSecretBasic(settings.clientSecret),
          { execute: settings.allowHttp ? [oidc.allowInsecureRequests] : [], timeout: PROVIDER_TIMEOUT_SECONDS },
        )
        .then((configuration) => {
          // Verify the ID token's signature too, although it came straight from the token endpoint: TLS to the
          // provider is then not the only thing standing between a forged token and a session.
          oidc.enableNonRepudiationChecks(configuration);
          return configuration;
        });
      this.discovered = discovered;
      discovered.catch(() => {
        if (this.discovered === discovered) this.discovered = undefined;
      });
    }
    return this.discovered.catch((error: unknown) => {
      throw new AppError(ErrorCode.IdpUnavailable, 'the identity provider cannot be reached right now; try again later', `idp_discovery_failed: ${(error as Error).message}`.slice(0, 200));
    });
  }
}

const UNREACHABLE_CODES = new Set<string>(['OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON']);

/** One place that turns openid-client's failures into what the person is told (and the audit reason). */
function describeProviderError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof oidc.AuthorizationResponseError) {
    return new AppError(ErrorCode.AuthenticationFailed, 'the identity provider did not sign you in', `idp_refused: ${error.error}`.slice(0, 200));
  }
  if (error instanceof oidc.ResponseBodyError) {
    return new AppError(ErrorCode.AuthenticationFailed, 'the identity provider refused this sign-in; start again', `code_rejected: ${error.error}`.slice(0, 200));
  }
  if (error instanceof oidc.ClientError && error.code && !UNREACHABLE_CODES.has(error.code)) {
    return new AppError(ErrorCode.AuthenticationFailed, 'the identity provider\'s answer did not pass the checks; no session was created', `id_token_invalid: ${error.message}`.slice(0, 200));
  }
  return new AppError(ErrorCode.IdpUnavailable, 'the identity provider cannot be reached right now; try again later', `idp_unavailable: ${(error as Error)?.message}`.slice(0, 200));
}
