import { createHmac, hkdfSync } from 'node:crypto';

/*
 * Sign-in options for a username nobody holds must look like a real person's: as many credentials, ids of the same
 * lengths (authenticators differ: 16, 20, 32, 64+ bytes), the same transports. Rather than guess what authenticators
 * a deployment's people use, each unknown username borrows the shape of one real enrolled person, chosen from the
 * username with a keyed hash, and fills it with ids derived from the username. So unknown names are spread over
 * shapes exactly as real people are, and each one always gets the same options (the choice is a jump consistent
 * hash over people in enrollment order: a new enrollment moves only a few names, as a real person's options change
 * when they enroll another passkey).
 */

/** One credential as allowCredentials shows it: its id's length and its transports. */
export interface CredentialShape {
  idBytes: number;
  transports: string[];
}

/** Before anyone has enrolled there is nobody to tell apart from: a common platform passkey. */
const NOBODY_YET: CredentialShape[] = [{ idBytes: 32, transports: ['hybrid', 'internal'] }];

/** How long the population's shapes are reused before they are read again. */
export const SHAPES_TTL_MS = 5 * 60_000;

export class DecoyCredentials {
  private shapes: CredentialShape[][] = [];
  private readAt = -Infinity;

  constructor(private readonly key: Buffer) {}

  /** Whether the shapes are older than their TTL at `now` (then the caller reads the population again). */
  stale(now: number): boolean {
    return now - this.readAt >= SHAPES_TTL_MS;
  }

  /** Takes the population's credentials (each person's, people in enrollment order) as read at `now`. */
  refresh(credentials: ReadonlyArray<{ userId: string; credentialId: string; transports: string[] }>, now: number) {
    const byUser = new Map<string, CredentialShape[]>();
    for (const credential of credentials) {
      const list = byUser.get(credential.userId) ?? [];
      list.push({
        idBytes: Buffer.from(credential.credentialId, 'base64url').length,
        transports: credential.transports,
      });
      byUser.set(credential.userId, list);
    }
    this.shapes = [...byUser.values()];
    this.readAt = now;
  }

  /** The decoy allowCredentials of a username: stable, and shaped like a real person's. */
  for(username: string): Array<{ credentialId: string; transports: string[] }> {
    const name = username.trim().toLowerCase();
    const seed = createHmac('sha256', this.key).update(`shape|${name}`).digest().readBigUInt64BE(0);
    const shape = this.shapes.length ? this.shapes[jumpHash(seed, this.shapes.length)]! : NOBODY_YET;
    return shape.map((credential, i) => ({
      credentialId: Buffer.from(
        hkdfSync('sha256', this.key, name, `decoy-credential-${i}`, credential.idBytes),
      ).toString('base64url'),
      transports: [...credential.transports],
    }));
  }
}

/** Lamping and Veach's jump consistent hash: a bucket in [0, buckets) that moves for few keys when buckets grow. */
function jumpHash(key: bigint, buckets: number): number {
  let b = -1n;
  let j = 0n;
  let k = key;
  while (j < BigInt(buckets)) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & 0xffffffffffffffffn;
    j = BigInt(Math.floor((Number(b) + 1) * (Number(1n << 31n) / Number((k >> 33n) + 1n))));
  }
  return Number(b);
}
