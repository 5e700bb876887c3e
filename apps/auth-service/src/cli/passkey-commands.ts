import { Command } from 'commander';
import { CLI_CONTEXT } from '@app/audit';
import { PasskeysService } from '@app/webauthn';
import { passkeyView } from '../admin/views';
import { printJson, printLines } from './output';
import { withServices } from './runtime';

interface JsonFlag {
  json?: boolean;
}

/** `passkeys unflag`: an admin's review of a passkey a security check blocked (see `users show` for the reason). */
export function passkeyCommands(program: Command): void {
  const passkeys = program.command('passkeys').description("people's passkeys (list them with users show)");

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
