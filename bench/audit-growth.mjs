#!/usr/bin/env node
// The audit table's growth under repetition, against the real service, N requests per scenario from one address:
// refused client-credentials requests (unknown client ids and wrong secrets), refused admin calls of a
// low-privileged credential, successful grants of one client. Counts the audit rows each adds (and the requests
// their summaries account for), then verifies the chain.
//
//   npm run build && node bench/audit-growth.mjs                 # SQLite, 10,000 requests
//   BENCH_JUNK=10000 BENCH_DATABASE_URL=postgres://... node bench/audit-growth.mjs
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_DIR, envInt, freePort, sleep } from './lib/common.mjs';

const execFileP = promisify(execFile);
const JUNK = envInt('BENCH_JUNK', 10_000, 1);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 8, 1);

if (!existsSync(join(REPO_DIR, 'dist/apps/auth-service/src/main.js'))) throw new Error('run npm run build first');
// A private copy of dist/, so a rebuild during the run cannot pull files from under it.
const work = mkdtempSync(join(tmpdir(), 'bench-audit-'));
cpSync(join(REPO_DIR, 'dist'), join(work, 'dist'), { recursive: true });
symlinkSync(join(REPO_DIR, 'node_modules'), join(work, 'node_modules'));

const port = await freePort();
const env = {
  PATH: process.env.PATH,
  NODE_ENV: 'production',
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? join(work, 'auth.sqlite'),
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  WEBAUTHN_RP_ID: 'localhost',
  WEBAUTHN_ORIGINS: 'http://localhost:8080',
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  PORT: String(port),
  HOST: '127.0.0.1',
  RATE_LIMIT_PER_MINUTE: '0',
  LOG_LEVEL: 'warn',
};
const cli = async (...args) =>
  (
    await execFileP(process.execPath, [join(work, 'dist/apps/auth-service/src/cli.js'), ...args], {
      env,
      maxBuffer: 1 << 30,
    })
  ).stdout;

const service = spawn(process.execPath, [join(work, 'dist/apps/auth-service/src/main.js')], {
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (i > 300) throw new Error('service not ready');
    await sleep(200);
  }
  const account = JSON.parse(await cli('service-account', 'create', '--name', 'bench-audit', '--json'));
  const lowPrivileged = JSON.parse(
    await cli('service-account', 'create', '--name', 'bench-low', '--groups', 'ci', '--json'),
  );
  const busy = JSON.parse(await cli('service-account', 'create', '--name', 'bench-busy', '--json'));
  const form = (clientId, secret) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
  });
  const grant = await (
    await fetch(`http://127.0.0.1:${port}/v1/oauth/token`, form(lowPrivileged.clientId, lowPrivileged.clientSecret))
  ).json();
  // Each scenario: `n` requests from one address; which audit rows are its own (read back from the export).
  const scenarios = [
    {
      name: 'refused secrets (anonymous failures: half unknown client ids, half a wrong secret)',
      request: (i) => ['/v1/oauth/token', form(i % 2 ? account.clientId : `sa_unknown_${i % 50}`, 'wrong')],
      owns: (e) => e.type === 'token.issued' && e.outcome === 'failure',
    },
    {
      name: 'refused admin calls of a low-privileged credential (two routes)',
      request: (i) => [
        i % 2 ? '/v1/admin/users' : '/v1/admin/audit',
        { headers: { authorization: `Bearer ${grant.access_token}` } },
      ],
      owns: (e) => e.type === 'admin.denied' && e.actorId === lowPrivileged.id,
    },
    {
      name: 'successful grants of one client',
      request: () => ['/v1/oauth/token', form(busy.clientId, busy.clientSecret)],
      owns: (e) => e.type === 'token.issued' && e.outcome === 'success' && e.actorId === busy.id,
    },
  ];
  const events = async () =>
    (await cli('audit', 'export'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  const before = (await events()).length;
  const results = [];
  for (const scenario of scenarios) {
    let next = 0;
    const statuses = new Map();
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < JUNK) {
          const [path, init] = scenario.request(next++);
          const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    results.push({
      scenario,
      statuses: Object.fromEntries(statuses),
      seconds: (Date.now() - started) / 1000,
      duringFlood: (await events()).filter(scenario.owns).length,
    });
  }
  const immediately = (await events()).length;
  // The summaries of the windows are written by the minute's flush job after the windows end: wait for them.
  let all = await events();
  const deadline = Date.now() + envInt('BENCH_FLUSH_WAIT_SECONDS', 180, 0) * 1000;
  while (Date.now() < deadline && all.length === immediately) {
    await sleep(5000);
    all = await events();
  }
  const verify = JSON.parse(await cli('audit', 'verify', '--json'));
  const report = results.map(({ scenario, statuses, seconds, duringFlood }) => {
    const own = all.filter(scenario.owns);
    const accountedFor = own.reduce((sum, e) => sum + (e.details?.count ?? 1), 0);
    return {
      scenario: scenario.name,
      requests: JUNK,
      seconds,
      statuses,
      auditRowsDuringFlood: duringFlood,
      auditRowsAdded: own.length,
      rowsPer1k: Math.round((own.length / JUNK) * 1000),
      requestsAccountedFor: accountedFor,
    };
  });
  console.log(
    JSON.stringify(
      {
        database: env.DATABASE_URL.startsWith('postgres') ? 'postgres' : 'sqlite',
        auditRowsBefore: before,
        scenarios: report,
        chainIntact: verify.ok,
      },
      null,
      2,
    ),
  );
} finally {
  service.kill('SIGTERM');
  await new Promise((resolve) => service.once('exit', resolve));
  rmSync(work, { recursive: true, force: true });
}
