#!/usr/bin/env node
// Benchmarks of the auth service against baselines measured in the same run. See bench/README.md.
//
//   npm run build && npm run bench
//   BENCH_CONCURRENCY=8 BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=2 BENCH_USERS=16 node bench/run-all.mjs
//
// (a) passkey sign-in ceremonies over HTTP vs. the raw in-process ceremony (simplewebauthn + jose)
// (b) client_credentials token grants over HTTP vs. a bare node:http server doing parse + SHA-256 check + EdDSA signing
//     (and, for reference, the same server answering a ready-made response: the HTTP round trip alone)
// (c) the service's resident memory while (a) and (b) run
//
// Builds nothing. Runs the service from a private copy of dist/ (a rebuild during the run cannot pull files from under
// it), on a throw-away SQLite file, bound to 127.0.0.1. Prints a table; writes bench/results/latest.json.
import { fork, spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  createWriteStream,
  readFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  BENCH_DIR,
  REPO_DIR,
  ORIGIN,
  RP_ID,
  benchSettings,
  compileSoftAuthenticator,
  freePort,
  readCpuMs,
  readRss,
  round,
  sleep,
  startScriptNodeFlags,
} from './lib/common.mjs';

const execFileP = promisify(execFile);
let CLOCK_TICKS = 100;
try {
  CLOCK_TICKS = Number((await execFileP('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
} catch {
  /* Linux default */
}

/**
 * CPU accounting of the process under test during the measured window: the worker (or the baseline itself) reports
 * 'measure' and 'done' phases; the process's user+system CPU time is read from /proc at both. CPU ms per operation is
 * robust against other load on the machine, unlike throughput.
 */
const cpuWatch = { pid: undefined, start: undefined, end: undefined };
function watchCpu(pid) {
  Object.assign(cpuWatch, { pid, start: undefined, end: undefined });
}
function onLoadPhase(phase) {
  if (!cpuWatch.pid) return;
  if (phase === 'measure') cpuWatch.start = readCpuMs(cpuWatch.pid, CLOCK_TICKS);
  if (phase === 'done') cpuWatch.end = readCpuMs(cpuWatch.pid, CLOCK_TICKS);
}
/** Adds cpuMs (whole window) and cpuMsPerOp to a load result; also the share of one core the process used. */
function withCpu(result) {
  const cpuMs = cpuWatch.start !== undefined && cpuWatch.end !== undefined ? cpuWatch.end - cpuWatch.start : undefined;
  cpuWatch.pid = undefined;
  if (cpuMs === undefined) return result;
  return {
    ...result,
    cpuMs,
    cpuMsPerOp: result.count ? round(cpuMs / result.count, 3) : null,
    coresUsed: round(cpuMs / result.elapsedMs, 2),
  };
}
/**
 * Targets (issue 22): the service's CPU time per operation at most 2.5× its baseline's, same run (CPU ms/op, not
 * throughput: it hardly moves when other processes share the machine), and the RSS peak under load at most 150 MB.
 */
const TARGETS = { ceremonyCpuRatio: 2.5, grantCpuRatio: 2.5, rssMb: 150 };
const MAX_ERROR_RATE = 0.01;

const settings = benchSettings();
const profile = process.env.BENCH_CPU_PROF === '1';
const keep = process.env.BENCH_KEEP_TMP === '1';
const strict = process.env.BENCH_STRICT === '1';
/** Directory for the SQLite file (default: the run's temp dir on the root disk). /dev/shm shows the cost of fsync. */
const dbDir = process.env.BENCH_DB_DIR || undefined;

function die(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const DIST = join(REPO_DIR, 'dist');
const MAIN_REL = 'apps/auth-service/src/main.js';
const CLI_REL = 'apps/auth-service/src/cli.js';
if (!existsSync(join(DIST, MAIN_REL))) die(`dist/${MAIN_REL} is missing: run npm run build first`);

const log = (line) => process.stderr.write(`bench: ${line}\n`);
const cleanup = [];
let exiting = false;
async function runCleanup() {
  for (const fn of cleanup.reverse()) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
  cleanup.length = 0;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (exiting) return;
    exiting = true;
    await runCleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------------------------

/** Forks a bench/lib script with IPC and returns helpers to send a command and await its typed reply. */
function forkChild(script, env = {}, execArgv = process.execArgv) {
  const child = fork(join(BENCH_DIR, 'lib', script), [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters = [];
  const listeners = [];
  child.on('message', (msg) => {
    if (msg.type === 'phase') onLoadPhase(msg.phase);
    for (const l of listeners) l(msg);
    const i = waiters.findIndex((w) => w.types.includes(msg.type) || msg.type === 'error');
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
  });
  child.on('exit', (code, signal) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${script} exited (${code ?? signal}) before answering`));
  });
  cleanup.push(() => child.connected && child.kill());
  return {
    child,
    onMessage: (fn) => listeners.push(fn),
    /** Resolves with the first message of one of `types`; rejects on {type:'error'} or after `timeoutMs`. */
    ask(cmd, types, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${script}: no answer to ${cmd?.cmd ?? 'start'} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          types,
          resolve: (msg) => {
            clearTimeout(timer);
            if (msg.type === 'error') reject(new Error(`${script}: ${msg.message}`));
            else resolve(msg);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        if (cmd) child.send(cmd);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      if (child.connected) child.disconnect();
      await Promise.race([gone, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Hard bound for one load phase: warm-up + measurement + generous slack. */
const phaseTimeoutMs = () => (settings.warmupSeconds + settings.seconds) * 1000 + 60_000;

// ---------------------------------------------------------------------------------------------------------------
// Memory sampler: VmRSS of the service every 100 ms, tagged with the phase running at the time.
// ---------------------------------------------------------------------------------------------------------------
function startRssSampler(pid) {
  const samples = []; // {t, phase, rssKb}
  const timeline = [{ t: 0, phase: 'startup' }]; // phase changes, ms since the service was spawned
  let phase = 'startup';
  const t0 = Date.now();
  const timer = setInterval(() => {
    const r = readRss(pid);
    if (r?.rssKb !== undefined) samples.push({ t: Date.now() - t0, phase, rssKb: r.rssKb });
  }, 100);
  return {
    setPhase: (p) => {
      if (p !== phase) timeline.push({ t: Date.now() - t0, phase: p });
      phase = p;
    },
    timeline,
    stop: () => clearInterval(timer),
    peakMb: (pred) => {
      const kb = samples.filter((s) => pred(s.phase)).reduce((m, s) => Math.max(m, s.rssKb), 0);
      return kb ? round(kb / 1024, 1) : null;
    },
    lastMb: () => (samples.length ? round(samples[samples.length - 1].rssKb / 1024, 1) : null),
    samples,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------
async function main() {
  const loadBefore = loadavg().map((x) => round(x, 2));
  if (settings.users < settings.concurrency) {
    log(
      `BENCH_USERS=${settings.users} < BENCH_CONCURRENCY=${settings.concurrency}: using ${settings.concurrency} users (a passkey is never used by two in-flight ceremonies)`,
    );
    settings.users = settings.concurrency;
  }
  const work = mkdtempSync(join(tmpdir(), 'awbench-'));
  if (!keep) cleanup.push(() => rmSync(work, { recursive: true, force: true }));
  else log(`keeping ${work}`);

  // Private copy of dist/ next to a node_modules link, so requires still resolve and a concurrent rebuild
  // (nest build deletes dist/ first) cannot break the run.
  cpSync(DIST, join(work, 'dist'), { recursive: true });
  symlinkSync(join(REPO_DIR, 'node_modules'), join(work, 'node_modules'), 'dir');
  const snap = join(work, 'dist');
  const haveCli = existsSync(join(snap, CLI_REL));

  const softAuth = await compileSoftAuthenticator(work);
  process.env.BENCH_SOFT_AUTH_CJS = softAuth;

  let dbPath = work;
  if (dbDir) {
    dbPath = mkdtempSync(join(dbDir, 'awbench-db-'));
    cleanup.push(() => rmSync(dbPath, { recursive: true, force: true }));
  }
  const port = await freePort();
  const serviceEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: join(dbPath, 'auth.sqlite'),
    WEBAUTHN_RP_ID: RP_ID,
    WEBAUTHN_ORIGINS: ORIGIN,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    RATE_LIMIT_PER_MINUTE: '0',
    // warn: no per-request line. BENCH_LOG_LEVEL=log measures the production default (one JSON line per request).
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
  };

  // ---- the service ----
  const profDir = join(BENCH_DIR, 'results', 'profiles');
  // The node flags `npm start` gives the service (package.json scripts.start, e.g. its heap cap), so the service is
  // measured as it is run; then extra flags for this run only (BENCH_SERVICE_NODE_ARGS="--max-old-space-size=96").
  const extraNodeArgs = [
    ...startScriptNodeFlags(),
    ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  ];
  const nodeArgs = profile
    ? [
        ...extraNodeArgs,
        '--cpu-prof',
        `--cpu-prof-dir=${profDir}`,
        '-r',
        join(BENCH_DIR, 'lib', 'service-exit-hook.cjs'),
      ]
    : extraNodeArgs;
  if (profile) mkdirSync(profDir, { recursive: true });
  const serviceLog = join(work, 'service.log');
  const logStream = createWriteStream(serviceLog);
  const service = spawn(process.execPath, [...nodeArgs, join(snap, MAIN_REL)], {
    cwd: work,
    env: serviceEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service.stdout.pipe(logStream);
  service.stderr.pipe(logStream);
  let serviceExited = false;
  service.on('exit', () => (serviceExited = true));
  const stopService = async () => {
    if (serviceExited) return;
    const gone = new Promise((r) => service.once('exit', r));
    service.kill(profile ? 'SIGUSR2' : 'SIGTERM');
    await Promise.race([gone, sleep(10_000)]);
    if (!serviceExited) service.kill('SIGKILL');
  };
  cleanup.push(stopService);
  const rss = startRssSampler(service.pid);
  cleanup.push(() => rss.stop());

  const base = `http://127.0.0.1:${port}`;
  const startedAt = Date.now();
  for (;;) {
    if (serviceExited)
      throw new Error(`the service exited during start-up:\n${readFileSync(serviceLog, 'utf8').slice(-2000)}`);
    if (Date.now() - startedAt > 60_000)
      throw new Error(
        `the service did not answer /healthz within 60 s:\n${readFileSync(serviceLog, 'utf8').slice(-2000)}`,
      );
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  const startupMs = Date.now() - startedAt;
  const idleRssMb = round(readRss(service.pid).rssKb / 1024, 1);
  log(`service up on ${base} in ${startupMs} ms (pid ${service.pid}, RSS ${idleRssMb} MB)`);

  // ---- accounts: invites and a service account, through the admin CLI ----
  rss.setPhase('setup');
  const usernames = Array.from({ length: settings.users }, (_, i) => `bench-user-${String(i).padStart(4, '0')}`);
  let invites;
  let serviceAccount;
  const setupStart = Date.now();
  if (haveCli) {
    const cli = async (...args) => {
      const { stdout } = await execFileP(process.execPath, [join(snap, CLI_REL), ...args, '--json'], {
        cwd: work,
        env: serviceEnv,
        timeout: 60_000,
      });
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`cli ${args.join(' ')} did not print JSON: ${stdout.slice(0, 300)}`);
      }
    };
    invites = [];
    let next = 0;
    const lane = async () => {
      while (next < usernames.length) {
        const username = usernames[next++];
        const out = await cli('invite', 'create', '--username', username);
        if (typeof out.token !== 'string')
          throw new Error(`cli invite create printed no token: ${JSON.stringify(out).slice(0, 200)}`);
        invites.push({ username, token: out.token });
      }
    };
    await Promise.all([lane(), lane()]);
    serviceAccount = await cli('service-account', 'create', '--name', 'bench');
    if (!serviceAccount.clientId || !serviceAccount.clientSecret)
      throw new Error(`cli service-account create printed ${JSON.stringify(serviceAccount).slice(0, 200)}`);
    log(`created ${invites.length} invites and a service account with the CLI in ${Date.now() - setupStart} ms`);
  } else {
    throw new Error(`dist/${CLI_REL} not found: run npm run build first`);
  }

  // ---- (a) sign-in ceremonies against the service ----
  const worker = forkChild('load-worker.mjs');
  let currentPhasePrefix = '';
  worker.onMessage((msg) => {
    if (msg.type === 'phase') rss.setPhase(`${currentPhasePrefix}${msg.phase}`);
  });
  const enrolled = await worker.ask({ cmd: 'enroll', port, invites }, ['enrolled'], 120_000);
  log(
    `enrolled ${enrolled.users} users over HTTP in ${enrolled.ms} ms (credential algorithms: ${enrolled.algs.join(', ')})`,
  );

  const loadCmd = {
    port,
    concurrency: settings.concurrency,
    seconds: settings.seconds,
    warmupSeconds: settings.warmupSeconds,
  };
  currentPhasePrefix = 'a-';
  log(
    `(a) service sign-in ceremonies: ${settings.concurrency} in flight, ${settings.warmupSeconds} s warm-up + ${settings.seconds} s`,
  );
  watchCpu(service.pid);
  const aService = withCpu(await worker.ask({ cmd: 'ceremonies', ...loadCmd }, ['result'], phaseTimeoutMs()));

  // ---- (b) client_credentials against the service ----
  // One request first: a sanity check, and the real response body the bare baseline will send back (same size).
  const basic = Buffer.from(
    `${encodeURIComponent(serviceAccount.clientId)}:${encodeURIComponent(serviceAccount.clientSecret)}`,
  ).toString('base64');
  const probe = await fetch(`${base}/v1/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const probeText = await probe.text();
  if (probe.status !== 200) throw new Error(`token endpoint answered ${probe.status}: ${probeText.slice(0, 300)}`);
  // A real options response, for the framework-floor reference (it answers the same with a fresh challenge).
  const optionsProbe = await fetch(`${base}/v1/authentication/options`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: usernames[0] }),
  });
  const optionsProbeText = await optionsProbe.text();
  currentPhasePrefix = 'b-';
  rss.setPhase('between');
  log(
    `(b) service client_credentials: ${settings.concurrency} in flight, ${settings.warmupSeconds} s warm-up + ${settings.seconds} s`,
  );
  watchCpu(service.pid);
  const bService = withCpu(
    await worker.ask(
      { cmd: 'tokens', ...loadCmd, clientId: serviceAccount.clientId, clientSecret: serviceAccount.clientSecret },
      ['result'],
      phaseTimeoutMs(),
    ),
  );
  rss.setPhase('after');
  await sleep(300);

  // ---- (c) memory ----
  const hwmMb = round(readRss(service.pid).hwmKb / 1024, 1);
  const finalRssMb = rss.lastMb();
  rss.stop();
  await stopService();
  const serviceLogTail = readFileSync(serviceLog, 'utf8').trim().split('\n').slice(-5);

  // ---- baselines, each alone on the machine ----
  currentPhasePrefix = 'baseline-';
  log(`(a) baseline: raw in-process ceremony, ${settings.concurrency} in flight`);
  const raw = forkChild('raw-ceremony.mjs');
  watchCpu(raw.child.pid);
  const aRaw = withCpu(
    await raw.ask({ cmd: 'run', ...loadCmd, users: settings.users }, ['result'], phaseTimeoutMs() + 30_000),
  );
  await raw.stop();

  // The same token server twice: signing every answer (the grant's baseline), then answering a ready-made response
  // (the HTTP round trip alone, for reference).
  const bareBaseline = async (sign) => {
    const barePort = await freePort();
    const bare = forkChild('bare-token-server.mjs', {
      BARE_PORT: String(barePort),
      BARE_CLIENT_ID: serviceAccount.clientId,
      BARE_SECRET_HASH: createHash('sha256').update(serviceAccount.clientSecret, 'utf8').digest('hex'),
      BARE_RESPONSE: probeText,
      BARE_SIGN: sign ? '1' : '0',
    });
    await bare.ask(null, ['ready'], 10_000);
    log(
      `(b) baseline: bare node:http token server${sign ? ' signing an EdDSA at+jwt per grant' : ', ready-made answer'}, ${settings.concurrency} in flight`,
    );
    watchCpu(bare.child.pid);
    const result = withCpu(
      await worker.ask(
        {
          cmd: 'tokens',
          ...loadCmd,
          port: barePort,
          clientId: serviceAccount.clientId,
          clientSecret: serviceAccount.clientSecret,
        },
        ['result'],
        phaseTimeoutMs(),
      ),
    );
    await bare.stop();
    return result;
  };
  const bSigned = await bareBaseline(true);
  const bBare = await bareBaseline(false);

  // ---- reference: the service's HTTP pipeline with do-nothing handlers (the framework's floor) ----
  let aFloor = null;
  let bFloor = null;
  let floorRss = null;
  if (process.env.BENCH_FLOOR !== '0') {
    const floorPort = await freePort();
    const floorDb = mkdtempSync(join(work, 'floor-'));
    const floor = forkChild(
      'framework-floor-server.cjs',
      {
        ...serviceEnv,
        DATABASE_URL: join(floorDb, 'auth.sqlite'),
        PORT: String(floorPort),
        FLOOR_DIST: snap,
        FLOOR_PORT: String(floorPort),
        BARE_RESPONSE: probeText,
        FLOOR_OPTIONS: optionsProbeText,
      },
      profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-name=floor.cpuprofile'] : process.execArgv,
    );
    await floor.ask(null, ['ready'], 60_000);
    const floorIdleMb = round(readRss(floor.child.pid).rssKb / 1024, 1);
    let floorPeakKb = 0;
    const floorSampler = setInterval(
      () => (floorPeakKb = Math.max(floorPeakKb, readRss(floor.child.pid)?.rssKb ?? 0)),
      100,
    );
    log(
      `(a) reference: the service's own HTTP pipeline, do-nothing options/verify handlers, ${settings.concurrency} in flight`,
    );
    watchCpu(floor.child.pid);
    aFloor = withCpu(
      await worker.ask({ cmd: 'ceremonies', ...loadCmd, port: floorPort }, ['result'], phaseTimeoutMs()),
    );
    log(`(b) reference: the service's own HTTP pipeline, do-nothing token handler, ${settings.concurrency} in flight`);
    watchCpu(floor.child.pid);
    bFloor = withCpu(
      await worker.ask(
        {
          cmd: 'tokens',
          ...loadCmd,
          port: floorPort,
          clientId: serviceAccount.clientId,
          clientSecret: serviceAccount.clientSecret,
        },
        ['result'],
        phaseTimeoutMs(),
      ),
    );
    clearInterval(floorSampler);
    floorRss = { idleMb: floorIdleMb, peakMb: round(floorPeakKb / 1024, 1) };
    await floor.stop();
  }
  await worker.stop();

  // ---- results ----
  const ratio = (x, y) => (y > 0 ? round(x / y, 3) : null);
  const peakA = rss.peakMb((p) => p.startsWith('a-'));
  const peakB = rss.peakMb((p) => p.startsWith('b-'));
  const peakLoad = Math.max(peakA ?? 0, peakB ?? 0);
  const results = {
    when: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memMb: Math.round(totalmem() / 2 ** 20),
      node: process.version,
      platform: process.platform,
      loadavgBefore: loadBefore,
      loadavgAfter: loadavg().map((x) => round(x, 2)),
    },
    settings: { ...settings, profile, serviceNodeArgs: extraNodeArgs },
    setup: {
      serviceStartupMs: startupMs,
      accountsVia: 'the admin CLI',
      enrollment: enrolled,
      database: dbDir ? `sqlite in ${dbDir}` : 'sqlite in the temp dir (root disk)',
    },
    servicePhaseTimeline: rss.timeline,
    ceremony: {
      service: aService,
      rawBaseline: aRaw,
      cpuRatio: ratio(aService.cpuMsPerOp, aRaw.cpuMsPerOp),
      target: TARGETS.ceremonyCpuRatio,
      throughputRatio: ratio(aService.perSecond, aRaw.perSecond),
      frameworkFloor: aFloor,
      frameworkFloorCpuRatio: aFloor ? ratio(aFloor.cpuMsPerOp, aRaw.cpuMsPerOp) : null,
    },
    clientCredentials: {
      service: bService,
      signedBaseline: bSigned,
      cpuRatio: ratio(bService.cpuMsPerOp, bSigned.cpuMsPerOp),
      target: TARGETS.grantCpuRatio,
      throughputRatio: ratio(bService.perSecond, bSigned.perSecond),
      bareBaseline: bBare,
      bareCpuRatio: ratio(bService.cpuMsPerOp, bBare.cpuMsPerOp),
      responseBytes: Buffer.byteLength(probeText),
      frameworkFloor: bFloor,
      frameworkFloorCpuRatio: bFloor ? ratio(bFloor.cpuMsPerOp, bSigned.cpuMsPerOp) : null,
      frameworkFloorRss: floorRss,
    },
    memory: {
      rssTimeline: rss.samples
        .filter((x, i) => i % 5 === 0)
        .map((x) => [round(x.t / 1000, 1), x.phase, round(x.rssKb / 1024, 1)]),
      idleRssMb,
      peakRssDuringCeremoniesMb: peakA,
      peakRssDuringTokensMb: peakB,
      peakRssUnderLoadMb: peakLoad,
      vmHwmMb: hwmMb,
      finalRssMb,
      targetMb: TARGETS.rssMb,
    },
    serviceLogTail,
  };

  // Sanity: something measured, almost nothing failed.
  const problems = [];
  for (const [name, r] of [
    ['(a) service', aService],
    ['(a) raw', aRaw],
    ['(b) service', bService],
    ['(b) signed', bSigned],
    ['(b) bare', bBare],
    ...(aFloor ? [['(a) framework floor', aFloor]] : []),
    ...(bFloor ? [['(b) framework floor', bFloor]] : []),
  ]) {
    if (r.count === 0) problems.push(`${name}: no successful operation`);
    else if (r.errors / (r.count + r.errors) > MAX_ERROR_RATE)
      problems.push(`${name}: ${r.errors} errors for ${r.count} successes (${r.errorSamples?.[0] ?? ''})`);
  }
  results.problems = problems;
  const verdicts = {
    ceremony: results.ceremony.cpuRatio !== null && results.ceremony.cpuRatio <= TARGETS.ceremonyCpuRatio,
    clientCredentials:
      results.clientCredentials.cpuRatio !== null && results.clientCredentials.cpuRatio <= TARGETS.grantCpuRatio,
    memory: peakLoad > 0 && peakLoad <= TARGETS.rssMb,
  };
  results.targetsMet = verdicts;

  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  writeFileSync(join(BENCH_DIR, 'results', 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  printTable(results, verdicts);
  if (problems.length) {
    process.stdout.write(`\nPROBLEMS (figures not trustworthy):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  }
  if (profile)
    process.stdout.write(
      `\nCPU profile of the service written to ${join(BENCH_DIR, 'results', 'profiles')} (open in Chrome DevTools / speedscope)\n`,
    );
  process.stdout.write(`\nJSON: bench/results/latest.json\n`);
  await runCleanup();
  if (problems.length) process.exit(1);
  if (strict && !Object.values(verdicts).every(Boolean)) process.exit(3);
}

function printTable(r, verdicts) {
  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Number(x).toFixed(d));
  const W = 46;
  const row = (name, m, unit) =>
    `${pad(name, W)}${lpad(f(m.perSecond), 9)} ${pad(unit, 5)}${lpad(f(m.p50Ms, 2), 8)}${lpad(f(m.p99Ms, 2), 9)}${lpad(m.count, 8)}${lpad(m.errors, 6)}${lpad(f(m.cpuMsPerOp, 3), 10)}${lpad(f(m.coresUsed, 2), 7)}`;
  const verdict = (ok) => (ok ? 'PASS' : 'MISS');
  const pct = (x) => (x === null || x === undefined ? '-' : `${f(x * 100, 1)} %`);
  const times = (x) => (x === null || x === undefined ? '-' : `${f(x, 2)}×`);
  /** The target line: CPU ms/op of the service ÷ its baseline's, PASS/MISS; the throughput ratio for information. */
  const ratioLine = (label, cpuRatio, target, ok, throughputRatio) =>
    `${pad(label, W)}${lpad(times(cpuRatio), 9)}       target <= ${target}×   ${verdict(ok)}   (throughput ${pct(throughputRatio)} of the baseline's, noisy)`;
  const s = r.settings;
  const out = [];
  out.push('');
  out.push(
    `Airflow WebAuthn auth service benchmark — ${r.machine.cpus} CPU (${r.machine.cpuModel}), Node ${r.machine.node}, load average ${r.machine.loadavgBefore[0]} -> ${r.machine.loadavgAfter[0]}`,
  );
  out.push(
    `concurrency ${s.concurrency}, ${s.warmupSeconds} s warm-up + ${s.seconds} s measured per row, ${s.users} users, accounts via ${r.setup.accountsVia}, ${r.setup.database}${s.serviceNodeArgs.length ? `, service node flags: ${s.serviceNodeArgs.join(' ')}` : ''}`,
  );
  out.push('');
  out.push(
    `${pad('', W)}${lpad('throughput', 15)}${lpad('p50 ms', 8)}${lpad('p99 ms', 9)}${lpad('ok', 8)}${lpad('err', 6)}${lpad('CPU ms/op', 10)}${lpad('cores', 7)}`,
  );
  out.push('-'.repeat(W + 63));
  out.push(row('(a) service: passkey sign-in over HTTP', r.ceremony.service, 'cer/s'));
  out.push(row('(a) baseline: raw options+verify+JWT, 1 proc', r.ceremony.rawBaseline, 'cer/s'));
  out.push(
    ratioLine(
      '    service / baseline CPU ms/op',
      r.ceremony.cpuRatio,
      r.ceremony.target,
      verdicts.ceremony,
      r.ceremony.throughputRatio,
    ),
  );
  const st = r.ceremony.service.steps;
  out.push(
    `${pad('    service steps, p50/p99 ms', W)}options ${f(st.options.p50Ms, 2)}/${f(st.options.p99Ms, 2)}, client signing ${f(st.sign.p50Ms, 2)}/${f(st.sign.p99Ms, 2)}, verify+JWT ${f(st.verify.p50Ms, 2)}/${f(st.verify.p99Ms, 2)}`,
  );
  const af = r.ceremony.frameworkFloor;
  if (af) {
    out.push(row('(a) reference: same app, do-nothing handlers', af, 'cer/s'));
    out.push(
      `${pad('    framework floor / baseline CPU ms/op', W)}${lpad(times(r.ceremony.frameworkFloorCpuRatio), 9)}       (no verification, DB, signing or audit: 2 requests through the pipeline)`,
    );
  }
  out.push(
    `${pad('    assertion signing (excluded both sides)', W)}${f(r.ceremony.rawBaseline.assertionSignUs, 1)} µs per assertion (${r.ceremony.rawBaseline.credentialAlgs.join(', ')})`,
  );
  const cc = r.clientCredentials;
  out.push(row('(b) service: client_credentials token', cc.service, 'req/s'));
  out.push(row('(b) baseline: bare node:http + EdDSA at+jwt', cc.signedBaseline, 'req/s'));
  out.push(
    ratioLine(
      '    service / baseline CPU ms/op',
      cc.cpuRatio,
      cc.target,
      verdicts.clientCredentials,
      cc.throughputRatio,
    ),
  );
  out.push(row('(b) reference: bare node:http, no signing', cc.bareBaseline, 'req/s'));
  const fl = cc.frameworkFloor;
  if (fl) {
    out.push(row('(b) reference: same app, do-nothing handler', fl, 'req/s'));
    out.push(
      `${pad('    framework floor / baseline CPU ms/op', W)}${lpad(times(cc.frameworkFloorCpuRatio), 9)}       (RSS idle / peak ${f(cc.frameworkFloorRss?.idleMb)} / ${f(cc.frameworkFloorRss?.peakMb)} MB)`,
    );
  }
  const m = r.memory;
  out.push(
    `${pad('(c) service RSS peak under load', W)}${lpad(f(m.peakRssUnderLoadMb) + ' MB', 9)}       target <= ${m.targetMb} MB  ${verdict(verdicts.memory)}`,
  );
  out.push(
    `${pad('    idle / during (a) / during (b) / VmHWM', W)}${f(m.idleRssMb)} / ${f(m.peakRssDuringCeremoniesMb)} / ${f(m.peakRssDuringTokensMb)} / ${f(m.vmHwmMb)} MB`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

main().catch(async (error) => {
  process.stderr.write(`bench: FAILED: ${error?.stack ?? error}\n`);
  await runCleanup();
  process.exit(1);
});
