import { Command } from 'commander';
import { UsersService } from '@app/accounts';
import { CLI_CONTEXT } from '@app/audit';
import { CLOCK, Clock } from '@app/config';
import { CliCodesService } from '@app/cli-sign-in';
import { PasskeysService } from '@app/webauthn';
import { cliSignInView, commandLineViews, passkeyView } from '../admin/views';
import { printLines, printTable } from './output';
import { ForceOption, runAndReport, withForce } from './runtime';

/** One phrase for a passkey's state; a flagged one says why, so the admin can review it before `passkeys unflag`. */
export function passkeyStatus(p: {
  revokedAt: string | null;
  flaggedAt: string | null;
  flagReason: string | null;
}): string {
  if (p.revokedAt) return 'revoked';
  if (p.flaggedAt) return `flagged (${p.flagReason ?? 'no reason recorded'}, ${p.flaggedAt})`;
  return 'active';
}

/** A table of passkeys, for `passkeys list` and `users show`. */
export function printPasskeys(rows: ReturnType<typeof passkeyView>[]): void {
  printTable(
    ['PASSKEY_ID', 'LABEL', 'AUTHENTICATOR', 'CREATED', 'LAST_USED', 'STATUS'],
    rows.map((p) => [p.id, p.label, p.authenticator, p.createdAt, p.lastUsedAt, passkeyStatus(p)]),
  );
}

/** A table of the command lines signed in with a one-time code, for `command-lines list` and `users show`. */
export function printCommandLines(rows: ReturnType<typeof cliSignInView>[]): void {
  printTable(
    ['COMMAND_LINE_ID', 'SIGNED_IN', 'LAST_USED', 'FROM', 'CLIENT'],
    rows.map((c) => [c.id, c.usedAt, c.lastUsedAt ?? c.usedAt, c.usedFrom, c.client]),
  );
}

/**
 * `command-lines list|revoke`: the command lines (airflowctl) signed in as a person with a one-time code; signed out,
 * Airflow refuses one at its next re-check, as when the person does it on their Passkeys page.
 */
export function commandLineCommands(program: Command): void {
  const lines = program.command('command-lines').description("people's command lines signed in with a one-time code");

  runAndReport(
    lines.command('list <user>').description('the command lines signed in as a user (id or username)'),
    async (app, _opts, idOrUsername: string) => {
      const user = await app.get(UsersService).resolve(idOrUsername);
      return commandLineViews(await app.get(CliCodesService).list(user.id), app.get<Clock>(CLOCK).now());
    },
    printCommandLines,
  );

  runAndReport(
    lines
      .command('revoke <user> <id>')
      .description("sign a user's command line out (its id from command-lines list); audited as cli_session.revoked"),
    async (app, _opts, idOrUsername: string, id: string) => {
      const user = await app.get(UsersService).resolve(idOrUsername);
      const revoked = await app.get(CliCodesService).revoke(CLI_CONTEXT, user.id, id);
      return cliSignInView(revoked, app.get<Clock>(CLOCK).now());
    },
    (view) => printLines(`command line ${view.id} signed out: Airflow refuses it at its next re-check`),
  );
}

/** `passkeys list|revoke|unflag`: people's passkeys (also shown by `users show`). */
export function passkeyCommands(program: Command): void {
  const passkeys = program.command('passkeys').description("people's passkeys");

  runAndReport(
    passkeys.command('list <user>').description("a user's passkeys (id or username), revoked ones included"),
    async (app, _opts, idOrUsername: string) => {
      const user = await app.get(UsersService).resolve(idOrUsername);
      return (await app.get(PasskeysService).listForUser(user.id)).map(passkeyView);
    },
    printPasskeys,
  );

  runAndReport(
    withForce(
      passkeys
        .command('revoke <id>')
        .description("revoke a passkey (e.g. a lost device); an admin may revoke a person's last one"),
    ),
    async (app, opts: ForceOption, id: string) =>
      passkeyView(await app.get(PasskeysService).revoke(CLI_CONTEXT, id, { force: opts.force })),
    (view) => printLines(`passkey ${view.id} (${view.label}) revoked`),
  );

  runAndReport(
    passkeys
      .command('unflag <id>')
      .description('unblock a flagged passkey (its id from users show) after review; audited as passkey.unflagged'),
    async (app, _opts, id: string) => passkeyView(await app.get(PasskeysService).unflag(CLI_CONTEXT, id)),
    (view) => printLines(`passkey ${view.id} (${view.label}) unflagged: it signs in again`),
  );
}
