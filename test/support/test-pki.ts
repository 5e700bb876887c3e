/**
 * Test-time PKI for the authenticator policy: a maker's attestation CA and leaf (for SoftAuthenticator's packed full
 * attestation), and FIDO-MDS3-shaped blobs signed under a test MDS root. Everything is generated per run; no key is
 * committed. Built on @peculiar/x509 (already installed as SimpleWebAuthn's certificate library) over node's WebCrypto.
 */
import { KeyObject, webcrypto } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CompactSign } from 'jose';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(2, '0');

export async function createRoot(name: string): Promise<Issued> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

export async function issueLeaf(issuer: Issued, subject: string): Promise<Issued> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject,
    issuer: issuer.cert.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    signingKey: issuer.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return { cert, keys };
}

export const der = (cert: x509.X509Certificate): Buffer => Buffer.from(cert.rawData);

/** A security-key maker: its attestation root (what MDS lists) and a batch certificate its keys attest with. */
export interface TestMaker {
  root: Issued;
  /** For SoftAuthenticatorOptions.attestationCertificate. */
  attestation: { privateKey: KeyObject; x5c: Buffer[] };
}

export async function createMaker(name: string): Promise<TestMaker> {
  const root = await createRoot(`CN=${name} Attestation Root, O=${name}, C=SE`);
  const batch = await issueLeaf(root, `C=SE, O=${name}, OU=Authenticator Attestation, CN=${name} Batch 1`);
  return {
    root,
    attestation: { privateKey: KeyObject.from(batch.keys.privateKey), x5c: [der(batch.cert)] },
  };
}

export interface MdsModel {
  aaguid: string;
  description: string;
  maker: TestMaker;
  /** Status reports, oldest first, e.g. ['FIDO_CERTIFIED_L2'] or ['FIDO_CERTIFIED_L1', 'REVOKED']. */
  statuses?: string[];
}

/** An MDS root and the signer under it (what https://mds3.fidoalliance.org/ signs with, in miniature). */
export interface TestMds {
  root: Issued;
  signer: Issued;
  /** The root as PEM, written to a file (MDS_ROOT_CERT_PATH). */
  rootPath: string;
  dir: string;
}

export async function createMds(): Promise<TestMds> {
  const root = await createRoot('CN=Test MDS Root, O=Test Alliance, C=US');
  const signer = await issueLeaf(root, 'CN=Test MDS Signer, O=Test Alliance, C=US');
  const dir = mkdtempSync(join(tmpdir(), 'mds-'));
  const rootPath = join(dir, 'root.pem');
  writeFileSync(rootPath, root.cert.toString('pem'));
  return { root, signer, rootPath, dir };
}

/** A signed MDS3 blob with these models; `nextUpdate` as YYYY-MM-DD; `signWith` forges (another key signs). */
export async function mdsBlob(
  mds: TestMds,
  models: MdsModel[],
  opts: { nextUpdate?: string; signWith?: CryptoKey; no?: number } = {},
): Promise<string> {
  const payload = {
    legalHeader: 'test',
    no: opts.no ?? 1,
    nextUpdate: opts.nextUpdate ?? new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10),
    entries: models.map((m) => ({
      aaguid: m.aaguid,
      metadataStatement: {
        aaguid: m.aaguid,
        description: m.description,
        protocolFamily: 'fido2',
        schema: 3,
        attestationTypes: ['basic_full'],
        attestationRootCertificates: [der(m.maker.root.cert).toString('base64')],
      },
      statusReports: (m.statuses ?? ['FIDO_CERTIFIED_L1']).map((status) => ({ status, effectiveDate: '2025-01-01' })),
      timeOfLastStatusChange: '2025-01-01',
    })),
  };
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [der(mds.signer.cert).toString('base64')] })
    .sign(opts.signWith ?? mds.signer.keys.privateKey);
}

/** Writes a blob to a file in the MDS's directory; returns its path (MDS_BLOB_PATH). */
export function writeBlob(mds: TestMds, name: string, blob: string): string {
  const path = join(mds.dir, name);
  writeFileSync(path, blob);
  return path;
}

export async function otherKey(): Promise<CryptoKey> {
  return (await keyPair()).privateKey;
}
