/**
 * KEY_ENCRYPTION_KEY safety: a wrong key is refused by every CLI command before anything is written, a signing key
 * that cannot be decrypted takes the instance out of /readyz and answers 503 (never 500), and a rotation made by the
 * CLI is used by a running service within seconds. Needs `npm run build` first (the CLI runs from dist/).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadAppConfig } from '@app/config';
import { SigningKey } from '@app/tokens';
import { createApp } from '../../apps/auth-service/src/bootstrap';
import { CliResult, runServiceCli } from '../support/service-cli';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  assertion,
  clientToken,
  createServiceAccount,
  enrollUser,
  requestClientToken,
  signIn,
  startTestApp,
  TestApp,
} from '../support/test-app';

jest.setTimeout(120_000);

let service: TestApp;
/** A directory without data/service.env, so only the environment given reaches the CLI. */
let cwd: string;

function cli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return runServiceCli(args, { env, cwd });
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, deadlineMs = 30_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
}

async function snapshot(t: TestApp): Promise<unknown> {
  const ds = t.app.get(DataSource);
  const count = async (table: string) => Number((await ds.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  return {
    keys: await ds.getRepository(SigningKey).find({ order: { kid: 'ASC' } }),
    users: await count('users'),
    invites: await count('invites'),
    serviceAccounts: await count('service_accounts'),
    audit: await count('audit_events'),
  };
}

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'airflow-webauthn-cwd-'));
  service = await startTestApp();
});
afterAll(async () => {
  await service?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('a wrong KEY_ENCRYPTION_KEY', () => {
  it('is refused by every CLI command with one line and exit 1, and nothing is written; sign-in still works', async () => {
    const authenticator = new SoftAuthenticator();
    await enrollUser(service, authenticator, { username: 'keeper' });
    const account = await createServiceAccount(service, { name: 'robot' });
    const before = await snapshot(service);
    const wrong = { ...service.env, KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };

    const commands = [
      ['keys', 'rotate'],
      ['keys', 'list'],
      ['users', 'list'],
      ['users', 'disable', 'keeper'],
      ['invite', 'create', '--username', 'mallory', '--groups', 'airflow-admins'],
      ['invite', 'list'],
      ['service-account', 'create', '--name', 'intruder'],
      ['service-account', 'rotate-secret', 'robot'],
      ['audit', 'export'],
      ['migrate'],
    ];
    for (const args of commands) {
      const result = await cli([...args, '--json'], wrong);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(result.stderr).toMatch(
        /^error: KEY_ENCRYPTION_KEY does not decrypt the stored signing keys \(active key [\w-]+, next key [\w-]+\).*nothing was changed\n$/,
      );
    }

    expect(await snapshot(service)).toEqual(before);
    expect(await clientToken(service, account.clientId, account.clientSecret)).toEqual(expect.any(String));
    expect(await signIn(service, authenticator)).toEqual(expect.any(String));
  });

  it('stops a second service instance from starting, naming the keys it cannot read', async () => {
    const config = loadAppConfig({ ...service.env, KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    const app = await createApp(config, false);
    await expect(app.init()).rejects.toThrow(/KEY_ENCRYPTION_KEY does not decrypt the stored signing keys/);
    await app.close();
  });
});

describe('key rotation and unreadable keys on a running service', () => {
  it("a rotation made by the CLI signs the running service's next token within seconds", async () => {
    const account = await createServiceAccount(service, { name: 'rotation-watcher' });
    const result = await cli(['keys', 'rotate', '--json'], service.env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const { activeKid } = JSON.parse(result.stdout) as { activeKid: string };
    const started = Date.now();
    await eventually(
      async () =>
        kidOf(await clientToken(service, account.clientId, account.clientSecret)) === activeKid ? true : undefined,
      'the new key to sign',
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('an unreadable next key fails /readyz with a reason; once it is active, tokens are refused with 503 signing_key_unavailable, never 500', async () => {
    const account = await createServiceAccount(service, { name: 'unreadable-watcher' });
    const keys = service.app.get(DataSource).getRepository(SigningKey);
    const next = await keys.findOneByOrFail({ state: 'next' });
    // What a CLI run with the wrong key used to leave behind: a key sealed under another KEY_ENCRYPTION_KEY.
    await keys.update(
      { id: next.id },
      {
        encryptedPrivateKey: `v1.${randomBytes(12).toString('base64url')}.${randomBytes(16).toString('base64url')}.${randomBytes(64).toString('base64url')}`,
      },
    );

    const ready = await service.http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.signingKeys).toEqual({
      status: 'down',
      reason: expect.stringContaining(`next key ${next.kid}`),
    });
    expect((await requestClientToken(service, account.clientId, account.clientSecret)).status).toBe(200);

    const active = await keys.findOneByOrFail({ state: 'active' });
    await keys.update(
      { id: active.id },
      { state: 'retired', retiredAt: new Date(), publishUntil: new Date(Date.now() + 3600_000) },
    );
    await keys.update({ id: next.id }, { state: 'active', activatedAt: new Date() });
    const refused = await eventually(async () => {
      const res = await requestClientToken(service, account.clientId, account.clientSecret);
      expect(res.status).not.toBe(500);
      return res.status === 200 ? undefined : res;
    }, 'the unreadable key to become the signing key');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({
      code: 'signing_key_unavailable',
      message: expect.stringContaining('KEY_ENCRYPTION_KEY'),
    });
    expect((await service.http.get('/readyz')).body.error.signingKeys.reason).toContain(`active key ${next.kid}`);

    // A person's sign-in meets the same refusal, not a 500.
    const authenticator = new SoftAuthenticator();
    await enrollUser(service, authenticator, { username: 'during-outage' });
    const signInRes = await service.http
      .post('/v1/authentication/verify')
      .send({ response: await assertion(service, authenticator) });
    expect(signInRes.status).toBe(503);
    expect(signInRes.body).toMatchObject({ code: 'signing_key_unavailable' });
  });
});
