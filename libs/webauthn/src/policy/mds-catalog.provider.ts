import type { FactoryProvider } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { MDS_CATALOG } from './authenticator-policy.service';
import { MdsBlobError, MdsCatalog } from './mds-catalog';

/**
 * FIDO's metadata, loaded and verified once at start-up. A blob that cannot be read or whose signature chain does not
 * verify stops the start (one line naming MDS_BLOB_PATH): nothing in it can be trusted, and running without it would
 * silently let in what the policy forbids. A verified but expired blob does not stop the start; registrations that
 * need it are refused with a message saying so (AuthenticatorPolicyService.checkNewPasskey), sign-ins go on.
 */
export const mdsCatalogProvider: FactoryProvider<Promise<MdsCatalog | null>> = {
  provide: MDS_CATALOG,
  inject: [APP_CONFIG],
  useFactory: async (config: AppConfig) => {
    const { mdsBlobPath, mdsRootCertPath } = config.authenticatorPolicy;
    if (!mdsBlobPath) return null;
    try {
      return await MdsCatalog.load(mdsBlobPath, mdsRootCertPath);
    } catch (error) {
      if (error instanceof MdsBlobError)
        throw new Error(`MDS_BLOB_PATH ${mdsBlobPath}: the FIDO MDS3 blob ${error.message}`, { cause: error });
      throw error;
    }
  },
};
