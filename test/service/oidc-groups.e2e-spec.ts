/**
 * Decide on what is stored: the groups of an ID token are read once, in canonical form (trimmed, NFC, case kept),
 * and the allowed-groups check, the passkey rule, the stored account, the token and Airflow's role groups all use
 * that one list. Spelling variants go through the REAL OpenID provider (oidc-provider, its own process). Also: a
 * person whose groups grant no Airflow role is refused before any account or passkey step exists.
 */
import { decodeJwt } from 'jose';
import { InvitesService, UsersService } from '@app/accounts';
import { AuditEvent } from '@app/audit';
import { FederatedLogin } from '@app/federation';
import { UnitOfWork } from '@app/persistence';
import {
  RunningProvider,
  atProvider,
  callback,
  providerEnv,
  signInAt,
  startFlow,
  startProvider,
} from '../support/oidc-provider-control';
import { TestApp, adminToken, startTestApp } from '../support/test-app';

/** Accounts whose groups claim spells one group several ways; `-<suffix>` ids give each run a new person. */
const ACCOUNTS = {
  spaced: { preferred_username: 'spaced', groups: ['it-viewers', ' airflow-admins'] },
  tabbed: { preferred_username: 'tabbed', groups: ['airflow-admins\t', 'it-viewers'] },
  nbsp: { preferred_username: 'nbsp', groups: ['\u00a0airflow-admins\n', ' it-viewers '] },
  upper: { preferred_username: 'upper', groups: ['AIRFLOW-ADMINS', 'it-viewers'] },
  onlyupper: { preferred_username: 'onlyupper', groups: ['AIRFLOW-ADMINS'] },
  decomposed: { preferred_username: 'decomposed', groups: ['équipe'.normalize('NFD'), 'it-viewers'] },
  junk: { preferred_username: 'junk', groups: ['airflow admins', 'airflow-admins\u0007', 'it-viewers', 7] },
  outsider: { preferred_username: 'outsider', groups: ['contractors'] },
};
/** What Airflow's role_mapping names (the plugin sends its groups with the callback). */
const ROLE_GROUPS = ['airflow-admins', 'it-viewers', 'équipe'];

let op: RunningProvider;
let t: TestApp;

beforeAll(async () => {
  op = await startProvider({ OIDC_TEST_ACCOUNTS: JSON.stringify(ACCOUNTS) });
  // Written as an operator might: a space before the name. It is read by the same rule as the token's groups.
  t = await startTestApp(providerEnv(op, { FEDERATION_PASSKEY_REQUIRED_GROUPS: ' airflow-admins' }));
}, 60_000);
afterAll(async () => {
  await t?.close();
  await op?.stop();
});

let run = 0;
/** A new person with `account`'s claims (and a username of their own) signs in. */
async function signInAs(account: keyof typeof ACCOUNTS, roleGroups: readonly string[] = ROLE_GROUPS) {
  const username = `${account}-${Date.now().toString(36)}${(run += 1)}`;
  return { username, res: await signInAt(t, username, roleGroups) };
}

function auditOf(type: string, subjectId: string | null) {
  return t.app
    .get(UnitOfWork)
    .run((tx) => tx.manager.findBy(AuditEvent, { type, ...(subjectId ? { subjectId } : {}) }));
}

describe("one list for every decision, whatever the provider's spelling", () => {
  it.each(['spaced', 'tabbed', 'nbsp'] as const)(
    'a passkey-required group spelled with whitespace (%s) does not skip the passkey step, and is stored as the plain name',
    async (account) => {
      const { username, res } = await signInAs(account);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'passkey_required', action: 'enroll', pending: expect.any(String) });
      expect(res.body.access_token).toBeUndefined();
      expect((await t.app.get(UsersService).findByUsername(username))!.groups).toEqual([
        'airflow-admins',
        'it-viewers',
      ]);
    },
  );

  it('another case is another group: no passkey step, and neither stored nor signed as the admin group', async () => {
    const { username, res } = await signInAs('upper');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('signed_in');
    const stored = (await t.app.get(UsersService).findByUsername(username))!.groups;
    expect(stored).toEqual(['AIRFLOW-ADMINS', 'it-viewers']);
    expect(decodeJwt(res.body.access_token).groups).toEqual(stored);
  });

  it("decomposed Unicode is stored composed (NFC), the spelling Airflow's role groups compare with", async () => {
    const { username, res } = await signInAs('decomposed');
    expect(res.status).toBe(200);
    const stored = (await t.app.get(UsersService).findByUsername(username))!.groups;
    expect(stored).toEqual(['it-viewers', 'équipe'.normalize('NFC')]);
    expect(decodeJwt(res.body.access_token).groups).toEqual(stored);
  });

  it('a group name the rule refuses is left out of every decision, never stored, and counted in the audit trail', async () => {
    const { username, res } = await signInAs('junk');
    expect(res.status).toBe(200);
    // "airflow-admins\u0007" is not airflow-admins: no passkey step, no admin group stored or signed.
    expect(res.body.status).toBe('signed_in');
    const user = (await t.app.get(UsersService).findByUsername(username))!;
    expect(user.groups).toEqual(['it-viewers']);
    expect(decodeJwt(res.body.access_token).groups).toEqual(['it-viewers']);
    const [login] = await auditOf('login', user.id);
    expect(login!.details).toMatchObject({ groupsIgnored: 3 });
  });
});

