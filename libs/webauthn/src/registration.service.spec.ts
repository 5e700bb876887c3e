import { InvitesService, UsersService, type Invite, type User, type UserRepository } from '@app/accounts';
import type { InviteRepository } from '../../accounts/src/invite.repository';
import type { AuditContext, AuditService } from '@app/audit';
import type { AppConfig } from '@app/config';
import type { UnitOfWork } from '@app/persistence';
import {
  FakeAudit,
  FakeChallengeRepository,
  FakeClock,
  FakeInviteRepository,
  FakeLedger,
  FakePasskeyRepository,
  FakeUnitOfWork,
  FakeUserRepository,
} from '../../../test/support/fakes';
import { SoftAuthenticator } from '../../../test/support/soft-authenticator';
import { hashSecret } from '../../accounts/src/secrets';
import type { ChallengeRepository } from './challenge.repository';
import { ChallengeStoreService } from './challenge-store.service';
import type { PasskeyRepository } from './passkey.repository';
import type { AuthenticatorPolicyService } from './policy';
import { RegistrationService } from './registration.service';

const CONTEXT: AuditContext = { actorType: 'anonymous', clientIp: '192.0.2.1' };
const T0 = new Date('2026-01-02T03:04:05Z');
const HOUR = 3600_000;
const CONFIG = {
  webauthn: {
    rpId: 'airflow.example',
    rpName: 'Airflow',
    origins: ['https://airflow.example'],
    userVerification: 'preferred',
    challengeTtlSeconds: 300,
  },
} as unknown as AppConfig;

const ORIGIN = 'https://airflow.example';

/**
 * RegistrationService over in-memory invites, people, passkeys and challenges, with the real InvitesService and
 * UsersService (their rules run: invite states, the invite's groups normalised onto a new account).
 */
function world() {
  const ledger = new FakeLedger();
  const clock = new FakeClock(T0);
  const uow = new FakeUnitOfWork() as unknown as UnitOfWork;
  const audit = new FakeAudit(ledger) as unknown as AuditService;
  const inviteRows = new FakeInviteRepository();
  const passkeys = new FakePasskeyRepository();
  const userRows = new FakeUserRepository(ledger, passkeys.users);
  const users = new UsersService(
    uow,
    audit,
    userRows as unknown as UserRepository,
    {} as never,
    inviteRows as unknown as InviteRepository,
    clock,
  );
  const challengeRows = new FakeChallengeRepository();
  /** The groups each new passkey's authenticator policy was checked against, in order. */
  const policyGroups: string[][] = [];
  const policy = {
    attestationFor: () => 'none',
    checkNewPasskey: (groups: string[]) => {
      policyGroups.push(groups);
      return Promise.resolve({ attested: false });
    },
    defaultLabel: () => 'Passkey',
  } as unknown as AuthenticatorPolicyService;
  const invites = new InvitesService(
    uow,
    inviteRows as unknown as InviteRepository,
    {} as never,
    {} as never,
    CONFIG,
    audit,
    clock,
  );
  const service = new RegistrationService(
    uow,
    CONFIG,
    new ChallengeStoreService(challengeRows as unknown as ChallengeRepository, CONFIG, clock),
    users,
    invites,
    audit,
    passkeys as unknown as PasskeyRepository,
    userRows as unknown as UserRepository,
    policy,
    clock,
  );
  const invite = (token: string, over: Partial<Invite> = {}): Invite => {
    const row = {
      id: `invite-${token}`,
      tokenHash: hashSecret(token),
      username: 'carol',
      displayName: 'Carol',
      groups: ['airflow-viewers'],
      createdBy: 'admin',
      createdAt: T0,
      expiresAt: new Date(T0.getTime() + 24 * HOUR),
      usedAt: null,
      revokedAt: null,
      userId: null,
      ...over,
    };
    inviteRows.rows.push(row);
    return row;
  };
  const person = (over: Partial<User> = {}): User => {
    const user = {
      id: 'u1',
      username: 'carol',
      displayName: 'Carol C.',
      webauthnUserId: 'aGFuZGxlLW9mLWNhcm9s',
      groups: ['airflow-admins'],
      disabledAt: null,
      ...over,
    } as User;
    passkeys.users.push(user);
    return user;
  };
  const failures = () =>
    ledger.calls.map((c) => (c.kind === 'audit' ? `${c.record.type}:${c.record.outcome}:${c.record.reason}` : c.kind));
  /** Options for `requester`, answered by a software authenticator (a real attestation) as the browser would. */
  const enroll = async (
    requester: Parameters<RegistrationService['options']>[1],
    authenticator = new SoftAuthenticator(),
  ) => authenticator.createCredential(await service.options(CONTEXT, requester), { origin: ORIGIN });
  return { service, clock, invite, person, challengeRows, failures, enroll, passkeys, inviteRows, policyGroups };
}

