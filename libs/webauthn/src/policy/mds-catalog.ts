import { readFileSync } from 'node:fs';
import { compactVerify, importX509 } from 'jose';
import type { MDSJWTPayload, MetadataBLOBPayloadEntry } from '@simplewebauthn/server';
import { convertCertBufferToPEM, validateCertificatePath } from '@simplewebauthn/server/helpers';
import { CertifiedLevel, CERTIFIED_LEVELS } from '@app/config';
import { FIDO_MDS_ROOT_PEM } from './fido-mds-root';
import { ModelFacts } from './requirement';

/** Statuses after which a model's keys are not trusted (FIDO MDS3 §3.1.4 AuthenticatorStatus). */
const COMPROMISE_STATUSES = new Set([
  'REVOKED',
  'ATTESTATION_KEY_COMPROMISE',
  'USER_VERIFICATION_BYPASS',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
]);
const JWS_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

export class MdsBlobError extends Error {}

export interface CatalogModel extends ModelFacts {
  /** PEM trust anchors for this model's attestation certificates. */
  roots: string[];
  /** Whether the model's statement allows full (x5c) attestation. */
  fullAttestation: boolean;
}

/**
 * FIDO's metadata, verified once when loaded: the blob's x5c chain ends at the trusted root, the JWS signature is the
 * leaf's, and `nextUpdate` tells how long it may be used. Only entries with an AAGUID (FIDO2 authenticators) count.
 */
export class MdsCatalog {
  private constructor(
    private readonly models: Map<string, CatalogModel>,
    /** The blob's serial number (`no`). */
    readonly serial: number,
    /** Midnight UTC of `nextUpdate`: from then on the metadata is stale and is not relied on. */
    readonly nextUpdate: Date,
  ) {}

  static async load(blobPath: string, rootCertPath?: string): Promise<MdsCatalog> {
    let blob: string;
    let root = FIDO_MDS_ROOT_PEM;
    try {
      blob = readFileSync(blobPath, 'utf8').trim();
      if (rootCertPath) root = readFileSync(rootCertPath, 'utf8');
    } catch (error) {
      throw new MdsBlobError(`cannot be read: ${(error as Error).message}`);
    }
    return MdsCatalog.verify(blob, root);
  }

  static async verify(blob: string, rootPem: string): Promise<MdsCatalog> {
    const headerB64 = blob.split('.')[0] ?? '';
    let header: { alg?: string; x5c?: string[] };
    try {
      header = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8')) as typeof header;
    } catch {
      throw new MdsBlobError('is not an MDS3 blob (a JWS; download it from https://mds3.fidoalliance.org/)');
    }
    if (!Array.isArray(header.x5c) || header.x5c.length === 0 || !JWS_ALGS.includes(header.alg ?? ''))
      throw new MdsBlobError('has no x5c certificate chain or an unsupported alg in its header');
    const chain = header.x5c.map((c) => convertCertBufferToPEM(Buffer.from(c, 'base64').toString('base64url')));
    try {
      await validateCertificatePath(chain, [rootPem]);
    } catch (error) {
      throw new MdsBlobError(`certificate chain does not lead to the trusted MDS root: ${(error as Error).message}`);
    }
    let payload: MDSJWTPayload;
    try {
      const { payload: bytes } = await compactVerify(blob, await importX509(chain[0]!, header.alg!));
      payload = JSON.parse(Buffer.from(bytes).toString('utf8')) as MDSJWTPayload;
    } catch {
      throw new MdsBlobError('signature does not verify with its certificate (a forged or damaged blob)');
    }
    const nextUpdate = new Date(`${payload.nextUpdate}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(String(payload.nextUpdate)) || Number.isNaN(nextUpdate.getTime()))
      throw new MdsBlobError(`has no valid nextUpdate (got ${JSON.stringify(payload.nextUpdate)})`);
    const models = new Map<string, CatalogModel>();
    for (const entry of Array.isArray(payload.entries) ? payload.entries : []) {
      if (typeof entry?.aaguid === 'string') models.set(entry.aaguid.toLowerCase(), modelOf(entry));
    }
    return new MdsCatalog(models, Number(payload.no), nextUpdate);
  }

  model(aaguid: string): CatalogModel | undefined {
    return this.models.get(aaguid.toLowerCase());
  }

  isStale(now: Date): boolean {
    return now.getTime() >= this.nextUpdate.getTime();
  }

  get size(): number {
    return this.models.size;
  }
}

function modelOf(entry: MetadataBLOBPayloadEntry): CatalogModel {
  const statement = entry.metadataStatement;
  const reports = Array.isArray(entry.statusReports) ? entry.statusReports : [];
  // Any compromise in the model's history counts: a fix (UPDATE_AVAILABLE) does not say this key has it.
  const compromise = reports.map((r) => r.status).find((s) => COMPROMISE_STATUSES.has(s)) ?? null;
  let certifiedLevel: CertifiedLevel | null = null;
  for (const report of reports) {
    const level = /^FIDO_CERTIFIED_(L[123](?:plus)?)$/.exec(report.status)?.[1] as CertifiedLevel | undefined;
    if (level && CERTIFIED_LEVELS.indexOf(level) > CERTIFIED_LEVELS.indexOf(certifiedLevel as CertifiedLevel))
      certifiedLevel = level;
  }
  return {
    name: statement?.description || `authenticator ${entry.aaguid}`,
    certifiedLevel,
    compromise,
    roots: (statement?.attestationRootCertificates ?? []).map((c) =>
      convertCertBufferToPEM(Buffer.from(c, 'base64').toString('base64url')),
    ),
    fullAttestation: statement?.attestationTypes?.includes('basic_full') ?? false,
  };
}
