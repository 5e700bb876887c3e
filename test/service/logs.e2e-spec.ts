/**
 * Logs people can read: the built service (dist/) started as operators start it, with its output on a pipe.
 * Text mode is one plain line per request with no colour codes; the default on a pipe is JSON lines; neither
 * carries query strings, bodies or secrets. Needs `npm run build` first.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase, testEnvironment } from '../support/test-app';

const MAIN = join(__dirname, '../../dist/apps/auth-service/src/main.js');
const SECRET = randomBytes(16).toString('hex');
/** One key-encryption key for every start on the test database (a different one would be refused). */
const KEY = randomBytes(32).toString('base64');

jest.setTimeout(60_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  url: string;
}

/** Starts dist/main.js in a fresh directory: settings from the environment, or (viaEnvFile) only from `--env-file`. */
async function startService(
  database: TestDatabase,
  overrides: Record<string, string | undefined>,
  viaEnvFile = false,
): Promise<Running> {
  const port = await freePort();
  const env = testEnvironment(database.url, {
    KEY_ENCRYPTION_KEY: KEY,
    LOG_LEVEL: 'log',
    PORT: String(port),
    ...overrides,
  });
  const cwd = mkdtempSync(join(tmpdir(), 'airflow-webauthn-logs-'));
  let args: string[] = [];
  let childEnv: Record<string, string> = { PATH: process.env.PATH ?? '', ...env };
  if (viaEnvFile) {
    writeFileSync(
      join(cwd, 'service.env'),
      Object.entries(env)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}\n`)
        .join(''),
    );
    args = ['--env-file', 'service.env'];
    childEnv = { PATH: process.env.PATH ?? '' };
  }
  const child = spawn(process.execPath, [MAIN, ...args], { env: childEnv, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  child.on('exit', () => rmSync(cwd, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the service did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, output: () => output, url };
}

async function stop(running: Running): Promise<void> {
  if (running.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    running.child.once('exit', () => resolve());
    running.child.kill('SIGTERM');
  });
}

async function requestLines(running: Running, match: RegExp): Promise<string[]> {
  await fetch(`${running.url}/v1/oauth/token?client_secret=${SECRET}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`robot:${SECRET}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = running
      .output()
      .split('\n')
      .filter((l) => match.test(l));
    if (lines.length > 0) return lines;
    if (Date.now() > deadline) throw new Error(`no request line in:\n${running.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('request logs', () => {
  it('LOG_FORMAT=text (from --env-file, nothing in the environment): one plain line per request, no colour codes, no secrets', async () => {
    const running = await startService(database, { LOG_FORMAT: 'text' }, true);
    try {
      const lines = await requestLines(running, /\[HTTP\]/);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/LOG \[HTTP\] POST \/v1\/oauth\/token 401 [\d.]+ms 127\.0\.0\.1$/);
      expect(running.output()).not.toContain('\u001b[');
      expect(running.output()).not.toContain(SECRET);
      expect(running.output()).not.toMatch(/Object\(\d+\)/);
      // Nest's per-module and per-route start-up lines stay out of the normal log; every line carries an ISO instant.
      expect(running.output()).not.toMatch(/InstanceLoader|RouterExplorer/);
      for (const l of running.output().split('\n').filter(Boolean))
        expect(l).toMatch(/^\[auth-service\] \d+ {2}- \d{4}-\d\d-\d\dT[\d:.]+Z /);
    } finally {
      await stop(running);
    }
  });

  it('by default on a pipe: JSON lines, the request as fields, no secrets', async () => {
    const running = await startService(database, { LOG_FORMAT: undefined });
    try {
      const [line] = await requestLines(running, /"context":"HTTP"/);
      expect(JSON.parse(line!)).toMatchObject({
        level: 'log',
        context: 'HTTP',
        message: { method: 'POST', path: '/v1/oauth/token', status: 401, ip: '127.0.0.1' },
      });
      for (const l of running.output().split('\n').filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
      expect(running.output()).not.toContain(SECRET);
    } finally {
      await stop(running);
    }
  });
});
