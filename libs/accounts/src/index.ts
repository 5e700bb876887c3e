export { User } from './user.entity';
export { Invite } from './invite.entity';
export { ServiceAccount } from './service-account.entity';
export { UsersService, NewUser } from './users.service';
export { UserRepository } from './user.repository';
export { InvitesService, CreatedInvite, InviteState, inviteState, enrollmentLink } from './invites.service';
export { ServiceAccountsService, IssuedClientSecret } from './service-accounts.service';
export { normalizeUsername, normalizeGroups } from './names';
export { AccountsModule, ACCOUNTS_ENTITIES } from './accounts.module';
