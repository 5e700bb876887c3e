#!/usr/bin/env node
// One service instance vs two on one PostgreSQL: passkey sign-in ceremonies and client-credentials grants, with the
// same total load, measured one configuration after the other in the same run. See bench/README.md.
//
//   npm run build && npm run -s bench:instances
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test BENCH_REDIS_URL=redis://127.0.0.1:6379 node bench/instances.mjs
//
// On a 2-core machine the point is correctness and no loss (every operation succeeds, ceremonies cross instances,
// the audit chain stays intact), not linear scaling: two instances share the same two cores as the load generator.
import { execFile, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  BENCH_DIR,
  ORIGIN,
  REPO_DIR,
  RP_ID,
  benchSettings,
  envInt,
  compileSoftAuthenticator,
  freePort,
  readCpuMs,
  readRss,
  round,
  sleep,
  startScriptNodeFlags,
} from './lib/common.mjs';

const execFileP = promisify(execFile);
// Warm-up 10 s by default (run-all.mjs: 2 s): each instance compiles its own hot paths, and with two instances each
// sees half the warm-up's operations — at 2 s the second instance was measured half-cold (CPU per op +15-55 %).
const settings = { ...benchSettings(), warmupSeconds: envInt('BENCH_WARMUP_SECONDS', 10, 0) };
const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL || undefined;
const MAIN_REL = 'dist/apps/auth-service/src/main.js';
const CLI_REL = 'dist/apps/auth-service/src/cli.js';
const MAX_ERROR_RATE = 0.01;
/** Rounds of all configurations, interleaved (1, 2, 1, 2, ...), so a change in the machine's other load hits both alike. */
const ROUNDS = envInt('BENCH_ROUNDS', 2, 1);
/**
 * Key rotations through the admin API of the first instance during the (c) phase of a configuration with several
 * instances, evenly spread over the measured window: with the defaults one every 2.5 s, so a key promoted by one
 * rotation is promoted again before the instances' 5 s key caches expire (what an operator does after a suspected
 * compromise: rotate twice, so that the published next key is gone too).
 */
const ROTATIONS = envInt('BENCH_ROTATIONS', 3, 1);
const ADMIN_GROUP = 'airflow-admins';

const log = (line) => process.stderr.write(`bench: ${line}\n`);
if (!DATABASE_URL.startsWith('postgres'))
  throw new Error('BENCH_DATABASE_URL must be postgres://... (several instances need PostgreSQL)');
if (!existsSync(join(REPO_DIR, MAIN_REL))) throw new Error(`${MAIN_REL} is missing: run npm run build first`);

// A private copy of dist/, so a rebuild during the run cannot pull files from under it.
const work = mkdtempSync(join(tmpdir(), 'bench-instances-'));
cpSync(join(REPO_DIR, 'dist'), join(work, 'dist'), { recursive: true });
symlinkSync(join(REPO_DIR, 'node_modules'), join(work, 'node_modules'));
process.env.BENCH_SOFT_AUTH_CJS = await compileSoftAuthenticator(work);
const nodeFlags = startScriptNodeFlags();

