import { Command } from 'commander';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  AuditChainService,
  AuditService,
  carriedKeysTrust,
  ChainAnchor,
  ChainChecker,
  ChainVerdict,
  CheckpointKeys,
  CLI_CONTEXT,
  parseHeadText,
  readSignedHead,
  StoredLink,
} from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { KeyStoreService } from '@app/tokens';
import { auditEventView, signingKeyView } from '../admin/views';
import { printJson, printLines, printTable, writeLine } from './output';
import { parseInstant, runAndReport, withServices } from './runtime';

/** `keys list|rotate`: the token signing keys. */
export function keyCommands(program: Command): void {
  const keys = program.command('keys').description('token signing keys');

  runAndReport(
    keys.command('list').description('list signing keys and their states (no key material)'),
    async (app) => (await app.get(KeyStoreService).list()).map(signingKeyView),
    (rows) =>
      printTable(
        ['KID', 'ALG', 'STATE', 'CREATED', 'ACTIVATED', 'RETIRED', 'PUBLISH_UNTIL'],
        rows.map((k) => [k.kid, k.alg, k.state, k.createdAt, k.activatedAt, k.retiredAt, k.publishUntil]),
      ),
  );

  runAndReport(
    keys
      .command('rotate')
      .description('rotate now: the published next key starts signing; the active key is retired but stays published'),
    async (app) => {
      const keyStore = app.get(KeyStoreService);
      // A database the service never started on has no keys yet: create them, then rotate as asked.
      await keyStore.ensureKeys(CLI_CONTEXT);
      return keyStore.rotate(CLI_CONTEXT);
    },
    (result) =>
      printLines(
        `active:  ${result.activeKid}`,
        `next:    ${result.nextKid}`,
        `retired: ${result.retiredKid} (published until its last token expires)`,
        `running instances sign with the new active key within ${KeyStoreService.CACHE_MS / 1000} s`,
      ),
  );
}

/**
 * `audit export`: the trail as JSON lines, in chain order; `audit head`: the signed chain head, to keep elsewhere;
 * `audit verify`: the hash chain, in the database or an export, optionally against a head kept elsewhere.
 */
