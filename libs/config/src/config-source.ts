import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { AppConfig, ConfigValidationError, loadAppConfig } from './app-config';

/** Written by scripts/run.sh; read by the service and the CLI when started from the checkout without --env-file. */
export const DEFAULT_ENV_FILE = 'data/service.env';

export interface ConfigSourceOptions {
  /** `--env-file PATH`: must exist. Without it, DEFAULT_ENV_FILE is read when present. */
  envFile?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface ResolvedEnvironment {
  /** The merged variables: the file's, overridden by the explicit environment. */
  env: Record<string, string | undefined>;
  /** The file that was read, if any (absolute path). */
  file?: string;
}

/**
 * One configuration for every entry point (service and CLI): variables from an env file, then the process
 * environment on top. An explicitly set variable always wins, so a deployment can keep the file and override one
 * value; an empty variable counts as unset (as everywhere in the configuration).
 */
export function resolveEnvironment(options: ConfigSourceOptions = {}): ResolvedEnvironment {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let file: string | undefined;
  if (options.envFile !== undefined) {
    file = resolve(cwd, options.envFile);
    if (!existsSync(file)) throw new ConfigValidationError([`--env-file ${options.envFile}: no such file`]);
  } else if (existsSync(resolve(cwd, DEFAULT_ENV_FILE))) {
    file = resolve(cwd, DEFAULT_ENV_FILE);
  }
  if (!file) return { env };
  let fromFile: Record<string, string | undefined>;
  try {
    fromFile = parseEnv(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigValidationError([
      `${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    ]);
  }
  const explicit = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  return { env: { ...fromFile, ...explicit }, file };
}

/** resolveEnvironment + validation; a failure names where the settings were looked for. */
export function loadConfiguration(options: ConfigSourceOptions = {}): AppConfig {
  const { env, file } = resolveEnvironment(options);
  try {
    return loadAppConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    const where = file
      ? `read from the environment and ${file}`
      : `read from the environment only: no --env-file given and no ${DEFAULT_ENV_FILE} here, which scripts/run.sh writes`;
    throw new ConfigValidationError(error.problems, where);
  }
}

/** `--env-file PATH` or `--env-file=PATH` in an argument list (the service's; the CLI uses commander). */
export function envFileArgument(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--env-file') {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw new ConfigValidationError(['--env-file needs a path']);
      return value;
    }
    if (arg.startsWith('--env-file=')) return arg.slice('--env-file='.length);
  }
  return undefined;
}
