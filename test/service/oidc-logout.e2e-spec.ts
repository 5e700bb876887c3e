/**
 * OpenID Connect Back-Channel Logout with the real provider's keys: a valid logout token ends the person's sessions
 * (their groups are emptied, so Airflow's next confirmation refuses every session); their next provider sign-in
 * works again. Refused (400, nothing changes): bad signature, wrong events claim, a nonce, another audience,
 * HS256 keyed with the public key, neither sub nor sid, a stale token, a replayed jti.
 *
 * By provider session: the provider registers a back-channel logout URI with `backchannel_logout_session_required`,
 * so its ID tokens carry `sid` (the URI itself is never called here: no one signs out at the provider). A token
 * naming only that sid ends the sessions of the person it signed in; sub and sid naming different people is refused;
 * a sid never seen here changes nothing and is answered 200 like any logout.
 */
import { decodeJwt } from 'jose';
import { UsersService } from '@app/accounts';
import { UnitOfWork } from '@app/persistence';
import { RunningProvider, providerEnv, signInAt, startProvider } from '../support/oidc-provider-control';
import { TestApp, startTestApp } from '../support/test-app';

let op: RunningProvider;
let t: TestApp;

beforeAll(async () => {
  op = await startProvider({ BACKCHANNEL_LOGOUT_URI: 'http://127.0.0.1:9/auth/oidc/backchannel-logout' });
  t = await startTestApp(providerEnv(op));
}, 60_000);
afterAll(async () => {
  await t?.close();
  await op?.stop();
});

const logout = (logoutToken: string) => t.http.post('/v1/oidc/backchannel-logout').send({ logout_token: logoutToken });

it.each([
  'bad-signature',
  'wrong-events',
  'with-nonce',
  'wrong-audience',
  'hs256-public-key',
  'no-sub-no-sid',
  'stale',
])('refuses a logout token with %s: 400, the person keeps their groups', async (mode) => {
  await signInAt(t, 'bob').then((res) => expect(res.status).toBe(200));
  const res = await logout(await op.logoutToken('bob', mode));
  expect(res.status).toBe(400);
  expect(res.body.message).toMatch(/logout token is not valid/);
  expect((await t.app.get(UsersService).findByUsername('bob'))!.groups).toEqual(['idp-viewers']);
});

it('refuses a token that is no JWT at all', async () => {
  await logout('not-a-jwt').expect(400);
});