const byInvite = (inviteToken: string) => ({ kind: 'invite' as const, inviteToken });

describe('RegistrationService.options: invite states, without a database', () => {
  it('a pending invite for a new person gets creation options, and the challenge is bound to the invite', async () => {
    const w = world();
    w.invite('pending-token');
    const options = await w.service.options(CONTEXT, byInvite('pending-token'));
    expect(options.user).toMatchObject({ name: 'carol', displayName: 'Carol' });
    expect(w.challengeRows.rows).toEqual([
      expect.objectContaining({ challenge: options.challenge, inviteId: 'invite-pending-token', userId: null }),
    ]);
    expect(w.failures()).toEqual([]);
  });

  it('a re-enrollment invite uses the existing account: its user handle and groups', async () => {
    const w = world();
    const user = w.person();
    w.invite('reenroll-token', { userId: user.id });
    const options = await w.service.options(CONTEXT, byInvite('reenroll-token'));
    expect(options.user).toMatchObject({ id: user.webauthnUserId, displayName: 'Carol C.' });
    expect(w.challengeRows.rows[0]).toMatchObject({ userId: 'u1', webauthnUserId: user.webauthnUserId });
  });

  it.each([
    ['unknown', 'no-such-token', {}, 'invite_unknown'],
    ['used', 'used-token', { usedAt: T0 }, 'invite_used'],
    ['revoked', 'revoked-token', { revokedAt: T0 }, 'invite_revoked'],
  ])('refuses an %s invite, audits invite.redeem failure, stores no challenge', async (_state, token, over, reason) => {
    const w = world();
    if (token !== 'no-such-token') w.invite(token, over);
    await expect(w.service.options(CONTEXT, byInvite(token))).rejects.toMatchObject({ reason });
    expect(w.failures()).toEqual([`invite.redeem:failure:${reason}`]);
    expect(w.challengeRows.rows).toEqual([]);
  });

  it('refuses an invite once the CLOCK passes its expiry (and not a millisecond before)', async () => {
    const w = world();
    w.invite('expiring-token');
    w.clock.advance(24 * HOUR - 1);
    await w.service.options(CONTEXT, byInvite('expiring-token'));
    w.clock.advance(1);
    await expect(w.service.options(CONTEXT, byInvite('expiring-token'))).rejects.toMatchObject({
      reason: 'invite_expired',
    });
  });

  it("refuses a new person's invite whose username was taken since (someone else's account)", async () => {
    const w = world();
    w.person({ id: 'u2' });
    w.invite('taken-token');
    await expect(w.service.options(CONTEXT, byInvite('taken-token'))).rejects.toMatchObject({
      reason: 'invite_username_taken',
    });
    expect(w.challengeRows.rows).toEqual([]);
  });

  it('refuses a re-enrollment invite of a disabled account, and a disabled signed-in user', async () => {
    const w = world();
    const user = w.person({ disabledAt: T0 });
    w.invite('disabled-token', { userId: user.id });
    await expect(w.service.options(CONTEXT, byInvite('disabled-token'))).rejects.toMatchObject({
      reason: 'user_disabled',
    });
    await expect(w.service.options(CONTEXT, { kind: 'user', userId: user.id })).rejects.toMatchObject({
      reason: 'user_unavailable',
    });
    expect(w.challengeRows.rows).toEqual([]);
  });
});

