/**
 * An invite reserves its username. A provider sign-in never takes a name a pending invite holds (refused like a
 * taken name: "ask an administrator"), and redeeming an invite never attaches a passkey to an account it was not
 * made for: not one a provider sign-in created, not one another invite created after it. The invite's groups are
 * never silently dropped. Real OpenID provider (oidc-provider), real registration ceremonies (soft authenticator).
 */
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { Invite, InvitesService, User, UsersService } from '@app/accounts';
import { UnitOfWork } from '@app/persistence';
import { PasskeysService } from '@app/webauthn';
import { RunningProvider, providerEnv, signInAt, startProvider } from '../support/oidc-provider-control';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { TEST_CONTEXT, TEST_ORIGIN, TestApp, createInvite, enrollPasskey, startTestApp } from '../support/test-app';

let op: RunningProvider;
let t: TestApp;

beforeAll(async () => {
  op = await startProvider();
  t = await startTestApp(providerEnv(op, { FEDERATION_PASSKEY_REQUIRED_GROUPS: 'idp-admins' }));
}, 60_000);
afterAll(async () => {
  await t?.close();
  await op?.stop();
});

let run = 0;
/** A username of this run; the provider signs in "bob-<suffix>" with bob's claims under that name. */
function newName(): string {
  return `bob-inv${Date.now().toString(36)}${(run += 1)}`;
}

/** The first half of an invite's enrollment: the options (the challenge is issued now, verified later). */
async function startEnrollment(inviteToken: string, authenticator: SoftAuthenticator) {
  const options = await t.http.post('/v1/registration/options').send({ inviteToken });
  return {
    status: options.status,
    body: options.body,
    finish: () =>
      t.http.post('/v1/registration/verify').send({
        response: authenticator.createCredential(options.body as PublicKeyCredentialCreationOptionsJSON, {
          origin: TEST_ORIGIN,
        }),
      }),
  };
}

describe('an invite reserves its username', () => {
  it('a provider sign-in under a name a pending invite holds is refused with "ask an administrator", and creates nothing', async () => {
    const username = newName();
    const inviteToken = await createInvite(t, { username, groups: ['airflow-admins'] });
    const res = await signInAt(t, username);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'conflict', message: expect.stringMatching(/ask an administrator/) });
    expect(await t.app.get(UsersService).findByUsername(username)).toBeNull();
    // The invited person then enrolls: their own account, with the invite's groups, linked to no provider.
    await enrollPasskey(t, new SoftAuthenticator(), { inviteToken });
    expect(await t.app.get(UsersService).findByUsername(username)).toMatchObject({
      idpIssuer: null,
      idpSubject: null,
      groups: ['airflow-admins'],
    });
    // And the provider account still cannot take the name.
    expect((await signInAt(t, username)).status).toBe(409);
  });

  it('the name is free again for a provider sign-in once the invite is revoked or has expired', async () => {
    const invites = t.app.get(InvitesService);
    const revokedName = newName();
    await createInvite(t, { username: revokedName });
    const [revoked] = (await invites.list()).filter((i) => i.username === revokedName);
    await invites.revoke(TEST_CONTEXT, revoked!.id);
    expect((await signInAt(t, revokedName)).status).toBe(200);

    const expiredName = newName();
    await createInvite(t, { username: expiredName });
    await t.app
      .get(UnitOfWork)
      .run((tx) => tx.manager.update(Invite, { username: expiredName }, { expiresAt: new Date(Date.now() - 1000) }));
    expect((await signInAt(t, expiredName)).status).toBe(200);
  });
});

describe('redeeming an invite attaches a passkey only to the account it was made for', () => {
  it('an enrollment begun before a provider account took the name never lands on that account; groups never dropped', async () => {
    // The other order: the ceremony began while the invite held the name, and a provider sign-in racing past the
    // reservation (both transactions read before either wrote) created a linked account under it before the
    // enrollment finished. The account is written here as that sign-in's unit of work writes it.
    const username = newName();
    const inviteToken = await createInvite(t, { username, groups: ['airflow-admins'] });
    const started = await startEnrollment(inviteToken, new SoftAuthenticator());
    expect(started.status).toBe(200);
    const users = t.app.get(UsersService);
    const provider = await t.app.get(UnitOfWork).run(async (tx) => {
      const user = await users.create(tx, {
        username,
        groups: ['idp-viewers'],
        webauthnUserId: UsersService.newWebAuthnUserId(),
      });
      await tx.manager.update(User, { id: user.id }, { idpIssuer: op.issuer, idpSubject: username });
      return user;
    });

    const finished = await started.finish();
    expect(finished.status).toBe(409);
    expect(finished.body.message).toMatch(/was created after this invite was made; ask an administrator/);
    expect(await t.app.get(PasskeysService).listForUser(provider.id)).toHaveLength(0);
    expect((await users.findByUsername(username))!.groups).toEqual(['idp-viewers']);
    expect((await startEnrollment(inviteToken, new SoftAuthenticator())).status).toBe(409);
    // A new invite cannot carry the admin group onto that account either: refused, not silently dropped.
    await expect(createInvite(t, { username, groups: ['airflow-admins'] })).rejects.toThrow(
      /change their groups with the users command/,
    );
  });

  it('two invites to one new name: the second never lands on the account the first created (commit re-checks)', async () => {
    const username = newName();
    const a = await createInvite(t, { username, groups: ['airflow-admins'] });
    const b = await createInvite(t, { username, groups: ['idp-viewers'] });
    const personA = new SoftAuthenticator();
    const personB = new SoftAuthenticator();
    const startedB = await startEnrollment(b, personB); // B's ceremony began before A's account existed
    expect(startedB.status).toBe(200);
    await enrollPasskey(t, personA, { inviteToken: a });
    const owner = (await t.app.get(UsersService).findByUsername(username))!;

    const finishedB = await startedB.finish();
    expect(finishedB.status).toBe(409);
    expect(finishedB.body).toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/was created after this invite was made; ask an administrator for a new invite/),
    });
    const optionsB = await startEnrollment(b, personB);
    expect(optionsB.status).toBe(409);
    expect(await t.app.get(PasskeysService).listForUser(owner.id)).toHaveLength(1);
    expect(owner.groups).toEqual(['airflow-admins']);
    expect(
      (await t.app.get(InvitesService).list()).filter((i) => i.username === username && i.usedAt).map((i) => i.userId),
    ).toEqual([owner.id]);
  });

  it('an invite made for an existing provider-linked account re-enrolls that account (the admin chose it)', async () => {
    const username = newName();
    expect((await signInAt(t, username)).status).toBe(200);
    const provider = (await t.app.get(UsersService).findByUsername(username))!;
    const body = await enrollPasskey(t, new SoftAuthenticator(), { inviteToken: await createInvite(t, { username }) });
    expect(body.username).toBe(username);
    expect(await t.app.get(PasskeysService).listForUser(provider.id)).toHaveLength(1);
  });
});
