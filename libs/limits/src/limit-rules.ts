import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { AppConfig } from '@app/config';

export type LimitSettings = AppConfig['limits'];

/** What the limits need to know about a request. */
export interface RequestFacts {
  method: string;
  path: string;
  /** The client's address (X-Forwarded-For from a trusted proxy, e.g. Airflow relaying a browser). */
  address: string;
  /**
   * Who a valid Bearer token names (`client:<client_id>` or `user:<sub>`), or the client a token request's
   * credentials authenticate right now (`client:<client_id>`); absent otherwise.
   */
  principal?: string;
  /** The client id a token request claims (Basic or client_id), before anyone has checked it. */
  claimedClientId?: string;
  /** The passkey an assertion names (response.id), before anyone has checked it. */
  credentialId?: string;
  /** The username a one-time CLI code is presented for, before anyone has checked it. */
  claimedUsername?: string;
}

export interface LimitRule {
  bucket: string;
  limit: number;
  windowMs: number;
  /** Count only answers with this status (a failed guess); anything else is refunded. Absent: every request counts. */
  countsStatus?: number;
  /** Says what was limited, for the 429 body (the caller learns nothing it did not send). */
  message: string;
}

const MINUTE = 60_000;
const TOKEN = '/v1/oauth/token';
const SIGN_IN = '/v1/authentication/verify';
const CLI_CODE_SIGN_IN = '/v1/cli/token';
/** RFC 8628 §3.1: anyone may ask for a user code (the public client `airflow-cli` has no secret). */
const DEVICE_AUTHORIZATION = '/v1/oauth/device_authorization';
/** A person looking up, approving or denying a device request by its user code (short: guessable without a limit). */
const DEVICE_REQUESTS = '/v1/me/device-requests/';
/**
 * Unauthenticated requests that create server-side state or probe a secret (a challenge, a pending provider flow,
 * an invite lookup): same callers, same cost to guess.
 */
const CEREMONY_STARTS = new Set([
  '/v1/authentication/options',
  '/v1/registration/options',
  '/v1/registration/invite',
  '/v1/oidc/start',
  '/v1/oidc/passkey/options',
  DEVICE_AUTHORIZATION,
]);
/** Probes from load balancers and orchestrators: never limited, never written. */
export const UNLIMITED_PATHS = new Set(['/healthz', '/readyz']);

/** Express matches routes case-insensitively and ignores a trailing slash: so must the rules, or they are bypassed. */
export function routeOf(path: string): string {
  return path.toLowerCase().replace(/\/+$/, '') || '/';
}

/**
 * The part of an address that one client controls: an IPv4 address, or the /64 prefix of an IPv6 one (a single
 * host usually holds a whole /64, so counting per IPv6 address would hand an attacker 2^64 fresh buckets).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head, tail] = address.toLowerCase().split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** A bounded, stable bucket name: parts an attacker chooses (ids, addresses) are hashed when long. */
function bucket(kind: string, ...parts: string[]): string {
  const name = `${kind}:${parts.join('|')}`;
  return name.length <= 120 ? name : `${kind}:#${createHash('sha256').update(parts.join('|')).digest('base64url')}`;
}

/**
 * The limits a request is subject to, keyed by what it could attack:
 * - every request: its principal's bucket when it carries a valid Bearer token or is a token request whose client
 *   authentication succeeds (a server-to-server client such as Airflow is limited by client id, never by the address
 *   it shares with the public relays, so a flood from that address cannot starve its re-grant), else its address's;
 * - unauthenticated ceremony starts, per address;
 * - failed client authentications, per claimed client id per address (a success is not counted), so guessing one
 *   client's secret from one address stops while the client itself, from its own address, still gets tokens;
 * - failed sign-ins, per credential per address; failed one-time CLI codes, per username per address (the same
 *   limit: a code is a sign-in); unknown device user codes, per person and per address (the same limit);
 * - device authorization requests, per client id (and, unauthenticated, as ceremony starts per address).
 */
export function rulesFor(facts: RequestFacts, settings: LimitSettings): LimitRule[] {
  const route = routeOf(facts.path);
  if (!settings.enabled || UNLIMITED_PATHS.has(route)) return [];
  const rules: LimitRule[] = [];
  const address = addressKey(facts.address);
  const failureWindowMs = settings.failureWindowSeconds * 1000;
  if (facts.principal) {
    rules.push({
      bucket: bucket('principal', facts.principal),
      limit: settings.clientPerMinute,
      windowMs: MINUTE,
      message: 'too many requests for this client',
    });
  } else {
    rules.push({
      bucket: bucket('address', address),
      limit: settings.addressPerMinute,
      windowMs: MINUTE,
      message: 'too many requests from your address',
    });
  }
  if (route.startsWith(DEVICE_REQUESTS)) {
    // Every lookup of a user code that names no request counts, per person and per address: 20^8 codes, a handful
    // of wrong tries per window, and guessing a live one stays hopeless.
    for (const key of [facts.principal, address].filter(Boolean) as string[])
      rules.push({
        bucket: bucket('user-code', key),
        limit: settings.failedSignIns,
        windowMs: failureWindowMs,
        countsStatus: 404,
        message: 'too many unknown sign-in request codes; check the code your command line shows',
      });
  }
  if (facts.method !== 'POST') return rules;
  if (!facts.principal && CEREMONY_STARTS.has(route)) {
    rules.push({
      bucket: bucket('ceremony', address),
      limit: settings.ceremonyStartsPerMinute,
      windowMs: MINUTE,
      message: 'too many sign-in attempts from your address',
    });
  }
  if (route === DEVICE_AUTHORIZATION && facts.claimedClientId) {
    // Per client, whoever asks: a flood of requests in one client's name (the public airflow-cli one included).
    rules.push({
      bucket: bucket('device-client', facts.claimedClientId),
      limit: settings.clientPerMinute,
      windowMs: MINUTE,
      message: 'too many sign-in requests for this client',
    });
  }
  if ((route === TOKEN || route === DEVICE_AUTHORIZATION) && facts.claimedClientId) {
    rules.push({
      bucket: bucket('secret', facts.claimedClientId, address),
      limit: settings.failedSecrets,
      windowMs: failureWindowMs,
      countsStatus: 401,
      message: 'too many failed authentications for this client from your address',
    });
  }
  if (route === SIGN_IN && facts.credentialId) {
    rules.push({
      bucket: bucket('sign-in', facts.credentialId, address),
      limit: settings.failedSignIns,
      windowMs: failureWindowMs,
      countsStatus: 401,
      message: 'too many failed sign-ins with this passkey from your address',
    });
  }
  if (route === CLI_CODE_SIGN_IN && facts.claimedUsername) {
    rules.push({
      bucket: bucket('cli-code', facts.claimedUsername.trim().toLowerCase(), address),
      limit: settings.failedSignIns,
      windowMs: failureWindowMs,
      countsStatus: 401,
      message: 'too many failed one-time codes for this username from your address',
    });
  }
  return rules;
}

/** The OAuth endpoints: form requests with client credentials, answered in RFC 6749 §5.2's error format. */
export function isTokenEndpoint(path: string): boolean {
  const route = routeOf(path);
  return route === TOKEN || route === DEVICE_AUTHORIZATION;
}