async function onPostgres(sql) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The load worker (bench/lib/load-worker.mjs) in its own process; `ask` sends a command and awaits its answer. */
function startWorker(onPhase) {
  const child = fork(join(BENCH_DIR, 'lib', 'load-worker.mjs'), [], {
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiting;
  child.on('message', (msg) => {
    if (msg.type === 'phase') return onPhase(msg.phase);
    if (!waiting) return;
    const { resolve, reject } = waiting;
    waiting = undefined;
    if (msg.type === 'error') reject(new Error(msg.message));
    else resolve(msg);
  });
  return {
    ask: (cmd) => new Promise((resolve, reject) => ((waiting = { resolve, reject }), child.send(cmd))),
    stop: () => child.kill(),
  };
}

/** N service processes started together on a fresh schema; CPU and RSS read from /proc for all of them. */
async function startInstances(count, extraEnv) {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  await onPostgres(`CREATE SCHEMA "${schema}"`);
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    DATABASE_URL: `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    WEBAUTHN_RP_ID: RP_ID,
    WEBAUTHN_ORIGINS: ORIGIN,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // The limits stay on, as in production, and are counted in the shared store; their ceilings are out of reach
    // of the load generator (one address for everything).
    RATE_LIMIT_PER_MINUTE: '10000000',
    RATE_LIMIT_CEREMONY_STARTS_PER_MINUTE: '10000000',
    RATE_LIMIT_CLIENT_PER_MINUTE: '10000000',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    ADMIN_GROUPS: ADMIN_GROUP,
    ...extraEnv,
  };
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const processes = ports.map((port) => {
    const child = spawn(process.execPath, [...nodeFlags, join(work, MAIN_REL)], {
      cwd: work,
      env: { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${ports[0]}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
    return { child, port, stderr: () => stderr };
  });
  const started = Date.now();
  for (const p of processes) {
    for (;;) {
      if (p.child.exitCode !== null) throw new Error(`instance on ${p.port} exited: ${p.stderr()}`);
      if (Date.now() - started > 90_000) throw new Error(`instance on ${p.port} not ready in 90 s: ${p.stderr()}`);
      if (
        await fetch(`http://127.0.0.1:${p.port}/readyz`)
          .then((r) => r.ok)
          .catch(() => false)
      )
        break;
      await sleep(200);
    }
  }
  const cli = async (...args) =>
    JSON.parse(
      (
        await execFileP(process.execPath, [join(work, CLI_REL), ...args, '--json'], {
          cwd: work,
          env,
          timeout: 120_000,
          maxBuffer: 1 << 28,
        })
      ).stdout,
    );
  return {
    ports,
    startupMs: Date.now() - started,
    cpuMs: () => processes.reduce((sum, p) => sum + (readCpuMs(p.child.pid) ?? 0), 0),
    rssMb: () => processes.map((p) => round((readRss(p.child.pid)?.rssKb ?? 0) / 1024, 1)),
    cli,
    async stop() {
      await Promise.all(
        processes.map((p) =>
          p.child.exitCode !== null
            ? undefined
            : new Promise((r) => (p.child.once('exit', r), p.child.kill('SIGTERM'))),
        ),
      );
      await onPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/** One configuration: start, set up accounts, enroll, (a) ceremonies, (b) grants, verify the audit chain, stop. */
async function measure({ name, count, env }) {
  log(`${name}: starting ${count} instance(s) on one PostgreSQL schema`);
  const instances = await startInstances(count, env);
  let cpuAtStart = 0;
  let peakRss = [];
  let sampling = false;
  const sampler = setInterval(() => {
    if (!sampling) return;
    const now = instances.rssMb();
    peakRss = now.map((mb, i) => Math.max(mb, peakRss[i] ?? 0));
  }, 100);
  let window = {};
  /** Called when a load phase's measured window starts (the rotation phase schedules its rotations there). */
  let onMeasure = () => {};
  const worker = startWorker((phase) => {
    if (phase === 'measure') ((cpuAtStart = instances.cpuMs()), (sampling = true), (peakRss = []), onMeasure());
    if (phase === 'done')
      ((window = { cpuMs: instances.cpuMs() - cpuAtStart, peakRssMb: peakRss }), (sampling = false));
  });
  const withCpu = (r) => ({
    ...r,
    cpuMs: window.cpuMs,
    cpuMsPerOp: r.count ? round(window.cpuMs / r.count, 3) : null,
    coresUsed: round(window.cpuMs / r.elapsedMs, 2),
    peakRssMb: window.peakRssMb,
  });
  try {
    const invites = [];
    for (let i = 0; i < settings.users; i++) {
      const username = `bench-user-${String(i).padStart(4, '0')}`;
      invites.push({ username, token: (await instances.cli('invite', 'create', '--username', username)).token });
    }
    const account = await instances.cli('service-account', 'create', '--name', 'bench');
    const enrolled = await worker.ask({ cmd: 'enroll', port: instances.ports[0], invites });
    log(
      `${name}: enrolled ${enrolled.users} users; (a) sign-in ceremonies, ${settings.concurrency} in flight${count > 1 ? ', options and verify on different instances' : ''}`,
    );
    const load = {
      ports: instances.ports,
      concurrency: settings.concurrency,
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
    };
    const ceremonies = withCpu(await worker.ask({ cmd: 'ceremonies', ...load }));
    log(`${name}: (b) client_credentials grants, ${settings.concurrency} in flight, round-robin over the instances`);
    const grants = withCpu(
      await worker.ask({ cmd: 'tokens', ...load, clientId: account.clientId, clientSecret: account.clientSecret }),
    );
    const rotation = count > 1 ? await rotationPhase(name, instances, worker, (fn) => (onMeasure = fn)) : undefined;
    const verify = await instances
      .cli('audit', 'verify')
      .catch((error) => ({ ok: false, error: String(error.stderr ?? error.message).slice(0, 300) }));
    return {
      name,
      instances: count,
      startupMs: instances.startupMs,
      ceremonies,
      grants,
      ...(rotation ? { rotation: { ...withCpu(rotation.load), rotations: rotation.rotations } } : {}),
      auditChainIntact: verify.ok === true,
      auditVerify: verify,
    };
  } finally {
    clearInterval(sampler);
    worker.stop();
    await instances.stop();
  }
}

/**
 * (c) Grants round-robin over the instances while the first one rotates the signing key (admin API) ROTATIONS times.
 * Every token is checked on the instance after the one that issued it, by the service's verifier and by a JWKS
 * verifier (load-worker.mjs, crossCheck): no request may fail.
 */
async function rotationPhase(name, instances, worker, setOnMeasure) {
  const admin = await instances.cli(
    'service-account',
    'create',
    '--name',
    'bench-admin',
    '--groups',
    ADMIN_GROUP,
    '--scopes',
    'admin',
  );
  const basic = Buffer.from(`${encodeURIComponent(admin.clientId)}:${encodeURIComponent(admin.clientSecret)}`);
  const first = `http://127.0.0.1:${instances.ports[0]}`;
  const rotateOnce = async (startedAt) => {
    const at = Date.now() - startedAt;
    try {
      const grant = await fetch(`${first}/v1/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic.toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      const { access_token: token } = await grant.json();
      const res = await fetch(`${first}/v1/admin/keys/rotate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      const body = await res.json();
      return { atMs: at, status: res.status, ...(res.ok ? { activeKid: body.activeKid } : { error: body }) };
    } catch (error) {
      return { atMs: at, status: 0, error: String(error?.message ?? error) };
    }
  };
  const rotations = [];
  const gapMs = (settings.seconds * 1000) / (ROTATIONS + 1);
  setOnMeasure(() => {
    const startedAt = Date.now();
    for (let i = 1; i <= ROTATIONS; i++)
      rotations.push(new Promise((r) => setTimeout(() => r(rotateOnce(startedAt)), i * gapMs)));
  });
  log(
    `${name}: (c) client_credentials grants while the first instance rotates the signing key ${ROTATIONS} times; every token checked on the other instance`,
  );
  const load = await worker.ask({
    cmd: 'tokens',
    ports: instances.ports,
    concurrency: settings.concurrency,
    seconds: settings.seconds,
    warmupSeconds: 1,
    clientId: admin.clientId,
    clientSecret: admin.clientSecret,
    crossCheck: true,
  });
  setOnMeasure(() => {});
  return { load, rotations: await Promise.all(rotations) };
}

const configurations = [
  { name: '1 instance (baseline)', count: 1, env: {} },
  { name: '2 instances', count: 2, env: {} },
  ...(REDIS_URL
    ? [
        {
          name: '2 instances, limits in Redis',
          count: 2,
          env: { REDIS_URL, REDIS_KEY_PREFIX: `awa-bench:${randomBytes(4).toString('hex')}:` },
        },
      ]
    : []),
];

const loadBefore = loadavg().map((x) => round(x, 2));
const rows = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const configuration of configurations) rows.push({ ...(await measure(configuration)), round });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (REDIS_URL) {
  // Only this run's keys (its prefix); they expire with their windows anyway.
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  const prefix = configurations.at(-1).env.REDIS_KEY_PREFIX;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}

const problems = [];
for (const r of rows) {
  for (const [what, m] of [
    ['(a)', r.ceremonies],
    ['(b)', r.grants],
  ]) {
    if (m.count === 0) problems.push(`${r.name} ${what}: no successful operation`);
    else if (m.errors / (m.count + m.errors) > MAX_ERROR_RATE)
      problems.push(`${r.name} ${what}: ${m.errors} errors (${m.errorSamples?.[0] ?? ''})`);
  }
  if (r.rotation) {
    // Not 1 %: a key rotation must not fail a single request.
    if (r.rotation.errors > 0 || r.rotation.count === 0)
      problems.push(
        `${r.name} (c): ${r.rotation.errors} failed requests during key rotation (${r.rotation.errorSamples?.[0] ?? ''})`,
      );
    const failed = r.rotation.rotations.filter((x) => x.status !== 200);
    if (r.rotation.rotations.length !== ROTATIONS || failed.length)
      problems.push(`${r.name} (c): rotations ${JSON.stringify(r.rotation.rotations).slice(0, 300)}`);
  }
  if (!r.auditChainIntact)
    problems.push(`${r.name}: audit verify failed: ${JSON.stringify(r.auditVerify).slice(0, 200)}`);
}

const results = {
  when: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    loadavgBefore: loadBefore,
    loadavgAfter: loadavg().map((x) => round(x, 2)),
  },
  settings: { ...settings, rounds: ROUNDS, rotations: ROTATIONS, database: 'postgres', nodeFlags },
  rows,
  problems,
};
mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
writeFileSync(join(BENCH_DIR, 'results', 'instances.json'), JSON.stringify(results, null, 2) + '\n');

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Number(x).toFixed(d));
const W = 64;
const line = (label, m, unit) =>
  `${pad(label, W)}${lpad(f(m.perSecond), 8)} ${pad(unit, 6)}${lpad(f(m.p50Ms, 2), 8)}${lpad(f(m.p99Ms, 2), 9)}${lpad(m.count, 7)}${lpad(m.errors, 5)}${lpad(f(m.cpuMsPerOp, 2), 10)}${lpad(f(m.coresUsed, 2), 7)}  ${m.peakRssMb.map((x) => f(x)).join(' + ')} MB`;
