import { QueryFailedError } from 'typeorm';
import type { UserRepository } from '@app/accounts';
import type { AuditContext, AuditService } from '@app/audit';
import { FAKE_TX, FakeAudit, FakeGrants, FakeLedger, FakeUserRepository } from '../../../../test/support/fakes';
import type { AccessTokenGrants } from './access-token-grants';
import { triesFirstSignInAgain } from './federated-sign-in';
import { SignedIn, SignedInRecorder } from './signed-in-recorder';

const REQUEST: AuditContext = { actorType: 'anonymous', clientIp: '192.0.2.1' };
const AT = new Date('2026-01-02T03:04:05Z');
const LOGIN = {
  userId: 'u1',
  username: 'alice',
  displayName: 'Alice',
  groups: ['airflow-viewers'],
  passkeyId: 'p1',
  authTime: AT,
  amr: ['fed'],
  idp: 'https://idp.example',
  sessionGeneration: 3,
};

function recorder() {
  const ledger = new FakeLedger();
  const subject = new SignedInRecorder(
    new FakeUserRepository(ledger) as unknown as UserRepository,
    new FakeAudit(ledger) as unknown as AuditService,
    new FakeGrants(ledger) as unknown as AccessTokenGrants,
  );
  return { ledger, subject };
}

describe('SignedInRecorder', () => {
  it('records the last sign-in, then the login event (timed by the chain when it takes its place), then issues the token, in that order', async () => {
    const { ledger, subject } = recorder();
    const signedIn: SignedIn = {
      method: 'provider',
      at: AT,
      grantee: { grant: 'federated', login: LOGIN },
      loginEvent: { details: { username: 'alice', idp: 'https://idp.example' } },
    };
    const token = await subject.record(FAKE_TX, REQUEST, signedIn);
    expect(token.access_token).toBe('token-for-federated');
    expect(ledger.calls).toEqual([
      { kind: 'recordLogin', userId: 'u1', at: AT, method: 'provider' },
      {
        kind: 'audit',
        context: REQUEST,
        record: {
          type: 'login',
          outcome: 'success',
          subjectType: 'user',
          subjectId: 'u1',
          details: { username: 'alice', idp: 'https://idp.example' },
        },
      },
      { kind: 'issue', context: REQUEST, grantee: signedIn.grantee },
    ]);
  });

  it('writes the login event in the given context (the person) while the token is issued in the request context', async () => {
    const { ledger, subject } = recorder();
    const person: AuditContext = { ...REQUEST, actorType: 'user', actorId: 'u1' };
    await subject.record(FAKE_TX, REQUEST, {
      method: 'provider+passkey',
      at: AT,
      grantee: { grant: 'federated', login: LOGIN },
      loginEvent: { details: { enrolled: true }, context: person },
    });
    const [, event, issue] = ledger.calls;
    expect(event).toMatchObject({ kind: 'audit', context: person });
    expect(issue).toMatchObject({ kind: 'issue', context: REQUEST });
  });

  it('writes no login event for a sign-in audited by its own events (a CLI code), but still records it and issues', async () => {
    const { ledger, subject } = recorder();
    const login = { ...LOGIN, passkeyId: 'p1', cliSignInId: 'c1' };
    await subject.record(FAKE_TX, REQUEST, {
      method: 'cli',
      at: AT,
      grantee: { grant: 'cli_code', login },
      loginEvent: null,
    });
    expect(ledger.calls.map((call) => call.kind)).toEqual(['recordLogin', 'issue']);
    expect(ledger.calls[0]).toMatchObject({ method: 'cli' });
  });

  it('issues no token when recording the sign-in fails (the unit of work then rolls everything back)', async () => {
    const { ledger, subject } = recorder();
    const failing = new SignedInRecorder(
      { recordLogin: () => Promise.reject(new Error('database gone')) } as unknown as UserRepository,
      new FakeAudit(ledger) as unknown as AuditService,
      new FakeGrants(ledger) as unknown as AccessTokenGrants,
    );
    await expect(
      failing.record(FAKE_TX, REQUEST, {
        method: 'passkey',
        at: AT,
        grantee: { grant: 'federated', login: LOGIN },
        loginEvent: { details: {} },
      }),
    ).rejects.toThrow('database gone');
    expect(ledger.calls).toEqual([]);
    expect(subject).toBeDefined();
  });
});

describe('first provider sign-in retry rule', () => {
  const uniqueViolation = new QueryFailedError('INSERT', [], Object.assign(new Error('dup'), { code: '23505' }));

  it('tries again once after losing a unique-constraint race', () => {
    expect(triesFirstSignInAgain(1, uniqueViolation)).toBe(true);
  });

  it('does not try a third time, nor after any other failure', () => {
    expect(triesFirstSignInAgain(2, uniqueViolation)).toBe(false);
    expect(triesFirstSignInAgain(1, new Error('user_disabled'))).toBe(false);
  });
});
