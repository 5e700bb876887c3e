/**
 * AUTHENTICATOR_POLICY end to end: registration asks for attestation where a rule needs it, verifies it against
 * trust anchors from a (test) FIDO MDS3 blob, and refuses what the rules do not allow, naming why; stored passkeys the
 * policy stops allowing get a grace period, then are refused; compromised models are flagged at sign-in.
 * The maker CAs, the MDS root and the blobs are generated per run (test/support/test-pki.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { InvitesService } from '@app/accounts';
import { Clock, CLOCK, loadAppConfig } from '@app/config';
import { createApp } from '../../apps/auth-service/src/bootstrap';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  ADMIN_GROUP,
  adminToken,
  assertion,
  createInvite,
  enrollUser,
  startTestApp,
  TEST_CONTEXT,
  TEST_ORIGIN,
  TestApp,
} from '../support/test-app';
import {
  createMaker,
  createMds,
  mdsBlob,
  MdsModel,
  otherKey,
  TestMaker,
  TestMds,
  writeBlob,
} from '../support/test-pki';

const APPROVED = '2fc0579f-8113-47ea-b116-bb5a8db9202a';
const OTHER = 'c5ef55ff-ad9a-4b9f-b580-adebafe026d0';
const REVOKED = '11111111-2222-3333-4444-555555555555';
const DAY = 86_400_000;

// Start-ups on PostgreSQL (a fresh schema, every migration) take seconds on a shared machine.
jest.setTimeout(120_000);

const ADMIN_RULE = [{ groups: [ADMIN_GROUP], attestation: 'required', aaguids: [APPROVED], device_bound: true }];

let mds: TestMds;
let approvedMaker: TestMaker;
let otherMaker: TestMaker;
let revokedMaker: TestMaker;
let models: MdsModel[];

beforeAll(async () => {
  mds = await createMds();
  [approvedMaker, otherMaker, revokedMaker] = await Promise.all([
    createMaker('Approved Keys'),
    createMaker('Other Keys'),
    createMaker('Revoked Keys'),
  ]);
  models = [
    { aaguid: APPROVED, description: 'Approved Key 5', maker: approvedMaker, statuses: ['FIDO_CERTIFIED_L2'] },
    { aaguid: OTHER, description: 'Other Key', maker: otherMaker },
    { aaguid: REVOKED, description: 'Broken Key', maker: revokedMaker, statuses: ['FIDO_CERTIFIED_L1', 'REVOKED'] },
  ];
});

async function policyApp(extra: Record<string, string> = {}, blob?: string): Promise<TestApp> {
  const path = writeBlob(mds, `blob-${randomUUID()}.jwt`, blob ?? (await mdsBlob(mds, models)));
  return startTestApp({
    AUTHENTICATOR_POLICY: JSON.stringify(ADMIN_RULE),
    MDS_BLOB_PATH: path,
    MDS_ROOT_CERT_PATH: mds.rootPath,
    ...extra,
  });
}

const key = (
  maker: TestMaker | null,
  aaguid: string,
  extra: Partial<ConstructorParameters<typeof SoftAuthenticator>[0]> = {},
) =>
  new SoftAuthenticator({
    aaguid,
    ...(maker ? { attestation: 'packed' as const, attestationCertificate: maker.attestation } : {}),
    ...extra,
  });

/** Registration through the public API; returns the options and the verify answer. */
async function register(
  t: { http: ReturnType<typeof request.agent> },
  inviteToken: string,
  authenticator: SoftAuthenticator,
) {
  const options = await t.http.post('/v1/registration/options').send({ inviteToken });
  expect(options.status).toBe(200);
  const body = options.body as PublicKeyCredentialCreationOptionsJSON;
  const response = authenticator.createCredential(body, { origin: TEST_ORIGIN });
  const verify = await t.http.post('/v1/registration/verify').send({ response });
  return { options: body, verify };
}

