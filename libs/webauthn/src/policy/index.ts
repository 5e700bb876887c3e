export {
  AuthenticatorPolicyService,
  MDS_CATALOG,
  PolicyNotice,
  PersonCompliance,
  describeReason,
} from './authenticator-policy.service';
export { AuthenticatorPolicyScheduler } from './authenticator-policy.scheduler';
export { MdsCatalog, MdsBlobError } from './mds-catalog';
export { PolicyComplianceRepository } from './policy-compliance.repository';
export { Requirement, requirementFor, violation, Violation } from './requirement';
export { mdsCatalogProvider } from './mds-catalog.provider';
