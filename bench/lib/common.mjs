// Shared helpers for the benchmark scripts (orchestrator, load worker, baselines). Plain Node, no dependencies
// beyond what the project already installs (esbuild, used only to compile the test software authenticator).
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(BENCH_DIR, '..');

/** Where the browser would be: the WebAuthn origin the service is configured to accept. */
export const ORIGIN = 'http://localhost:8080';
export const RP_ID = 'localhost';

/** `node <flags> dist/apps/auth-service/src/main.js` in package.json's start script → <flags>. */
export function startScriptNodeFlags() {
  const start = String(JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')).scripts?.start ?? '').trim();
  const match = /^node((?:\s+--\S+)*)\s+dist\/apps\/auth-service\/src\/main\.js$/.exec(start);
  if (!match)
    throw new Error(`package.json's start script is not "node [--flags] dist/apps/auth-service/src/main.js": ${start}`);
  return match[1].split(/\s+/).filter(Boolean);
}

export function envInt(name, dflt, min = 0) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

/** Settings shared by every process of one run (the orchestrator passes them down in the environment). */
export function benchSettings() {
  return {
    concurrency: envInt('BENCH_CONCURRENCY', 8, 1),
    seconds: envInt('BENCH_SECONDS', 10, 0.5),
    warmupSeconds: envInt('BENCH_WARMUP_SECONDS', 2, 0),
    users: envInt('BENCH_USERS', 16, 1),
  };
}

/** Percentiles over a list of latencies in milliseconds (nearest-rank). */
export function summarize(latenciesMs, elapsedMs, errors = 0) {
  const sorted = Float64Array.from(latenciesMs).sort();
  const pct = (p) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    errors,
    elapsedMs: round(elapsedMs, 1),
    perSecond: round((sorted.length / elapsedMs) * 1000, 1),
    meanMs: round(sorted.length ? sum / sorted.length : NaN, 3),
    p50Ms: round(pct(50), 3),
    p90Ms: round(pct(90), 3),
    p99Ms: round(pct(99), 3),
    maxMs: round(sorted.length ? sorted[sorted.length - 1] : NaN, 3),
  };
}

export function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export async function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/**
 * Compiles test/support/soft-authenticator.ts (and its CBOR helper) to one CommonJS file with esbuild and loads it.
 * Only type imports point at @simplewebauthn/server, so the bundle is self-contained. Cached per process in a temp dir.
 */
let softAuth;
export async function loadSoftAuthenticator() {
  if (softAuth) return softAuth;
  const out = process.env.BENCH_SOFT_AUTH_CJS;
  let file = out && existsSync(out) ? out : undefined;
  if (!file) file = await compileSoftAuthenticator();
  softAuth = createRequire(import.meta.url)(file);
  return softAuth;
}

export async function compileSoftAuthenticator(dir = mkdtempSync(join(tmpdir(), 'awbench-softauth-'))) {
  const { build } = await import('esbuild');
  const outfile = join(dir, 'soft-authenticator.cjs');
  await build({
    entryPoints: [join(REPO_DIR, 'test/support/soft-authenticator.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['@simplewebauthn/server'],
    logLevel: 'error',
  });
  return outfile;
}

/** Resident set size of a process, in kB, or undefined once it is gone. VmHWM is the kernel's own peak. */
export function readRss(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return { rssKb: rss ? Number(rss[1]) : undefined, hwmKb: hwm ? Number(hwm[1]) : undefined };
  } catch {
    return undefined;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system, all threads) a process has used so far, in ms; undefined once it is gone. */
export function readCpuMs(pid, clockTicks = 100) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * Runs `concurrency` lanes, each doing `op(lane, iteration)` back to back until the deadline. Operations that start
 * during the warm-up are not measured; the measured window starts when the warm-up ends and ends when the last
 * measured operation completes (no new operation starts after the deadline, so the run stops by itself).
 */
export async function drive({ concurrency, seconds, warmupSeconds }, op) {
  const t0 = performance.now();
  const measureStart = t0 + warmupSeconds * 1000;
  const deadline = measureStart + seconds * 1000;
  const latencies = [];
  const errorSamples = [];
  let errors = 0;
  let lastEnd = measureStart;
  process.send?.({ type: 'phase', phase: warmupSeconds > 0 ? 'warmup' : 'measure' });
  let announced = warmupSeconds === 0;
  const lane = async (k) => {
    for (let i = 0; ; i++) {
      const start = performance.now();
      if (start >= deadline) return;
      if (!announced && start >= measureStart) {
        announced = true;
        process.send?.({ type: 'phase', phase: 'measure' });
      }
      const measured = start >= measureStart;
      try {
        await op(k, i, measured);
        const end = performance.now();
        if (measured) {
          latencies.push(end - start);
          lastEnd = Math.max(lastEnd, end);
        }
      } catch (error) {
        if (measured) errors++;
        if (errorSamples.length < 5) errorSamples.push(String(error?.message ?? error));
        // A dead connection or a refused request should not spin: back off a little.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, k) => lane(k)));
  process.send?.({ type: 'phase', phase: 'done' });
  return { ...summarize(latencies, lastEnd - measureStart, errors), errorSamples };
}
