import type { UserRepository } from '@app/accounts';
import type { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import type { UnitOfWork } from '@app/persistence';
import { AssertionRefused, type AuthenticationResponseJSON, type AuthenticationService } from '@app/webauthn';
import type { VerifiedAssertion } from '@app/webauthn';
import { FakeAudit, FakeGrants, FakeLedger, FakeUnitOfWork, FakeUserRepository } from '../../../../test/support/fakes';
import type { AccessTokenGrants } from './access-token-grants';
import { PasskeySignIn } from './passkey-sign-in';
import { SignedInRecorder } from './signed-in-recorder';

const REQUEST: AuditContext = { actorType: 'anonymous', clientIp: '192.0.2.1' };
const AT = new Date('2026-01-02T03:04:05Z');
const RESPONSE = { id: 'cred-1', rawId: 'cred-1' } as AuthenticationResponseJSON;
const ASSERTION = {
  login: {
    userId: 'u1',
    username: 'alice',
    displayName: 'Alice',
    groups: [],
    passkeyId: 'p1',
    amr: ['hwk', 'user'],
    authTime: AT,
    sessionGeneration: 0,
  },
  passkey: { id: 'p1' },
  newCounter: 2,
  backedUp: false,
  userVerified: true,
} as unknown as VerifiedAssertion;

/** PasskeySignIn over an AuthenticationService whose verify/record do what the spec says, and the real recorder. */
function signIn(authentication: { verify: () => Promise<VerifiedAssertion>; record?: () => Promise<void> }) {
  const ledger = new FakeLedger();
  const recorded: string[] = [];
  const audit = new FakeAudit(ledger) as unknown as AuditService;
  const subject = new PasskeySignIn(
    new FakeUnitOfWork() as unknown as UnitOfWork,
    {
      verify: authentication.verify,
      record: () => {
        recorded.push('counter');
        return authentication.record ? authentication.record() : Promise.resolve();
      },
    } as unknown as AuthenticationService,
    new SignedInRecorder(
      new FakeUserRepository(ledger) as unknown as UserRepository,
      audit,
      new FakeGrants(ledger) as unknown as AccessTokenGrants,
    ),
    audit,
  );
  return { ledger, recorded, subject };
}

describe('PasskeySignIn', () => {
  it('moves the counter on, then records the sign-in at the assertion time and issues the webauthn token', async () => {
    const { ledger, recorded, subject } = signIn({ verify: () => Promise.resolve(ASSERTION) });
    const token = await subject.signIn(REQUEST, RESPONSE);
    expect(token.access_token).toBe('token-for-webauthn');
    expect(recorded).toEqual(['counter']);
    expect(ledger.calls.map((c) => c.kind)).toEqual(['recordLogin', 'audit', 'issue']);
    expect(ledger.calls[0]).toMatchObject({ userId: 'u1', at: AT, method: 'passkey' });
    expect(ledger.calls[1]).toMatchObject({
      record: {
        type: 'login',
        outcome: 'success',
        details: { passkeyId: 'p1', username: 'alice', userVerified: true },
      },
    });
  });

  it('audits a refused assertion once, with its reason and who it was about, and issues nothing', async () => {
    const refused = new AssertionRefused(
      'no',
      'passkey_revoked',
      { userId: 'u1', passkeyId: 'p1' },
      ErrorCode.PasskeyRevoked,
    );
    const { ledger, recorded, subject } = signIn({ verify: () => Promise.reject(refused) });
    await expect(subject.signIn(REQUEST, RESPONSE)).rejects.toBe(refused);
    expect(recorded).toEqual([]);
    expect(ledger.calls).toEqual([
      {
        kind: 'audit',
        context: REQUEST,
        record: {
          type: 'login',
          outcome: 'failure',
          reason: 'passkey_revoked',
          subjectType: 'user',
          subjectId: 'u1',
          details: { passkeyId: 'p1', credentialId: 'cred-1' },
        },
      },
    ]);
  });

  it('issues no token and audits concurrent_use when the counter compare-and-set loses', async () => {
    const lost = new AssertionRefused('no', 'concurrent_use', { userId: 'u1', passkeyId: 'p1' });
    const { ledger, subject } = signIn({
      verify: () => Promise.resolve(ASSERTION),
      record: () => Promise.reject(lost),
    });
    await expect(subject.signIn(REQUEST, RESPONSE)).rejects.toBe(lost);
    expect(ledger.calls.map((c) => c.kind)).toEqual(['audit']);
    expect(ledger.calls[0]).toMatchObject({ record: { outcome: 'failure', reason: 'concurrent_use' } });
  });

  it('audits malformed input without a subject, and an unexpected failure not at all', async () => {
    const malformed = new AppError(ErrorCode.InvalidRequest, 'bad', 'malformed_response');
    const first = signIn({ verify: () => Promise.reject(malformed) });
    await expect(first.subject.signIn(REQUEST, RESPONSE)).rejects.toBe(malformed);
    expect(first.ledger.calls).toEqual([
      expect.objectContaining({ record: expect.objectContaining({ reason: 'malformed_response', subjectId: null }) }),
    ]);
    const second = signIn({ verify: () => Promise.reject(new Error('database gone')) });
    await expect(second.subject.signIn(REQUEST, RESPONSE)).rejects.toThrow('database gone');
    expect(second.ledger.calls).toEqual([]);
  });
});
