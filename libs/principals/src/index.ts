export { Principal } from './principal';
export { PrincipalService } from './principal.service';
export { AdminAccess, AdminAccessPolicy } from './admin-access.policy';
export { PrincipalsModule } from './principals.module';
