/** The built service CLI (`dist/apps/auth-service/src/cli.js`) as an operator runs it: a fresh process, given env, cwd. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const SERVICE_CLI = join(__dirname, '../../dist/apps/auth-service/src/cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one CLI command with exactly `env` (plus PATH; nothing leaks in from the test runner) in `cwd`. Give a cwd
 * without data/service.env unless the test is about that file: the CLI reads it by default.
 */
export function runServiceCli(
  args: string[],
  opts: { env: Record<string, string | undefined>; cwd: string },
): Promise<CliResult> {
  const env = Object.fromEntries(
    Object.entries({ PATH: process.env.PATH, ...opts.env }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVICE_CLI, ...args], {
      env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
