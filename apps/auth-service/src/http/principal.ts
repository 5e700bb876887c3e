import type { VerifiedAccessToken } from '@app/tokens';

/** The caller behind a verified Bearer token. */
export interface Principal {
  kind: 'user' | 'service_account';
  id: string;
  name: string;
  groups: string[];
  token: VerifiedAccessToken;
}

declare module 'express' {
  interface Request {
    principal?: Principal;
  }
}
