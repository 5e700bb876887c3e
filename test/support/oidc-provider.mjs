/*
 * A real OpenID Provider (the certified `oidc-provider` package) for the test suites, run as its own Node process
 * on 127.0.0.1. Prints one JSON line on stdout once listening: {"issuer", "clientId", "clientSecret"}.
 *
 * Environment: REDIRECT_URI (the service's callback, registered for the client), BACKCHANNEL_LOGOUT_URI (optional),
 * OIDC_TEST_ACCOUNTS (optional JSON {id: claims} replacing the default accounts, e.g. with a suite's own groups),
 * OIDC_TEST_LOGIN_FORM=1 (optional: a sign-in page for a real browser, below).
 * Test accounts differ in their `groups` claim (ACCOUNTS below); an id "<account>-<anything>" is that account's
 * claims under its own username, so a suite can sign in a new person every run. Without the login form, the
 * interaction signs in the account named by the authorization request's `login_hint` (default alice), or refuses
 * when it is `deny`. With it, the interaction is a page with a Username field, "Sign in" and "Cancel" (refuses).
 * RP-initiated logout (/session/end) asks "Yes, sign me out", then posts a logout token to every client with a
 * backchannel_logout_uri that the session signed in to: the provider's real Back-Channel Logout.
 *
 * Test-only control (never part of a real provider): POST /__test/tamper with {"mode"} rewrites the ID token the
 * token endpoint returns, to prove the relying party refuses it. Modes: wrong-issuer, wrong-audience, wrong-nonce,
 * expired, alg-none, hs256-public-key, bad-signature; "" turns it off. POST /__test/logout-token with {"sub", "mode"}
 * answers {"logout_token"}: a Back-Channel Logout token signed with the provider's key (mode "" valid; bad-signature,
 * wrong-events, with-nonce, wrong-audience, hs256-public-key, no-sub-no-sid, stale spoil it), for the relying party
 * to judge. Modes naming the provider session (the `sid` of the last ID token issued for an account, issued when
 * BACKCHANNEL_LOGOUT_URI is set): sid-only (that sid, no sub), with-sid (sub, and the sid of account `sidOf` or of
 * sub itself), unknown-sid (a sid this provider never issued, no sub).
 */
