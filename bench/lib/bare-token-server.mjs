// Baseline for the client-credentials benchmark: the minimal HTTP round-trip of a token request, in its own process.
// node:http only. It reads the whole form body, parses it (URLSearchParams), checks the content type, grant_type and
// the HTTP Basic client credentials (client id equality + SHA-256 of the secret compared in constant time against a
// stored hash, as the service does), and answers a pre-made JSON string: no signing, no database, no framework.
//
// Forked by run-all.mjs with IPC; config in the environment:
//   BARE_PORT, BARE_CLIENT_ID, BARE_SECRET_HASH (hex SHA-256), BARE_RESPONSE (the JSON body to send back).
// Sends {type: 'ready', port} once listening.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.BARE_PORT);
const clientId = process.env.BARE_CLIENT_ID;
const secretHash = Buffer.from(process.env.BARE_SECRET_HASH, 'hex');
const okBody = process.env.BARE_RESPONSE;
const okHeaders = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-length': Buffer.byteLength(okBody),
};

function fail(res, status, error, description) {
  const body = JSON.stringify({ error, error_description: description });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/oauth/token') return fail(res, 404, 'not_found', 'no such route');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
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
    const actual = createHash('sha256').update(secret, 'utf8').digest();
    if (id !== clientId || !timingSafeEqual(actual, secretHash))
      return fail(res, 401, 'invalid_client', 'client authentication failed');
    res.writeHead(200, okHeaders);
    res.end(okBody);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => process.send?.({ type: 'ready', port }));
process.on('disconnect', () => process.exit(0));
