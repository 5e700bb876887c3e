import { ACCOUNTS_ENTITIES } from '@app/accounts';
import { AUDIT_ENTITIES } from '@app/audit';
import { CLI_SIGN_IN_ENTITIES } from '@app/cli-sign-in';
import { DELEGATIONS_ENTITIES } from '@app/delegations';
import { FEDERATION_ENTITIES } from '@app/federation';
import { TOKENS_ENTITIES } from '@app/tokens';
import { WEBAUTHN_ENTITIES } from '@app/webauthn';

/** Every entity, listed explicitly (no path globs), for the service and the CLI alike. */
export const ALL_ENTITIES = [
  ...ACCOUNTS_ENTITIES,
  ...WEBAUTHN_ENTITIES,
  ...TOKENS_ENTITIES,
  ...AUDIT_ENTITIES,
  ...FEDERATION_ENTITIES,
  ...CLI_SIGN_IN_ENTITIES,
  ...DELEGATIONS_ENTITIES,
];
