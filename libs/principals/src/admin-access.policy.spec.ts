import type { AppConfig } from '@app/config';
import { AppError } from '@app/errors';
import type { VerifiedAccessToken } from '@app/tokens';
import { AdminAccess, AdminAccessPolicy } from './admin-access.policy';
import type { Principal } from './principal';
import { StepUpPolicy } from './step-up.policy';
import { FakeClock } from '../../../test/support/fakes';

const config = {
  adminGroups: ['airflow-admins', 'platform'],
  webauthn: { stepUpMaxAgeSeconds: 300 },
} as unknown as AppConfig;
/** The CLOCK stands still, so a sign-in's age is exact (no real time passes between issue and check). */
const clock = new FakeClock(new Date('2026-01-02T03:04:05Z'));
const policy = new AdminAccessPolicy(config, new StepUpPolicy(config, clock));
const now = () => Math.floor(clock.now().getTime() / 1000);

function principal(
  kind: Principal['kind'],
  groups: string[],
  scopes: string[],
  token: Partial<VerifiedAccessToken> = {},
): Principal {
  return { kind, id: 'id', name: 'n', groups, scopes, token: { sub: 'id', groups: [], client_id: 'c', ...token } };
}

/** The error code, or 'allowed'. */
function outcome(p: Principal, access: AdminAccess): string {
  try {
    policy.authorize(p, access);
    return 'allowed';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

describe('AdminAccessPolicy', () => {
  const fresh = { auth_time: now() - 10, amr: ['hwk', 'user', 'mfa'] };
  it.each([
    // person: current groups decide; mutations need a fresh, user-verified sign-in
    ['person in an admin group reads', 'read', 'allowed', principal('user', ['platform'], [], fresh)],
    [
      'person in an admin group changes with a fresh UV sign-in',
      'mutation',
      'allowed',
      principal('user', ['airflow-admins'], [], fresh),
    ],
    [
      'person in an admin group, stale sign-in, changes',
      'mutation',
      'step_up_required',
      principal('user', ['airflow-admins'], [], { ...fresh, auth_time: now() - 301 }),
    ],
    [
      'person in an admin group, sign-in without UV, changes',
      'mutation',
      'step_up_required',
      principal('user', ['airflow-admins'], [], { ...fresh, amr: ['hwk', 'user'] }),
    ],
    [
      'person outside admin groups with a fresh sign-in',
      'status-read',
      'forbidden',
      principal('user', ['ops'], [], fresh),
    ],
    [
      'person outside admin groups, stale: forbidden before step-up',
      'mutation',
      'forbidden',
      principal('user', ['ops'], [], {}),
    ],
    [
      'person whose scopes somehow say admin gets nothing from them',
      'read',
      'forbidden',
      principal('user', ['ops'], ['admin'], fresh),
    ],
    // service account: scopes decide, admin also needs the group; no step-up
    ['sessions:read reads status', 'status-read', 'allowed', principal('service_account', [], ['sessions:read'])],
    [
      'sessions:read reads anything else',
      'read',
      'insufficient_scope',
      principal('service_account', ['airflow-admins'], ['sessions:read']),
    ],
    [
      'sessions:read changes',
      'mutation',
      'insufficient_scope',
      principal('service_account', ['airflow-admins'], ['sessions:read']),
    ],
    [
      'admin in an admin group changes',
      'mutation',
      'allowed',
      principal('service_account', ['airflow-admins'], ['admin']),
    ],
    [
      'admin in an admin group reads status',
      'status-read',
      'allowed',
      principal('service_account', ['platform'], ['admin']),
    ],
    [
      'admin outside admin groups',
      'mutation',
      'forbidden',
      principal('service_account', ['ops'], ['admin', 'sessions:read']),
    ],
    [
      'no scope in an admin group',
      'status-read',
      'insufficient_scope',
      principal('service_account', ['airflow-admins'], []),
    ],
    [
      'no scope in an admin group changes',
      'mutation',
      'insufficient_scope',
      principal('service_account', ['airflow-admins'], []),
    ],
  ] as const)('%s (%s) → %s', (_name, access, expected, p) => {
    expect(outcome(p, access)).toBe(expected);
  });
});

describe('StepUpPolicy', () => {
  const stepUp = new StepUpPolicy(config, clock);
  const check =
    (token: Partial<VerifiedAccessToken>, kind: Principal['kind'] = 'user') =>
    () =>
      stepUp.requireFreshVerifiedSignIn(principal(kind, [], [], token), 'this');

  it('accepts a user-verified sign-in within the window, up to its edge', () => {
    expect(check({ auth_time: now() - 300, amr: ['mfa'] })).not.toThrow();
  });

  it.each([
    ['no auth_time', { amr: ['mfa'] }, /sign-in from the last 300 seconds/],
    ['auth_time as a string', { auth_time: String(now()) as unknown as number, amr: ['mfa'] }, /last 300 seconds/],
    ['older than the window', { auth_time: now() - 301, amr: ['mfa'] }, /last 300 seconds/],
    ['no amr', { auth_time: now() }, /PIN or biometrics/],
    ['amr without mfa', { auth_time: now(), amr: ['hwk', 'user'] }, /PIN or biometrics/],
    ['amr as a string containing mfa', { auth_time: now(), amr: 'mfa' as unknown as string[] }, /PIN or biometrics/],
  ])('refuses %s', (_name, token, message) => {
    expect(check(token)).toThrow(message);
  });

  it('refuses a service account: only a person can step up', () => {
    expect(check({ auth_time: now(), amr: ['mfa'] }, 'service_account')).toThrow(/only a person/);
  });
});
