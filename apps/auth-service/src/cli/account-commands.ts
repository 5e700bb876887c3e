import { Command } from 'commander';
import { InvitesService, SERVICE_ACCOUNT_SCOPES, ServiceAccountsService, UsersService } from '@app/accounts';
import { CLI_CONTEXT } from '@app/audit';
import { CLOCK, Clock } from '@app/config';
import { CliCodesService } from '@app/cli-sign-in';
import { PasskeysService } from '@app/webauthn';
import { inviteView, serviceAccountView, userDetailView, userView } from '../admin/views';
import { printLines, printTable } from './output';
import { printCommandLines, printPasskeys } from './passkey-commands';
import { ForceOption, parseJsonFile, parseList, parsePositiveInt, runAndReport, withForce } from './runtime';

/** `invite create|list|revoke`: enrollment links for new people, or re-enrollment for someone who lost a device. */
export function inviteCommands(program: Command): void {
  // `invites`, `service-accounts` and `rotate`: the names `airflow webauthn` used before both CLIs shared one vocabulary.
  const invite = program.command('invite').alias('invites').description('enrollment invites');

  runAndReport(
    invite
      .command('create')
      .description('create an invite link (the token is shown only now)')
      .requiredOption('--username <username>', 'the account to create, or an existing account to re-enroll')
      .option('--display-name <name>', 'display name for a new account')
      .option('--groups <g1,g2>', 'groups for a new account (comma-separated)', parseList)
      .option('--ttl-seconds <seconds>', 'how long the link stays valid', parsePositiveInt),
    async (app, opts: { username: string; displayName?: string; groups?: string[]; ttlSeconds?: number }) => {
      const created = await app.get(InvitesService).create(CLI_CONTEXT, {
        username: opts.username,
        displayName: opts.displayName,
        groups: opts.groups,
        ttlSeconds: opts.ttlSeconds,
      });
      return {
        id: created.id,
        username: created.username,
        token: created.token,
        url: created.url,
        expiresAt: created.expiresAt.toISOString(),
      };
    },
    (out) =>
      printLines(
        `Invite for ${out.username}, valid until ${out.expiresAt}. Send this link (it is shown only once):`,
        out.url,
      ),
  );

  runAndReport(
    invite.command('list').description('list invites and their state'),
    async (app) => {
      const invites = app.get(InvitesService);
      const list = await invites.list();
      const names = await invites.creatorNames(list);
      const now = app.get<Clock>(CLOCK).now();
      return list.map((i) => inviteView(i, now, names));
    },
    (rows) =>
      printTable(
        ['ID', 'USERNAME', 'STATE', 'EXPIRES', 'GROUPS', 'CREATED_BY'],
        rows.map((i) => [i.id, i.username, i.state, i.expiresAt, i.groups, i.createdByName]),
      ),
  );

  runAndReport(
    invite.command('revoke <id>').description('revoke a pending invite'),
    async (app, _opts, id: string) => {
      const invites = app.get(InvitesService);
      await invites.revoke(CLI_CONTEXT, id);
      return inviteView(await invites.get(id), app.get<Clock>(CLOCK).now());
    },
    (view) => printLines(`invite ${view.id} for ${view.username} revoked`),
  );
}

/** `service-account create|list|rotate-secret|disable|enable`: machine clients of the token endpoint. */
export function serviceAccountCommands(program: Command): void {
  const sa = program
    .command('service-account')
    .alias('service-accounts')
    .description('service accounts (client credentials)');

  const printSecret = (out: {
    name: string;
    clientId: string;
    clientSecret?: string;
    groups: string[];
    scopes: string[];
    agent: boolean;
  }) => {
    printLines(
      `${out.agent ? 'agent' : 'service account'} ${out.name} (groups: ${out.groups.join(',') || '-'}; scopes: ${out.scopes.join(',') || '-'})`,
      `client_id:     ${out.clientId}`,
      ...(out.clientSecret
        ? [`client_secret: ${out.clientSecret}`, 'The secret is shown only now: store it in a secret manager.']
        : ['No client secret: it authenticates with a JWT signed by its private key (private_key_jwt).']),
    );
  };

  runAndReport(
    sa
      .command('create')
      .description('create a service account (the client secret is shown only now)')
      .requiredOption('--name <name>', 'unique name (letters, digits, . _ -)')
      .option('--groups <g1,g2>', 'groups (comma-separated)', parseList)
      .option(
        '--scopes <s1,s2>',
        `OAuth scopes on this service's API (comma-separated: ${SERVICE_ACCOUNT_SCOPES.join(', ')}); none = no admin API`,
        parseList,
      )
      .option('--agent', 'an agent: acts for people only under delegations they approve with a passkey')
      .option(
        '--jwks-file <path>',
        'a JWK Set of 1-3 public keys: the client authenticates with a private-key JWT (RFC 7523), no secret',
        parseJsonFile,
      ),
    (app, opts: { name: string; groups?: string[]; scopes?: string[]; agent?: boolean; jwksFile?: unknown }) =>
      app.get(ServiceAccountsService).create(CLI_CONTEXT, {
        name: opts.name,
        groups: opts.groups,
        scopes: opts.scopes,
        agent: opts.agent === true,
        jwks: opts.jwksFile,
      }),
    printSecret,
  );

  runAndReport(
    sa
      .command('set-keys <id>')
      .description('replace the public keys (id, client id or name) its client assertions are signed with')
      .requiredOption(
        '--jwks-file <path>',
        'a JWK Set of 1-3 public keys (Ed25519, P-256, RSA >= 2048)',
        parseJsonFile,
      ),
    async (app, opts: { jwksFile: unknown }, id: string) =>
      serviceAccountView(await app.get(ServiceAccountsService).setKeys(CLI_CONTEXT, id, opts.jwksFile)),
    (view) =>
      printLines(`service account ${view.name}: keys ${(view.jwks?.keys ?? []).map((key) => key.kid).join(', ')}`),
  );

  runAndReport(
    sa.command('list').description('list service accounts (never their secrets)'),
    async (app) => (await app.get(ServiceAccountsService).list()).map(serviceAccountView),
    (rows) =>
      printTable(
        ['NAME', 'CLIENT_ID', 'KIND', 'GROUPS', 'SCOPES', 'STATUS', 'SECRET_ROTATED', 'KEYS'],
        rows.map((a) => [
          a.name,
          a.clientId,
          a.agent ? 'agent' : 'service',
          a.groups,
          a.scopes,
          a.disabled ? 'disabled' : 'enabled',
          a.secretRotatedAt,
          (a.jwks?.keys ?? []).map((key) => key.kid),
        ]),
      ),
  );

  runAndReport(
    sa
      .command('rotate-secret <id>')
      .alias('rotate')
      .description('issue a new client secret (id, client id or name); the old one stops working at once'),
    (app, _opts, id: string) => app.get(ServiceAccountsService).rotateSecret(CLI_CONTEXT, id),
    printSecret,
  );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    runAndReport(
      sa.command(`${verb} <id>`).description(`${verb} a service account (id, client id or name)`),
      async (app, _opts, id: string) =>
        serviceAccountView(await app.get(ServiceAccountsService).setDisabled(CLI_CONTEXT, id, disabled)),
      (view) => printLines(`service account ${view.name} ${verb}d`),
    );
  }
}

