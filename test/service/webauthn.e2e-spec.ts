import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { InvitesService, UsersService } from '@app/accounts';
import { CLOCK, Clock } from '@app/config';
import { TokenIssuerService } from '@app/tokens';
import { UnitOfWork } from '@app/persistence';
import { AuthenticationService, PASSKEY_LABEL_MAX_LENGTH, PasskeysService } from '@app/webauthn';
import { DataSource } from 'typeorm';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  assertion,
  createInvite,
  enrollPasskey,
  enrollUser,
  serviceAccountToken,
  signIn,
  startTestApp,
  TEST_CONTEXT,
  TEST_ORIGIN,
  TestApp,
} from '../support/test-app';

describe('WebAuthn ceremonies (§7.1 registration, §7.2 authentication)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  let seq = 0;
  const uniqueName = () => `user${++seq}-${Date.now().toString(36)}`;

  async function newUser(opts: ConstructorParameters<typeof SoftAuthenticator>[0] = {}, groups = ['data-team']) {
    const username = uniqueName();
    const authenticator = new SoftAuthenticator(opts);
    const enrolled = await enrollUser(t, authenticator, { username, groups });
    return { username, authenticator, enrolled };
  }

  const verify = (response: unknown) => t.http.post('/v1/authentication/verify').send({ response });

  async function lastAudit(type: string) {
    const rows = await t.app
      .get(DataSource)
      .query(
        `SELECT type, outcome, reason FROM audit_events WHERE type = '${type}' ORDER BY occurred_at DESC, id DESC LIMIT 1`,
      );
    return rows[0] as { type: string; outcome: string; reason: string | null };
  }

  describe('enrollment', () => {
    it.each(['EdDSA', 'ES256', 'RS256'] as const)(
      'enrolls a %s passkey from an invite and signs in with it',
      async (alg) => {
        const { username, authenticator, enrolled } = await newUser({ alg });
        expect(enrolled).toMatchObject({ username, label: 'Security key', deviceType: 'singleDevice' });
        expect(await signIn(t, authenticator, { username })).toEqual(expect.any(String));
      },
    );

    it('accepts packed self-attestation', async () => {
      const { enrolled } = await newUser({ attestation: 'packed' });
      expect(enrolled.credentialId).toEqual(expect.any(String));
    });

    it('asks for user verification, resident keys, and excludes passkeys the user already has', async () => {
      const { authenticator, username } = await newUser();
      const token = await signIn(t, authenticator, { username });
      const res = await t.http.post('/v1/registration/options').set('Authorization', `Bearer ${token}`).send({});
      expect(res.status).toBe(200);
      expect(res.body.authenticatorSelection).toMatchObject({ userVerification: 'required', residentKey: 'preferred' });
      expect(res.body.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toEqual([-8, -7, -257]);
      expect(res.body.excludeCredentials.map((c: { id: string }) => c.id)).toEqual([authenticator.credentials[0]!.id]);
      expect(() => authenticator.createCredential(res.body, { origin: TEST_ORIGIN })).toThrow(/excludeCredentials/);
    });

    it('lets a signed-in user add a second passkey', async () => {
      const { authenticator, username } = await newUser();
      const token = await signIn(t, authenticator, { username });
      const second = new SoftAuthenticator({ alg: 'ES256' });
      const added = await enrollPasskey(t, second, { bearer: token }, { label: 'Backup key' });
      expect(added).toMatchObject({ username, label: 'Backup key' });
      expect(await signIn(t, second, { username })).toEqual(expect.any(String));
    });

    describe('adding a passkey needs a fresh, user-verified sign-in (step-up)', () => {
      async function tokenFor(username: string, authAgeSeconds: number, amr: string[]) {
        const user = await t.app.get(UsersService).resolve(username);
        const issued = await t.app.get(TokenIssuerService).issueUserToken({
          userId: user.id,
          username,
          displayName: username,
          groups: user.groups,
          // The service re-reads the passkey a token names: it must be one the user really holds.
          passkeyId: (await t.app.get(PasskeysService).listForUser(user.id))[0]!.id,
          sessionGeneration: user.sessionGeneration,
          authTime: new Date(Date.now() - authAgeSeconds * 1000),
          amr,
        });
        return issued.access_token;
      }

      it('accepts a login token from a user-verified sign-in a moment ago', async () => {
        const { username } = await newUser();
        const res = await t.http
          .post('/v1/registration/options')
          .set('Authorization', `Bearer ${await tokenFor(username, 5, ['hwk', 'user', 'mfa'])}`)
          .send({});
        expect(res.status).toBe(200);
      });

      it('refuses a still-valid login token whose sign-in is older than the step-up window', async () => {
        const { username } = await newUser();
        const stale = await tokenFor(username, 301, ['hwk', 'user', 'mfa']);
        const started = await t.http.post('/v1/registration/options').set('Authorization', `Bearer ${stale}`).send({});
        expect(started.status).toBe(401);
        expect(started.body).toMatchObject({
          code: 'step_up_required',
          message: expect.stringMatching(/confirm with your passkey/),
        });

        // Started while fresh, finished with a stale token: refused, and nothing stored.
        const options = await t.http
          .post('/v1/registration/options')
          .set('Authorization', `Bearer ${await tokenFor(username, 5, ['hwk', 'user', 'mfa'])}`)
          .send({});
        const response = new SoftAuthenticator().createCredential(options.body, { origin: TEST_ORIGIN });
        const finished = await t.http
          .post('/v1/registration/verify')
          .set('Authorization', `Bearer ${stale}`)
          .send({ response });
        expect(finished.status).toBe(401);
        expect(finished.body.code).toBe('step_up_required');
        const user = await t.app.get(UsersService).resolve(username);
        expect(await t.app.get(PasskeysService).listForUser(user.id)).toHaveLength(1);
      });

      it('refuses a login token from a sign-in without user verification', async () => {
        const { username } = await newUser();
        const res = await t.http
          .post('/v1/registration/options')
          .set('Authorization', `Bearer ${await tokenFor(username, 5, ['hwk', 'user'])}`)
          .send({});
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('step_up_required');
      });
    });

    it('refuses an invite that was already used', async () => {
      const invite = await createInvite(t, { username: uniqueName() });
      await enrollPasskey(t, new SoftAuthenticator(), { inviteToken: invite });
      const res = await t.http.post('/v1/registration/options').send({ inviteToken: invite });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/invalid, expired or already used/);
    });

    it('refuses an invite that expired between the options and the verify, and writes nothing', async () => {
      const username = uniqueName();
      const invite = await createInvite(t, { username });
      const options = await t.http.post('/v1/registration/options').send({ inviteToken: invite });
      expect(options.status).toBe(200);
      const db = t.app.get(DataSource);
      await db.query(`UPDATE invites SET expires_at = ${Date.now() - 1000} WHERE username = '${username}'`);
      const authenticator = new SoftAuthenticator();
      const res = await t.http
        .post('/v1/registration/verify')
        .send({ response: authenticator.createCredential(options.body, { origin: TEST_ORIGIN }) });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/expired/);
      expect(await lastAudit('passkey.registration')).toMatchObject({ outcome: 'failure', reason: 'invite_expired' });
      expect(await db.query(`SELECT id FROM users WHERE username = '${username}'`)).toEqual([]);
      expect(
        await db.query(`SELECT id FROM passkeys WHERE credential_id = '${authenticator.credentials[0]!.id}'`),
      ).toEqual([]);
      const [row] = await db.query(`SELECT used_at, user_id FROM invites WHERE username = '${username}'`);
      expect(row).toEqual({ used_at: null, user_id: null });
    });

    it(`limits passkey labels to ${PASSKEY_LABEL_MAX_LENGTH} characters, at enrollment and on rename`, async () => {
      expect(PASSKEY_LABEL_MAX_LENGTH).toBe(100);
      const tooLong = 'x'.repeat(PASSKEY_LABEL_MAX_LENGTH + 1);
      const invite = await createInvite(t, { username: uniqueName() });
      await expect(
        enrollPasskey(t, new SoftAuthenticator(), { inviteToken: invite }, { label: tooLong }),
      ).rejects.toThrow(/400/);
      const { enrolled } = await newUser();
      const passkeys = t.app.get(PasskeysService);
      await expect(passkeys.rename(TEST_CONTEXT, enrolled.id as string, tooLong)).rejects.toThrow(/1-100 characters/);
      expect(
        (await passkeys.rename(TEST_CONTEXT, enrolled.id as string, 'y'.repeat(PASSKEY_LABEL_MAX_LENGTH))).label,
      ).toHaveLength(100);
    });

    it('builds invite links on the enrollment page named by ENROLLMENT_URL (served by Airflow, wherever it is mounted)', async () => {
      const mounted = await startTestApp({ ENROLLMENT_URL: 'http://localhost:8080/airflow/auth/enroll' });
      try {
        const created = await mounted.app.get(InvitesService).create(TEST_CONTEXT, { username: 'elsewhere' });
        expect(created.url).toBe(
          `http://localhost:8080/airflow/auth/enroll?invite=${encodeURIComponent(created.token)}`,
        );
      } finally {
        await mounted.close();
      }
    });

    it('refuses an unknown invite token', async () => {
      const res = await t.http.post('/v1/registration/options').send({ inviteToken: 'A'.repeat(43) });
      expect(res.status).toBe(400);
      expect(await lastAudit('invite.redeem')).toMatchObject({ outcome: 'failure', reason: 'invite_unknown' });
    });

    it('lets only one of two enrollments racing on one invite succeed', async () => {
      const invite = await createInvite(t, { username: uniqueName() });
      const a = new SoftAuthenticator();
      const b = new SoftAuthenticator();
      const [optA, optB] = await Promise.all([
        t.http.post('/v1/registration/options').send({ inviteToken: invite }),
        t.http.post('/v1/registration/options').send({ inviteToken: invite }),
      ]);
      const results = await Promise.all([
        t.http
          .post('/v1/registration/verify')
          .send({ response: a.createCredential(optA.body, { origin: TEST_ORIGIN }) }),
        t.http
          .post('/v1/registration/verify')
          .send({ response: b.createCredential(optB.body, { origin: TEST_ORIGIN }) }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
      // The loser hears why, whichever database decided the race (PostgreSQL's read committed sees the winner's new
      // account before the winner's used invite unless the invite is read again).
      expect(await lastAudit('passkey.registration')).toMatchObject({ outcome: 'failure', reason: 'invite_used' });
    });

    it('refuses a registration from a foreign origin', async () => {
      const invite = await createInvite(t, { username: uniqueName() });
      await expect(
        enrollPasskey(
          t,
          new SoftAuthenticator(),
          { inviteToken: invite },
          { overrides: { origin: 'https://evil.example' } },
        ),
      ).rejects.toThrow(/400/);
    });

    it('refuses a registration with the wrong RP ID hash', async () => {
      const invite = await createInvite(t, { username: uniqueName() });
      await expect(
        enrollPasskey(t, new SoftAuthenticator(), { inviteToken: invite }, { overrides: { rpId: 'evil.example' } }),
      ).rejects.toThrow(/400/);
    });

    it('refuses a registration without user verification', async () => {
      const invite = await createInvite(t, { username: uniqueName() });
      await expect(
        enrollPasskey(t, new SoftAuthenticator({ userVerification: false }), { inviteToken: invite }),
      ).rejects.toThrow(/400/);
    });

    it('refuses a registration challenge used twice', async () => {
      const invite = await createInvite(t, { username: uniqueName() });
      const options = await t.http.post('/v1/registration/options').send({ inviteToken: invite });
      const response = new SoftAuthenticator().createCredential(options.body, { origin: TEST_ORIGIN });
      expect((await t.http.post('/v1/registration/verify').send({ response })).status).toBe(201);
      const again = await t.http.post('/v1/registration/verify').send({ response });
      expect(again.status).toBe(400);
    });

    it('does not let a service-account token add passkeys', async () => {
      const { token } = await serviceAccountToken(t, ['data-team']);
      const res = await t.http.post('/v1/registration/options').set('Authorization', `Bearer ${token}`).send({});
      expect(res.status).toBe(403);
    });

    it('requires an invite or a sign-in to start a registration', async () => {
      const res = await t.http.post('/v1/registration/options').send({});
      expect(res.status).toBe(401);
    });
  });

  describe('sign-in', () => {
    it('issues an RFC 9068 access token verifiable with the published JWKS', async () => {
      const { username, authenticator } = await newUser({}, ['data-team', 'airflow-admins']);
      const token = await signIn(t, authenticator, { username });
      const jwks = (await t.http.get('/.well-known/jwks.json')).body;
      const header = decodeProtectedHeader(token);
      expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: t.config.jwt.issuer,
        audience: 'airflow',
        typ: 'at+jwt',
      });
      expect(payload).toMatchObject({
        preferred_username: username,
        groups: ['airflow-admins', 'data-team'],
        amr: ['hwk', 'user', 'mfa'],
        client_id: 'airflow-webauthn',
      });
      expect(payload.sub).not.toBe(username);
      expect(payload.exp! - payload.iat!).toBe(600);
      for (const claim of ['jti', 'nbf', 'auth_time', 'passkey_id', 'name']) expect(payload[claim]).toBeDefined();
      expect(jwks.keys.every((k: Record<string, unknown>) => k.d === undefined && k.use === 'sig')).toBe(true);
    });

    it('signs in without a username using a discoverable credential', async () => {
      const { authenticator } = await newUser();
      const response = await assertion(t, authenticator, { credentialId: authenticator.credentials[0]!.id });
      const res = await verify(response);
      expect(res.status).toBe(200);
    });

    it('answers an unknown username like a known one (no user enumeration)', async () => {
      const res = await t.http.post('/v1/authentication/options').send({ username: 'nobody-here' });
      const again = await t.http.post('/v1/authentication/options').send({ username: 'nobody-here' });
      expect(res.status).toBe(200);
      // Shaped like a real person's (as many credentials as someone enrolled has; enumeration.e2e-spec.ts), stable.
      expect(res.body.allowCredentials.length).toBeGreaterThanOrEqual(1);
      expect(again.body.allowCredentials).toEqual(res.body.allowCredentials);
    });

    it('refuses a replayed assertion', async () => {
      const { username, authenticator } = await newUser();
      const response = await assertion(t, authenticator, { username });
      expect((await verify(response)).status).toBe(200);
      const replay = await verify(response);
      expect(replay.status).toBe(400);
      expect(replay.body.message).toMatch(/unknown or was already used/);
    });

    it('lets exactly one of two concurrent submissions of one assertion win', async () => {
      const { username, authenticator } = await newUser();
      const response = await assertion(t, authenticator, { username });
      const results = await Promise.all(Array.from({ length: 5 }, () => verify(response)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400)).toHaveLength(4);
    });

    it('refuses an expired challenge', async () => {
      const short = await startTestApp({ WEBAUTHN_CHALLENGE_TTL_SECONDS: '10' });
      try {
        const authenticator = new SoftAuthenticator();
        await enrollUser(short, authenticator, { username: 'late' });
        const response = await assertion(short, authenticator, { username: 'late' });
        await short.app.get(DataSource).query('UPDATE challenges SET expires_at = 0');
        const res = await short.http.post('/v1/authentication/verify').send({ response });
        expect(res.status).toBe(400);
        expect(res.body.message).toMatch(/expired/);
      } finally {
        await short.close();
      }
    });

    it.each([
      ['a foreign origin', { origin: 'https://evil.example' }],
      ['a wrong RP ID hash', { rpId: 'evil.example' }],
      ['a missing user-presence flag', { flags: { up: false } }],
      ['a missing user-verification flag', { flags: { uv: false } }],
      ['a tampered signature', { tamperSignature: true }],
      ['a wrong ceremony type', { type: 'webauthn.create' }],
      ['a cross-origin iframe', { crossOrigin: true }],
    ])('refuses an assertion with %s', async (_label, overrides) => {
      const { username, authenticator } = await newUser();
      const response = await assertion(t, authenticator, { username, overrides });
      const res = await verify(response);
      expect(res.status).toBe(401);
      expect((await lastAudit('login')).outcome).toBe('failure');
      // A refused assertion leaves the stored counter untouched.
      const [stored] = await t.app
        .get(DataSource)
        .query(`SELECT counter FROM passkeys WHERE credential_id = '${authenticator.credentials[0]!.id}'`);
      expect(Number(stored.counter)).toBe(0);
    });

    const flagOf = async (credentialId: string) =>
      (
        await t.app
          .get(DataSource)
          .query(`SELECT flagged_at, flag_reason FROM passkeys WHERE credential_id = '${credentialId}'`)
      )[0] as { flagged_at: unknown; flag_reason: string | null };

    it('refuses a counter that went backwards and blocks the passkey (strong evidence: not above the counter stored before the challenge was issued)', async () => {
      const { username, authenticator } = await newUser({ initialCounter: 10 });
      await signIn(t, authenticator, { username });
      // The rule compares the counter's last change with the challenge's creation and treats "same millisecond" as
      // not proven: the next challenge is issued a minute later on the service CLOCK (no real waiting).
      const minuteLater = t.app.get<Clock>(CLOCK).now().getTime() + 60_000;
      const clock = jest.spyOn(t.app.get<Clock>(CLOCK), 'now').mockImplementation(() => new Date(minuteLater));
      let cloned: Awaited<ReturnType<typeof assertion>>;
      try {
        cloned = await assertion(t, authenticator, { username, overrides: { counter: 5 } });
      } finally {
        clock.mockRestore();
      }
      const res = await verify(cloned);
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/cloned/);
      expect(await lastAudit('login')).toMatchObject({ outcome: 'failure', reason: 'counter_regression' });
      expect(await lastAudit('passkey.flagged')).toMatchObject({ outcome: 'success', reason: 'counter_regression' });
      expect((await flagOf(authenticator.credentials[0]!.id)).flag_reason).toBe('counter_regression');
      // Flagged: even a correct counter no longer signs in.
      await expect(signIn(t, authenticator, { username })).rejects.toThrow(/401/);
      expect(await lastAudit('login')).toMatchObject({ outcome: 'failure', reason: 'passkey_flagged' });
    });

    it('refuses, without flagging, two genuine assertions verified out of order (two tabs: the late one was challenged before the winner was recorded)', async () => {
      const { username, authenticator } = await newUser({ initialCounter: 10 });
      const tabA = await assertion(t, authenticator, { username }); // signed first: counter 11
      const tabB = await assertion(t, authenticator, { username }); // signed second: counter 12
      expect((await verify(tabB)).status).toBe(200);
      const late = await verify(tabA);
      expect(late.status).toBe(401);
      expect(late.body.message).not.toMatch(/cloned/);
      expect(await lastAudit('login')).toMatchObject({ outcome: 'failure', reason: 'counter_stale' });
      expect((await flagOf(authenticator.credentials[0]!.id)).flagged_at).toBeNull();
      // The passkey keeps working.
      expect(await signIn(t, authenticator, { username })).toEqual(expect.any(String));
    });

    it('refuses, without flagging, a sign-in whose counter compare-and-set lost to a concurrent one (a race, not evidence)', async () => {
      const { username, authenticator } = await newUser({ initialCounter: 10 });
      const auth = t.app.get(AuthenticationService);
      const uow = t.app.get(UnitOfWork);
      // Both verified against the same stored counter before either is recorded.
      const first = await auth.verify(TEST_CONTEXT, await assertion(t, authenticator, { username }));
      const second = await auth.verify(TEST_CONTEXT, await assertion(t, authenticator, { username }));
      await uow.run((tx) => auth.record(tx, TEST_CONTEXT, second));
      await expect(uow.run((tx) => auth.record(tx, TEST_CONTEXT, first))).rejects.toMatchObject({
        reason: 'concurrent_use',
      });
      expect((await flagOf(authenticator.credentials[0]!.id)).flagged_at).toBeNull();
      expect(await signIn(t, authenticator, { username })).toEqual(expect.any(String));
    });

    it('refuses a sign-in whose passkey was revoked after its assertion was verified (the compare-and-set checks it)', async () => {
      const { username, authenticator, enrolled } = await newUser();
      const auth = t.app.get(AuthenticationService);
      const verified = await auth.verify(TEST_CONTEXT, await assertion(t, authenticator, { username }));
      await t.app.get(PasskeysService).revoke(TEST_CONTEXT, enrolled.id as string);
      await expect(t.app.get(UnitOfWork).run((tx) => auth.record(tx, TEST_CONTEXT, verified))).rejects.toMatchObject({
        reason: 'concurrent_use',
      });
    });

    it('refuses an assertion for a credential offered to another user', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const options = await t.http.post('/v1/authentication/options').send({ username: alice.username });
      const response = bob.authenticator.getAssertion(
        { ...options.body, allowCredentials: [] },
        { origin: TEST_ORIGIN },
      );
      const res = await verify(response);
      expect(res.status).toBe(401);
      expect(await lastAudit('login')).toMatchObject({ reason: 'credential_not_allowed' });
    });

    it('refuses a userHandle that belongs to someone else', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const bobHandle = bob.authenticator.credentials[0]!.userHandle;
      const response = await assertion(t, alice.authenticator, {
        credentialId: alice.authenticator.credentials[0]!.id,
        overrides: { userHandle: bobHandle },
      });
      const res = await verify(response);
      expect(res.status).toBe(401);
      expect(await lastAudit('login')).toMatchObject({ reason: 'user_handle_mismatch' });
    });

    it('refuses a usernameless assertion without a userHandle', async () => {
      const { authenticator } = await newUser();
      const response = await assertion(t, authenticator, {
        credentialId: authenticator.credentials[0]!.id,
        overrides: { userHandle: null },
      });
      expect((await verify(response)).status).toBe(401);
      expect(await lastAudit('login')).toMatchObject({ reason: 'user_handle_missing' });
    });

    it('refuses an unknown credential', async () => {
      const { authenticator } = await newUser();
      const stranger = new SoftAuthenticator();
      const options = await t.http.post('/v1/authentication/options').send({});
      // The stranger holds a credential this service never saw.
      stranger.createCredential(
        {
          rp: { id: 'localhost', name: 'x' },
          user: { id: 'AAAA', name: 'x', displayName: 'x' },
          challenge: 'AAAAAAAAAAAAAAAAAAAAAA',
          pubKeyCredParams: [{ type: 'public-key', alg: -8 }],
        },
        { origin: TEST_ORIGIN },
      );
      const res = await verify(stranger.getAssertion(options.body, { origin: TEST_ORIGIN }));
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/not registered/);
      expect(authenticator.credentials).toHaveLength(1);
    });

    it('refuses an assertion whose response.id differs from rawId', async () => {
      const { username, authenticator } = await newUser();
      const response = await assertion(t, authenticator, { username });
      expect((await verify({ ...response, rawId: 'AAAA' })).status).toBe(400);
    });

    it('refuses a revoked passkey', async () => {
      const { username, authenticator, enrolled } = await newUser();
      await t.app.get(PasskeysService).revoke(TEST_CONTEXT, enrolled.id as string);
      const res = await verify(await assertion(t, authenticator, { credentialId: authenticator.credentials[0]!.id }));
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/revoked/);
      // A revoked passkey is not offered either.
      const options = await t.http.post('/v1/authentication/options').send({ username });
      expect(options.body.allowCredentials.map((c: { id: string }) => c.id)).not.toContain(
        authenticator.credentials[0]!.id,
      );
    });

    it('refuses a disabled user, and lets them in again once enabled', async () => {
      const { username, authenticator } = await newUser();
      await t.app.get(UsersService).setDisabled(TEST_CONTEXT, username, true);
      const res = await verify(await assertion(t, authenticator, { username }));
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/disabled/);
      await t.app.get(UsersService).setDisabled(TEST_CONTEXT, username, false);
      expect(await signIn(t, authenticator, { username })).toEqual(expect.any(String));
    });

    it('refuses a passkey whose backup-eligible flag changed', async () => {
      const { username, authenticator } = await newUser({ backupEligible: false });
      const response = await assertion(t, authenticator, { username, overrides: { flags: { be: true } } });
      expect((await verify(response)).status).toBe(401);
      expect(await lastAudit('login')).toMatchObject({ reason: 'backup_eligibility_changed' });
    });

    it('records the counter and last use only after a verified assertion', async () => {
      const { username, authenticator } = await newUser({ initialCounter: 3 });
      await signIn(t, authenticator, { username });
      const [row] = await t.app
        .get(DataSource)
        .query(
          `SELECT counter, last_used_at FROM passkeys WHERE credential_id = '${authenticator.credentials[0]!.id}'`,
        );
      expect(Number(row.counter)).toBe(authenticator.credentials[0]!.counter);
      expect(row.last_used_at).not.toBeNull();
    });
  });

  describe('bad input is a clear 4xx and changes nothing', () => {
    it.each([
      [
        'malformed base64url',
        {
          id: 'not base64!',
          rawId: 'not base64!',
          type: 'public-key',
          clientExtensionResults: {},
          response: { clientDataJSON: '@@', authenticatorData: 'AA', signature: 'AA' },
        },
      ],
      [
        'clientDataJSON that is not JSON',
        {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          clientExtensionResults: {},
          response: {
            clientDataJSON: Buffer.from('{oops').toString('base64url'),
            authenticatorData: 'AA',
            signature: 'AA',
          },
        },
      ],
      [
        'a wrong credential type',
        {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'password',
          clientExtensionResults: {},
          response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' },
        },
      ],
      [
        'an unexpected field',
        {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          clientExtensionResults: {},
          extra: 1,
          response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' },
        },
      ],
      ['a missing response', { id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {} }],
    ])('refuses %s', async (_label, response) => {
      const res = await verify(response);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    });

    it.each([
      ['/v1/authentication/options', { username: null }],
      ['/v1/registration/options', { inviteToken: null }],
      ['/v1/registration/options', { displayName: null }],
    ])('refuses null where %s takes an optional string (%j) with 400, not 500', async (path, body) => {
      const res = await t.http.post(path).send(body);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/must be a string/);
    });

    it('refuses malformed CBOR in the authenticator data without consuming state it should not', async () => {
      const { username, authenticator } = await newUser();
      const response = await assertion(t, authenticator, { username });
      const res = await verify({ ...response, response: { ...response.response, authenticatorData: 'AAEC' } });
      expect(res.status).toBe(401);
      // The passkey still works afterwards.
      expect(await signIn(t, authenticator, { username })).toEqual(expect.any(String));
    });

    it('refuses a malformed CBOR attestation object', async () => {
      const invite = await createInvite(t, { username: uniqueName() });
      const options = await t.http.post('/v1/registration/options').send({ inviteToken: invite });
      const response = new SoftAuthenticator().createCredential(options.body, { origin: TEST_ORIGIN });
      const res = await t.http.post('/v1/registration/verify').send({
        response: {
          ...response,
          response: {
            ...response.response,
            attestationObject: Buffer.from([0xa3, 0x63, 0x66]).toString('base64url'),
          },
        },
      });
      expect(res.status).toBe(400);
      expect((await t.http.post('/v1/registration/options').send({ inviteToken: invite })).status).toBe(200);
    });

    it('refuses a body over 64 KiB with 413', async () => {
      const res = await t.http
        .post('/v1/authentication/options')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ username: 'x'.repeat(70 * 1024) }));
      expect(res.status).toBe(413);
      expect(res.body.message).toMatch(/too large/);
    });

    it('refuses invalid JSON with 400', async () => {
      const res = await t.http
        .post('/v1/authentication/options')
        .set('content-type', 'application/json')
        .send('{"username":');
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/not valid JSON/);
    });
  });
});