it("a valid logout token ends the person's sessions; their next provider sign-in brings the groups back", async () => {
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

const groupsOf = async (username: string) => (await t.app.get(UsersService).findByUsername(username))!.groups;
const recordedSids = async (username: string) => {
  const user = (await t.app.get(UsersService).findByUsername(username))!;
  return t.app
    .get(UnitOfWork)
    .run(async (tx) =>
      (await tx.query<{ sid: string }>('SELECT sid FROM idp_sessions WHERE user_id = ?', [user.id])).rows.map(
        (r) => r.sid,
      ),
    );
};

describe('by provider session (sid)', () => {
  it("records the ID token's sid at sign-in, against the person", async () => {
    const token = (await signInAt(t, 'bob-sid-record')).body.access_token as string;
    expect(token).toBeTruthy();
    const sids = await recordedSids('bob-sid-record');
    expect(sids).toHaveLength(1);
    expect(sids[0]).toMatch(/\S{8,}/);
    // Kept as long as an Airflow session from this sign-in may last: the passkey step's 10 minutes + OIDC_SID_RETENTION_SECONDS.
    const { rows } = await t.app
      .get(UnitOfWork)
      .run((tx) =>
        tx.query<{ expires_at: string | number }>('SELECT expires_at FROM idp_sessions WHERE sid = ?', [sids[0]]),
      );
    expect(Number(rows[0]!.expires_at) - Date.now()).toBeGreaterThan((600 + 86400 - 60) * 1000);
    expect(Number(rows[0]!.expires_at) - Date.now()).toBeLessThanOrEqual((600 + 86400) * 1000);
  });

  it("a token with only the sid ends the sessions of the person that sid signed in, and no one else's", async () => {
    await signInAt(t, 'bob-sid-only').then((res) => expect(res.status).toBe(200));
    await signInAt(t, 'bob-bystander').then((res) => expect(res.status).toBe(200));
    const token = await op.logoutToken('bob-sid-only', 'sid-only');
    expect(decodeJwt(token).sub).toBeUndefined();
    expect(decodeJwt(token).sid).toEqual((await recordedSids('bob-sid-only'))[0]);
    await logout(token).expect(200);
    expect(await groupsOf('bob-sid-only')).toEqual([]);
    expect(await groupsOf('bob-bystander')).toEqual(['idp-viewers']);
    // Every Airflow session of theirs ended, so the provider sessions recorded for them are forgotten.
    expect(await recordedSids('bob-sid-only')).toEqual([]);
  });

  it('sub and sid of the same person: the sessions end', async () => {
    await signInAt(t, 'bob-sid-both').then((res) => expect(res.status).toBe(200));
    await logout(await op.logoutToken('bob-sid-both', 'with-sid')).expect(200);
    expect(await groupsOf('bob-sid-both')).toEqual([]);
  });

  it('refuses sub and sid naming different people: 400, both keep their groups', async () => {
    await signInAt(t, 'bob-sid-victim').then((res) => expect(res.status).toBe(200));
    await signInAt(t, 'bob-sid-other').then((res) => expect(res.status).toBe(200));
    const res = await logout(await op.logoutToken('bob-sid-other', 'with-sid', 'bob-sid-victim'));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/sub and sid name different people/);
    expect(await groupsOf('bob-sid-victim')).toEqual(['idp-viewers']);
    expect(await groupsOf('bob-sid-other')).toEqual(['idp-viewers']);
  });

  it('a sid never seen here changes nothing and is answered 200, like any logout (nothing says what exists here)', async () => {
    await signInAt(t, 'bob-sid-unknown').then((res) => expect(res.status).toBe(200));
    await logout(await op.logoutToken('bob-sid-unknown', 'unknown-sid')).expect(200);
    expect(await groupsOf('bob-sid-unknown')).toEqual(['idp-viewers']);
  });

  it('a sid whose sessions already ended does not end the session the person started afterwards', async () => {
    await signInAt(t, 'bob-sid-again').then((res) => expect(res.status).toBe(200));
    const [oldSid] = await recordedSids('bob-sid-again');
    // Two tokens for the old provider session (each its own jti): the provider may well send more than one.
    const first = await op.logoutToken('bob-sid-again', 'sid-only');
    const late = await op.logoutToken('bob-sid-again', 'sid-only');
    expect(decodeJwt(late).sid).toEqual(oldSid);
    await logout(first).expect(200);
    // A new provider session (the test provider issues a new sid per sign-in) and a new Airflow session.
    await signInAt(t, 'bob-sid-again').then((res) => expect(res.status).toBe(200));
    const [newSid] = await recordedSids('bob-sid-again');
    expect(newSid).not.toEqual(oldSid);
    await logout(late).expect(200);
    expect(await groupsOf('bob-sid-again')).toEqual(['idp-viewers']);
  });
});

describe('each logout token is acted on once (jti)', () => {
  it("refuses the same token a second time: 400, and the person's new session survives it", async () => {
    await signInAt(t, 'bob-replay').then((res) => expect(res.status).toBe(200));
    const token = await op.logoutToken('bob-replay', 'sid-only');
    await logout(token).expect(200);
    await signInAt(t, 'bob-replay').then((res) => expect(res.status).toBe(200));
    const replay = await logout(token);
    expect(replay.status).toBe(400);
    expect(replay.body.message).toMatch(/already used/);
    expect(await groupsOf('bob-replay')).toEqual(['idp-viewers']);
  });

  it('a sub-only token replayed is refused as well', async () => {
    await signInAt(t, 'bob-replay-sub').then((res) => expect(res.status).toBe(200));
    const token = await op.logoutToken('bob-replay-sub');
    await logout(token).expect(200);
    await signInAt(t, 'bob-replay-sub').then((res) => expect(res.status).toBe(200));
    await logout(token).expect(400);
    expect(await groupsOf('bob-replay-sub')).toEqual(['idp-viewers']);
  });

  it('a refused token does not use up its jti: refused twice for the same reason, never "already used"', async () => {
    await signInAt(t, 'bob-sid-m1').then((res) => expect(res.status).toBe(200));
    await signInAt(t, 'bob-sid-m2').then((res) => expect(res.status).toBe(200));
    const token = await op.logoutToken('bob-sid-m1', 'with-sid', 'bob-sid-m2');
    for (let i = 0; i < 2; i += 1) {
      const res = await logout(token);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/different people/);
    }
  });
});
