import type { UnitOfWork } from '@app/persistence';
import {
  FakeClock,
  FakeProviderSessionRepository,
  FakeSingleUseRows,
  FakeUnitOfWork,
  FakeUsedLogoutTokenRepository,
} from '../../../test/support/fakes';
import type { FederatedLogin } from './federated-login.entity';
import type { FederatedLoginRepository } from './federated-login.repository';
import { FederationService } from './federation.service';
import type { OidcFlow } from './oidc-flow.entity';
import type { OidcFlowRepository } from './oidc-flow.repository';
import type { OidcRelyingParty } from './oidc-relying-party.service';
import type { ProviderSessionRepository } from './provider-session.repository';
import type { UsedLogoutTokenRepository } from './used-logout-token.repository';

const ISSUER = 'https://idp.example';
const T0 = new Date('2026-01-02T03:04:05Z');
const SETTINGS = {
  displayName: 'IdP',
  flowTtlSeconds: 600,
  sidRetentionSeconds: 3600,
  usernameClaim: 'preferred_username',
  groupsClaim: 'groups',
  allowedGroups: ['staff'],
  passkeyRequiredGroups: ['admins'],
};

/** FederationService over in-memory flows and sessions, and a provider whose ID token says `claims`. */
function world(claims: Record<string, unknown> = {}) {
  const flows = new FakeSingleUseRows<OidcFlow>('state');
  const pending = new FakeSingleUseRows<FederatedLogin>('secretHash');
  const sessions = new FakeProviderSessionRepository();
  const usedTokens = new FakeUsedLogoutTokenRepository();
  const clock = new FakeClock(T0);
  let n = 0;
  const relyingParty = {
    configured: true,
    settings: SETTINGS,
    newRequest: () => ({ state: `state-${++n}`, nonce: `nonce-${n}`, codeVerifier: `verifier-${n}` }),
    authorizationUrl: (request: { state: string }) => Promise.resolve(`${ISSUER}/auth?state=${request.state}`),
    exchange: () =>
      Promise.resolve({ iss: ISSUER, sub: 'sub-1', preferred_username: 'dana', groups: ['staff'], ...claims }),
  } as unknown as OidcRelyingParty;
  const service = new FederationService(
    new FakeUnitOfWork() as unknown as UnitOfWork,
    flows as unknown as OidcFlowRepository,
    pending as unknown as FederatedLoginRepository,
    relyingParty,
    sessions as unknown as ProviderSessionRepository,
    usedTokens as unknown as UsedLogoutTokenRepository,
    clock,
  );
  const started = async () => {
    const { authorizationUrl, binding } = await service.start();
    return { query: `?code=c&state=${new URL(authorizationUrl).searchParams.get('state')}`, binding };
  };
  return { service, clock, flows, pending, sessions, started };
}

describe('FederationService (provider sign-in rules, without a database)', () => {
  it('finishes a flow started in this browser, once', async () => {
    const w = world();
    const { query, binding } = await w.started();
    const verified = await w.service.finish(query, binding);
    expect(verified).toMatchObject({
      identity: { issuer: ISSUER, subject: 'sub-1', username: 'dana', groups: ['staff'] },
      passkeyRequired: false,
    });
    await expect(w.service.finish(query, binding)).rejects.toMatchObject({ reason: 'state_unknown' });
  });

  it('refuses a missing state, another browser (and consumes the flow anyway), and an expired flow', async () => {
    const w = world();
    await expect(w.service.finish('?code=c', 'b')).rejects.toMatchObject({ reason: 'state_missing' });
    const other = await w.started();
    await expect(w.service.finish(other.query, 'not-the-binding')).rejects.toMatchObject({
      reason: 'flow_binding_mismatch',
    });
    await expect(w.service.finish(other.query, other.binding)).rejects.toMatchObject({ reason: 'state_unknown' });
    const late = await w.started();
    w.clock.at = new Date(T0.getTime() + SETTINGS.flowTtlSeconds * 1000);
    await expect(w.service.finish(late.query, late.binding)).rejects.toMatchObject({ reason: 'state_expired' });
  });

  it('refuses a person outside the allowed groups, and an ID token without the username claim', async () => {
    const outsider = world({ groups: ['contractors'] });
    const a = await outsider.started();
    await expect(outsider.service.finish(a.query, a.binding)).rejects.toMatchObject({ reason: 'group_not_allowed' });
    const nameless = world({ preferred_username: '  ' });
    const b = await nameless.started();
    await expect(nameless.service.finish(b.query, b.binding)).rejects.toMatchObject({
      reason: 'username_claim_missing',
    });
  });

  it('asks for the passkey step when a group requires it, and lets the held sign-in be taken once, until it expires', async () => {
    const w = world({ groups: ['staff', 'admins'] });
    const { query, binding } = await w.started();
    expect((await w.service.finish(query, binding)).passkeyRequired).toBe(true);
    const secret = await w.service.holdForPasskey({} as never, {
      userId: 'u1',
      issuer: ISSUER,
      action: 'sign_in' as never,
    });
    expect(w.pending.rows[0]?.secretHash).not.toBe(secret); // only its hash is stored
    await expect(w.service.pendingLogin(secret)).resolves.toMatchObject({ userId: 'u1' });
    await expect(w.service.takePendingLogin(secret)).resolves.toMatchObject({ userId: 'u1' });
    await expect(w.service.takePendingLogin(secret)).rejects.toMatchObject({ reason: 'federated_login_unknown' });
    const later = await w.service.holdForPasskey({} as never, {
      userId: 'u1',
      issuer: ISSUER,
      action: 'sign_in' as never,
    });
    w.clock.at = new Date(T0.getTime() + SETTINGS.flowTtlSeconds * 1000);
    await expect(w.service.takePendingLogin(later)).rejects.toMatchObject({ reason: 'federated_login_expired' });
  });

  it('accepts a logout token once; refuses sub and sid naming different people; names nobody for an unknown sid', async () => {
    const w = world();
    w.sessions.subjects.set('u1', 'sub-1');
    await w.service.recordProviderSession({} as never, { userId: 'u1', issuer: ISSUER, sid: 'sid-1', at: T0 });
    const tx = {} as never;
    await expect(
      w.service.acceptLogoutToken(tx, { issuer: ISSUER, sid: 'sid-1', subject: 'sub-2', jti: 'j1' }),
    ).rejects.toMatchObject({ reason: 'logout_token_mismatch' });
    await expect(w.service.acceptLogoutToken(tx, { issuer: ISSUER, sid: 'sid-1', jti: 'j2' })).resolves.toEqual({
      issuer: ISSUER,
      subject: 'sub-1',
    });
    expect(w.sessions.sessions).toEqual([]); // the person's sids are forgotten
    await expect(w.service.acceptLogoutToken(tx, { issuer: ISSUER, sid: 'sid-1', jti: 'j2' })).rejects.toMatchObject({
      reason: 'logout_token_replayed',
    });
    await expect(w.service.acceptLogoutToken(tx, { issuer: ISSUER, sid: 'sid-1', jti: 'j3' })).resolves.toBeNull();
  });
});
