/**
 * How a client proves who it is at the token and device authorization endpoints: its secret (RFC 6749 §2.3.1), or
 * a JWT signed with one of its registered keys (private_key_jwt, RFC 7523 §2.2). Parsed once by the OAuth
 * controller; ServiceAccountsService.authenticate is the one place either is checked.
 */
export type ClientProof = { secret: string } | { assertion: string };

export interface ClientAuthentication {
  clientId: string;
  proof: ClientProof;
}