/**
 * `users list|show|disable|enable|set-groups` (their passkeys: `passkeys`). Users are created by enrolling through an
 * invite, never here.
 */
export function userCommands(program: Command): void {
  const users = program
    .command('users')
    .description('people who sign in with passkeys (and through the identity provider)');

  runAndReport(
    users.command('list').description('list users'),
    async (app) => (await app.get(UsersService).list()).map(userView),
    (rows) =>
      printTable(
        ['USERNAME', 'DISPLAY_NAME', 'GROUPS', 'STATUS', 'LAST_LOGIN', 'IDP', 'LAST_IDP_LOGIN', 'ID'],
        rows.map((u) => [
          u.username,
          u.displayName,
          u.groups,
          u.disabled ? 'disabled' : 'enabled',
          u.lastLoginAt,
          u.idp ?? 'local',
          u.lastIdpLoginAt,
          u.id,
        ]),
      ),
  );

  runAndReport(
    users.command('show <user>').description('one user (id or username) with their passkeys and command lines'),
    async (app, _opts, idOrUsername: string) => {
      const user = await app.get(UsersService).resolve(idOrUsername);
      const passkeys = await app.get(PasskeysService).listForUser(user.id);
      const lines = await app.get(CliCodesService).list(user.id);
      return userDetailView(user, passkeys, lines, app.get<Clock>(CLOCK).now());
    },
    (view) => {
      printLines(
        `${view.username} (${view.displayName}) ${view.disabled ? 'DISABLED' : 'enabled'}; groups: ${view.groups.join(',') || '-'}; last login: ${view.lastLoginAt ?? 'never'}`,
        view.idp
          ? `identity provider: ${view.idp}; last sign-in there: ${view.lastIdpLoginAt ?? 'never'}`
          : 'identity provider: none (local person, passkey only)',
      );
      printPasskeys(view.passkeys);
      printLines('command lines signed in:');
      printCommandLines(view.commandLines);
    },
  );

  runAndReport(
    withForce(
      users
        .command('disable <user>')
        .description(
          'disable a user (id or username): no sign-in, and every session and token they hold ends for good',
        ),
    ),
    async (app, opts: ForceOption, idOrUsername: string) =>
      userView(await app.get(UsersService).setDisabled(CLI_CONTEXT, idOrUsername, true, { force: opts.force })),
    (view) => printLines(`user ${view.username} disabled`),
  );

  runAndReport(
    users
      .command('enable <user>')
      .description('enable a user (id or username): they sign in again; sessions ended by the disable stay ended'),
    async (app, _opts, idOrUsername: string) =>
      userView(await app.get(UsersService).setDisabled(CLI_CONTEXT, idOrUsername, false)),
    (view) => printLines(`user ${view.username} enabled`),
  );

  runAndReport(
    withForce(
      users
        .command('set-groups <user> <groups>')
        .description('replace a user\'s groups (comma-separated; "" for none)'),
    ),
    async (app, opts: ForceOption, idOrUsername: string, groups: string) =>
      userView(
        await app
          .get(UsersService)
          .update(CLI_CONTEXT, idOrUsername, { groups: parseList(groups) }, { force: opts.force }),
      ),
    (view) => printLines(`user ${view.username} groups: ${view.groups.join(',') || '-'}`),
  );
}
