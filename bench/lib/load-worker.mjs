// Load generator. Runs as a child process of run-all.mjs (child_process.fork, IPC), so that it never shares an event
// loop with the server it measures. It keeps state between commands: the software authenticators of the users it
// enrolled are reused by the sign-in ceremonies.
//
// Commands (IPC messages from the parent):
//   {cmd: 'enroll', port, invites: [{username, token}]}             -> {type: 'enrolled', users, ms}
//   {cmd: 'ceremonies', port, concurrency, seconds, warmupSeconds}  -> {type: 'result', ...summary, steps}
//   {cmd: 'tokens', port, clientId, clientSecret, concurrency, ...} -> {type: 'result', ...summary}
// `ports: [p1, p2, ...]` instead of `port` spreads the load over several instances: requests go round-robin, and a
// ceremony's verify goes to the instance after the one that answered its options (every ceremony crosses instances).
// `crossCheck: true` on 'tokens' (several instances, an admin-scoped account) makes every grant two checks more, on the
// instance after the one that issued the token: the service's own verifier (`GET /v1/admin/keys` with the token as
// Bearer must answer 200) and a JWKS verifier like Airflow's (the token's kid must be in that instance's
// `/.well-known/jwks.json`, refetched when the kid is unknown, and the signature must verify). A token one instance
// signs and another does not accept counts as a failed operation.
//   {cmd: 'exit'}
// While a load command runs it also sends {type: 'phase', phase: 'warmup' | 'measure' | 'done'}.
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { drive, loadSoftAuthenticator, ORIGIN, summarize } from './common.mjs';

const HOST = '127.0.0.1';
const enrolled = []; // {username, authenticator, credentialId}

function send(msg) {
  process.send?.(msg);
}

