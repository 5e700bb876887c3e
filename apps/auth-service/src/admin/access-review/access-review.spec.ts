import { ServiceAccount, User } from '@app/accounts';
import { AuditEvent } from '@app/audit';
import { Passkey } from '@app/webauthn';
import { buildAccessReview } from './access-review';
import type { AccessReviewSnapshot } from './access-review.repository';

const DAY = 86_400_000;
const until = new Date('2026-12-07T12:00:00Z');
const window = { since: new Date(until.getTime() - 3 * DAY), until, dormantDays: 90 };
const daysAgo = (days: number) => new Date(until.getTime() - days * DAY);

function user(username: string, fields: Partial<User> = {}): User {
  return {
    id: `id-${username}`,
    username,
    displayName: username,
    groups: [],
    webauthnUserId: 'h',
    createdAt: daysAgo(400),
    updatedAt: daysAgo(400),
    disabledAt: null,
    lastLoginAt: null,
    lastLoginMethod: null,
    idpIssuer: null,
    idpSubject: null,
    lastIdpLoginAt: null,
    sessionGeneration: 0,
    sessionsEndedReason: null,
    sessionsEndedAt: null,
    ...fields,
  };
}

function snapshot(fields: Partial<AccessReviewSnapshot>): AccessReviewSnapshot {
  return {
    users: [],
    passkeys: [],
    serviceAccounts: [],
    keys: [],
    lastTokenIssued: new Map(),
    signInsPerDay: [],
    failures: [],
    pendingFailures: [],
    keyRotations: [],
    ...fields,
  };
}

describe('buildAccessReview', () => {
  it('calls dormant whoever has not signed in within dormantDays, counting from creation when never, and never a disabled person', () => {
    const people = buildAccessReview(
      snapshot({
        users: [
          user('recent', { lastLoginAt: daysAgo(89) }),
          user('stale', { lastLoginAt: daysAgo(91) }),
          user('never-new', { createdAt: daysAgo(2) }),
          user('never-old'),
          user('disabled', { disabledAt: daysAgo(1) }),
        ],
      }),
      window,
    ).people;
    expect(Object.fromEntries(people.map((p) => [p.username, p.dormant]))).toEqual({
      recent: false,
      stale: true,
      'never-new': false,
      'never-old': true,
      disabled: false,
    });
  });

  it('says sessions did not end when a token was issued to a disabled person after the disabling', () => {
    const review = buildAccessReview(
      snapshot({
        users: [user('ended', { disabledAt: daysAgo(2) }), user('leaked', { disabledAt: daysAgo(2) })],
        lastTokenIssued: new Map([
          ['user:id-ended', daysAgo(3)],
          ['user:id-leaked', daysAgo(1)],
        ]),
      }),
      window,
    );
    expect(review.people.map((p) => [p.username, p.sessionsEnded])).toEqual([
      ['ended', true],
      ['leaked', false],
    ]);
  });

  it('counts every refused attempt: written, aggregated and not yet written, per kind and reason', () => {
    const failure = (type: string, reason: string, details: Record<string, unknown> = {}) =>
      ({ type, reason, occurredAt: daysAgo(1), details }) as Pick<
        AuditEvent,
        'type' | 'reason' | 'occurredAt' | 'details'
      >;
    const { failedSignIns } = buildAccessReview(
      snapshot({
        failures: [
          failure('login', 'unknown_credential'),
          failure('login', 'unknown_credential', { aggregated: true, count: 40 }),
          failure('token.issued', 'bad_secret'),
          failure('login', 'not_allowed', { method: 'federated' }),
        ],
        pendingFailures: [{ type: 'token.issued', reason: 'bad_secret', hits: 5, lastAt: daysAgo(0) }],
      }),
      window,
    );
    expect(failedSignIns.attempts).toBe(48);
    expect(failedSignIns.byReason.map((r) => [r.kind, r.reason, r.attempts])).toEqual([
      ['passkey', 'unknown_credential', 41],
      ['client_credentials', 'bad_secret', 6],
      ['federated', 'not_allowed', 1],
    ]);
  });

  it('lists every day of the period with zeros, and passkeys with their binding and no compliance verdict', () => {
    const passkey = {
      id: 'pk',
      userId: 'id-ann',
      label: 'key',
      aaguid: '00000000-0000-0000-0000-000000000000',
      deviceType: 'multiDevice',
      backedUp: true,
      createdAt: daysAgo(5),
      lastUsedAt: null,
      revokedAt: null,
      flaggedAt: daysAgo(1),
    } as Passkey;
    const review = buildAccessReview(
      snapshot({
        users: [user('ann')],
        passkeys: [passkey],
        signInsPerDay: [{ day: '2026-12-06', count: 4 }],
        serviceAccounts: [
          {
            id: 'sa',
            name: 'etl',
            clientId: 'c',
            groups: [],
            scopes: [],
            createdBy: 'cli',
            createdAt: daysAgo(10),
            secretRotatedAt: daysAgo(10),
            disabledAt: null,
          } as unknown as ServiceAccount,
        ],
      }),
      window,
    );
    expect(review.signInsPerDay).toEqual([
      { day: '2026-12-04', count: 0 },
      { day: '2026-12-05', count: 0 },
      { day: '2026-12-06', count: 4 },
      { day: '2026-12-07', count: 0 },
    ]);
    expect(review.people[0]!.passkeys[0]).toMatchObject({
      deviceBound: false,
      backedUp: true,
      status: 'flagged',
      model: null,
      compliance: { status: 'not_evaluated' },
    });
    expect(review.serviceAccounts[0]).toMatchObject({ lastUsedAt: null, dormant: false });
  });
});
