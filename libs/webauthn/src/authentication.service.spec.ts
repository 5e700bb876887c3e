import type { User } from '@app/accounts';
import type { AuditContext, AuditService } from '@app/audit';
import type { AppConfig } from '@app/config';
import type { UnitOfWork } from '@app/persistence';
import { ErrorCode } from '@app/errors';
import {
  FakeAudit,
  FakeChallengeRepository,
  FakeClock,
  FakeLedger,
  FakePasskeyRepository,
  FakeUnitOfWork,
} from '../../../test/support/fakes';
import { b64url, SoftAuthenticator } from '../../../test/support/soft-authenticator';
import { AssertionRefused, AuthenticationService } from './authentication.service';
import type { ChallengeRepository } from './challenge.repository';
import { ChallengeStoreService } from './challenge-store.service';
import type { Passkey } from './passkey.entity';
import type { PasskeyRepository } from './passkey.repository';
import type { AuthenticatorPolicyService } from './policy';
import type { SignInVerdict } from './policy/authenticator-policy.service';

const ORIGIN = 'https://airflow.example';
const RP_ID = 'airflow.example';
const CONTEXT: AuditContext = { actorType: 'anonymous', clientIp: '192.0.2.1' };
const T0 = new Date('2026-01-02T03:04:05Z');
const USER_HANDLE = b64url(Buffer.from('alice-handle'));

const CONFIG = {
  keyEncryptionKey: Buffer.alloc(32, 7),
  webauthn: { rpId: RP_ID, origins: [ORIGIN], userVerification: 'preferred', challengeTtlSeconds: 300 },
} as unknown as AppConfig;

/** An AuthenticationService over in-memory passkeys and challenges, with one enrolled SoftAuthenticator credential. */
function world(verdict: SignInVerdict = { kind: 'allowed' }) {
  const ledger = new FakeLedger();
  const clock = new FakeClock(T0);
  const passkeys = new FakePasskeyRepository();
  const challengeRows = new FakeChallengeRepository();
  const challenges = new ChallengeStoreService(challengeRows as unknown as ChallengeRepository, CONFIG, clock);
  const policy = {
    atSignIn: () => Promise.resolve(verdict),
    requirement: () => ({ userVerification: false }),
  } as unknown as AuthenticatorPolicyService;
  const uow = new FakeUnitOfWork() as unknown as UnitOfWork;
  const service = new AuthenticationService(
    CONFIG,
    uow,
    passkeys as unknown as PasskeyRepository,
    challenges,
    new FakeAudit(ledger) as unknown as AuditService,
    policy,
    clock,
  );

  const soft = new SoftAuthenticator({ alg: 'ES256' });
  const created = soft.createCredential(
    {
      rp: { id: RP_ID, name: 'Airflow' },
      user: { id: USER_HANDLE, name: 'alice', displayName: 'Alice' },
      challenge: b64url(Buffer.from('registration')),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    },
    { origin: ORIGIN },
  );
  const user = {
    id: 'u1',
    username: 'alice',
    displayName: 'Alice',
    webauthnUserId: USER_HANDLE,
    groups: ['airflow-viewers'],
    disabledAt: null,
    sessionGeneration: 0,
  } as unknown as User;
  const passkey = {
    id: 'p1',
    userId: 'u1',
    credentialId: created.id,
    publicKey: b64url(soft.publicKeyCose(created.id)),
    counter: 0,
    transports: [],
    deviceType: 'singleDevice',
    backupEligible: false,
    backedUp: false,
    createdAt: new Date(T0.getTime() - 60_000),
    lastUsedAt: null,
    revokedAt: null,
    flaggedAt: null,
    flagReason: null,
  } as unknown as Passkey;
  passkeys.users.push(user);
  passkeys.passkeys.push(passkey);

  let n = 0;
  /** A fresh discoverable-login challenge stored now, and the soft authenticator's assertion over it. */
  const assertion = async (overrides: Parameters<SoftAuthenticator['getAssertion']>[2] = {}) => {
    const challenge = b64url(Buffer.from(`authentication-challenge-${++n}`));
    await challenges.store({} as never, { challenge, ceremony: 'authentication' });
    return soft.getAssertion({ challenge, rpId: RP_ID, allowCredentials: [] }, { origin: ORIGIN }, overrides);
  };
  return { service, passkeys, user, passkey, soft, clock, ledger, assertion, credentialId: created.id };
}

async function refusal(promise: Promise<unknown>): Promise<AssertionRefused> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AssertionRefused);
  return error as AssertionRefused;
}

