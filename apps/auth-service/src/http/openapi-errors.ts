import type { OpenAPIObject } from '@nestjs/swagger';

/** Errors any operation can answer through the shared pipeline (validation, auth, body limits, rate limits). */
const COMMON_ERRORS: Record<string, string> = {
  '400': 'The request is malformed or fails validation',
  '413': 'The body is larger than the service accepts',
  '429': 'Too many requests; retry after the number of seconds in Retry-After',
};
const AUTHENTICATED_ERRORS: Record<string, string> = {
  '401': 'No valid access token, or its principal is disabled, revoked, no longer allowed, or its session ended',
  '403': 'The principal may not do this',
  '404': 'No such resource',
  '409': 'The change conflicts with the current state (code last_admin: it would leave no administrator)',
};
const PUBLIC_ERRORS: Record<string, string> = {
  '401': 'The ceremony or credentials were not accepted',
  '403': 'The caller may not do this',
  '404': 'No such resource',
  '409': 'The change conflicts with the current state',
};

const ERROR_BODY = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    code: { type: 'string', description: 'Stable, machine-readable reason (see the service README)' },
  },
};
/** RFC 6749 §5.2. */
const OAUTH_ERROR_BODY = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
};

/**
 * Declares in the OpenAPI document the error answers every operation can give, with their bodies, so that
 * clients (and the schema fuzzer in CI) know them: `{"statusCode","error","message","code"}` everywhere, the
 * RFC 6749 error object on the token and device authorization endpoints. Responses an operation documents itself are kept.
 */
export function documentErrorResponses(document: OpenAPIObject): OpenAPIObject {
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ErrorBody: ERROR_BODY, OAuthErrorBody: OAUTH_ERROR_BODY },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const isTokenEndpoint = path === '/v1/oauth/token' || path === '/v1/oauth/device_authorization';
      const body = { $ref: isTokenEndpoint ? '#/components/schemas/OAuthErrorBody' : '#/components/schemas/ErrorBody' };
      const errors = {
        ...COMMON_ERRORS,
        ...(operation.security?.length || path.startsWith('/v1/admin') || path.startsWith('/v1/me')
          ? AUTHENTICATED_ERRORS
          : PUBLIC_ERRORS),
      };
      for (const [status, description] of Object.entries(errors)) {
        operation.responses[status] ??= { description, content: { 'application/json': { schema: body } } };
      }
    }
  }
  return document;
}