describe('registration under AUTHENTICATOR_POLICY', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await policyApp();
  });
  afterAll(() => t.close());

  const adminInvite = () => createInvite(t, { username: `adm-${randomUUID().slice(0, 8)}`, groups: [ADMIN_GROUP] });

  it('accepts an approved, attested, device-bound key for an admin, asking for direct attestation', async () => {
    const { options, verify } = await register(t, await adminInvite(), key(approvedMaker, APPROVED));
    expect(options.attestation).toBe('direct');
    expect(verify.status).toBe(201);
    expect(verify.body.label).toBe('Approved Key 5');
  });

  it('asks people without a rule for no attestation and lets them use any passkey', async () => {
    const invite = await createInvite(t, { username: `viewer-${randomUUID().slice(0, 8)}`, groups: ['viewers'] });
    const { options, verify } = await register(t, invite, key(null, OTHER, { backupEligible: true }));
    expect(options.attestation).toBe('none');
    expect(verify.status).toBe(201);
  });

  it('refuses another model, naming the approved ones', async () => {
    const { verify } = await register(t, await adminInvite(), key(otherMaker, OTHER));
    expect(verify.status).toBe(400);
    expect(verify.body.message).toBe(
      'this passkey is not allowed: this role needs an approved security key model (Approved Key 5); this one is Other Key',
    );
  });

  it('refuses an approved AAGUID without attestation', async () => {
    const { verify } = await register(t, await adminInvite(), key(null, APPROVED));
    expect(verify.status).toBe(400);
    expect(verify.body.message).toMatch(/this role needs a security key that proves its model \(attestation\)/);
  });

  it("refuses an approved AAGUID whose attestation chains to another maker's root", async () => {
    const { verify } = await register(t, await adminInvite(), key(otherMaker, APPROVED));
    expect(verify.status).toBe(400);
    expect(verify.body.message).toMatch(/proves its model/);
  });

  it('refuses a synced (backup-eligible) credential for a device_bound role', async () => {
    const { verify } = await register(t, await adminInvite(), key(approvedMaker, APPROVED, { backupEligible: true }));
    expect(verify.status).toBe(400);
    expect(verify.body.message).toBe(
      'this passkey is not allowed: this role needs a security key registered on one device; synced passkeys are not allowed',
    );
  });

  it('refuses a revoked model for anyone, rule or not', async () => {
    const invite = await createInvite(t, { username: `viewer-${randomUUID().slice(0, 8)}`, groups: ['viewers'] });
    const { verify } = await register(t, invite, key(revokedMaker, REVOKED));
    expect(verify.status).toBe(400);
    expect(verify.body.message).toBe(
      'this passkey is not allowed: this security key model (Broken Key) was revoked by its maker (FIDO status REVOKED)',
    );
  });

  it('audits each refusal with its policy reason', async () => {
    const admin = await adminToken(t);
    const res = await t.http
      .get('/v1/admin/audit')
      .query({ type: 'passkey.registration', outcome: 'failure' })
      .set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    const reasons = (res.body.items ?? res.body).map((e: { reason: string }) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'model_not_allowed',
        'attestation_missing',
        'synced_passkey',
        'authenticator_compromised',
      ]),
    );
  });
});

