/**
 * The admin CLI as scripts use it: the built `dist/apps/auth-service/src/cli.js` spawned with an environment,
 * on the same database as a running service. Needs `npx nest build auth-service` first (npm test builds).
 */
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { UsersService } from '@app/accounts';
import { UnitOfWork } from '@app/persistence';
import { Passkey } from '@app/webauthn';
import { CliResult, runServiceCli, SERVICE_CLI } from '../support/service-cli';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  clientToken,
  createTestDatabase,
  enrollPasskey,
  signedInPerson,
  signIn,
  startTestApp,
  TestApp,
  TestDatabase,
  testEnvironment,
} from '../support/test-app';

const OPERATOR = 'e2e-operator';
type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };

jest.setTimeout(60_000);

let database: TestDatabase;
let env: Record<string, string>;
let service: TestApp;

/**
 * Runs the CLI with only the given environment (nothing leaks in from the test runner's own), from an empty
 * directory: a data/service.env that scripts/run.sh left in the checkout must not fill in settings.
 */
function cli(args: string[], envOverride: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runServiceCli(args, { env: { USER: OPERATOR, ...env, ...envOverride }, cwd: tmpdir() });
}

/** A successful --json run: exit 0, nothing on stderr, and stdout is one JSON document and nothing else. */
async function cliJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const result = await cli([...args, '--json']);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as T;
}

beforeAll(async () => {
  if (!existsSync(SERVICE_CLI))
    throw new Error(`${SERVICE_CLI} is missing: run "npx nest build auth-service" before the e2e tests`);
  database = await createTestDatabase();
  env = testEnvironment(database.url);
  // The service on the same database proves that what the CLI writes is what the service reads.
  service = await startTestApp({ DATABASE_URL: database.url, KEY_ENCRYPTION_KEY: env.KEY_ENCRYPTION_KEY });
});
afterAll(async () => {
  await service?.close();
  await database?.drop();
});

