/**
 * Test-side control of the real OpenID provider (test/support/oidc-provider.mjs, its own process on loopback) and
 * the browser's part of the code flow, for the service suites.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TEST_ORIGIN, TestApp } from './test-app';

export const REDIRECT_URI = `${TEST_ORIGIN}/auth/oidc/callback`;

export interface RunningProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  process: ChildProcess;
  tamper(mode: string): Promise<void>;
  /** A back-channel logout token signed by the provider (spoiled, or naming a provider session, as `mode` says). */
  logoutToken(sub: string, mode?: string, sidOf?: string): Promise<string>;
  stop(): Promise<void>;
}

/** `env`: the provider's own settings (see oidc-provider.mjs), e.g. BACKCHANNEL_LOGOUT_URI. */
export async function startProvider(env: Record<string, string> = {}): Promise<RunningProvider> {
  const child = spawn(process.execPath, [join(__dirname, 'oidc-provider.mjs')], {
    env: { ...process.env, REDIRECT_URI, ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('provider exited');
    }),
  ])) as [string];
  const info = JSON.parse(first) as { issuer: string; clientId: string; clientSecret: string };
  return {
    ...info,
    process: child,
    async tamper(mode) {
      const res = await fetch(`${info.issuer}/__test/tamper`, { method: 'POST', body: JSON.stringify({ mode }) });
      if (res.status !== 204) throw new Error(`tamper answered ${res.status}`);
    },
    async logoutToken(sub, mode = '', sidOf = '') {
      const res = await fetch(`${info.issuer}/__test/logout-token`, {
        method: 'POST',
        body: JSON.stringify({ sub, mode, sidOf }),
      });
      return ((await res.json()) as { logout_token: string }).logout_token;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

export function providerEnv(op: RunningProvider, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OIDC_ISSUER: op.issuer,
    OIDC_CLIENT_ID: op.clientId,
    OIDC_CLIENT_SECRET: op.clientSecret,
    OIDC_ALLOW_HTTP: 'true',
    OIDC_SCOPES: 'openid profile email',
    FEDERATION_PASSKEY_REQUIRED_GROUPS: 'idp-admins',
    ...extra,
  };
}

/** Plays the browser at the provider: follows its redirects (with its cookies) until it sends us back to the callback. */
export async function atProvider(authorizationUrl: string, loginHint: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = `${authorizationUrl}&login_hint=${encodeURIComponent(loginHint)}`;
  for (let hop = 0; hop < 10; hop += 1) {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0]!;
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`provider stopped at ${url} with ${res.status}: ${await res.text()}`);
    const next = new URL(location, url);
    if (next.href.startsWith(REDIRECT_URI)) return next.search.slice(1);
    url = next.href;
  }
  throw new Error('too many redirects at the provider');
}

export async function startFlow(t: TestApp): Promise<{ authorizationUrl: string; binding: string }> {
  const res = await t.http.post('/v1/oidc/start').send({}).expect(200);
  return res.body as { authorizationUrl: string; binding: string };
}

/**
 * The groups the tests' Airflow maps to a role (the plugin sends its role_mapping's groups with every callback):
 * the default accounts' groups except carol's `idp-contractors`, so carol is a person with no Airflow role.
 */
export const ROLE_GROUPS = ['idp-admins', 'idp-engineers', 'idp-viewers'];

/** The callback as the plugin relays it: the provider's query, the browser's binding and Airflow's role groups. */
export function callback(
  t: TestApp,
  flow: { binding: string },
  query: string,
  roleGroups: readonly string[] = ROLE_GROUPS,
) {
  return t.http.post('/v1/oidc/callback').send({ query, binding: flow.binding, roleGroups });
}

export async function signInAt(t: TestApp, loginHint: string, roleGroups: readonly string[] = ROLE_GROUPS) {
  const flow = await startFlow(t);
  const query = await atProvider(flow.authorizationUrl, loginHint);
  return callback(t, flow, query, roleGroups);
}
