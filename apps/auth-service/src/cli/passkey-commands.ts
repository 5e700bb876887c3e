import { Command } from 'commander';
import { UsersService } from '@app/accounts';
import { CLI_CONTEXT } from '@app/audit';
import { PasskeysService } from '@app/webauthn';
import { passkeyView } from '../admin/views';
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
