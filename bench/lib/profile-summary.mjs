#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package / source area, so a profile can
// be read without DevTools.
// Usage: node bench/lib/profile-summary.mjs <file.cpuprofile> [--top=25] [--phase=a-measure] [--results=bench/results/latest.json]
// --phase keeps only the samples taken while that benchmark phase ran (a-warmup, a-measure, b-warmup, b-measure,
// setup...), using the phase timeline run-all.mjs writes to the results JSON (times are counted from the service's start).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, dflt) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write(
    'usage: node bench/lib/profile-summary.mjs <file.cpuprofile> [--top=25] [--phase=a-measure] [--results=bench/results/latest.json]\n',
  );
  process.exit(2);
}
const top = Number(opt('top', 25));
const phase = opt('phase');
let windows;
if (phase) {
  const { servicePhaseTimeline: tl } = JSON.parse(readFileSync(opt('results', 'bench/results/latest.json'), 'utf8'));
  windows = tl.map((e, i) => ({ ...e, end: tl[i + 1]?.t ?? Infinity })).filter((e) => e.phase === phase);
  if (!windows.length) throw new Error(`no phase ${phase} in the timeline (${tl.map((e) => e.phase).join(', ')})`);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the sample stream.
const self = new Map();
let at = 0; // µs since the profile started (≈ since the service process started)
for (let i = 0; i < prof.samples.length; i++) {
  at += prof.timeDeltas[i] ?? 0;
  const dt = prof.timeDeltas[i + 1] ?? 0;
  if (windows && !windows.some((w) => at / 1000 >= w.t && at / 1000 < w.end)) continue;
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

function area(url) {
  if (!url) return '(native / V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:'))
    return url
      .replace(/^node:(internal\/)?/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  const app = /\/dist\/((?:libs|apps)\/[^/]+)/.exec(url);
  if (app) return `app:${app[1]}`;
  return url;
}

const fnTotals = new Map();
const areaTotals = new Map();
// "Inclusive" attribution of native/GC time to the nearest JS caller area, so e.g. better-sqlite3 fsync shows up.
const callerArea = new Map();
for (const [id, t] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anonymous)'}  ${cf.url ? cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/') : ''}${cf.url ? ':' + (cf.lineNumber + 1) : ''}`;
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + t);
  areaTotals.set(area(cf.url), (areaTotals.get(area(cf.url)) ?? 0) + t);
  let p = id;
  while (p !== undefined && !byId.get(p).callFrame.url) p = parent.get(p);
  const ca = p === undefined ? '(no JS caller)' : area(byId.get(p).callFrame.url);
  callerArea.set(ca, (callerArea.get(ca) ?? 0) + t);
}
const show = (title, m) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `${((t / total) * 100).toFixed(1).padStart(6)} %  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}\n`,
    );
  }
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled${phase ? ` during ${phase}` : ''}\n`);
show('Self time by package / area', areaTotals);
show('Self time (native frames charged to their nearest JS caller) by area', callerArea);
show('Self time by function', fnTotals);
