import { Body, Controller, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { assertionSubject, CLIENT_ASSERTION_TYPE, ClientAuthentication, ClientProof } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Audit } from '../http/audit-context.decorator';
import { ClientCredentialsGrant, INVALID_SCOPE } from '../sign-in/client-credentials-grant';
import { DelegatedGrants } from '../sign-in/delegated-grants';
import { DEVICE_CODE_GRANT_TYPE, DEVICE_GRANT_REFUSED, DeviceCodeGrant } from '../sign-in/device-code-grant';
import { OAuthError, OAuthErrorFilter } from './oauth-error';

type TokenForm = Record<string, unknown>;

/** RFC 8628 §3.2. */
export class DeviceAuthorizationResponse {
  @ApiProperty({ description: 'the secret the client polls the token endpoint with' }) device_code: string;
  @ApiProperty({ example: 'BCDF-GHJK', description: 'what the person types on the verification page' })
  user_code: string;
  @ApiProperty({ example: 'https://airflow.example.com/auth/device' }) verification_uri: string;
  @ApiProperty({ example: 'https://airflow.example.com/auth/device?user_code=BCDF-GHJK' })
  verification_uri_complete: string;
  @ApiProperty({ example: 600 }) expires_in: number;
  @ApiProperty({ example: 5, description: 'seconds between polls' }) interval: number;
}

/** The request's `scope` (RFC 6749 §3.3): space-separated tokens of printable ASCII without `"` and `\\`; none when absent or empty. */
function requestedScopes(scope: unknown): string[] | undefined {
  if (scope === undefined || scope === '') return undefined;
  if (typeof scope !== 'string') throw new OAuthError('invalid_request', 'scope must be a string');
  const tokens = [...new Set(scope.split(' ').filter(Boolean))];
  if (!tokens.length || tokens.some((s) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)))
    throw new OAuthError('invalid_scope', 'scope must be space-separated scope tokens (RFC 6749 §3.3)');
  return tokens;
}

/** A client that may be public (the device grant's airflow-cli): no proof when it sends its client_id alone. */
type MaybePublicClient = { clientId: string; proof: ClientProof | null };

/**
 * The client's authentication, exactly one way: HTTP Basic (RFC 6749 §2.3.1, form-urlencoded parts), client_id and
 * client_secret in the body, or a client assertion (RFC 7523 §2.2; client_id optional, its `sub` names the client).
 * @param allowPublic a public client (RFC 6749 §2.1) may send its `client_id` alone (no secret): the device grant's.
 */
function clientAuthentication(req: Request, form: TokenForm, allowPublic: true): MaybePublicClient;
function clientAuthentication(req: Request, form: TokenForm): ClientAuthentication;
function clientAuthentication(req: Request, form: TokenForm, allowPublic = false): MaybePublicClient {
  const header = req.get('authorization');
  const withAssertion = form.client_assertion !== undefined || form.client_assertion_type !== undefined;
  const inBody = form.client_id !== undefined || form.client_secret !== undefined;
  if (header) {
    if (inBody || withAssertion)
      throw new OAuthError('invalid_request', 'use one client authentication method, not both');
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw new OAuthError('invalid_client', 'the Authorization header must be HTTP Basic client credentials');
    try {
      return {
        clientId: decodeURIComponent(decoded.slice(0, colon)),
        proof: { secret: decodeURIComponent(decoded.slice(colon + 1)) },
      };
    } catch {
      throw new OAuthError('invalid_client', 'client credentials are not correctly encoded');
    }
  }
  if (withAssertion) return assertionAuthentication(form);
  if (allowPublic && typeof form.client_id === 'string' && form.client_id && form.client_secret === undefined)
    return { clientId: form.client_id, proof: null };
  if (
    typeof form.client_id !== 'string' ||
    typeof form.client_secret !== 'string' ||
    !form.client_id ||
    !form.client_secret
  ) {
    throw new OAuthError(
      'invalid_client',
      'client authentication is required (HTTP Basic, client_id and client_secret, or a client_assertion)',
    );
  }
  return { clientId: form.client_id, proof: { secret: form.client_secret } };
}

