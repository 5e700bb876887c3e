/**
 * The sign-in and token-grant paths run hand-written SQL through the unit of work, with group commit on SQLite. These tests pin
 * the properties that must survive that: what each request commits, and that concurrent requests cannot share,
 * lose or half-commit state. Run on SQLite by default and on PostgreSQL with E2E_DATABASE_URL.
 */
import { decodeJwt } from 'jose';
import { DataSource } from 'typeorm';
import { AGGREGATION_WINDOW_MS, AuditService, SYSTEM_CONTEXT } from '@app/audit';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { assertion, clientToken, createServiceAccount, enrollUser, startTestApp, TestApp } from '../support/test-app';

describe('hot paths: sign-in and token grants', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  let seq = 0;
  const db = () => t.app.get(DataSource);
  const verify = (response: unknown) => t.http.post('/v1/authentication/verify').send({ response });
  async function newUser(opts: ConstructorParameters<typeof SoftAuthenticator>[0] = {}) {
    const username = `hot${++seq}-${Date.now().toString(36)}`;
    const authenticator = new SoftAuthenticator(opts);
    await enrollUser(t, authenticator, { username, groups: ['data-team'] });
    const [user] = await db().query(`SELECT id FROM users WHERE username = '${username}'`);
    return { username, authenticator, userId: user.id as string };
  }
  const eventsFor = async (subjectId: string) =>
    db().query<
      {
        type: string;
        outcome: string;
        reason: string | null;
        actor_type: string;
        actor_id: string | null;
        occurred_at: string | number;
        details: string;
      }[]
    >(
      `SELECT type, outcome, reason, actor_type, actor_id, occurred_at, details FROM audit_events WHERE subject_id = '${subjectId}' AND type IN ('login', 'token.issued') ORDER BY seq`,
    );

  it('commits the counter, last use, last login, the login event and the token event of one sign-in together', async () => {
    const { username, authenticator, userId } = await newUser({ initialCounter: 7 });
    const res = await verify(await assertion(t, authenticator, { username }));
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({ sub: userId, preferred_username: username, client_id: 'airflow-webauthn' });

    const [passkey] = await db().query(`SELECT counter, last_used_at FROM passkeys WHERE user_id = '${userId}'`);
    expect(Number(passkey.counter)).toBe(authenticator.credentials[0]!.counter);
    const [user] = await db().query(`SELECT last_login_at FROM users WHERE id = '${userId}'`);
    expect(Number(user.last_login_at)).toBe(Number(passkey.last_used_at));
    expect(Number(user.last_login_at)).toBe(Number(claims.auth_time) * 1000 + (Number(user.last_login_at) % 1000));

    const events = await eventsFor(userId);
    expect(events.map((e) => [e.type, e.outcome, e.actor_type])).toEqual([
      ['login', 'success', 'anonymous'],
      ['token.issued', 'success', 'user'],
    ]);
    // Each event is timed when it takes its place in the chain: the login first, then the token, both after the
    // sign-in was recorded.
    expect(Number(events[0]!.occurred_at)).toBeGreaterThanOrEqual(Number(user.last_login_at));
    expect(Number(events[1]!.occurred_at)).toBeGreaterThanOrEqual(Number(events[0]!.occurred_at));
    expect(events[1]!.actor_id).toBe(userId);
    expect(JSON.parse(events[1]!.details)).toEqual({ grant: 'webauthn', expiresIn: 600 });
  });

  it('lets one of two concurrent sign-ins carrying the same counter win and leaves no trace of the loser but its failure', async () => {
    const { username, authenticator, userId } = await newUser();
    // Two fresh challenges, two assertions with the same signature counter, submitted at once. Whichever order the
    // database sees them in, one commits: the other either loses the compare-and-set (concurrent_use) or comes
    // second with a counter that did not move (counter_stale). Both are a race, not evidence of a clone: the passkey
    // is not flagged.
    const first = await assertion(t, authenticator, { username, overrides: { counter: 5 } });
    const second = await assertion(t, authenticator, { username, overrides: { counter: 5 } });
    const results = await Promise.all([verify(first), verify(second)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    const events = await eventsFor(userId);
    expect(
      events
        .filter((e) => e.outcome === 'success')
        .map((e) => e.type)
        .sort(),
    ).toEqual(['login', 'token.issued']);
    expect(events.filter((e) => e.outcome === 'failure').map((e) => e.reason)).toEqual([
      expect.stringMatching(/^(concurrent_use|counter_stale)$/),
    ]);
    const [passkey] = await db().query(`SELECT counter, flagged_at FROM passkeys WHERE user_id = '${userId}'`);
    expect(Number(passkey.counter)).toBe(5);
    expect(passkey.flagged_at).toBeNull();
  });

  it('signs in several users at once, each with a token and exactly one login and one token event', async () => {
    // Enrolled one after the other: concurrent TypeORM transactions on the one SQLite connection race in TypeORM
    // itself ("cannot start a transaction within a transaction"), which is not what this test is about.
    const users = [];
    for (let i = 0; i < 4; i++) users.push(await newUser());
    const responses = await Promise.all(users.map((u) => assertion(t, u.authenticator, { username: u.username })));
    const results = await Promise.all(responses.map((r) => verify(r)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    for (const [i, u] of users.entries()) {
      expect(decodeJwt(results[i]!.body.access_token).sub).toBe(u.userId);
      expect((await eventsFor(u.userId)).map((e) => `${e.type}:${e.outcome}`)).toEqual([
        'login:success',
        'token.issued:success',
      ]);
    }
  });

  it('lets one of several concurrent submissions of one assertion through and leaves its challenge consumed', async () => {
    const { username, authenticator, userId } = await newUser();
    const response = await assertion(t, authenticator, { username });
    const results = await Promise.all(Array.from({ length: 6 }, () => verify(response)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 400).every((r) => /unknown or was already used/.test(r.body.message)),
    ).toBe(true);
    expect((await eventsFor(userId)).filter((e) => e.type === 'token.issued')).toHaveLength(1);
    const [{ n }] = await db().query(
      `SELECT COUNT(*) AS n FROM challenges WHERE challenge = '${JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString()).challenge}'`,
    );
    expect(Number(n)).toBe(0);
  });

  it('accounts for every concurrent client-credentials grant: the first in full, the rest in the window summary', async () => {
    const account = await createServiceAccount(t, { groups: ['ci'] });
    const tokens = await Promise.all(
      Array.from({ length: 8 }, () => clientToken(t, account.clientId, account.clientSecret)),
    );
    expect(new Set(tokens.map((x) => decodeJwt(x).jti)).size).toBe(8);
    await t.app.get(AuditService).flushEndedWindows(Date.now() + AGGREGATION_WINDOW_MS + 1);
    const rows = await db().query<Array<{ details: string }>>(
      `SELECT details FROM audit_events WHERE type = 'token.issued' AND outcome = 'success' AND subject_id = '${account.id}'`,
    );
    expect(rows.reduce((sum, row) => sum + ((JSON.parse(row.details) as { count?: number }).count ?? 1), 0)).toBe(8);
  });
});

describe('audit export', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('streams every event in chain order across pages, including events that share an instant', async () => {
    // 1,201 events over 400 distinct instants: more than two export pages (500), with ties at page boundaries.
    // Appended through the service (the chain gives each its place), in order.
    const audit = t.app.get(AuditService);
    const rows = Array.from({ length: 1201 }, (_, i) => ({
      i,
      occurredAt: new Date(1_700_000_000_000 + Math.floor(i / 3) * 1000),
    }));
    // The chain stamps each event when it takes its place: only Date is faked, so that each row's instant is its own.
    jest.useFakeTimers({
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      for (const row of rows) {
        jest.setSystemTime(row.occurredAt);
        await audit.record(SYSTEM_CONTEXT, { type: 'export.test', outcome: 'success', details: { i: row.i } });
      }
    } finally {
      jest.useRealTimers();
    }
    const seen: number[] = [];
    for await (const event of t.app.get(AuditService).export({ type: 'export.test' }))
      seen.push((event.details as { i: number }).i);
    expect(seen).toEqual(rows.map((_, i) => i));
  }, 60_000);
});
