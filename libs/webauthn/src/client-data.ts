import { AppError, ErrorCode } from '@app/errors';

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * The parts of clientDataJSON the relying party checks itself; the challenge is only the key to find the pending
 * ceremony (the library still checks the full clientDataJSON against the stored challenge, origin and type). `crossOrigin: true` means the ceremony ran in an
 * iframe of another site; our pages are never framed, so such a response is refused (WebAuthn §7.1 step 10 /
 * §7.2 step 14 leave the decision to the RP).
 */
export function readClientData(clientDataJSON: unknown): { challenge: string; crossOrigin: boolean } {
  if (typeof clientDataJSON !== 'string' || !B64URL.test(clientDataJSON) || clientDataJSON.length > 8192) {
    throw new AppError(ErrorCode.InvalidRequest, 'response.clientDataJSON must be base64url', 'malformed_client_data');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
  } catch {
    throw new AppError(ErrorCode.InvalidRequest, 'response.clientDataJSON is not valid JSON', 'malformed_client_data');
  }
  const { challenge, crossOrigin } = (parsed ?? {}) as { challenge?: unknown; crossOrigin?: unknown };
  if (typeof challenge !== 'string' || !B64URL.test(challenge) || challenge.length < 16 || challenge.length > 128) {
    throw new AppError(
      ErrorCode.InvalidRequest,
      'response.clientDataJSON carries no valid challenge',
      'malformed_client_data',
    );
  }
  return { challenge, crossOrigin: crossOrigin === true };
}

export function isBase64Url(value: unknown, maxLength = 4096): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength && B64URL.test(value);
}
