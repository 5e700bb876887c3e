export { Delegation } from './delegation.entity';
export { DelegationRefreshToken } from './delegation-refresh-token.entity';
export { DelegationHolders } from './delegation.repository';
export { DelegationState, DelegationEnd, delegationState } from './delegation-state';
export {
  DelegationsService,
  DelegationRefusal,
  REFRESH_TOKEN_PREFIX,
  MAX_DELEGATION_DEPTH,
} from './delegations.service';
export {
  DAG_ACTIONS,
  DagAction,
  DagScopeItem,
  DagScopeError,
  parseDagScope,
  formatDagScope,
  canonicalDagScope,
  dagScopeWithin,
  dagIdMatches,
  isDagScope,
} from './dag-scope';
export { DelegationsModule, DELEGATIONS_ENTITIES } from './delegations.module';