const out = [
  '',
  `One instance vs two on PostgreSQL — ${results.machine.cpus} CPU (${results.machine.cpuModel}), Node ${process.version}, load average ${loadBefore[0]} -> ${results.machine.loadavgAfter[0]}`,
];
out.push(
  `concurrency ${settings.concurrency} in total, ${settings.warmupSeconds} s warm-up + ${settings.seconds} s measured per row, ${settings.users} users, ${ROUNDS} interleaved round(s), limits on (counted in the shared store)`,
);
out.push('');
out.push(
  `${pad('', W)}${lpad('throughput', 14)}${lpad('p50 ms', 8)}${lpad('p99 ms', 9)}${lpad('ok', 7)}${lpad('err', 5)}${lpad('CPU ms/op', 10)}${lpad('cores', 7)}  peak RSS per instance`,
);
out.push('-'.repeat(W + 80));
/** A configuration's rounds together: operations over measured time, CPU over operations. */
const total = (name, key) => {
  const mine = rows.filter((r) => r.name === name).map((r) => r[key]);
  const count = mine.reduce((n, m) => n + m.count, 0);
  return {
    perSecond: (count / mine.reduce((t, m) => t + m.elapsedMs, 0)) * 1000,
    cpuMsPerOp: mine.reduce((t, m) => t + m.cpuMs, 0) / count,
  };
};
const label = (r) => (ROUNDS > 1 ? `${r.name}, round ${r.round}` : r.name);
for (const [what, key, unit] of [
  ['(a) sign-in', 'ceremonies', 'cer/s'],
  ['(b) client_credentials', 'grants', 'req/s'],
]) {
  for (const r of rows) out.push(line(`${what}: ${label(r)}`, r[key], unit));
  const base = total(configurations[0].name, key);
  for (const c of configurations.slice(1)) {
    const mine = total(c.name, key);
    out.push(
      `${pad(`    ${c.name} / 1 instance${ROUNDS > 1 ? ' (all rounds)' : ''}`, W)}throughput ${f((mine.perSecond / base.perSecond) * 100)} %, CPU per operation ${f((mine.cpuMsPerOp / base.cpuMsPerOp) * 100)} %`,
    );
  }
}
const rotated = rows.filter((r) => r.rotation);
for (const r of rotated)
  out.push(
    `${line(`(c) grants, key rotated ${r.rotation.rotations.length}× on one: ${label(r)}`, r.rotation, 'req/s')}   rotations at ${r.rotation.rotations.map((x) => `${f(x.atMs / 1000)} s (${x.status})`).join(', ')}`,
  );
if (rotated.length)
  out.push(
    `    failed requests during key rotation: ${rotated.reduce((n, r) => n + r.rotation.errors, 0)} (must be 0; each token checked by the other instance's verifier and its JWKS)`,
  );
out.push('');
out.push(
  `audit chain intact after every configuration and round: ${rows.every((r) => r.auditChainIntact) ? 'yes' : 'NO'}`,
);
process.stdout.write(out.join('\n') + '\n');
if (problems.length)
  process.stdout.write(`\nPROBLEMS (figures not trustworthy):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
process.stdout.write('\nJSON: bench/results/instances.json\n');
if (problems.length) process.exit(1);
