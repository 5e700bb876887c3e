#!/usr/bin/env node
// The audit table's growth under junk: N refused client-credentials requests (unknown client ids and wrong secrets)
// from one address against the real service, counting the audit rows they add, then verifying the chain.
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
const cli = async (...args) => (await execFileP(process.execPath, [join(work, 'dist/apps/auth-service/src/cli.js'), ...args], { env, maxBuffer: 1 << 30 })).stdout;
const auditRows = async () => (await cli('audit', 'export')).split('\n').filter(Boolean).length;

const service = spawn(process.execPath, [join(work, 'dist/apps/auth-service/src/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
try {
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (i > 300) throw new Error('service not ready');
    await sleep(200);
  }
  const account = JSON.parse(await cli('service-account', 'create', '--name', 'bench-audit', '--json'));
  const before = await auditRows();
  let next = 0;
  const statuses = new Map();
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < JUNK) {
        const i = next++;
        const clientId = i % 2 ? account.clientId : `sa_unknown_${i % 50}`;
        const res = await fetch(`http://127.0.0.1:${port}/v1/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'wrong' }),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const immediately = await auditRows();
  // The summaries of the failure windows are written by the minute's flush job after the windows end: wait for them.
  let after = immediately;
  const deadline = Date.now() + envInt('BENCH_FLUSH_WAIT_SECONDS', 180, 0) * 1000;
  while (Date.now() < deadline) {
    after = await auditRows();
    if (after > immediately) break;
    await sleep(5000);
  }
  const verify = JSON.parse(await cli('audit', 'verify', '--json'));
  console.log(JSON.stringify({ database: env.DATABASE_URL.startsWith('postgres') ? 'postgres' : 'sqlite', junkRequests: JUNK, seconds, statuses: Object.fromEntries(statuses), auditRowsAddedDuringFlood: immediately - before, auditRowsAdded: after - before, rowsPer10k: Math.round(((after - before) / JUNK) * 10_000), chainIntact: verify.ok }, null, 2));
} finally {
  service.kill('SIGTERM');
  await new Promise((resolve) => service.once('exit', resolve));
  rmSync(work, { recursive: true, force: true });
}
