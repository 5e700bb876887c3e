// Baselines for the client-credentials benchmark: the minimal HTTP round-trip of a token request, in its own process.
// node:http only. It reads the whole form body, parses it (URLSearchParams), checks the content type, grant_type and
// the HTTP Basic client credentials the way the service stores them (libs/accounts/src/secrets.ts: the hex SHA-256 of
// the secret, compared in constant time with the stored hash), then answers 200 with a token response. No database,
// no framework. Two modes, one per baseline row:
//   - bare (default): the answer is a ready-made JSON string (a real response taken from the service): no signing.
//   - signed (BARE_SIGN=1): every answer carries a freshly signed EdDSA `at+jwt` with the service's claim set (the
//     claims of a real service token, with new iat/nbf/exp/jti), signed with jose like the raw ceremony baseline: the
//     physical floor of a grant on this stack.
//
// Forked by run-all.mjs with IPC; config in the environment:
//   BARE_PORT, BARE_CLIENT_ID, BARE_SECRET_HASH (hex SHA-256), BARE_RESPONSE (a real token response of the service),
//   BARE_SIGN ('1': signed mode).
// Sends {type: 'ready', port} once listening.
import { generateKeyPairSync, randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { calculateJwkThumbprint, decodeJwt, exportJWK, SignJWT } from 'jose';

const port = Number(process.env.BARE_PORT);
const clientId = process.env.BARE_CLIENT_ID;
const storedHash = process.env.BARE_SECRET_HASH;
const sample = process.env.BARE_RESPONSE;
const signed = process.env.BARE_SIGN === '1';
const jsonHeaders = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
};

/** secretMatches of libs/accounts/src/secrets.ts. */
function secretMatches(secret, expectedHash) {
  const actual = Buffer.from(createHash('sha256').update(secret, 'utf8').digest('hex'), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The body of a successful answer: the sample as it is, or the sample with a freshly signed token. */
let answer = () => sample;
if (signed) {
  const response = JSON.parse(sample);
  const { iss, sub, aud, iat, exp, nbf: _nbf, jti: _jti, ...claims } = decodeJwt(response.access_token);
  const ttl = exp - iat;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
  answer = async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setIssuer(iss)
      .setSubject(sub)
      .setAudience(aud)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttl)
      .setJti(randomUUID())
      .sign(privateKey);
    return JSON.stringify({ ...response, access_token: token });
  };
}

function reply(res, status, body) {
  res.writeHead(status, { ...jsonHeaders, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
const fail = (res, status, error, description) =>
  reply(res, status, JSON.stringify({ error, error_description: description }));

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/oauth/token') return fail(res, 404, 'not_found', 'no such route');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
      return fail(res, 400, 'invalid_request', 'form body expected');
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials')
      return fail(res, 400, 'unsupported_grant_type', 'client_credentials only');
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail(res, 401, 'invalid_client', 'HTTP Basic expected');
    const id = decodeURIComponent(decoded.slice(0, colon));
    const secret = decodeURIComponent(decoded.slice(colon + 1));
    if (id !== clientId || !secretMatches(secret, storedHash))
      return fail(res, 401, 'invalid_client', 'client authentication failed');
    reply(res, 200, await answer());
  });
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => process.send?.({ type: 'ready', port }));
process.on('disconnect', () => process.exit(0));
