import { AppError, ErrorCode } from '@app/errors';

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Reads the challenge the browser signed, so the pending ceremony can be found. Only a lookup key: the library
 * still checks the full clientDataJSON against the stored challenge, origin and type.
 */
export function challengeOf(clientDataJSON: unknown): string {
  if (typeof clientDataJSON !== 'string' || !B64URL.test(clientDataJSON) || clientDataJSON.length > 8192) {
    throw new AppError(ErrorCode.InvalidRequest, 'response.clientDataJSON must be base64url', 'malformed_client_data');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
  } catch {
    throw new AppError(ErrorCode.InvalidRequest, 'response.clientDataJSON is not valid JSON', 'malformed_client_data');
  }
  const challenge = (parsed as { challenge?: unknown } | null)?.challenge;
  if (typeof challenge !== 'string' || !B64URL.test(challenge) || challenge.length < 16 || challenge.length > 128) {
    throw new AppError(ErrorCode.InvalidRequest, 'response.clientDataJSON carries no valid challenge', 'malformed_client_data');
  }
  return challenge;
}

export function isBase64Url(value: unknown, maxLength = 4096): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength && B64URL.test(value);
}