describe('the MDS blob', () => {
  it('refuses registrations that need it once it has expired, with a message saying so; others go on', async () => {
    const t = await policyApp({}, await mdsBlob(mds, models, { nextUpdate: '2020-01-01' }));
    try {
      const admin = await createInvite(t, { username: 'late-admin', groups: [ADMIN_GROUP] });
      const { verify } = await register(t, admin, key(approvedMaker, APPROVED));
      expect(verify.status).toBe(400);
      expect(verify.body.message).toMatch(
        /this role needs a security key model checked against FIDO's metadata, which expired on 2020-01-01; an administrator must download a fresh MDS blob/,
      );
      const viewer = await createInvite(t, { username: 'late-viewer', groups: ['viewers'] });
      expect((await register(t, viewer, key(null, OTHER))).verify.status).toBe(201);
    } finally {
      await t.close();
    }
  });

  // A start that stops in a provider leaves Nest's half-built application, and its open database pool, out of
  // reach (the service's main() exits the process then); on PostgreSQL those sockets would keep jest from exiting.
  // What stops the start is the blob, whatever the database: these run on a SQLite file.
  const onSqlite = () => ({ DATABASE_URL: join(mds.dir, `start-${randomUUID()}.sqlite`) });

  it('with a forged signature stops the start, naming MDS_BLOB_PATH', async () => {
    const forged = await mdsBlob(mds, models, { signWith: await otherKey() });
    await expect(policyApp(onSqlite(), forged)).rejects.toThrow(
      /MDS_BLOB_PATH .*: the FIDO MDS3 blob signature does not verify with its certificate/,
    );
  });

  it('signed under another root than the trusted one stops the start', async () => {
    const stranger = await createMds();
    await expect(policyApp(onSqlite(), await mdsBlob(stranger, models))).rejects.toThrow(
      /the FIDO MDS3 blob certificate chain does not lead to the trusted MDS root/,
    );
  });

  it('is required at start-up when a rule checks models', async () => {
    await expect(startTestApp({ AUTHENTICATOR_POLICY: JSON.stringify(ADMIN_RULE) })).rejects.toThrow(
      /AUTHENTICATOR_POLICY has rules that check authenticator models .* set MDS_BLOB_PATH/,
    );
  });
});

