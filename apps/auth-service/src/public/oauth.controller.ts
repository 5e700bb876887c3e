import { Body, Controller, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuditContext } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Audit } from '../http/audit-context.decorator';
import { ClientCredentialsGrant, INVALID_SCOPE } from '../sign-in/client-credentials-grant';
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

@ApiTags('oauth')
@Controller('v1/oauth')
@UseFilters(OAuthErrorFilter)
export class OAuthController {
  constructor(private readonly clientCredentials: ClientCredentialsGrant) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({ summary: 'OAuth 2.0 client credentials grant for service accounts (RFC 6749 §4.4)' })
  async token(@Req() req: Request, @Body() form: TokenForm, @Audit() audit: AuditContext) {
    if (!req.is('application/x-www-form-urlencoded')) {
      throw new OAuthError('invalid_request', 'the token request must be application/x-www-form-urlencoded');
    }
    const body = form ?? {};
    if (Object.values(body).some(Array.isArray))
      throw new OAuthError('invalid_request', 'parameters must not be repeated');
    if (body.grant_type === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    const { clientId, clientSecret } = clientCredentials(req, body);
    if (body.grant_type !== 'client_credentials') {
      throw new OAuthError('unsupported_grant_type', 'only grant_type=client_credentials is supported');
    }
    const requested = requestedScopes(body.scope);

    try {
      return await this.clientCredentials.grant(audit, clientId, clientSecret, requested);
    } catch (error) {
      if (error instanceof AppError && error.reason === INVALID_SCOPE)
        throw new OAuthError('invalid_scope', error.message);
      if (error instanceof AppError && error.code === ErrorCode.Unauthenticated)
        throw new OAuthError('invalid_client', 'client authentication failed');
      // Anything else (e.g. no readable signing key: 503 signing_key_unavailable) is the service's state, not the client's.
      throw error;
    }
  }
}
