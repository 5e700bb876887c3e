#!/usr/bin/env node
// What re-reading the principal costs per Bearer request (issue: "decide from current state, not from claims").
//
//   npm run build && node bench/principal-reread.mjs                  # SQLite file in a temp dir
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/principal-reread.mjs
//
// In one process, on the built service (dist/), calls back to back:
//   verify only        TokenVerifierService.verify: what a guard trusting the claims would cost (the floor);
//   person re-read     PrincipalService.authenticate on a login token: verify + user + passkey lookups;
//   service re-read    PrincipalService.authenticate on a client-credentials token: verify + account lookup.
// The difference between a re-read and "verify only" is the most a principal cache could save per request.
// Prints wall and CPU microseconds per call. On PostgreSQL every lookup is a network round trip to the server.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_DIR, envInt } from './lib/common.mjs';

const require = createRequire(import.meta.url);
const dist = (p) => require(join(REPO_DIR, 'dist', p));
const { loadAppConfig } = dist('libs/config/src/index.js');
const { createApp } = dist('apps/auth-service/src/bootstrap.js');
const { PrincipalService } = dist('libs/principals/src/index.js');
const { TokenIssuerService, TokenVerifierService } = dist('libs/tokens/src/index.js');
const { ServiceAccountsService } = dist('libs/accounts/src/index.js');
const { DataSource } = require('typeorm');

const ITERATIONS = envInt('BENCH_ITERATIONS', 5000, 100);
const pgBase = process.env.BENCH_DATABASE_URL;
const schema = `bench_${randomBytes(4).toString('hex')}`;
const dir = pgBase ? undefined : mkdtempSync(join(tmpdir(), 'principal-bench-'));
const databaseUrl = pgBase
  ? `${pgBase}${pgBase.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`
  : join(dir, 'auth.sqlite');

async function onPostgres(sql) {
  const ds = await new DataSource({ type: 'postgres', url: pgBase }).initialize();
  try {
    await ds.query(sql);
  } finally {
    await ds.destroy();
  }
}

async function measure(name, fn) {
  for (let i = 0; i < Math.min(500, ITERATIONS); i += 1) await fn();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ITERATIONS; i += 1) await fn();
  const wallUs = ((performance.now() - t0) * 1000) / ITERATIONS;
  const cpu = process.cpuUsage(cpu0);
  return {
    name,
    wallUs: Math.round(wallUs * 10) / 10,
    cpuUs: Math.round(((cpu.user + cpu.system) / ITERATIONS) * 10) / 10,
  };
}

if (pgBase) await onPostgres(`CREATE SCHEMA "${schema}"`);
const config = loadAppConfig({
  NODE_ENV: 'test',
  DATABASE_URL: databaseUrl,
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  WEBAUTHN_RP_ID: 'localhost',
  WEBAUTHN_ORIGINS: 'http://localhost:8080',
  RATE_LIMIT_PER_MINUTE: '0',
  LOG_LEVEL: 'error',
});
const app = await createApp(config, false);
await app.init();
try {
  const ds = app.get(DataSource);
  const now = new Date();
  const userId = randomUUID();
  const passkeyId = randomUUID();
  await ds.getRepository('User').insert({
    id: userId,
    username: 'bench',
    displayName: 'bench',
    groups: ['airflow-admins'],
    webauthnUserId: randomBytes(32).toString('base64url'),
    createdAt: now,
    updatedAt: now,
    disabledAt: null,
    lastLoginAt: null,
  });
  await ds.getRepository('Passkey').insert({
    id: passkeyId,
    userId,
    credentialId: randomBytes(16).toString('base64url'),
    publicKey: 'unused',
    algorithm: -8,
    counter: 0,
    transports: [],
    aaguid: '00000000-0000-0000-0000-000000000000',
    deviceType: 'singleDevice',
    backupEligible: false,
    backedUp: false,
    attestationFormat: 'none',
    label: 'bench',
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
    flaggedAt: null,
    flagReason: null,
  });
  const issuer = app.get(TokenIssuerService);
  const userToken = (
    await issuer.issueUserToken({
      userId,
      username: 'bench',
      displayName: 'bench',
      groups: [],
      passkeyId,
      authTime: now,
      amr: ['hwk', 'user', 'mfa'],
    })
  ).access_token;
  const account = await app
    .get(ServiceAccountsService)
    .create({ actorType: 'cli', actorId: 'bench' }, { name: 'bench', groups: [], scopes: ['sessions:read'] });
  const serviceToken = (
    await issuer.issueServiceToken({
      accountId: account.id,
      name: account.name,
      clientId: account.clientId,
      groups: [],
      scopes: account.scopes,
    })
  ).access_token;

  const verifier = app.get(TokenVerifierService);
  const principals = app.get(PrincipalService);
  const rows = [
    await measure('verify only (claims trusted)', () => verifier.verify(userToken)),
    await measure('person re-read (user + passkey)', () => principals.authenticate(userToken)),
    await measure('service account re-read', () => principals.authenticate(serviceToken)),
  ];
  const floor = rows[0];
  console.log(
    `database: ${pgBase ? 'postgres' : 'sqlite'}; ${ITERATIONS} sequential calls each; node ${process.version}`,
  );
  console.log('call                              wall µs   CPU µs   re-read adds (wall / CPU µs)');
  for (const r of rows) {
    const extra =
      r === floor
        ? ''
        : `${Math.round((r.wallUs - floor.wallUs) * 10) / 10} / ${Math.round((r.cpuUs - floor.cpuUs) * 10) / 10}`;
    console.log(`${r.name.padEnd(34)}${String(r.wallUs).padStart(7)}  ${String(r.cpuUs).padStart(7)}   ${extra}`);
  }
} finally {
  await app.close();
  if (pgBase) await onPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  if (dir) rmSync(dir, { recursive: true, force: true });
}
