import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { signCompactJws } from './compact-jws';
import { KeyStoreService } from './key-store.service';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Service tokens: the granted scopes, space-separated (RFC 6749 §5.1), so a client can check what it holds. */
  scope?: string;
}

export interface UserTokenSubject {
  userId: string;
  username: string;
  displayName: string;
  groups: string[];
  /** The passkey this sign-in was confirmed with; absent only for a provider-only sign-in (`amr: ["fed"]`). */
  passkeyId?: string;
  authTime: Date;
  /** RFC 8176 authentication method references. */
  amr: string[];
  /** The OpenID provider (its issuer identifier) that vouched for this person, for a provider sign-in. */
  idp?: string;
  /** The person's session generation at sign-in (`session_gen`): a later one refuses this token for good. */
  sessionGeneration: number;
  /** The command line this token signs in (a one-time CLI code's row): Airflow re-checks that it is not revoked. */
  cliSignInId?: string;
}

export interface ServiceTokenSubject {
  accountId: string;
  name: string;
  clientId: string;
  groups: string[];
  /**
   * The scopes granted to this token: the space-separated `scope` claim (RFC 9068 §2.2.3), present even when empty
   * so that a scope the account gains later never widens a token issued before.
   */
  scopes: readonly string[];
  /** The account's session generation at issue (`session_gen`): disabling or rotating the secret raises it. */
  sessionGeneration: number;
}

/** RFC 8693 §4.1 `act`: the acting party, and for a sub-agent the party it acts under (nested). */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/** A token an agent holds for a person under a delegation: `sub` is the person, `act` the agent(s). */
export interface DelegatedTokenSubject {
  userId: string;
  username: string;
  displayName: string;
  /** The person's groups now (Airflow intersects their role with `scope`). */
  groups: string[];
  sessionGeneration: number;
  /** The approving passkey (revoking it ends the delegation). */
  passkeyId: string;
  delegationId: string;
  /** Canonical `dag:` scope of the delegation. */
  scope: string;
  /** The agent holding the token (its client id is the token's `client_id`). */
  clientId: string;
  agentName: string;
  act: ActorClaim;
  /** The token never outlives its delegation. */
  notAfter: Date;
}

/** client_id of tokens obtained by a person through a passkey ceremony (RFC 9068 requires the claim). */
export const LOGIN_CLIENT_ID = 'airflow-webauthn';

/** Signs RFC 9068 access tokens (typ at+jwt) with the active key. */
@Injectable()
export class TokenIssuerService {
  constructor(
    private readonly keyStore: KeyStoreService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async issueUserToken(subject: UserTokenSubject): Promise<TokenResponse> {
    return this.sign(
      {
        client_id: LOGIN_CLIENT_ID,
        preferred_username: subject.username,
        name: subject.displayName,
        groups: subject.groups,
        auth_time: Math.floor(subject.authTime.getTime() / 1000),
        amr: subject.amr,
        ...(subject.passkeyId ? { passkey_id: subject.passkeyId } : {}),
        ...(subject.idp ? { idp: subject.idp } : {}),
        session_gen: subject.sessionGeneration,
        ...(subject.cliSignInId ? { cli_sign_in: subject.cliSignInId } : {}),
      },
      subject.userId,
      this.config.jwt.userTokenTtlSeconds,
    );
  }

  async issueServiceToken(subject: ServiceTokenSubject): Promise<TokenResponse> {
    const response = await this.sign(
      {
        client_id: subject.clientId,
        preferred_username: subject.name,
        name: subject.name,
        groups: subject.groups,
        scope: subject.scopes.join(' '),
        session_gen: subject.sessionGeneration,
      },
      subject.accountId,
      this.config.jwt.serviceTokenTtlSeconds,
    );
    return { ...response, scope: subject.scopes.join(' ') };
  }

  /** Short-lived (the user token lifetime at most) and never past the delegation's end. */
  async issueDelegatedToken(subject: DelegatedTokenSubject): Promise<TokenResponse> {
    const left = Math.floor((subject.notAfter.getTime() - this.clock.now().getTime()) / 1000);
    const ttl = Math.max(1, Math.min(this.config.jwt.userTokenTtlSeconds, left));
    const response = await this.sign(
      {
        client_id: subject.clientId,
        preferred_username: subject.username,
        name: subject.displayName,
        groups: subject.groups,
        scope: subject.scope,
        delegation_id: subject.delegationId,
        act: subject.act,
        agent_name: subject.agentName,
        passkey_id: subject.passkeyId,
        session_gen: subject.sessionGeneration,
      },
      subject.userId,
      ttl,
    );
    return { ...response, scope: subject.scope };
  }

  /**
   * Header {alg, typ: at+jwt, kid}; claims: the given ones, then iss, sub, aud, iat, nbf, exp, jti (the set and order
   * jose's SignJWT produced before; signed here with node:crypto directly, see compact-jws.ts).
   */
  private async sign(claims: Record<string, unknown>, sub: string, ttlSeconds: number): Promise<TokenResponse> {
    const key = await this.keyStore.signingKey();
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const payload = {
      ...claims,
      iss: this.config.jwt.issuer,
      sub,
      aud: this.config.jwt.audience,
      iat: now,
      nbf: now,
      exp: now + ttlSeconds,
      jti: randomUUID(),
    };
    const token = signCompactJws({ alg: key.alg, typ: 'at+jwt', kid: key.kid }, payload, key.privateKey);
    return { access_token: token, token_type: 'Bearer', expires_in: ttlSeconds };
  }
}
