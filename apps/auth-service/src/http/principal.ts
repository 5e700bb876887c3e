import type { Principal } from '@app/principals';

export type { Principal };

declare module 'express' {
  interface Request {
    /** Set by BearerGuard: the caller, re-read from the database on this request. */
    principal?: Principal;
  }
}
