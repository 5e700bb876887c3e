/**
 * Several real auth-service processes (the built `dist/apps/auth-service/src/main.js`) on ONE PostgreSQL schema,
 * the way a deployment runs them behind a load balancer. Used by the multi-instance suite; needs `npm run build`
 * and E2E_DATABASE_URL (PostgreSQL) — SQLite is the single-instance default and is refused here.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/free-port';
import { CliResult, runServiceCli } from '../../support/service-cli';
import { createTestDatabase, TestDatabase, testEnvironment } from '../../support/test-app';

const DIST = join(__dirname, '../../../dist/apps/auth-service/src');
export const MAIN = join(DIST, 'main.js');

export interface Instance {
  url: string;
  process: ChildProcess;
  /** Everything the process printed, for failure messages. */
  output(): string;
}

export interface Cluster {
  instances: Instance[];
  env: Record<string, string>;
  database: TestDatabase;
  stop(): Promise<void>;
}

function requirePostgres(): string {
  const url = process.env.E2E_DATABASE_URL;
  if (!url?.startsWith('postgres'))
    throw new Error(
      'the multi-instance suite needs E2E_DATABASE_URL=postgres://... (several instances need PostgreSQL)',
    );
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  return url;
}

async function waitReady(instance: Instance, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last = 'no answer';
  while (Date.now() < until) {
    if (instance.process.exitCode !== null)
      throw new Error(`instance ${instance.url} exited with ${instance.process.exitCode}:\n${instance.output()}`);
    try {
      const res = await fetch(`${instance.url}/readyz`);
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`instance ${instance.url} not ready after ${deadlineMs} ms (${last}):\n${instance.output()}`);
}

/** Starts `count` instances at the same moment on a fresh, empty schema and waits until every one is ready. */
export async function startCluster(
  count: number,
  overrides: Record<string, string | undefined> = {},
): Promise<Cluster> {
  requirePostgres();
  const database = await createTestDatabase();
  const env = testEnvironment(database.url, { LOG_LEVEL: 'warn', ...overrides });
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const instances = ports.map((port): Instance => {
    let printed = '';
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: env.PUBLIC_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (c: Buffer) => (printed += c.toString()));
    child.stderr.on('data', (c: Buffer) => (printed += c.toString()));
    return { url: `http://127.0.0.1:${port}`, process: child, output: () => printed };
  });
  const cluster: Cluster = {
    instances,
    env,
    database,
    async stop() {
      await Promise.all(
        instances.map(
          (i) =>
            new Promise<void>((resolve) => {
              if (i.process.exitCode !== null || i.process.signalCode !== null) return resolve();
              i.process.once('exit', () => resolve());
              i.process.kill('SIGTERM');
              setTimeout(() => i.process.kill('SIGKILL'), 10_000).unref();
            }),
        ),
      );
      await database.drop();
    },
  };
  try {
    await Promise.all(instances.map((i) => waitReady(i, 60_000)));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** The service CLI on the cluster's database, with only the cluster's environment, from an empty directory. */
export function cli(cluster: Cluster, args: string[]): Promise<CliResult> {
  return runServiceCli(args, { env: { USER: 'multi-instance', ...cluster.env }, cwd: tmpdir() });
}

export async function cliJson<T>(cluster: Cluster, args: string[]): Promise<T> {
  const result = await cli(cluster, [...args, '--json']);
  if (result.code !== 0) throw new Error(`cli ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** A status and the parsed JSON body, typed loosely like supertest's `body`: each test asserts on what it reads. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonResponse = { status: number; body: any };

/** JSON POST to one instance; returns status and parsed body. */
export async function post(
  instance: Instance,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const res = await fetch(`${instance.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

export async function get(
  instance: Instance,
  path: string,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const res = await fetch(`${instance.url}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** Polls `probe` until it returns true or `deadlineMs` passes; returns how long it took (ms). */
export async function eventually(probe: () => Promise<boolean>, deadlineMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < deadlineMs) {
    if (await probe()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not within ${deadlineMs} ms: ${what}`);
}