describe('AuthenticationService.verify (rules, without a database)', () => {
  it('accepts a genuine assertion and names the owner', async () => {
    const w = world();
    const verified = await w.service.verify(CONTEXT, await w.assertion());
    expect(verified.login).toMatchObject({ userId: 'u1', username: 'alice', passkeyId: 'p1' });
    expect(verified.newCounter).toBe(1);
  });

  it('refuses an unknown credential', async () => {
    const w = world();
    w.passkeys.passkeys.length = 0;
    expect((await refusal(w.service.verify(CONTEXT, await w.assertion()))).reason).toBe('unknown_credential');
  });

  it('refuses a revoked passkey, with its own code', async () => {
    const w = world();
    w.passkey.revokedAt = T0;
    const error = await refusal(w.service.verify(CONTEXT, await w.assertion()));
    expect([error.reason, error.code]).toEqual(['passkey_revoked', ErrorCode.PasskeyRevoked]);
  });

  it('refuses a flagged passkey, with its own code', async () => {
    const w = world();
    w.passkey.flaggedAt = T0;
    const error = await refusal(w.service.verify(CONTEXT, await w.assertion()));
    expect([error.reason, error.code]).toEqual(['passkey_flagged', ErrorCode.PasskeyFlagged]);
  });

  it('refuses a disabled user, with its own code', async () => {
    const w = world();
    w.user.disabledAt = T0;
    const error = await refusal(w.service.verify(CONTEXT, await w.assertion()));
    expect([error.reason, error.code, error.subject]).toEqual([
      'user_disabled',
      ErrorCode.AccountDisabled,
      { userId: 'u1', passkeyId: 'p1' },
    ]);
  });

  it('refuses a passkey the authenticator policy blocks as compromised', async () => {
    const w = world({ kind: 'compromised', violation: { message: 'model revoked by FIDO' } as never });
    expect((await refusal(w.service.verify(CONTEXT, await w.assertion()))).reason).toBe('authenticator_compromised');
  });

  it('refuses an assertion made for another origin or another RP ID (SimpleWebAuthn checks them)', async () => {
    const w = world();
    const otherOrigin = await w.assertion({ origin: 'https://evil.example' });
    expect((await refusal(w.service.verify(CONTEXT, otherOrigin))).reason).toBe('assertion_invalid');
    const otherRp = await w.assertion({ rpId: 'evil.example' });
    expect((await refusal(w.service.verify(CONTEXT, otherRp))).reason).toBe('assertion_invalid');
  });

  it('refuses a tampered signature and another user handle', async () => {
    const w = world();
    expect((await refusal(w.service.verify(CONTEXT, await w.assertion({ tamperSignature: true })))).reason).toBe(
      'bad_signature',
    );
    const otherHandle = await w.assertion({ userHandle: b64url(Buffer.from('mallory')) });
    expect((await refusal(w.service.verify(CONTEXT, otherHandle))).reason).toBe('user_handle_mismatch');
  });

  it('refuses a challenge used twice or expired (CLOCK moved on)', async () => {
    const w = world();
    const once = await w.assertion();
    await w.service.verify(CONTEXT, once);
    await expect(w.service.verify(CONTEXT, once)).rejects.toMatchObject({ reason: 'challenge_unknown' });
    const late = await w.assertion();
    w.clock.advance(300_000);
    await expect(w.service.verify(CONTEXT, late)).rejects.toMatchObject({ reason: 'challenge_expired' });
  });

  it('flags the passkey and writes passkey.flagged when the counter goes back after the challenge was issued', async () => {
    const w = world();
    Object.assign(w.passkey, { counter: 10, lastUsedAt: new Date(T0.getTime() - 1000) });
    const error = await refusal(w.service.verify(CONTEXT, await w.assertion({ counter: 5 })));
    expect(error.reason).toBe('counter_regression');
    expect(w.passkey).toMatchObject({ flagReason: 'counter_regression' });
    expect(w.passkey.flaggedAt).toBeInstanceOf(Date);
    expect(w.ledger.calls).toEqual([
      expect.objectContaining({
        kind: 'audit',
        record: expect.objectContaining({
          type: 'passkey.flagged',
          reason: 'counter_regression',
          details: { passkeyId: 'p1', storedCounter: 10, assertedCounter: 5 },
        }),
      }),
    ]);
  });

  it('refuses as stale, without flagging, a counter set after the challenge was issued (two tabs)', async () => {
    const w = world();
    const stale = await w.assertion({ counter: 5 });
    Object.assign(w.passkey, { counter: 10, lastUsedAt: w.clock.now() });
    expect((await refusal(w.service.verify(CONTEXT, stale))).reason).toBe('counter_stale');
    expect(w.passkey.flaggedAt).toBeNull();
    expect(w.ledger.calls).toEqual([]);
  });
});

describe('AuthenticationService.record (counter compare-and-set)', () => {
  it('moves the counter on once; a second record of the same read loses the race (concurrent_use)', async () => {
    const w = world();
    const verified = await w.service.verify(CONTEXT, await w.assertion());
    await w.service.record({} as never, CONTEXT, verified);
    expect(w.passkey).toMatchObject({ counter: 1, lastUsedAt: verified.login.authTime });
    const error = await refusal(w.service.record({} as never, CONTEXT, verified));
    expect(error.reason).toBe('concurrent_use');
    expect(w.passkey.counter).toBe(1);
  });

  it('refuses when the passkey was revoked between verify and record', async () => {
    const w = world();
    const verified = await w.service.verify(CONTEXT, await w.assertion());
    w.passkey.revokedAt = T0;
    expect((await refusal(w.service.record({} as never, CONTEXT, verified))).reason).toBe('concurrent_use');
  });
});