describe("administrators' groups follow the same rule (admin API; both CLIs call it or the same services)", () => {
  it('invites and set-groups store the canonical names, and a name the rule refuses is a 400 naming it', async () => {
    const bearer = { Authorization: `Bearer ${await adminToken(t)}` };
    const username = `canon-${(run += 1)}`;
    await t.http
      .post('/v1/admin/invites')
      .set(bearer)
      .send({ username, groups: [' airflow-admins', 'airflow-admins\t', 'Ops'] })
      .expect(201);
    expect((await t.app.get(InvitesService).list()).find((i) => i.username === username)!.groups).toEqual([
      'Ops',
      'airflow-admins',
    ]);
    const refused = await t.http
      .post('/v1/admin/invites')
      .set(bearer)
      .send({ username: `${username}-b`, groups: ['airflow admins'] })
      .expect(400);
    expect(refused.body.message).toMatch(/group "airflow admins" is not allowed: use letters, digits/);

    const { username: person } = await signInAs('upper');
    const user = (await t.app.get(UsersService).findByUsername(person))!;
    await t.http
      .patch(`/v1/admin/users/${user.id}`)
      .set(bearer)
      .send({ groups: ['\u00a0it-viewers ', 'it-viewers'] })
      .expect(200);
    expect((await t.app.get(UsersService).findByUsername(person))!.groups).toEqual(['it-viewers']);
    await t.http
      .patch(`/v1/admin/users/${user.id}`)
      .set(bearer)
      .send({ groups: ['it-viewers\u0000'] })
      .expect(400);
    expect((await t.app.get(UsersService).findByUsername(person))!.groups).toEqual(['it-viewers']);
  });
});

describe('OIDC_ALLOWED_GROUPS is read by the same rule', () => {
  it('an allowed group written with spaces admits its plain and padded spellings, and not another case', async () => {
    const allowed = await startTestApp(
      providerEnv(op, {
        OIDC_ALLOWED_GROUPS: 'contractors , airflow-admins\t',
        FEDERATION_PASSKEY_REQUIRED_GROUPS: 'nobody',
      }),
    );
    try {
      for (const [account, status] of [
        ['tabbed', 200],
        ['spaced', 200],
        ['onlyupper', 403],
      ] as const) {
        const username = `${account}-allowed${(run += 1)}`;
        const res = await signInAt(allowed, username, ['AIRFLOW-ADMINS', ...ROLE_GROUPS]);
        expect({ account, status: res.status }).toEqual({ account, status });
      }
    } finally {
      await allowed.close();
    }
  }, 60_000); // its own service instance (and, on PostgreSQL, its own migrated schema)

  it('a configured group the rule refuses stops the service at start-up, naming it', async () => {
    await expect(
      startTestApp(providerEnv(op, { FEDERATION_PASSKEY_REQUIRED_GROUPS: 'airflow admins' })),
    ).rejects.toThrow(/FEDERATION_PASSKEY_REQUIRED_GROUPS: "airflow admins" is not a group name/);
  }, 30_000);
});

describe('no Airflow role: refused before anything is stored', () => {
  it('a person whose groups map to no Airflow role gets 403 no_role, no account, no passkey step, and an audited refusal', async () => {
    const before = await t.app.get(UnitOfWork).run((tx) => tx.manager.count(FederatedLogin));
    const { username, res } = await signInAs('outsider');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      code: 'no_role',
      message: expect.stringMatching(/none of your groups grants an Airflow role/),
    });
    expect(await t.app.get(UsersService).findByUsername(username)).toBeNull();
    expect(await t.app.get(UnitOfWork).run((tx) => tx.manager.count(FederatedLogin))).toBe(before);
    const refusals = (await auditOf('login', null)).filter((e) => e.reason === 'no_airflow_role');
    expect(refusals.length).toBeGreaterThan(0);
  });

  it('a passkey-required person with no Airflow role is refused before the passkey step, not after it', async () => {
    // The admin group is not one Airflow maps: this person would otherwise be asked to create a passkey first.
    const { username, res } = await signInAs('spaced', ['operators']);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('no_role');
    expect(await t.app.get(UsersService).findByUsername(username)).toBeNull();
  });

  it("the role check compares canonical names exactly, like Airflow's role_mapping: another case maps nothing", async () => {
    const { res } = await signInAs('onlyupper');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('no_role');
  });

  it("a callback without Airflow's role groups is a 400, and spends nothing", async () => {
    const flow = await startFlow(t);
    const query = await atProvider(flow.authorizationUrl, `spaced-norole${(run += 1)}`);
    const res = await t.http.post('/v1/oidc/callback').send({ query, binding: flow.binding }).expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(/roleGroups/);
    // Refused before the flow was taken: the same callback with them still finishes the sign-in.
    expect((await callback(t, flow, query, ROLE_GROUPS)).status).toBe(200);
  });
});
