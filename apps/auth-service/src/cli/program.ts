import { Command } from 'commander';
import { DEFAULT_ENV_FILE } from '@app/config';
import { inviteCommands, serviceAccountCommands, userCommands } from './account-commands';
import { commandLineCommands, passkeyCommands } from './passkey-commands';
import { exitCodeFor, useEnvFile } from './runtime';
import { auditCommands, keyCommands, migrateCommand } from './system-commands';

export function buildProgram(): Command {
  const program = new Command('airflow-webauthn')
    .description(
      "Administer the Airflow WebAuthn auth service directly on its database, with the service's configuration.",
    )
    // Set before the subcommands exist, so they inherit it: usage errors come back as exceptions, not process.exit.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .option(
      '--env-file <path>',
      `read settings from this file (default: ${DEFAULT_ENV_FILE} when present); the environment wins`,
    )
    .hook('preAction', (command) => useEnvFile(command.opts<{ envFile?: string }>().envFile));
  inviteCommands(program);
  serviceAccountCommands(program);
  userCommands(program);
  passkeyCommands(program);
  commandLineCommands(program);
  keyCommands(program);
  auditCommands(program);
  migrateCommand(program);
  return program;
}

/** Parses and runs one command line; resolves to the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}
