/**
 * OpenID Connect Back-Channel Logout with the real provider's keys: a valid logout token ends the person's sessions
 * (their groups are emptied, so Airflow's next confirmation refuses every session); their next provider sign-in
 * works again. Refused (400, nothing changes): bad signature, wrong events claim, a nonce, another audience,
 * HS256 keyed with the public key, no sub, a stale token.
 */
import { decodeJwt } from 'jose';
import { UsersService } from '@app/accounts';
import { RunningProvider, providerEnv, signInAt, startProvider } from '../support/oidc-provider-control';
import { TestApp, startTestApp } from '../support/test-app';

let op: RunningProvider;
let t: TestApp;

beforeAll(async () => {
  op = await startProvider();
  t = await startTestApp(providerEnv(op));
}, 60_000);
afterAll(async () => {
  await t?.close();
  await op?.stop();
});

const logout = (logoutToken: string) => t.http.post('/v1/oidc/backchannel-logout').send({ logout_token: logoutToken });

it.each(['bad-signature', 'wrong-events', 'with-nonce', 'wrong-audience', 'hs256-public-key', 'no-sub', 'stale'])(
  'refuses a logout token with %s: 400, the person keeps their groups',
  async (mode) => {
    await signInAt(t, 'bob').then((res) => expect(res.status).toBe(200));
    const res = await logout(await op.logoutToken('bob', mode));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/logout token is not valid/);
    expect((await t.app.get(UsersService).findByUsername('bob'))!.groups).toEqual(['idp-viewers']);
  },
);

it('refuses a token that is no JWT at all', async () => {
  await logout('not-a-jwt').expect(400);
});

it('a valid logout token ends the person\'s sessions; their next provider sign-in brings the groups back', async () => {
  const token = (await signInAt(t, 'bob')).body.access_token;
  const users = t.app.get(UsersService);
  const before = await users.findByUsername('bob');
  await logout(await op.logoutToken('bob')).expect(200);
  const after = await users.findByUsername('bob');
  expect(after!.groups).toEqual([]);
  expect(after!.id).toBe(before!.id);
  // What Airflow's session confirmation reads: the person, now without groups (no role: sessions refused).
  expect(decodeJwt(token).sub).toBe(after!.id);
  const again = await signInAt(t, 'bob');
  expect(again.status).toBe(200);
  expect((await users.findByUsername('bob'))!.groups).toEqual(['idp-viewers']);
});

it('a valid logout token for someone unknown here changes nothing and answers 200', async () => {
  await logout(await op.logoutToken('nobody-here')).expect(200);
});