describe('existing passkeys when the policy tightens', () => {
  let t: TestApp;
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await t.close();
  });

  /** The same database, restarted with another configuration (how an operator changes the policy). */
  async function restart(
    overrides: Record<string, string>,
  ): Promise<{ http: ReturnType<typeof request.agent>; clock: Clock }> {
    await t.app.close();
    app = await createApp(loadAppConfig({ ...t.env, ...overrides }), false);
    await app.init();
    return { http: request.agent(app.getHttpServer() as Server), clock: app.get<Clock>(CLOCK) };
  }

  async function signInWith(
    http: ReturnType<typeof request.agent>,
    authenticator: SoftAuthenticator,
    username: string,
  ) {
    const response = await assertion({ http } as TestApp, authenticator, { username });
    return http.post('/v1/authentication/verify').send({ response });
  }

  it('marks a synced admin passkey, tells at sign-in and in the admin API, refuses it after the grace period, and a re-enrollment brings the person back', async () => {
    t = await startTestApp();
    const synced = new SoftAuthenticator({ backupEligible: true, backupState: true });
    await enrollUser(t, synced, { username: 'ada', groups: [ADMIN_GROUP] });
    const later = writeBlob(mds, 'tight.jwt', await mdsBlob(mds, models));
    const { http, clock } = await restart({
      AUTHENTICATOR_POLICY: JSON.stringify([{ groups: [ADMIN_GROUP], device_bound: true }]),
      AUTHENTICATOR_POLICY_GRACE_DAYS: '14',
      MDS_BLOB_PATH: later,
      MDS_ROOT_CERT_PATH: mds.rootPath,
    });

    const during = await signInWith(http, synced, 'ada');
    expect(during.status).toBe(200);
    expect(during.body.authenticator_policy).toMatchObject({ reason: 'synced_passkey' });
    expect(during.body.authenticator_policy.message).toMatch(
      /^This passkey is not allowed for your role after \d{4}-\d{2}-\d{2}/,
    );
    const graceEnds = Date.parse(during.body.authenticator_policy.notAllowedAfter);
    expect(Math.abs(graceEnds - (Date.now() + 14 * DAY))).toBeLessThan(60_000);

    const admin = await http
      .get('/v1/admin/users/ada')
      .set('Authorization', `Bearer ${await adminToken({ ...t, app: app!, http })}`);
    expect(admin.status).toBe(200);
    expect(admin.body.compliance).toMatchObject({ status: 'non_compliant', reason: 'synced_passkey' });
    expect(admin.body.passkeys[0]).toMatchObject({
      policyReason: 'synced_passkey',
      notAllowedAfter: during.body.authenticator_policy.notAllowedAfter,
    });
    const review = await http
      .get('/v1/admin/reports/access-review')
      .set('Authorization', `Bearer ${await adminToken({ ...t, app: app!, http })}`);
    expect(review.status).toBe(200);
    const ada = (
      review.body.people as { username: string; compliance: unknown; passkeys: { compliance: unknown }[] }[]
    ).find((p) => p.username === 'ada')!;
    expect(ada.compliance).toEqual({ status: 'non_compliant', reason: 'synced_passkey' });
    expect(ada.passkeys[0]!.compliance).toEqual({
      status: 'non_compliant',
      reason: 'synced_passkey',
      notAllowedAfter: during.body.authenticator_policy.notAllowedAfter,
    });

    const realNow = clock.now.bind(clock);
    clock.now = () => new Date(graceEnds + 1000);
    try {
      const after = await signInWith(http, synced, 'ada');
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('authenticator_policy');
      expect(after.body.message).toMatch(
        /this passkey is no longer allowed for your role since .*synced passkeys are not allowed.*re-enrollment invite/,
      );

      // The way back: an admin's re-enrollment invite, and a key the rule allows.
      const invite = (await app!.get(InvitesService).create(TEST_CONTEXT, { username: 'ada' })).token;
      const bound = new SoftAuthenticator();
      const { verify } = await register({ http }, invite, bound);
      expect(verify.status).toBe(201);
      const back = await signInWith(http, bound, 'ada');
      expect(back.status).toBe(200);
      expect(back.body.authenticator_policy).toBeUndefined();
      const people = await http
        .get('/v1/admin/reports/people')
        .set('Authorization', `Bearer ${await adminToken({ ...t, app: app!, http })}`);
      const now = (people.body as { username: string; compliance: { status: string } }[]).find(
        (p) => p.username === 'ada',
      )!;
      // The synced passkey is still active (an admin revokes it), so ada is not compliant yet.
      expect(now.compliance).toEqual({ status: 'non_compliant', reason: 'synced_passkey' });
    } finally {
      clock.now = realNow;
    }
  });

  it('marks at start-up, before anyone signs in, and clears the mark when the policy loosens again', async () => {
    t = await startTestApp();
    await enrollUser(t, new SoftAuthenticator({ backupEligible: true }), { username: 'cy', groups: [ADMIN_GROUP] });
    const tight = { AUTHENTICATOR_POLICY: JSON.stringify([{ groups: [ADMIN_GROUP], device_bound: true }]) };
    let { http } = await restart(tight);
    const look = async () =>
      (
        await http
          .get('/v1/admin/users/cy')
          .set('Authorization', `Bearer ${await adminToken({ ...t, app: app!, http })}`)
      ).body as { compliance: unknown; passkeys: { policyReason: string | null }[] };
    expect((await look()).compliance).toEqual({ status: 'non_compliant', reason: 'synced_passkey' });

    await app!.close();
    app = await createApp(
      loadAppConfig({ ...t.env, AUTHENTICATOR_POLICY: JSON.stringify([{ groups: ['*'] }]) }),
      false,
    );
    await app.init();
    http = request.agent(app.getHttpServer() as Server);
    const after = await look();
    expect(after.compliance).toEqual({ status: 'compliant' });
    expect(after.passkeys[0]!.policyReason).toBeNull();
  });

  it('flags a passkey of a model MDS now lists as revoked, at its next sign-in', async () => {
    t = await startTestApp();
    const broken = key(null, REVOKED);
    await enrollUser(t, broken, { username: 'bob', groups: ['viewers'] });
    const { http } = await restart({
      MDS_BLOB_PATH: writeBlob(mds, 'rev.jwt', await mdsBlob(mds, models)),
      MDS_ROOT_CERT_PATH: mds.rootPath,
    });
    const res = await signInWith(http, broken, 'bob');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('passkey_flagged');
    expect(res.body.message).toMatch(/revoked by its maker \(FIDO status REVOKED\)/);
  });
});
