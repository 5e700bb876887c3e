/**
 * Jest globalSetup of the browser project: start ONE real stack (auth service + Airflow api-server with the plugin)
 * through the integration suite's Python launcher, and tell the tests where it is (BROWSER_STACK_FILE).
 *
 * To iterate on tests, start the launcher yourself and export BROWSER_STACK_FILE=<its --out file>: then nothing is
 * started or stopped here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tailOf } from './logs';

const ROOT = resolve(__dirname, '../../..');
const START_TIMEOUT_MS = 240_000;

export default async function globalSetup(): Promise<void> {
  const given = process.env.BROWSER_STACK_FILE;
  if (given && existsSync(given)) return;

  const python = join(ROOT, '.venv/bin/python');
  if (!existsSync(python))
    throw new Error('browser suite: .venv/bin/python is missing (set up the Airflow plugin first)');
  const dir = mkdtempSync(join(tmpdir(), 'webauthn-browser-'));
  const out = join(dir, 'stack.json');
  const launcherLog = join(dir, 'serve-stack.log');
  const log = openSync(launcherLog, 'a');
  const started = Date.now();
  const child = spawn(
    python,
    [join(ROOT, 'test/integration/support/serve_stack.py'), '--out', out, '--workdir', join(dir, 'stack')],
    {
      cwd: ROOT,
      stdio: ['ignore', log, log],
    },
  );
  (globalThis as Record<string, unknown>).__browserStackProcess = child;
  // Set by the exit handler (a closure, so the type has to be spelled: TypeScript would narrow it to null).
  let exited = null as number | null;
  child.on('exit', (code) => (exited = code ?? -1));

  while (!existsSync(out)) {
    if (exited !== null)
      throw new Error(`browser suite: the stack launcher exited with ${exited}\n${tailOf(launcherLog, 80)}`);
    if (Date.now() - started > START_TIMEOUT_MS) {
      child.kill('SIGTERM');
      throw new Error(
        `browser suite: the stack did not start in ${START_TIMEOUT_MS / 1000}s\n${tailOf(launcherLog, 80)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const { timings } = JSON.parse(readFileSync(out, 'utf8')) as { timings: Record<string, number> };
  process.stdout.write(
    `\nbrowser suite: stack up in ${((Date.now() - started) / 1000).toFixed(1)}s (${Object.entries(timings)
      .map(([k, v]) => `${k}=${v.toFixed(1)}s`)
      .join(', ')}); files in ${dir}\n`,
  );
  process.env.BROWSER_STACK_FILE = out;
}