/**
 * RFC 7521 §4.2: `client_assertion_type` and `client_assertion`, and no secret besides. The client is the form's
 * client_id when sent, else the assertion's `sub`; the verifier then requires `iss` = `sub` = that client.
 */
function assertionAuthentication(form: TokenForm): ClientAuthentication {
  if (form.client_secret !== undefined)
    throw new OAuthError('invalid_request', 'use one client authentication method: client_secret or client_assertion');
  const type = requiredString(form, 'client_assertion_type');
  if (type !== CLIENT_ASSERTION_TYPE)
    throw new OAuthError('invalid_client', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  const assertion = requiredString(form, 'client_assertion');
  if (form.client_id !== undefined && (typeof form.client_id !== 'string' || !form.client_id))
    throw new OAuthError('invalid_request', 'client_id, when sent, must name the client');
  const clientId = form.client_id ?? assertionSubject(assertion);
  if (!clientId) throw new OAuthError('invalid_client', 'client_assertion must be a JWT whose sub is the client_id');
  return { clientId, proof: { assertion } };
}

/** The client authentication fields of both endpoints' forms, for the OpenAPI document (HTTP Basic is the other way). */
const CLIENT_AUTHENTICATION_FIELDS = {
  client_id: { type: 'string', description: 'client_secret_post, a public client, or optional with an assertion' },
  client_secret: { type: 'string', description: 'client_secret_post (or HTTP Basic instead)' },
  client_assertion_type: { type: 'string', enum: [CLIENT_ASSERTION_TYPE], description: 'private_key_jwt (RFC 7523)' },
  client_assertion: {
    type: 'string',
    description: 'a JWT signed by a registered key: iss = sub = client_id, aud = issuer, exp <= 5 min, single-use jti',
  },
};

/** RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The grants of agents acting for a person (libs/delegations); both need the agent's client authentication. */
const DELEGATED_GRANTS = ['refresh_token', TOKEN_EXCHANGE_GRANT];

function requiredString(form: TokenForm, name: string): string {
  const value = form[name];
  if (typeof value !== 'string' || !value) throw new OAuthError('invalid_request', `${name} is required`);
  if (value.length > 8192) throw new OAuthError('invalid_request', `${name} is too long`);
  return value;
}

/** A form request (RFC 6749 §3.2, RFC 8628 §3.1): form-encoded, each parameter once. */
function formOf(req: Request, form: TokenForm | undefined): TokenForm {
  if (!req.is('application/x-www-form-urlencoded'))
    throw new OAuthError('invalid_request', 'the request must be application/x-www-form-urlencoded');
  const body = form ?? {};
  if (Object.values(body).some(Array.isArray))
    throw new OAuthError('invalid_request', 'parameters must not be repeated');
  return body;
}

/** The client failed to authenticate, or asked for a scope it may not have: the OAuth error for it. */
function clientRefusal(error: unknown): unknown {
  if (error instanceof AppError && error.reason === INVALID_SCOPE)
    return new OAuthError('invalid_scope', error.message);
  if (error instanceof AppError && (error.reason === DEVICE_GRANT_REFUSED || error.reason === 'invalid_grant'))
    return new OAuthError('invalid_grant', error.message);
  if (error instanceof AppError && error.code === ErrorCode.Unauthenticated)
    return new OAuthError('invalid_client', 'client authentication failed');
  // Anything else (e.g. no readable signing key: 503 signing_key_unavailable) is the service's state, not the client's.
  return error;
}

@ApiTags('oauth')
@Controller('v1/oauth')
@UseFilters(OAuthErrorFilter)
export class OAuthController {
  constructor(
    private readonly clientCredentials: ClientCredentialsGrant,
    private readonly deviceCodes: DeviceCodeGrant,
    private readonly delegated: DelegatedGrants,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary:
      'OAuth 2.0 token endpoint: client credentials grant for service accounts (RFC 6749 §4.4) and device code grant ' +
      "(RFC 8628 §3.4); for agents acting under a person's delegation, refresh_token (bound to the agent's client " +
      'authentication) and token exchange for a narrower sub-agent token (RFC 8693)',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['grant_type'],
      properties: {
        grant_type: {
          type: 'string',
          enum: ['client_credentials', DEVICE_CODE_GRANT_TYPE, 'refresh_token', TOKEN_EXCHANGE_GRANT],
        },
        scope: { type: 'string' },
        device_code: { type: 'string' },
        refresh_token: { type: 'string' },
        subject_token: { type: 'string' },
        subject_token_type: { type: 'string' },
        ...CLIENT_AUTHENTICATION_FIELDS,
      },
    },
  })
  async token(@Req() req: Request, @Body() form: TokenForm, @Audit() audit: AuditContext) {
    const body = formOf(req, form);
    if (body.grant_type === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (body.grant_type === DEVICE_CODE_GRANT_TYPE) return this.deviceToken(req, body, audit);
    const client = clientAuthentication(req, body);
    if (typeof body.grant_type === 'string' && DELEGATED_GRANTS.includes(body.grant_type))
      return this.delegatedToken(body, client, audit);
    if (body.grant_type !== 'client_credentials') {
      throw new OAuthError(
        'unsupported_grant_type',
        `grant_type must be client_credentials, ${DEVICE_CODE_GRANT_TYPE}, ${DELEGATED_GRANTS.join(' or ')}`,
      );
    }
    const requested = requestedScopes(body.scope);
    try {
      return await this.clientCredentials.grant(audit, client, requested);
    } catch (error) {
      throw clientRefusal(error);
    }
  }

  @Post('device_authorization')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary:
      "Device authorization request (RFC 8628 §3.1): the public client airflow-cli (client_id only) or a confidential client; a person approves the user code on Airflow's /auth/device",
  })
  @ApiBody({ schema: { type: 'object', properties: { scope: { type: 'string' }, ...CLIENT_AUTHENTICATION_FIELDS } } })
  @ApiOkResponse({ type: DeviceAuthorizationResponse })
  async deviceAuthorization(
    @Req() req: Request,
    @Body() form: TokenForm,
    @Audit() audit: AuditContext,
  ): Promise<DeviceAuthorizationResponse> {
    const body = formOf(req, form);
    const client = clientAuthentication(req, body, true);
    const scopes = requestedScopes(body.scope) ?? [];
    try {
      const started = await this.deviceCodes.start(audit, client, scopes);
      return {
        device_code: started.deviceCode,
        user_code: started.userCode,
        verification_uri: started.verificationUri,
        verification_uri_complete: started.verificationUriComplete,
        expires_in: started.expiresIn,
        interval: started.interval,
      };
    } catch (error) {
      throw clientRefusal(error);
    }
  }

  /** An agent renews its token (refresh_token) or hands a narrower one to a sub-agent (token exchange). */
  private async delegatedToken(body: TokenForm, client: ClientAuthentication, audit: AuditContext) {
    const requested = requestedScopes(body.scope);
    try {
      if (body.grant_type === 'refresh_token')
        return await this.delegated.refresh(audit, client, requiredString(body, 'refresh_token'));
      if (body.actor_token !== undefined)
        throw new OAuthError('invalid_request', 'actor_token is not supported: the acting client authenticates');
      const subject = {
        token: requiredString(body, 'subject_token'),
        tokenType: requiredString(body, 'subject_token_type'),
      };
      return await this.delegated.exchange(audit, client, subject, requested?.join(' '));
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.InvalidRequest)
        throw new OAuthError('invalid_request', error.message);
      throw clientRefusal(error);
    }
  }

  /** RFC 8628 §3.4: the client that asked (authenticated again if confidential) polls with its device code. */
  private async deviceToken(req: Request, body: TokenForm, audit: AuditContext) {
    const client = clientAuthentication(req, body, true);
    const deviceCode = body.device_code;
    if (typeof deviceCode !== 'string' || !deviceCode || deviceCode.length > 128)
      throw new OAuthError('invalid_request', 'device_code is required (the one the device authorization answered)');
    let answer;
    try {
      answer = await this.deviceCodes.token(audit, client, deviceCode);
    } catch (error) {
      throw clientRefusal(error);
    }
    if ('error' in answer) throw new OAuthError(answer.error, answer.description);
    return answer;
  }
}
