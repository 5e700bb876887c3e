export { Principal } from './principal';
export { PrincipalService } from './principal.service';
export { AdminAccess, AdminAccessPolicy } from './admin-access.policy';
export { StepUpPolicy } from './step-up.policy';
export { PrincipalsModule } from './principals.module';