describe('RegistrationService.verify: whose account the passkey joins, without a database', () => {
  it("an invite for a new person creates their account with the invite's groups, the passkey and the used invite in one unit", async () => {
    const w = world();
    const row = w.invite('new-token', { groups: ['airflow-viewers', 'finance'] });
    const registered = await w.service.verify(CONTEXT, await w.enroll(byInvite('new-token')), 'laptop');
    const owner = w.passkeys.users.find((u) => u.id === registered.userId)!;
    expect(owner).toMatchObject({ username: 'carol', displayName: 'Carol', groups: ['airflow-viewers', 'finance'] });
    expect(w.passkeys.passkeys).toEqual([expect.objectContaining({ userId: owner.id, label: 'laptop' })]);
    expect(row).toMatchObject({ usedAt: T0, userId: owner.id });
    // The authenticator policy was applied for the groups the new account gets: the invite's.
    expect(w.policyGroups).toEqual([['airflow-viewers', 'finance']]);
    expect(w.failures()).toEqual(['passkey.registration:success:undefined']);
  });

  it("a re-enrollment invite adds the passkey to the invite's account, checked against that account's groups", async () => {
    const w = world();
    const user = w.person();
    w.invite('reenroll-token', { userId: user.id, groups: ['ignored-for-an-existing-account'] });
    const registered = await w.service.verify(CONTEXT, await w.enroll(byInvite('reenroll-token')), undefined);
    expect(registered).toMatchObject({ userId: 'u1', username: 'carol', label: 'Passkey' });
    expect(w.passkeys.users).toHaveLength(1);
    expect(w.policyGroups).toEqual([['airflow-admins']]);
  });

  it('refuses a second enrollment on an invite already used (invite_used): no second account, no second passkey', async () => {
    const w = world();
    w.invite('once-token');
    const first = await w.enroll(byInvite('once-token'));
    const second = await w.enroll(byInvite('once-token'), new SoftAuthenticator());
    await w.service.verify(CONTEXT, first, undefined);
    await expect(w.service.verify(CONTEXT, second, undefined)).rejects.toMatchObject({ reason: 'invite_used' });
    expect(w.passkeys.users).toHaveLength(1);
    expect(w.passkeys.passkeys).toHaveLength(1);
    expect(w.failures()).toEqual([
      'passkey.registration:success:undefined',
      'passkey.registration:failure:invite_used',
    ]);
  });

  it("refuses to add the passkey to a provider-linked account that took the invite's name since the options", async () => {
    const w = world();
    const row = w.invite('raced-token');
    const response = await w.enroll(byInvite('raced-token'));
    // Meanwhile a provider sign-in created "carol": that account is someone else's, never the invited person's.
    const providerAccount = w.person({ id: 'idp-carol', idpIssuer: 'https://idp.example', idpSubject: 'sub-9' });
    await expect(w.service.verify(CONTEXT, response, undefined)).rejects.toMatchObject({
      reason: 'invite_username_taken',
    });
    expect(w.passkeys.passkeys.filter((p) => p.userId === providerAccount.id)).toEqual([]);
    expect(providerAccount.groups).toEqual(['airflow-admins']);
    expect(row).toMatchObject({ usedAt: null, userId: null });
    expect(w.failures()).toEqual(['passkey.registration:failure:invite_username_taken']);
  });

  it('refuses an invite revoked, or expired on the CLOCK, between the options and the passkey', async () => {
    const w = world();
    const revoked = w.invite('revoked-later');
    // Within the challenge's 300 s: the invite's own expiry is what refuses it.
    const expiring = w.invite('expiring-later', { id: 'invite-2', expiresAt: new Date(T0.getTime() + 60_000) });
    const a = await w.enroll(byInvite('revoked-later'));
    const b = await w.enroll(byInvite('expiring-later'));
    revoked.revokedAt = T0;
    await expect(w.service.verify(CONTEXT, a, undefined)).rejects.toMatchObject({ reason: 'invite_revoked' });
    w.clock.advance(60_000);
    await expect(w.service.verify(CONTEXT, b, undefined)).rejects.toMatchObject({ reason: 'invite_expired' });
    expect(expiring.usedAt).toBeNull();
    expect(w.passkeys.passkeys).toEqual([]);
  });

  it("refuses a re-enrollment into an account disabled since the options, and a signed-in user's ceremony finished by another", async () => {
    const w = world();
    const user = w.person();
    w.invite('disabled-later', { userId: user.id });
    const viaInvite = await w.enroll(byInvite('disabled-later'));
    const own = await w.enroll({ kind: 'user', userId: user.id }, new SoftAuthenticator());
    await expect(w.service.verify(CONTEXT, own, undefined, 'someone-else')).rejects.toMatchObject({
      reason: 'registration_user_mismatch',
    });
    user.disabledAt = T0;
    await expect(w.service.verify(CONTEXT, viaInvite, undefined)).rejects.toMatchObject({
      reason: 'user_unavailable',
    });
    expect(w.passkeys.passkeys).toEqual([]);
  });

  it('refuses an authenticator already registered (credential_exists) and a response whose id and rawId differ', async () => {
    const w = world();
    const user = w.person();
    const authenticator = new SoftAuthenticator();
    const response = await w.enroll({ kind: 'user', userId: user.id }, authenticator);
    await w.service.verify(CONTEXT, response, undefined, user.id);
    const again = await w.enroll({ kind: 'user', userId: user.id }, new SoftAuthenticator());
    w.passkeys.passkeys[0]!.credentialId = again.id;
    await expect(w.service.verify(CONTEXT, again, undefined, user.id)).rejects.toMatchObject({
      reason: 'credential_exists',
    });
    const malformed = {
      ...(await w.enroll({ kind: 'user', userId: user.id }, new SoftAuthenticator())),
      rawId: 'AAAA',
    };
    await expect(w.service.verify(CONTEXT, malformed, undefined, user.id)).rejects.toMatchObject({
      reason: 'malformed_response',
    });
  });
});
