import { readFileSync } from 'node:fs';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigValidationError, loadConfiguration } from '@app/config';
import { AppError } from '@app/errors';
import { KeyStoreService } from '@app/tokens';
import { CliModule } from './cli.module';
import { fail, printJson } from './output';

/** Exit codes scripts can rely on: 1 = the operation was refused or failed, 2 = the command or configuration is wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Bad usage found after parsing (e.g. an option value that commander cannot check). */
export class UsageError extends Error {}

/** `--env-file PATH` of this invocation (set by the program before the command runs). */
let envFile: string | undefined;
export function useEnvFile(path: string | undefined): void {
  envFile = path;
}

/**
 * Runs one command against the database: reads the configuration the service reads (environment over --env-file
 * or data/service.env), starts the services (which brings the schema up to date), refuses a KEY_ENCRYPTION_KEY
 * that does not open the stored signing keys before the command can write anything, and always closes the
 * connection, so a script can call the CLI in a loop.
 */
export async function withServices<T>(work: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = loadConfiguration({ envFile });
  // logger off: stdout belongs to the command's output; failures are reported once, by exitCodeFor.
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), {
    logger: false,
    abortOnError: false,
  });
  try {
    await app.get(KeyStoreService).assertKeyEncryptionKey();
    return await work(app);
  } finally {
    await app.close();
  }
}

/**
 * Finishes a command that does one thing and reports it, the way they all report: adds `--json`, runs `work` against
 * the database with the command's options and arguments, then prints the result as JSON with --json (for scripts),
 * else as `show` puts it for people.
 */
export function runAndReport<O extends object, A extends string[], R>(
  command: Command,
  work: (app: INestApplicationContext, opts: O, ...args: A) => Promise<R>,
  show: (result: R) => void,
): Command {
  return command.option('--json', 'print JSON').action(async (...params: unknown[]) => {
    // commander calls an action with the declared arguments, then the options, then the command itself.
    const opts = params[params.length - 2] as O & { json?: boolean };
    const result = await withServices((app) => work(app, opts, ...(params.slice(0, -2) as A)));
    if (opts.json) printJson(result);
    else show(result);
  });
}

/** `--force`: the break-glass override of the last-admin rule, only on this CLI (audited as lastAdminOverride). */
export interface ForceOption {
  force?: boolean;
}

export function withForce(command: Command): Command {
  return command.option(
    '--force',
    'go ahead even if this leaves no enabled administrator with an active passkey (audited)',
  );
}

/** Prints what went wrong to stderr and returns the exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE; // commander already printed it
  if (error instanceof ConfigValidationError || error instanceof UsageError) {
    fail(error.message);
    return EXIT_USAGE;
  }
  if (error instanceof AppError) {
    fail(`error: ${error.message}`);
    return EXIT_FAILED;
  }
  // One line, never a stack: the first line of whatever went wrong (a driver error can span several).
  const message = error instanceof Error ? error.message : String(error);
  fail(`error: ${message.split('\n')[0]}`);
  return EXIT_FAILED;
}

// Option parsers: commander reports an InvalidArgumentError as bad usage, naming the option.

export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(value);
}

/** A JSON file (e.g. a JWK Set): read and parsed when the option is given, so a bad path or bad JSON is bad usage. */
export function parseJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidArgumentError(`${path} is not JSON`);
  }
}

export function parseInstant(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('must be an ISO 8601 date or date-time, e.g. 2025-01-31T00:00:00Z');
  return date;
}
