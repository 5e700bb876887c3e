/**
 * One configuration for every entry point: the CLI in a fresh shell with nothing but an env file (given with
 * --env-file, or found as data/service.env) works on the service's database; the environment beats the file; a
 * missing setting is one clear line, never a stack trace. Needs `npm run build` first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliResult, runServiceCli } from '../support/service-cli';
import { startTestApp, TestApp } from '../support/test-app';

jest.setTimeout(60_000);

let service: TestApp;
let home: string;

/** The CLI with only PATH in its environment (a new terminal), run in `cwd`. */
function freshShellCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return runServiceCli(args, { env, cwd });
}

beforeAll(async () => {
  service = await startTestApp();
  home = mkdtempSync(join(tmpdir(), 'airflow-webauthn-home-'));
  const envFile = Object.entries(service.env)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join('\n');
  mkdirSync(join(home, 'checkout/data'), { recursive: true });
  writeFileSync(join(home, 'checkout/data/service.env'), `${envFile}\n`);
  writeFileSync(join(home, 'prod.env'), `${envFile}\n`);
  mkdirSync(join(home, 'elsewhere'));
});
afterAll(async () => {
  await service?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the CLI in a new terminal', () => {
  it('finds data/service.env in the checkout and works on the service database', async () => {
    const created = await freshShellCli(
      ['invite', 'create', '--username', 'from-default-file', '--json'],
      join(home, 'checkout'),
    );
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    const users = await service.http.get('/v1/admin/invites');
    expect(users.status).toBe(401); // the service is the same one: its admin API still wants a token
    const listed = await freshShellCli(['invite', 'list', '--json'], join(home, 'checkout'));
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ username: 'from-default-file' })]),
    );
  });

  it('takes --env-file from anywhere, before or after the command', async () => {
    for (const args of [
      ['--env-file', join(home, 'prod.env'), 'keys', 'list', '--json'],
      ['keys', 'list', '--json', '--env-file', join(home, 'prod.env')],
    ]) {
      const result = await freshShellCli(args, join(home, 'elsewhere'));
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(result.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ state: 'active' })]));
    }
  });

  it('lets the environment beat the file', async () => {
    const result = await freshShellCli(['keys', 'list', '--json'], join(home, 'checkout'), {
      DATABASE_URL: join(home, 'elsewhere/other.sqlite'),
      NODE_ENV: 'test',
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]); // a different, empty database: the file's DATABASE_URL lost
  });

  it('without any configuration: exit 2, the missing settings and where it looked, no stack trace', async () => {
    const result = await freshShellCli(['users', 'list'], join(home, 'elsewhere'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no --env-file given and no data\/service.env here/);
    expect(result.stderr).toMatch(/WEBAUTHN_RP_ID/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const missing = await freshShellCli(['users', 'list', '--env-file', 'nope.env'], join(home, 'elsewhere'));
    // Node 20 itself reads a script's --env-file argument and stops first when the file is missing (exit 9).
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(
      /^[^\n]*nope\.env[^\n]*not found\n$|^Invalid configuration:\n {2}- --env-file nope\.env: no such file\n$/,
    );
  });
});
