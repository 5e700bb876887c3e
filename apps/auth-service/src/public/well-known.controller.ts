import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CLIENT_ASSERTION_ALGORITHMS } from '@app/accounts';
import { APP_CONFIG, AppConfig } from '@app/config';
import { KeyStoreService } from '@app/tokens';
import { DEVICE_CODE_GRANT_TYPE } from '../sign-in/device-code-grant';

@ApiTags('discovery')
@Controller('.well-known')
export class WellKnownController {
  constructor(
    private readonly keyStore: KeyStoreService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('openid-configuration')
  @Header('Cache-Control', 'public, max-age=3600')
  @ApiOperation({ summary: 'Discovery document (issuer, JWKS, token and device authorization endpoints)' })
  discovery() {
    const base = this.config.publicUrl;
    return {
      issuer: this.config.jwt.issuer,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/v1/oauth/token`,
      // RFC 8628 §4. Clients reach both through Airflow's relays (/auth/device/code, /auth/device/token).
      device_authorization_endpoint: `${base}/v1/oauth/device_authorization`,
      grant_types_supported: [
        'client_credentials',
        DEVICE_CODE_GRANT_TYPE,
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
      // `none`: the public client airflow-cli of the device grant (RFC 8414 §2); private_key_jwt: RFC 7523 §2.2.
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
      id_token_signing_alg_values_supported: [this.config.jwt.signingAlg],
      access_token_signing_alg_values_supported: [this.config.jwt.signingAlg],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'nbf',
        'jti',
        'client_id',
        'preferred_username',
        'name',
        'groups',
        'auth_time',
        'amr',
      ],
    };
  }

  @Get('jwks.json')
  // Short enough that a verifier that ignores unknown-kid refetching still sees a new key well before it signs.
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Public signing keys: next, active and recently retired' })
  jwks() {
    return this.keyStore.jwks();
  }
}
