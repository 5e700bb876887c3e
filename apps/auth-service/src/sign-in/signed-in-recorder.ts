import { Injectable } from '@nestjs/common';
import { SignInMethod, UserRepository } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { Tx } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { AccessTokenGrants, Grantee } from './access-token-grants';

/** A token for a person signing in themselves (not client credentials, not an agent acting under a delegation). */
export type PersonGrantee = Exclude<Grantee, { grant: 'client_credentials' } | { grant: 'delegation' }>;

/** A person who has just proved who they are, as every kind of sign-in hands them to the recorder. */
export interface SignedIn {
  /** How they signed in: what `airflow users list` and the access review show as the last sign-in's method. */
  method: SignInMethod;
  /** When the sign-in happened (the person's last sign-in, and the `login` event's time). */
  at: Date;
  /** The token to issue (its grant, and the claims of the person it is for). */
  grantee: PersonGrantee;
  /**
   * The `login` event's details, or null for a sign-in that is audited by its own events (a CLI code: `cli_code.*`).
   * `context` overrides the request's context for this event (an enrollment during a provider sign-in acts as the
   * person).
   */
  loginEvent: { details: Record<string, unknown>; context?: AuditContext } | null;
}

/**
 * The one place that records "a person signed in": their last sign-in (time and method), the `login` event and the
 * access token (`token.issued`), in the caller's unit of work, so all of it commits together or not at all. Every
 * kind of sign-in (passkey, provider, provider + passkey, CLI code, and the ones to come) ends here; a refusal is the
 * caller's to audit.
 */
@Injectable()
export class SignedInRecorder {
  constructor(
    private readonly users: UserRepository,
    private readonly audit: AuditService,
    private readonly grants: AccessTokenGrants,
  ) {}

  async record(tx: Tx, context: AuditContext, signedIn: SignedIn): Promise<TokenResponse> {
    const { method, at, grantee, loginEvent } = signedIn;
    const userId = grantee.login.userId;
    await this.users.recordLogin(tx, userId, at, method);
    if (loginEvent) {
      const record = {
        type: 'login',
        outcome: 'success',
        subjectType: 'user',
        subjectId: userId,
        details: loginEvent.details,
      } as const;
      await this.audit.record(loginEvent.context ?? context, record, tx);
    }
    return this.grants.issue(tx, context, grantee);
  }
}
