import { Inject, Injectable } from '@nestjs/common';
import { UsersService } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { FederationService, PasskeyStep, StartedFlow } from '@app/federation';
import { isUniqueViolation, UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { PasskeysService } from '@app/webauthn';
import { CLOCK, Clock } from '@app/config';
import { SignedInRecorder } from './signed-in-recorder';

/** RFC 8176: the person was authenticated by a federated identity provider. */
export const FEDERATED_AMR = 'fed';

export type FederatedCallbackResult =
  | ({ status: 'signed_in' } & TokenResponse)
  /**
   * The provider vouched for the person; a passkey must complete the sign-in before any token exists. `pending` is
   * the secret the plugin keeps in an httponly cookie for the passkey step (see FederatedPasskeyStep).
   */
  | { status: 'passkey_required'; action: PasskeyStep; pending: string };

/**
 * Signing in through the organisation's OpenID provider, start to end: the provider's answer verified (libs/federation),
 * then in ONE unit of work the just-in-time account (linked by issuer and subject, groups replaced), the `login`
 * event and the token. Every refusal is audited here, once.
 */
@Injectable()
export class FederatedSignIn {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly federation: FederationService,
    private readonly users: UsersService,
    private readonly recorder: SignedInRecorder,
    private readonly audit: AuditService,
    private readonly passkeys: PasskeysService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  describe(): { enabled: boolean; displayName?: string } {
    return this.federation.describe();
  }

  start(): Promise<StartedFlow> {
    return this.federation.start();
  }

  /**
   * Back-channel logout: the token verified fully (outside the transaction: keys may be fetched), then in one unit of
   * work its jti used up, the person found (by sub or by the provider session's sid) and their sessions ended (see
   * UsersService). A token naming nobody known here changes nothing and is answered like any other.
   */
  async backchannelLogout(context: AuditContext, logoutToken: string): Promise<void> {
    try {
      const verified = await this.federation.verifyLogoutToken(logoutToken);
      await this.uow.run(async (tx) => {
        const target = await this.federation.acceptLogoutToken(tx, verified);
        // Joins this unit of work (a nested unit is a savepoint of it): the jti is used only if the logout happened.
        if (target)
          await this.users.endFederatedSessions(
            { ...context, actorType: 'system', actorId: 'idp' },
            target.issuer,
            target.subject,
          );
      });
    } catch (error) {
      if (error instanceof AppError)
        await this.audit.record(context, { type: 'user.sessions_ended', outcome: 'failure', reason: error.reason });
      throw error;
    }
  }

  /**
   * @param roleGroups the groups Airflow maps to a role (its role_mapping, dag_access and team groups), sent by the
   * plugin with every callback: a person in none of them is refused here, before any account, passkey step or token
   * exists, with the same exact comparison Airflow applies to the token's groups.
   */
  async callback(
    context: AuditContext,
    callbackQuery: string,
    binding: string,
    roleGroups: readonly string[],
  ): Promise<FederatedCallbackResult> {
    let subject: { userId?: string; idp?: string } = {};
    try {
      const { identity, passkeyRequired, sid, ignoredGroups } = await this.federation.finish(callbackQuery, binding);
      subject = { idp: identity.issuer };
      if (!identity.groups.some((g) => roleGroups.includes(g))) {
        const message =
          'your identity provider signed you in, but none of your groups grants an Airflow role; ask an administrator';
        throw new AppError(ErrorCode.NoAirflowRole, message, 'no_airflow_role');
      }
      const provider = { idp: identity.issuer, ...(ignoredGroups > 0 ? { groupsIgnored: ignoredGroups } : {}) };
      const at = this.clock.now();
      const signIn = () =>
        this.uow.run(async (tx) => {
          const { user, created } = await this.users.linkFederated(tx, identity, at);
          subject.userId = user.id;
          if (user.disabledAt)
            throw new AppError(ErrorCode.AccountDisabled, 'this account is disabled', 'user_disabled');
          // Which person this provider session signed in, for a back-channel logout that names only the sid.
          if (sid)
            await this.federation.recordProviderSession(tx, { userId: user.id, issuer: identity.issuer, sid, at });
          if (created) {
            await this.audit.record(
              context,
              {
                type: 'user.created',
                outcome: 'success',
                subjectType: 'user',
                subjectId: user.id,
                details: { username: user.username, idp: identity.issuer, groups: user.groups },
              },
              tx,
            );
          }
          if (passkeyRequired) {
            // Enrolling without an invite is only for someone with no passkey at all (first sign-in, or every passkey
            // revoked by an administrator): anyone else must prove the passkey they have, or the provider account
            // alone could add a new one and the second factor would mean nothing.
            const action: PasskeyStep =
              (await this.passkeys.listForUser(user.id, false)).length > 0 ? 'confirm' : 'enroll';
            const pending = await this.federation.holdForPasskey(tx, {
              userId: user.id,
              issuer: identity.issuer,
              action,
            });
            await this.audit.record(
              context,
              {
                type: 'login.federated',
                outcome: 'success',
                reason: `passkey_${action}_required`,
                subjectType: 'user',
                subjectId: user.id,
                details: { username: user.username, ...provider },
              },
              tx,
            );
            return { status: 'passkey_required', action, pending } as const;
          }
          const token = await this.recorder.record(tx, context, {
            method: 'provider',
            at,
            loginEvent: { details: { username: user.username, ...provider, amr: [FEDERATED_AMR] } },
            grantee: {
              grant: 'federated',
              login: {
                ...{ userId: user.id, username: user.username, displayName: user.displayName, groups: user.groups },
                ...{
                  sessionGeneration: user.sessionGeneration,
                  authTime: at,
                  amr: [FEDERATED_AMR],
                  idp: identity.issuer,
                },
              },
            },
          });
          return { status: 'signed_in', ...token } as const;
        });
      for (let attempt = 1; ; attempt++) {
        try {
          return await signIn();
        } catch (error) {
          if (!triesFirstSignInAgain(attempt, error)) throw error;
        }
      }
    } catch (error) {
      if (error instanceof AppError) {
        await this.audit.record(context, {
          type: 'login',
          outcome: 'failure',
          reason: error.reason,
          subjectType: subject.userId ? 'user' : null,
          subjectId: subject.userId ?? null,
          details: { method: 'federated', idp: subject.idp },
        });
      }
      throw error;
    }
  }
}

/**
 * Whether a provider sign-in that failed on its `attempt`-th try runs again. Two first sign-ins of one new person at
 * once (two tabs, a double click) both find no account and both insert it; the unique (issuer, sub) and username
 * constraints let one win and roll the other back whole. Run again (once), that one finds the account by
 * (issuer, sub): one person, and a clean answer to both.
 */
export function triesFirstSignInAgain(attempt: number, error: unknown): boolean {
  return attempt < 2 && isUniqueViolation(error);
}