import { createHmac, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const ACCOUNTS = process.env.OIDC_TEST_ACCOUNTS
  ? JSON.parse(process.env.OIDC_TEST_ACCOUNTS)
  : {
      alice: {
        preferred_username: 'alice',
        name: 'Alice Admin',
        email: 'alice@example.test',
        groups: ['idp-admins', 'idp-engineers'],
      },
      bob: { preferred_username: 'bob', name: 'Bob Viewer', email: 'bob@example.test', groups: ['idp-viewers'] },
      carol: {
        preferred_username: 'carol',
        name: 'Carol Outsider',
        email: 'carol@example.test',
        groups: ['idp-contractors'],
      },
      mallory: {
        preferred_username: 'localadmin',
        name: 'Mallory',
        email: 'mallory@example.test',
        groups: ['idp-viewers'],
      },
    };

/** An account's claims: an exact id, or "<account>-<suffix>" with the account's claims under that username. */
function accountClaims(id) {
  if (ACCOUNTS[id]) return ACCOUNTS[id];
  const template = ACCOUNTS[id.split('-')[0]];
  return template && /^[a-z0-9-]{1,64}$/.test(id) ? { ...template, preferred_username: id } : undefined;
}

const LOGIN_FORM = process.env.OIDC_TEST_LOGIN_FORM === '1';
const PAGE_STYLE =
  'body{font-family:sans-serif;background:#eef1f5;margin:0}main{max-width:340px;margin:80px auto;background:#fff;padding:28px 32px;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.15)}h1{font-size:1.3em;margin:0 0 4px}p{color:#555;margin:0 0 18px}label{display:block;font-weight:bold;margin-bottom:4px}input{width:100%;box-sizing:border-box;padding:8px;margin-bottom:16px;font-size:1em}button{width:100%;padding:9px;margin-bottom:8px;font-size:1em;border:0;border-radius:4px;background:#2456c7;color:#fff;cursor:pointer}button.secondary{background:#ddd;color:#222}';
const page = (title, body) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${PAGE_STYLE}</style></head><body><main>${body}</main></body></html>`;

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const publicPem = publicKey.export({ format: 'pem', type: 'spki' });

const clientId = 'airflow-test';
const clientSecret = randomBytes(24).toString('base64url');
const redirectUri = process.env.REDIRECT_URI ?? 'http://localhost:8080/auth/oidc/callback';

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      ...(process.env.BACKCHANNEL_LOGOUT_URI
        ? { backchannel_logout_uri: process.env.BACKCHANNEL_LOGOUT_URI, backchannel_logout_session_required: true }
        : {}),
    },
  ],
  jwks: { keys: [signingJwk] },
  findAccount: (_ctx, id) =>
    accountClaims(id) ? { accountId: id, claims: () => ({ sub: id, ...accountClaims(id) }) } : undefined,
  claims: { openid: ['sub'], profile: ['preferred_username', 'name', 'groups'], email: ['email'] },
  // Scope-requested claims go into the ID token as well (what Okta/Entra/Keycloak do for groups when configured).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    // The logout pages without the default's web fonts (there is no internet in the tests).
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page(
          'Sign out',
          `<h1>Sign out of the test identity provider?</h1><p>Every application you signed in to through it is told.</p>${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button><button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>`,
        );
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<h1>Signed out</h1><p>You are signed out of the test identity provider.</p>');
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(16).toString('hex')] },
  // Its outgoing calls (back-channel logout) refuse loopback addresses by default, against SSRF; every relying
  // party of these tests is on loopback, so this test-only provider sends them without that dispatcher.
  fetch: (url, { dispatcher: _ssrfGuard, ...options }) => globalThis.fetch(url, options),
});

// Visible in the suite's logs: a back-channel logout that did not reach the relying party fails nothing here.
provider.on('backchannel.error', (_ctx, error, client) =>
  process.stderr.write(
    `backchannel logout to ${client.backchannelLogoutUri} failed: ${error}${error?.cause ? ` (${error.cause})` : ''}\n`,
  ),
);
provider.on('backchannel.success', (_ctx, client, accountId) =>
  process.stderr.write(`backchannel logout of ${accountId} sent to ${client.backchannelLogoutUri}\n`),
);

let tamper = '';
const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function resign(header, payload, how = 'rs256') {
  const input = `${b64(header)}.${b64(payload)}`;
  if (how === 'none') return `${input}.`;
  if (how === 'hs256') return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey, 'base64url')}`;
}
function tampered(idToken) {
  const [h, p] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  switch (tamper) {
    case 'wrong-issuer':
      return resign(header, { ...payload, iss: 'http://127.0.0.1:1/other' });
    case 'wrong-audience':
      return resign(header, { ...payload, aud: 'another-client' });
    case 'wrong-nonce':
      return resign(header, { ...payload, nonce: 'not-the-nonce' });
    case 'expired':
      return resign(header, { ...payload, iat: now - 7200, exp: now - 3600 });
    case 'alg-none':
      return resign({ alg: 'none', typ: 'JWT' }, payload, 'none');
    case 'hs256-public-key':
      return resign({ ...header, alg: 'HS256' }, payload, 'hs256');
    case 'bad-signature':
      return resign(header, { ...payload, groups: ['idp-admins'] }).replace(/.{4}$/, 'AAAA');
    default:
      return idToken;
  }
}
/** The sid of the last ID token issued for each account: the provider session a sid-naming logout token ends. */
const lastSid = new Map();
function sidClaims(sub, mode, sidOf) {
  switch (mode) {
    case 'sid-only':
      return { sid: lastSid.get(sub) };
    case 'with-sid':
      return { sub, sid: lastSid.get(sidOf || sub) };
    case 'unknown-sid':
      return { sid: randomBytes(12).toString('base64url') };
    case 'no-sub-no-sid':
      return {};
    default:
      return { sub };
  }
}
function logoutToken(sub, mode, sidOf) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'logout+jwt', kid: signingJwk.kid };
  const claims = {
    iss: issuer,
    aud: mode === 'wrong-audience' ? 'another-client' : clientId,
    iat: mode === 'stale' ? now - 3600 : now,
    jti: randomBytes(12).toString('base64url'),
    events: {
      [mode === 'wrong-events'
        ? 'http://schemas.openid.net/event/other'
        : 'http://schemas.openid.net/event/backchannel-logout']: {},
    },
    ...sidClaims(sub, mode, sidOf),
    ...(mode === 'with-nonce' ? { nonce: 'n' } : {}),
  };
  if (mode === 'hs256-public-key') return resign({ ...header, alg: 'HS256' }, claims, 'hs256');
  const token = resign(header, claims);
  return mode === 'bad-signature' ? `${token.slice(0, -6)}AAAAAA` : token;
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.body && typeof ctx.body.id_token === 'string') {
    const { sub, sid } = JSON.parse(Buffer.from(ctx.body.id_token.split('.')[1], 'base64url').toString());
    if (sid) lastSid.set(sub, sid);
  }
  if (tamper && ctx.path === '/token' && ctx.body && typeof ctx.body.id_token === 'string')
    ctx.body = { ...ctx.body, id_token: tampered(ctx.body.id_token) };
});

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/__test/tamper') {
      let body = '';
      for await (const chunk of req) body += chunk;
      tamper = JSON.parse(body).mode ?? '';
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'POST' && req.url === '/__test/logout-token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const { sub, mode = '', sidOf = '' } = JSON.parse(body);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ logout_token: logoutToken(sub, mode, sidOf) }));
      return;
    }
    const match = /^\/interaction\/([^/?]+)$/.exec(req.url);
    if (match && LOGIN_FORM) {
      await loginForm(req, res);
      return;
    }
    if (match && req.method === 'GET') {
      const details = await provider.interactionDetails(req, res);
      const hint = details.params.login_hint ?? 'alice';
      if (hint === 'deny' || !accountClaims(hint)) {
        await provider.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'the person cancelled' },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const grant = new provider.Grant({ accountId: hint, clientId });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: hint }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    callback(req, res);
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
});

/** The browser's sign-in page at the provider: GET shows it, POST signs in the typed account or refuses. */
async function loginForm(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        page(
          'Test IdP: sign in',
          `<h1>Test identity provider</h1><p>Sign in to continue to Airflow.</p><form method="post"><label for="username">Username</label><input id="username" name="username" autocomplete="username" autofocus><button type="submit" name="action" value="sign-in">Sign in</button><button class="secondary" type="submit" name="action" value="cancel">Cancel</button></form>`,
        ),
      );
    return;
  }
  let body = '';
  for await (const chunk of req) body += chunk;
  const form = new URLSearchParams(body);
  const id = (form.get('username') ?? '').trim();
  if (form.get('action') !== 'sign-in' || !accountClaims(id)) {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the person cancelled' },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const grant = new provider.Grant({ accountId: id, clientId });
  grant.addOIDCScope(String(details.params.scope));
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: id }, consent: { grantId: await grant.save() } },
    { mergeWithLastSubmission: false },
  );
}

process.stdout.write(`${JSON.stringify({ issuer, clientId, clientSecret })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