export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('audit trail');

  runAndReport(
    audit
      .command('head')
      .description(
        'print the chain head (position, hash, time) signed by the active signing key: keep it outside the database',
      ),
    async (app) => {
      // A database the service never started on has no signing key yet.
      await app.get(KeyStoreService).ensureKeys(CLI_CONTEXT);
      return app.get(AuditChainService).signedHead(app.get(CheckpointKeys));
    },
    (head) =>
      printLines(
        `audit head ${head.seq} ${head.hash} (written ${head.occurredAt ?? 'never'}, signed ${head.signedAt})`,
        'keep the JSON of --json; check it later with: audit verify --head FILE',
      ),
  );

  audit
    .command('export')
    .description('print audit events as JSON lines, oldest first')
    .option('--since <iso>', 'only events at or after this instant', parseInstant)
    .option('--until <iso>', 'only events before this instant', parseInstant)
    .option('--type <type>', 'only events of this type, e.g. passkey.revoked')
    .option('--json', 'accepted for symmetry: the output is always JSON lines')
    .action((opts: { since?: Date; until?: Date; type?: string }) =>
      withServices(async (app) => {
        for await (const event of app
          .get(AuditService)
          .export({ since: opts.since, until: opts.until, type: opts.type })) {
          await writeLine(JSON.stringify(auditEventView(event)));
        }
      }),
    );

  audit
    .command('verify')
    .description('check the hash chain: exit 0 when intact, 1 naming the first bad event')
    .option('--file <path>', 'check an unfiltered export (JSON lines) offline instead of the database')
    .option(
      '--trusted-kids <kids>',
      "with --file: rely only on these signing key ids (comma-separated, e.g. from the service's published JWKS) for a retention checkpoint",
      parseKids,
    )
    .option(
      '--head <path>',
      'a signed head kept outside the database (the JSON of "audit head --json", or a log line carrying it): fail when the trail no longer contains it',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean; file?: string; trustedKids?: Set<string>; head?: string }) => {
      if (opts.trustedKids && !opts.file)
        throw new AppError(
          ErrorCode.InvalidRequest,
          '--trusted-kids applies to --file; online, only the keys the service holds are trusted',
        );
      const head = opts.head === undefined ? undefined : readHeadFile(opts.head);
      const verdict = opts.file
        ? await verifyExportFile(opts.file, opts.trustedKids, head)
        : await withServices((app) => app.get(AuditChainService).verify(app.get(CheckpointKeys), head));
      if (opts.json) printJson(verdict);
      else if (verdict.ok) {
        printLines(
          `audit trail intact: ${verdict.events} events${verdict.last ? `, head ${verdict.last.seq} ${verdict.last.hash}` : ''}`,
        );
        const cp = verdict.checkpoint;
        if (cp) {
          // Offline, say which key the start of the chain rests on, so the auditor can check it against the service's keys.
          const source = !opts.file
            ? "one of the service's own keys"
            : opts.trustedKids
              ? 'carried in the export, pinned by --trusted-kids'
              : "carried in the export, not pinned: compare it with the service's keys or pass --trusted-kids";
          printLines(
            `starts at position ${verdict.first} from the retention checkpoint ${cp.eventId} (position ${cp.seq}), signed by key ${cp.kid} (${source})`,
          );
        }
        const anchor = verdict.anchor;
        if (anchor)
          printLines(
            anchor.pruned
              ? `the signed head ${anchor.seq} lies in the prefix that retention pruned (vouched for by its signed checkpoint)`
              : `contains the signed head ${anchor.seq} ${anchor.hash}`,
          );
      }
      if (!verdict.ok) {
        const { eventId, seq, problem } = verdict.broken;
        throw new AppError(
          ErrorCode.InvalidRequest,
          `audit trail broken: event ${eventId ?? '(none)'} at position ${seq ?? '?'} ${problem}`,
        );
      }
    });
}

function parseKids(value: string): Set<string> {
  const kids = value
    .split(',')
    .map((kid) => kid.trim())
    .filter(Boolean);
  if (kids.length === 0) throw new AppError(ErrorCode.InvalidRequest, '--trusted-kids needs at least one key id');
  return new Set(kids);
}

/** The head file's content, unread: online the service's keys judge its signature, offline the export's. */
function readHeadFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AppError(ErrorCode.InvalidRequest, `cannot read the audit head ${path}: ${(error as Error).message}`);
  }
  return parseHeadText(text);
}

/**
 * An export read back line by line (constant memory): each line's chain fields as the service stored them. A
 * retention checkpoint (and a signed head) is checked with the key it carries, or only with a pinned one.
 */
async function verifyExportFile(
  path: string,
  trustedKids?: ReadonlySet<string>,
  head?: unknown,
): Promise<ChainVerdict> {
  let anchor: ChainAnchor | undefined;
  if (head !== undefined) {
    const read = readSignedHead(head, carriedKeysTrust(trustedKids));
    if (!read.ok) throw new AppError(ErrorCode.InvalidRequest, `the audit head given ${read.problem}`);
    anchor = read.head;
  }
  const checker = new ChainChecker(carriedKeysTrust(trustedKids), anchor);
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const view = JSON.parse(line) as Omit<StoredLink, 'occurredAt'> & { occurredAt: string };
    if (!checker.add({ ...view, occurredAt: new Date(view.occurredAt).getTime() })) break;
  }
  return checker.finish();
}

/** `migrate`: connecting runs pending migrations, so this only has to connect and report. */
export function migrateCommand(program: Command): void {
  runAndReport(
    program.command('migrate').description('create or update the database schema'),
    (app) => app.get(UnitOfWork).schemaStatus(),
    (out) => printLines(`database schema is up to date (${out.database})`),
  );
}