/** One HTTP request over the given keep-alive agent; resolves with status and body text (never rejects on status). */
function request(agent, port, method, path, headers, body) {
  return new Promise((ok, fail) => {
    const req = httpRequest(
      {
        host: HOST,
        port,
        method,
        path,
        agent,
        headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    if (body) req.write(body);
    req.end();
  });
}

const json = (agent, port, path, payload) =>
  request(
    agent,
    port,
    'POST',
    path,
    { 'content-type': 'application/json', accept: 'application/json' },
    JSON.stringify(payload),
  );

class HttpError extends Error {
  constructor(step, status, text) {
    super(`${step}: HTTP ${status} ${text.slice(0, 300)}`);
  }
}

async function enroll({ port, invites }) {
  const { SoftAuthenticator } = await loadSoftAuthenticator();
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < invites.length) {
      const { username, token } = invites[next++];
      const authenticator = new SoftAuthenticator();
      const opts = await json(agent, port, '/v1/registration/options', { inviteToken: token });
      if (opts.status !== 200) throw new HttpError(`registration options for ${username}`, opts.status, opts.text);
      const response = authenticator.createCredential(JSON.parse(opts.text), { origin: ORIGIN });
      const verify = await json(agent, port, '/v1/registration/verify', { response, label: 'bench' });
      if (verify.status !== 201) throw new HttpError(`registration verify for ${username}`, verify.status, verify.text);
      enrolled.push({ username, authenticator, credentialId: response.id, alg: authenticator.credentials[0].alg });
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  agent.destroy();
  enrolled.sort((a, b) => a.username.localeCompare(b.username));
  return {
    type: 'enrolled',
    users: enrolled.length,
    algs: [...new Set(enrolled.map((e) => e.alg))],
    ms: Math.round(performance.now() - started),
  };
}

/** The instances to load: `ports`, or the one `port`. */
const portsOf = (cmd) => cmd.ports ?? [cmd.port];

async function ceremonies(cmd) {
  const { concurrency } = cmd;
  const ports = portsOf(cmd);
  if (enrolled.length < concurrency)
    throw new Error(
      `need at least ${concurrency} enrolled users (one per in-flight ceremony), have ${enrolled.length}`,
    );
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  // Lane k uses users k, k+C, k+2C, ...: a passkey is never in two ceremonies at once (its counter is compare-and-set).
  const laneUsers = Array.from({ length: concurrency }, (_, k) => enrolled.filter((_, i) => i % concurrency === k));
  const steps = { options: [], sign: [], verify: [] };
  const result = await drive(cmd, async (k, i, measured) => {
    const user = laneUsers[k][i % laneUsers[k].length];
    const optionsPort = ports[(k + i) % ports.length];
    const verifyPort = ports[(k + i + 1) % ports.length];
    const a = performance.now();
    const opts = await json(agent, optionsPort, '/v1/authentication/options', { username: user.username });
    if (opts.status !== 200) throw new HttpError('authentication options', opts.status, opts.text);
    const b = performance.now();
    const response = user.authenticator.getAssertion(JSON.parse(opts.text), { origin: ORIGIN });
    const c = performance.now();
    const verify = await json(agent, verifyPort, '/v1/authentication/verify', { response });
    if (verify.status !== 200) throw new HttpError('authentication verify', verify.status, verify.text);
    const token = JSON.parse(verify.text).access_token;
    if (typeof token !== 'string' || token.split('.').length !== 3)
      throw new Error(`verify answered without a JWT: ${verify.text.slice(0, 200)}`);
    const d = performance.now();
    if (measured) {
      steps.options.push(b - a);
      steps.sign.push(c - b);
      steps.verify.push(d - c);
    }
  });
  agent.destroy();
  const stepSummary = Object.fromEntries(
    Object.entries(steps).map(([k, v]) => [
      k,
      (({ p50Ms, p99Ms, meanMs }) => ({ p50Ms, p99Ms, meanMs }))(summarize(v, 1)),
    ]),
  );
  return { type: 'result', ...result, steps: stepSummary };
}

/**
 * A verifier's view of one instance's JWKS: fetched on first use and again whenever a token names a kid it does not
 * hold (one fetch at a time). Unlike Airflow's cache it has no refetch interval: it asks the instance as soon as a kid
 * is unknown, so a failure means the instance did not publish the key, not that the verifier waited.
 */
function jwksVerifier(port, agent) {
  let kids = new Set();
  let keySet;
  let inFlight;
  const refresh = () =>
    (inFlight ??= request(agent, port, 'GET', '/.well-known/jwks.json', { accept: 'application/json' })
      .then((res) => {
        if (res.status !== 200) throw new HttpError('jwks', res.status, res.text);
        const jwks = JSON.parse(res.text);
        kids = new Set(jwks.keys.map((k) => k.kid));
        keySet = createLocalJWKSet(jwks);
      })
      .finally(() => (inFlight = undefined)));
  return async (token) => {
    const kid = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).kid;
    if (!kids.has(kid)) await refresh();
    if (!kids.has(kid)) throw new Error(`instance on port ${port} does not publish kid ${kid} (JWKS refetched)`);
    await jwtVerify(token, keySet, { typ: 'at+jwt', algorithms: ['EdDSA', 'ES256'] });
  };
}

async function tokens(cmd) {
  const { concurrency, clientId, clientSecret, crossCheck } = cmd;
  const ports = portsOf(cmd);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  // RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined and base64-encoded.
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const headers = {
    authorization: `Basic ${basic}`,
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  const body = 'grant_type=client_credentials';
  let sampleToken;
  const verifiers = new Map(ports.map((port) => [port, jwksVerifier(port, agent)]));
  const result = await drive(cmd, async (k, i) => {
    const res = await request(agent, ports[(k + i) % ports.length], 'POST', '/v1/oauth/token', headers, body);
    if (res.status !== 200) throw new HttpError('token', res.status, res.text);
    const token = JSON.parse(res.text).access_token;
    if (typeof token !== 'string' || !token)
      throw new Error(`token endpoint answered without access_token: ${res.text.slice(0, 200)}`);
    sampleToken ??= res.text;
    if (crossCheck) {
      const other = ports[(k + i + 1) % ports.length];
      const check = await request(agent, other, 'GET', '/v1/admin/keys', {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
      });
      if (check.status !== 200)
        throw new HttpError(`token of ${ports[(k + i) % ports.length]} on ${other}`, check.status, check.text);
      await verifiers.get(other)(token);
    }
  });
  agent.destroy();
  return { type: 'result', ...result, sampleResponseBytes: sampleToken ? Buffer.byteLength(sampleToken) : 0 };
}

process.on('message', async (cmd) => {
  try {
    if (cmd.cmd === 'enroll') send(await enroll(cmd));
    else if (cmd.cmd === 'ceremonies') send(await ceremonies(cmd));
    else if (cmd.cmd === 'tokens') send(await tokens(cmd));
    else if (cmd.cmd === 'exit') process.exit(0);
    else throw new Error(`unknown command ${cmd.cmd}`);
  } catch (error) {
    send({ type: 'error', message: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
