import { Injectable } from '@nestjs/common';
import { ClientProof, ServiceAccount, ServiceAccountsService } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import {
  DeviceAuthorizationsService,
  DeviceClient,
  DevicePollError,
  StartedDeviceAuthorization,
} from '@app/cli-sign-in';
import { canonicalDagScope, DagScopeError } from '@app/delegations';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { AccessTokenGrants } from './access-token-grants';
import { INVALID_SCOPE } from './client-credentials-grant';
import { CommandLineSignIn } from './command-line-sign-in';
import { DelegatedGrants } from './delegated-grants';

/** The public client of people's command lines (`airflow webauthn login`, scripts): no secret, a person approves. */
export const AIRFLOW_CLI_CLIENT_ID = 'airflow-cli';
/** RFC 8628 §3.4's grant type. */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
/** The audit reason (and the OAuth error) when a device code cannot be exchanged although it was approved. */
export const DEVICE_GRANT_REFUSED = 'invalid_grant';

/** The asking client: a confidential one's proof (secret or assertion), or none for the public command-line client. */
export interface DeviceClientAuthentication {
  clientId: string;
  proof: ClientProof | null;
}

/** A poll that gets no token: RFC 8628 §3.5's error and what to tell the client. */
export interface DevicePollRefusal {
  error: DevicePollError;
  description: string;
}

/**
 * The device authorization grant (RFC 8628) behind the token endpoint: a client asks for a user code, a person
 * approves it (DeviceAuthorizationsService), and the client's poll with its device code then signs the command line
 * in as that person, once, through the same CommandLineSignIn as a one-time CLI code.
 */
@Injectable()
export class DeviceCodeGrant {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly devices: DeviceAuthorizationsService,
    private readonly commandLine: CommandLineSignIn,
    private readonly grants: AccessTokenGrants,
    private readonly audit: AuditService,
    private readonly delegated: DelegatedGrants,
  ) {}

  /**
   * RFC 8628 §3.1: authenticates the client (`airflow-cli` without a secret, any other as the token endpoint does)
   * and starts a request. Scopes: a person's command line asks for none; an agent asks for the `dag:` access it
   * wants (canonicalised here, so the approval page shows exactly what its tokens will carry).
   */
  async start(
    context: AuditContext,
    authentication: DeviceClientAuthentication,
    scopes: readonly string[] = [],
  ): Promise<StartedDeviceAuthorization> {
    let client: DeviceClient;
    let scope: string[];
    try {
      const asking = await this.uow.run((tx) => this.client(tx, authentication));
      client = asking.client;
      scope = allowedScope(asking.account, scopes);
    } catch (error) {
      if (error instanceof AppError && (error.code === ErrorCode.Unauthenticated || error.reason === INVALID_SCOPE))
        await this.audit.record(context, {
          type: 'device.requested',
          outcome: 'failure',
          reason: error.reason,
          details: { clientId: authentication.clientId.slice(0, 64) },
        });
      throw error;
    }
    return this.devices.start(context, client, scope);
  }

  /**
   * RFC 8628 §3.4: a poll. Answers the token once the request is approved, else the §3.5 error (committed: the
   * poll's time paces the next). Throws `Unauthenticated` for a client that does not authenticate (invalid_client),
   * and for an approved code that cannot be exchanged (reason `invalid_grant`: used meanwhile, or the approving
   * person or passkey can no longer sign in).
   */
  async token(
    context: AuditContext,
    authentication: DeviceClientAuthentication,
    deviceCode: string,
  ): Promise<TokenResponse | DevicePollRefusal> {
    try {
      return await this.uow.run(async (tx) => {
        const { client, account } = await this.client(tx, authentication);
        const poll = await this.devices.poll(tx, client.clientId, deviceCode);
        if ('error' in poll) return poll;
        // An agent's approved request becomes a delegation: its tokens are the person's, acted on by the agent.
        if (account?.agent && poll.approved.scope) {
          await this.devices.exchangeForAgent(tx, poll.approved);
          return this.delegated.fromDeviceApproval(tx, context, poll.approved, account);
        }
        const signedIn = await this.devices.exchange(tx, context, poll.approved);
        return this.commandLine.complete(tx, context, signedIn, 'device_code');
      });
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.Unauthenticated) {
        await this.grants.refused(context, error.reason, authentication.clientId, 'device_code');
        // The exchange's refusals (reasons `device_…`) are the grant's, not the client's: invalid_grant.
        if (error.reason.startsWith('device_'))
          throw new AppError(ErrorCode.Unauthenticated, error.message, DEVICE_GRANT_REFUSED);
      }
      throw error;
    }
  }

  /** Who is asking: the public command-line client, or a confidential client authenticated by its secret or key. */
  private async client(
    tx: Tx,
    { clientId, proof }: DeviceClientAuthentication,
  ): Promise<{ client: DeviceClient; account?: ServiceAccount }> {
    if (clientId === AIRFLOW_CLI_CLIENT_ID) {
      // A public client has no credentials (RFC 6749 §2.1); any sent anyway is a client confused about who it is.
      if (proof !== null)
        throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'public_client_secret');
      return { client: { clientId, clientName: 'Airflow command line', kind: 'command_line' } };
    }
    if (!proof) throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'client_secret_missing');
    const account = await this.serviceAccounts.authenticate(tx, { clientId, proof });
    return { client: { clientId: account.clientId, clientName: account.name, kind: 'agent' }, account };
  }
}

/** Device requests keep at most this much scope text (their column); a delegation's own limit is larger. */
const DEVICE_SCOPE_MAX = 1024;

/**
 * What a client may ask for: an agent, the `dag:` access it wants (required: an agent has nothing else to ask for);
 * anyone else, nothing (a person's command line is the person).
 */
function allowedScope(account: ServiceAccount | undefined, scopes: readonly string[]): string[] {
  const refuse = (message: string) => new AppError(ErrorCode.Forbidden, message, INVALID_SCOPE);
  if (!account?.agent) {
    if (scopes.length) throw refuse(`unknown scope ${scopes.join(' ').slice(0, 80)}`);
    return [];
  }
  if (!scopes.length)
    throw refuse('an agent asks for the access it needs: scope=dag:<read|trigger|clear>:<id=GLOB|tag=TAG>');
  try {
    const scope = canonicalDagScope(scopes.join(' '));
    if (scope.length > DEVICE_SCOPE_MAX) throw refuse(`scope is longer than ${DEVICE_SCOPE_MAX} characters`);
    return [scope];
  } catch (error) {
    if (error instanceof DagScopeError) throw refuse(error.message);
    throw error;
  }
}