describe('admin CLI', () => {
  it('migrate reports an up-to-date schema', async () => {
    expect(await cliJson(['migrate'])).toMatchObject({ upToDate: true });
  });

  it('invite create --json prints only the invite, and the invite enrolls a passkey on the service', async () => {
    const invite = await cliJson([
      'invite',
      'create',
      '--username',
      'alice',
      '--groups',
      'airflow-admins',
      '--display-name',
      'Alice',
    ]);
    expect(invite).toEqual({
      id: expect.any(String),
      username: 'alice',
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      url: `http://localhost:8080/auth/enroll?invite=${invite.token as string}`,
      expiresAt: expect.any(String),
    });
    expect(new Date(invite.expiresAt as string).getTime()).toBeGreaterThan(Date.now());

    const authenticator = new SoftAuthenticator();
    await enrollPasskey(service, authenticator, { inviteToken: invite.token as string });
    const me = await service.http
      .get('/v1/me')
      .set({ Authorization: `Bearer ${await signIn(service, authenticator)}` });
    expect(me.body).toMatchObject({ username: 'alice', displayName: 'Alice', groups: ['airflow-admins'] });

    const invites = await cliJson<Array<Record<string, unknown>>>(['invite', 'list']);
    expect(invites).toEqual([expect.objectContaining({ id: invite.id, state: 'used' })]);
    expect(JSON.stringify(invites)).not.toContain(invite.token as string);
  });

  it('service-account create --json prints credentials the token endpoint accepts; list never shows the secret', async () => {
    const sa = await cliJson([
      'service-account',
      'create',
      '--name',
      'airflow',
      '--groups',
      'airflow-admins,ops',
      '--scopes',
      'admin',
    ]);
    expect(sa).toMatchObject({
      name: 'airflow',
      groups: ['airflow-admins', 'ops'],
      scopes: ['admin'],
      clientId: expect.stringMatching(/^sa_/),
      clientSecret: expect.any(String),
    });
    const token = await clientToken(service, sa.clientId as string, sa.clientSecret as string);
    expect((await service.http.get('/v1/admin/users').set({ Authorization: `Bearer ${token}` })).status).toBe(200);

    const list = await cliJson<Array<Record<string, unknown>>>(['service-account', 'list']);
    expect(list).toEqual([expect.objectContaining({ clientId: sa.clientId, disabled: false })]);
    expect(JSON.stringify(list)).not.toContain(sa.clientSecret as string);

    const rotated = await cliJson(['service-account', 'rotate-secret', 'airflow']);
    expect(rotated.clientSecret).not.toBe(sa.clientSecret);
    expect(
      (
        await service.http
          .post('/v1/oauth/token')
          .type('form')
          .send({ grant_type: 'client_credentials', client_id: sa.clientId, client_secret: sa.clientSecret })
      ).status,
    ).toBe(401);
    expect(await cliJson(['service-account', 'disable', sa.clientId as string])).toMatchObject({ disabled: true });
    expect((await service.http.get('/v1/admin/users').set({ Authorization: `Bearer ${token}` })).status).toBe(401);
  });

  it('service-account create --agent makes an agent (no groups, listed as agent); without the flag it is not one', async () => {
    const agent = await cliJson(['service-account', 'create', '--name', 'copilot', '--agent']);
    expect(agent).toMatchObject({ name: 'copilot', agent: true, groups: [], scopes: [] });
    const list = await cliJson<Array<Record<string, unknown>>>(['service-account', 'list']);
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'copilot', agent: true }),
        expect.objectContaining({ name: 'airflow', agent: false }),
      ]),
    );
  });

  it('service-account create --jwks-file registers public keys and no secret; set-keys replaces them; a private key is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-jwks-'));
    const file = (name: string, pair: KeyPair, part: 'publicKey' | 'privateKey' = 'publicKey') => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify({ keys: [{ ...pair[part].export({ format: 'jwk' }), kid: name }] }));
      return path;
    };
    const [first, second] = [generateKeyPairSync('ed25519'), generateKeyPairSync('ed25519')];
    const created = await cliJson([
      'service-account',
      'create',
      '--name',
      'keyed',
      '--agent',
      '--jwks-file',
      file('k1', first),
    ]);
    expect(created).toMatchObject({ name: 'keyed', agent: true });
    expect(created.clientSecret).toBeUndefined();
    const replaced = await cliJson(['service-account', 'set-keys', 'keyed', '--jwks-file', file('k2', second)]);
    expect(replaced.jwks).toEqual({ keys: [expect.objectContaining({ kty: 'OKP', kid: 'k2' })] });
    const refused = await cli([
      'service-account',
      'set-keys',
      'keyed',
      '--jwks-file',
      file('k3', second, 'privateKey'),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/private key material/);
    const listed = await cliJson<Array<{ name: string; jwks: { keys: { kid: string }[] } }>>([
      'service-account',
      'list',
    ]);
    expect(listed.find((a) => a.name === 'keyed')?.jwks.keys.map((k) => k.kid)).toEqual(['k2']);
  });

  it('service-account create --scopes sessions:read makes a credential that reads status and changes nothing', async () => {
    const sa = await cliJson(['service-account', 'create', '--name', 'airflow-status', '--scopes', 'sessions:read']);
    expect(sa).toMatchObject({ name: 'airflow-status', groups: [], scopes: ['sessions:read'] });
    const auth = {
      Authorization: `Bearer ${await clientToken(service, sa.clientId as string, sa.clientSecret as string)}`,
    };
    expect((await service.http.get('/v1/admin/service-accounts').set(auth)).status).toBe(200);
    expect((await service.http.get('/v1/admin/users/alice').set(auth)).status).toBe(200);
    const refused = await service.http.post('/v1/admin/invites').set(auth).send({ username: 'mallory' });
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: 'insufficient_scope' });
    const listed = await cliJson<Array<Record<string, unknown>>>(['service-account', 'list']);
    expect(listed.find((a) => a.name === 'airflow-status')).toMatchObject({ scopes: ['sessions:read'] });
    const human = await cli(['service-account', 'list']);
    expect(human.stdout).toMatch(/^NAME\s+CLIENT_ID\s+KIND\s+GROUPS\s+SCOPES/);
    expect(human.stdout).toMatch(/airflow-status\s+sa_\S+\s+service\s+-\s+sessions:read/);
    expect(human.stdout).toMatch(/copilot\s+sa_\S+\s+agent\s/);

    const unknown = await cli(['service-account', 'create', '--name', 'typo', '--scopes', 'session:read', '--json']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: expect.stringContaining('unknown scope "session:read"') });
  });

  it('keys rotate --json promotes the next key and retires the active one', async () => {
    const before = await cliJson<Array<{ kid: string; state: string }>>(['keys', 'list']);
    const active = before.find((k) => k.state === 'active')!.kid;
    const next = before.find((k) => k.state === 'next')!.kid;
    const rotated = await cliJson(['keys', 'rotate']);
    expect(rotated).toEqual({ activeKid: next, nextKid: expect.any(String), retiredKid: active });
    const after = await cliJson<Array<{ kid: string; state: string }>>(['keys', 'list']);
    expect(Object.fromEntries(after.map((k) => [k.kid, k.state]))).toMatchObject({
      [active]: 'retired',
      [next]: 'active',
      [rotated.nextKid as string]: 'next',
    });
  });

  it('the last administrator stays: demoting or disabling them is refused, unless --force, which is audited', async () => {
    const refused = await cli(['users', 'set-groups', 'alice', 'ops']);
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/leave no enabled person in airflow-admins.*--force/),
    });
    expect((await cli(['users', 'disable', 'alice'])).stderr).toMatch(/leave no enabled person/);
    expect(await cliJson(['users', 'set-groups', 'alice', 'ops', '--force'])).toMatchObject({ groups: ['ops'] });
    const events = (await cli(['audit', 'export', '--type', 'user.updated'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({
      actorType: 'cli',
      actorId: OPERATOR,
      details: expect.objectContaining({ lastAdminOverride: true }),
    });
  });

  it('users list / set-groups / disable / enable', async () => {
    const users = await cliJson<Array<Record<string, unknown>>>(['users', 'list']);
    expect(users).toEqual([
      expect.objectContaining({ username: 'alice', disabled: false, lastLoginAt: expect.any(String) }),
    ]);
    expect(Object.keys(users[0]!)).not.toContain('webauthnUserId');
    expect(await cliJson(['users', 'set-groups', 'alice', 'ops,viewers', '--force'])).toMatchObject({
      groups: ['ops', 'viewers'],
    });
    expect(await cliJson(['users', 'disable', 'alice'])).toMatchObject({ disabled: true });
    expect(await cliJson(['users', 'enable', 'alice'])).toMatchObject({ disabled: false });

    const human = await cli(['users', 'list']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^USERNAME\s+DISPLAY_NAME/);
    expect(human.stdout).toContain('alice');
  });

  it('users list and show say which identity provider a person signs in through, and when they last did', async () => {
    const at = new Date();
    // Set-up through the service's own just-in-time path (what a provider sign-in runs), on the shared database.
    await service.app
      .get(UnitOfWork)
      .run((tx) =>
        service.app
          .get(UsersService)
          .linkFederated(
            tx,
            { issuer: 'https://idp.example.test', subject: 'fed-1', username: 'fedperson', groups: ['ops'] },
            at,
          ),
      );
    const rows = await cliJson<Array<Record<string, unknown>>>(['users', 'list']);
    expect(rows.find((u) => u.username === 'fedperson')).toMatchObject({
      idp: 'https://idp.example.test',
      lastIdpLoginAt: at.toISOString(),
    });
    expect(rows.find((u) => u.username === 'alice')).toMatchObject({ idp: null, lastIdpLoginAt: null });
    const human = (await cli(['users', 'list'])).stdout.split('\n');
    expect(human[0]).toMatch(/LAST_LOGIN\s+IDP\s+LAST_IDP_LOGIN\s+ID$/);
    expect(human.find((l) => l.startsWith('fedperson '))).toContain(`https://idp.example.test  ${at.toISOString()}`);
    expect(human.find((l) => l.startsWith('alice '))).toMatch(/\slocal\s+-\s/);
    expect(await cliJson(['users', 'show', 'fedperson'])).toMatchObject({
      idp: 'https://idp.example.test',
      lastIdpLoginAt: at.toISOString(),
      passkeys: [],
    });
    expect((await cli(['users', 'show', 'fedperson'])).stdout).toContain(
      `identity provider: https://idp.example.test; last sign-in there: ${at.toISOString()}`,
    );
    expect((await cli(['users', 'show', 'alice'])).stdout).toContain(
      'identity provider: none (local person, passkey only)',
    );
  });

  it("users show names a flagged passkey's reason; passkeys unflag unblocks it, audited with the operator", async () => {
    const detail = await cliJson<{ passkeys: Array<{ id: string }> }>(['users', 'show', 'alice']);
    const passkeyId = detail.passkeys[0]!.id;
    await service.app
      .get(DataSource)
      .getRepository(Passkey)
      .update({ id: passkeyId }, { flaggedAt: new Date(), flagReason: 'counter_regression' });
    expect((await cli(['users', 'show', 'alice'])).stdout).toMatch(
      new RegExp(`${passkeyId}.*flagged \\(counter_regression, `),
    );

    expect(await cliJson(['passkeys', 'unflag', passkeyId])).toMatchObject({
      id: passkeyId,
      flaggedAt: null,
      flagReason: null,
    });
    expect((await cli(['users', 'show', 'alice'])).stdout).toMatch(new RegExp(`${passkeyId}.*active`));
    const again = await cli(['passkeys', 'unflag', passkeyId]);
    expect(again).toEqual({ code: 1, stdout: '', stderr: expect.stringContaining('not flagged') });
    const events = (await cli(['audit', 'export', '--type', 'passkey.unflagged'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toEqual([
      expect.objectContaining({
        actorType: 'cli',
        actorId: OPERATOR,
        details: expect.objectContaining({ passkeyId, flagReason: 'counter_regression' }),
      }),
    ]);
  });

  it('passkeys list and revoke: the same names as airflow webauthn; the old names invites, service-accounts and rotate still work', async () => {
    const [passkey] = await cliJson<Array<{ id: string; revokedAt: string | null }>>(['passkeys', 'list', 'alice']);
    expect(passkey).toMatchObject({ revokedAt: null });
    expect((await cli(['passkeys', 'list', 'alice'])).stdout).toMatch(
      new RegExp(`^PASSKEY_ID[\\s\\S]*${passkey!.id}.*active`),
    );
    expect(await cliJson(['passkeys', 'revoke', passkey!.id])).toMatchObject({
      id: passkey!.id,
      revokedAt: expect.any(String),
    });
    expect((await cli(['passkeys', 'list', 'alice'])).stdout).toMatch(new RegExp(`${passkey!.id}.*revoked`));

    expect((await cliJson<Array<{ username: string }>>(['invites', 'list'])).map((i) => i.username)).toContain('alice');
    const account = await cliJson<{ name: string; clientSecret: string }>([
      'service-accounts',
      'create',
      '--name',
      'old-names',
    ]);
    const rotated = await cliJson<{ clientSecret: string }>(['service-account', 'rotate', 'old-names']);
    expect(rotated.clientSecret).not.toBe(account.clientSecret);
  });

  it('audit export prints JSON lines, oldest first, naming the operator as actor', async () => {
    const result = await cli(['audit', 'export']);
    expect(result.code).toBe(0);
    const events = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    const times = events.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const types = events.filter((e) => e.actorType === 'cli').map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['invite.created', 'service_account.created', 'key.rotated', 'user.disabled']),
    );
    expect(events.find((e) => e.type === 'invite.created')).toMatchObject({ actorId: OPERATOR });
    expect(result.stdout).not.toMatch(/clientSecret|"token"/);
    expect((await cli(['audit', 'export', '--since', new Date(Date.now() + 60_000).toISOString()])).stdout).toBe('');
  });

  it('exits 1 with a message on stderr when the operation is refused', async () => {
    const missing = await cli(['users', 'disable', 'nobody', '--json']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: expect.stringContaining('no such user') });
    const duplicate = await cli(['service-account', 'create', '--name', 'airflow', '--json']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stdout).toBe('');
  });

  it('exits 2 on bad usage', async () => {
    for (const args of [
      ['invite', 'create', '--json'],
      ['bogus'],
      ['invite', 'create', '--username', 'x', '--ttl-seconds', 'soon'],
      ['audit', 'export', '--since', 'yesterday'],
    ]) {
      const result = await cli(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toMatch(/error/);
    }
  });

  it('exits 2 naming KEY_ENCRYPTION_KEY when it is missing', async () => {
    const result = await cli(['users', 'list', '--json'], { KEY_ENCRYPTION_KEY: undefined });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').some((line) => line.includes('KEY_ENCRYPTION_KEY'))).toBe(true);
  });
});

