import { Body, Controller, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuditContext } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Audit } from '../http/audit-context.decorator';
import { ClientCredentialsGrant, INVALID_SCOPE } from '../sign-in/client-credentials-grant';
import { DelegatedGrants } from '../sign-in/delegated-grants';
import { OAuthError, OAuthErrorFilter } from './oauth-error';

type TokenForm = Record<string, unknown>;

/** The request's `scope` (RFC 6749 §3.3): space-separated tokens of printable ASCII without `"` and `\\`; none when absent or empty. */
function requestedScopes(scope: unknown): string[] | undefined {
  if (scope === undefined || scope === '') return undefined;
  if (typeof scope !== 'string') throw new OAuthError('invalid_request', 'scope must be a string');
  const tokens = [...new Set(scope.split(' ').filter(Boolean))];
  if (!tokens.length || tokens.some((s) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)))
    throw new OAuthError('invalid_scope', 'scope must be space-separated scope tokens (RFC 6749 §3.3)');
  return tokens;
}

/** Client credentials from HTTP Basic (RFC 6749 §2.3.1, form-urlencoded parts) or from the body, never both. */
function clientCredentials(req: Request, form: TokenForm): { clientId: string; clientSecret: string } {
  const header = req.get('authorization');
  const inBody = form.client_id !== undefined || form.client_secret !== undefined;
  if (header) {
    if (inBody) throw new OAuthError('invalid_request', 'use one client authentication method, not both');
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw new OAuthError('invalid_client', 'the Authorization header must be HTTP Basic client credentials');
    try {
      return {
        clientId: decodeURIComponent(decoded.slice(0, colon)),
        clientSecret: decodeURIComponent(decoded.slice(colon + 1)),
      };
    } catch {
      throw new OAuthError('invalid_client', 'client credentials are not correctly encoded');
    }
  }
  if (
    typeof form.client_id !== 'string' ||
    typeof form.client_secret !== 'string' ||
    !form.client_id ||
    !form.client_secret
  ) {
    throw new OAuthError(
      'invalid_client',
      'client authentication is required (HTTP Basic, or client_id and client_secret)',
    );
  }
  return { clientId: form.client_id, clientSecret: form.client_secret };
}

/** RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const GRANT_TYPES = ['client_credentials', 'refresh_token', TOKEN_EXCHANGE_GRANT];

function requiredString(form: TokenForm, name: string): string {
  const value = form[name];
  if (typeof value !== 'string' || !value) throw new OAuthError('invalid_request', `${name} is required`);
  if (value.length > 8192) throw new OAuthError('invalid_request', `${name} is too long`);
  return value;
}

/** A refusal from a grant, in RFC 6749 §5.2 words; the service's own trouble (e.g. 503) passes through. */
function asOAuthError(error: unknown): unknown {
  if (!(error instanceof AppError)) return error;
  if (error.reason === INVALID_SCOPE) return new OAuthError('invalid_scope', error.message);
  if (error.reason === 'invalid_grant') return new OAuthError('invalid_grant', error.message);
  if (error.code === ErrorCode.Unauthenticated) return new OAuthError('invalid_client', 'client authentication failed');
  if (error.code === ErrorCode.InvalidRequest) return new OAuthError('invalid_request', error.message);
  return error;
}

@ApiTags('oauth')
@Controller('v1/oauth')
@UseFilters(OAuthErrorFilter)
export class OAuthController {
  constructor(
    private readonly clientCredentials: ClientCredentialsGrant,
    private readonly delegated: DelegatedGrants,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary:
      'OAuth 2.0 token endpoint: client credentials for service accounts (RFC 6749 §4.4); for agents acting under a ' +
      "person's delegation, refresh_token (bound to the agent's client authentication) and token exchange for a " +
      'narrower sub-agent token (RFC 8693)',
  })
  async token(@Req() req: Request, @Body() form: TokenForm, @Audit() audit: AuditContext) {
    if (!req.is('application/x-www-form-urlencoded')) {
      throw new OAuthError('invalid_request', 'the token request must be application/x-www-form-urlencoded');
    }
    const body = form ?? {};
    if (Object.values(body).some(Array.isArray))
      throw new OAuthError('invalid_request', 'parameters must not be repeated');
    if (body.grant_type === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    const { clientId, clientSecret } = clientCredentials(req, body);
    if (typeof body.grant_type !== 'string' || !GRANT_TYPES.includes(body.grant_type)) {
      throw new OAuthError('unsupported_grant_type', `grant_type must be one of ${GRANT_TYPES.join(', ')}`);
    }
    const requested = requestedScopes(body.scope);
    const client = { clientId, clientSecret };

    try {
      if (body.grant_type === 'refresh_token')
        return await this.delegated.refresh(audit, client, requiredString(body, 'refresh_token'));
      if (body.grant_type === TOKEN_EXCHANGE_GRANT) {
        if (body.actor_token !== undefined)
          throw new OAuthError('invalid_request', 'actor_token is not supported: the acting client authenticates');
        const subject = {
          token: requiredString(body, 'subject_token'),
          tokenType: requiredString(body, 'subject_token_type'),
        };
        return await this.delegated.exchange(audit, client, subject, requested?.join(' '));
      }
      return await this.clientCredentials.grant(audit, clientId, clientSecret, requested);
    } catch (error) {
      // Anything but a refusal (e.g. no readable signing key: 503 signing_key_unavailable) is the service's state.
      throw asOAuthError(error);
    }
  }
}
