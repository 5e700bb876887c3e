export { User, SignInMethod, SIGN_IN_METHODS } from './user.entity';
export { Invite } from './invite.entity';
export { ServiceAccount } from './service-account.entity';
export { UsersService, NewUser, FederatedIdentity, AdminChangeOptions } from './users.service';
export { LastAdminGuard, AdminGuardOutcome } from './last-admin.guard';
export {
  SessionsEndedReason,
  SESSION_GENERATION_CLAIM,
  tokenGeneration,
  sessionsEndedWords,
} from './session-generation';
export { UserRepository } from './user.repository';
export { ServiceAccountRepository } from './service-account.repository';
export { InvitesService, CreatedInvite, InviteState, inviteState, enrollmentLink } from './invites.service';
export { ServiceAccountsService, IssuedClientSecret } from './service-accounts.service';
export { ClientAuthentication, ClientProof } from './client-authentication';
export { ClientJwks, ClientJwk, CLIENT_ASSERTION_ALGORITHMS, parseClientJwks } from './client-keys';
export {
  ClientAssertionVerifier,
  CLIENT_ASSERTION_TYPE,
  CLIENT_ASSERTION_MAX_LIFETIME_SECONDS,
  assertionSubject,
} from './client-assertion';
export { normalizeUsername, normalizeGroups, groupsFromProvider } from './names';
export {
  SERVICE_ACCOUNT_SCOPES,
  ServiceAccountScope,
  SCOPE_ADMIN,
  SCOPE_SESSIONS_READ,
  normalizeScopes,
} from './scopes';
export { AccountsModule, ACCOUNTS_ENTITIES } from './accounts.module';