describe('command lines on the admin CLI', () => {
  /** A person and a command line signed in with their one-time code, as airflowctl does through Airflow. */
  async function signedInCommandLine() {
    const p = await signedInPerson(service, { groups: ['airflow-users'] });
    const bearer = { Authorization: `Bearer ${p.token}` };
    const created = await service.http.post('/v1/me/cli-codes').set(bearer).send({});
    const used = await service.http
      .post('/v1/cli/token')
      .set('X-Forwarded-For', '198.51.100.20')
      .set('User-Agent', 'airflowctl/0.1.5')
      .send({ username: p.username, code: created.body.code });
    expect(used.status).toBe(200);
    return { p, id: created.body.id as string };
  }

  it('command-lines list and users show name each command line; revoke signs it out, audited with the operator', async () => {
    const { p, id } = await signedInCommandLine();
    const listed = await cliJson<Array<{ id: string; usedFrom: string; client: string }>>([
      'command-lines',
      'list',
      p.username,
    ]);
    expect(listed).toEqual([expect.objectContaining({ id, usedFrom: '198.51.100.20', client: 'airflowctl/0.1.5' })]);
    expect((await cli(['users', 'show', p.username])).stdout).toMatch(
      new RegExp(`command lines signed in:\\n.*\\n${id}\\s.*198\\.51\\.100\\.20\\s+airflowctl/0\\.1\\.5`),
    );

    const other = await signedInPerson(service, { groups: ['airflow-users'] });
    const refused = await cli(['command-lines', 'revoke', other.username, id]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('no such code or command line');

    expect(await cliJson(['command-lines', 'revoke', p.username, id])).toMatchObject({ id, state: 'revoked' });
    expect(await cliJson(['command-lines', 'list', p.username])).toEqual([]);
    const events = (await cli(['audit', 'export', '--type', 'cli_session.revoked'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toEqual([
      expect.objectContaining({ actorType: 'cli', actorId: OPERATOR, subjectId: p.id, details: { cliSignInId: id } }),
    ]);
  });
});
