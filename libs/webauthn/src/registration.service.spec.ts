import { InvitesService, type Invite, type User, type UsersService } from '@app/accounts';
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
  FakeUsersService,
} from '../../../test/support/fakes';
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

/** RegistrationService.options over in-memory invites, people, passkeys and challenges, with the real InvitesService. */
function world() {
  const ledger = new FakeLedger();
  const clock = new FakeClock(T0);
  const uow = new FakeUnitOfWork() as unknown as UnitOfWork;
  const audit = new FakeAudit(ledger) as unknown as AuditService;
  const inviteRows = new FakeInviteRepository();
  const passkeys = new FakePasskeyRepository();
  const users = new FakeUsersService(passkeys.users);
  const challengeRows = new FakeChallengeRepository();
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
    users as unknown as UsersService,
    invites,
    audit,
    passkeys as unknown as PasskeyRepository,
    {} as never,
    { attestationFor: () => 'none' } as unknown as AuthenticatorPolicyService,
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
  return { service, clock, invite, person, challengeRows, failures };
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
