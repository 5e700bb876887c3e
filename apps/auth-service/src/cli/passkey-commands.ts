import { Command } from 'commander';
import { UsersService } from '@app/accounts';
import { CLI_CONTEXT } from '@app/audit';
import { PasskeysService } from '@app/webauthn';
import { passkeyView } from '../admin/views';
import { printJson, printLines, printTable } from './output';
import { withServices } from './runtime';

interface JsonFlag {
  json?: boolean;
}

/** One phrase for a passkey's state; a flagged one says why, so the admin can review it before `passkeys unflag`. */
export function passkeyStatus(p: { revokedAt: string | null; flaggedAt: string | null; flagReason: string | null }): string {
  if (p.revokedAt) return 'revoked';
  if (p.flaggedAt) return `flagged (${p.flagReason ?? 'no reason recorded'}, ${p.flaggedAt})`;
  return 'active';
}

/** `passkeys list|revoke|unflag`: people's passkeys (also shown by `users show`). */
export function passkeyCommands(program: Command): void {
  const passkeys = program.command('passkeys').description("people's passkeys");

  passkeys
    .command('list <user>')
    .description("a user's passkeys (id or username), revoked ones included")
    .option('--json', 'print JSON')
    .action((idOrUsername: string, opts: JsonFlag) =>
      withServices(async (app) => {
        const user = await app.get(UsersService).resolve(idOrUsername);
        const rows = (await app.get(PasskeysService).listForUser(user.id)).map(passkeyView);
        if (opts.json) return printJson(rows);
        printTable(['PASSKEY_ID', 'LABEL', 'AUTHENTICATOR', 'CREATED', 'LAST_USED', 'STATUS'], rows.map((p) => [p.id, p.label, p.authenticator, p.createdAt, p.lastUsedAt, passkeyStatus(p)]));
      }),
    );

  passkeys
    .command('revoke <id>')
    .description('revoke a passkey (e.g. a lost device); an admin may revoke the last one')
    .option('--json', 'print JSON')
    .action((id: string, opts: JsonFlag) =>
      withServices(async (app) => {
        const view = passkeyView(await app.get(PasskeysService).revoke(CLI_CONTEXT, id));
        if (opts.json) return printJson(view);
        printLines(`passkey ${view.id} (${view.label}) revoked`);
      }),
    );

  passkeys
    .command('unflag <id>')
    .description('unblock a flagged passkey (its id from users show) after review; audited as passkey.unflagged')
    .option('--json', 'print JSON')
    .action((id: string, opts: JsonFlag) =>
      withServices(async (app) => {
        const view = passkeyView(await app.get(PasskeysService).unflag(CLI_CONTEXT, id));
        if (opts.json) return printJson(view);
        printLines(`passkey ${view.id} (${view.label}) unflagged: it signs in again`);
      }),
    );
}
