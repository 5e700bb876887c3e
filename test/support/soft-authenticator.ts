/**
 * A software WebAuthn authenticator (plus the bit of "browser" around it) for tests.
 *
 * Built only on `node:crypto` and the tiny CBOR encoder in ./cbor.ts. It produces REAL attestation
 * objects ('none' or 'packed' self attestation) and REAL signed assertions, so tests can drive
 * `@simplewebauthn/server` verification end to end with nothing mocked. Every field a relying party
 * checks can be overridden per call so negative tests can tamper with it.
 *
 * Behaviour, in the terms of navigator.credentials:
 * - `createCredential()` ~ `navigator.credentials.create()`: RP ID = `options.rp.id` (else the host of
 *   `ctx.origin`); algorithm = first entry of `options.pubKeyCredParams` this authenticator supports
 *   (all three, or only `opts.alg` when set); throws `InvalidStateError` if `excludeCredentials` names
 *   a credential it holds for that RP; stores a discoverable (resident) credential, replacing any it
 *   already had for the same RP ID + user handle (as real authenticators do).
 * - `getAssertion()` ~ `navigator.credentials.get()`: RP ID = `options.rpId` (else the host of
 *   `ctx.origin`); with a non-empty `allowCredentials` it uses the first listed credential it holds,
 *   without one (discoverable flow) the first credential it holds for the RP; `ctx.credentialId`
 *   chooses a specific one (like the user picking in the account chooser). Throws `NotAllowedError`
 *   when nothing fits. The stored counter goes up by `counterStep` before signing.
 * - Flags come from the authenticator's options, not from the RP's `userVerification` preference:
 *   a `userVerification: false` authenticator never sets UV even when the RP asks for it.
 * - Errors for the no-credential / excluded cases are `WebAuthnClientError`s whose `name` is the DOM
 *   exception name (`InvalidStateError`, `NotAllowedError`, `NotSupportedError`). Nothing is stored or
 *   counted when a call throws.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type {
  AuthenticationExtensionsClientOutputs,
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { cborEncode } from './cbor';

export type SoftAlg = 'ES256' | 'EdDSA' | 'RS256';

export interface SoftAuthenticatorOptions {
  /** Only algorithm this authenticator supports. Default: all three, in the RP's preference order. */
  alg?: SoftAlg;
  /** AAGUID as a UUID string. Default: all zeros (`DEFAULT_AAGUID`). */
  aaguid?: string;
  /** 'none' (default) or 'packed' self attestation (attStmt {alg, sig}, no x5c). */
  attestation?: 'none' | 'packed';
  /**
   * With 'packed': full attestation instead of self attestation. attStmt {alg: ES256, sig by this key, x5c}, the
   * x5c leaf first (DER), like a security key with a maker's certificate (see ./test-pki.ts).
   */
  attestationCertificate?: { privateKey: KeyObject; x5c: Buffer[] };
  /** BE flag. Default false. */
  backupEligible?: boolean;
  /** BS flag. Default false. (BS without BE is allowed here so it can be tested; the library rejects it.) */
  backupState?: boolean;
  /** UV flag set. Default true. */
  userVerification?: boolean;
  /** UP flag set. Default true. */
  userPresence?: boolean;
  /** Signature counter a new credential starts at (reported in the attestation). Default 0. */
  initialCounter?: number;
  /** Added to the counter before each assertion; 0 = an authenticator without a counter. Default 1. */
  counterStep?: number;
}

export interface FlagOverrides {
  up: boolean;
  uv: boolean;
  be: boolean;
  bs: boolean;
}

export interface RegistrationOverrides {
  /** clientDataJSON.origin (default `ctx.origin`). */
  origin?: string;
  /** clientDataJSON.type (default 'webauthn.create'). */
  type?: string;
  /** clientDataJSON.challenge (default `options.challenge`). */
  challenge?: string;
  /** RP ID hashed into authenticatorData (default the RP ID of the options). The credential is still stored under the real RP ID. */
  rpId?: string;
  flags?: Partial<FlagOverrides>;
  /** Use this algorithm even if the RP did not offer it (or the authenticator is restricted to another). */
  alg?: SoftAlg;
  /** Attestation format for this call only. */
  attestation?: 'none' | 'packed';
  /** clientDataJSON.crossOrigin (default false). */
  crossOrigin?: boolean;
  /** clientDataJSON.topOrigin (omitted by default). */
  topOrigin?: string;
}

export interface AssertionOverrides {
  /** clientDataJSON.origin (default `ctx.origin`). */
  origin?: string;
  /** clientDataJSON.type (default 'webauthn.get'). */
  type?: string;
  /** clientDataJSON.challenge (default `options.challenge`). */
  challenge?: string;
  /** RP ID hashed into authenticatorData (default the RP ID of the options). Credential selection still uses the real RP ID. */
  rpId?: string;
  flags?: Partial<FlagOverrides>;
  /** signCount written into authenticatorData (the stored counter still advances by counterStep). */
  counter?: number;
  /** Produce a well-formed signature over different data, so it does not verify. */
  tamperSignature?: boolean;
  /** response.userHandle: a string replaces it, null omits it. Default: the credential's user handle. */
  userHandle?: string | null;
  /** Claim a different id in response.id / response.rawId (the real credential still signs). */
  credentialId?: string;
  /** clientDataJSON.crossOrigin (default false). */
  crossOrigin?: boolean;
  /** clientDataJSON.topOrigin (omitted by default). */
  topOrigin?: string;
}

export interface SoftCredential {
  /** base64url credential id. */
  id: string;
  rpId: string;
  /** base64url user handle (`user.id` of the creation options, unchanged). */
  userHandle: string;
  alg: SoftAlg;
  /** Current signature counter (mutable: tests may wind it back to simulate a cloned authenticator). */
  counter: number;
  privateKey: KeyObject;
  backupEligible: boolean;
  backupState: boolean;
}

/** The DOMException names navigator.credentials would reject with. */
export type WebAuthnClientErrorName = 'InvalidStateError' | 'NotAllowedError' | 'NotSupportedError';

export class WebAuthnClientError extends Error {
  override readonly name: WebAuthnClientErrorName;

  constructor(name: WebAuthnClientErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

export const DEFAULT_AAGUID = '00000000-0000-0000-0000-000000000000';

export const COSE_ALG: Readonly<Record<SoftAlg, number>> = { ES256: -7, EdDSA: -8, RS256: -257 };

/** authenticatorData flag bits. */
export const AUTH_DATA_FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;

const ALL_ALGS: readonly SoftAlg[] = ['ES256', 'EdDSA', 'RS256'];

// ---------------------------------------------------------------------------------------------
// Building blocks, exported for tests that need to hand-craft or tamper beyond the overrides.
// ---------------------------------------------------------------------------------------------

/** base64url without padding. */
export function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function algFromCose(id: number): SoftAlg | undefined {
  return ALL_ALGS.find((a) => COSE_ALG[a] === id);
}

export function generateSoftKeyPair(alg: SoftAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  }
}

function jwkField(jwk: Record<string, unknown>, name: string): Buffer {
  const v = jwk[name];
  if (typeof v !== 'string') throw new Error(`JWK has no ${name}`);
  return Buffer.from(v, 'base64url');
}

/**
 * COSE_Key (CBOR map with integer keys) for the public half of `key` (a private or public KeyObject):
 * ES256 {1:2, 3:-7, -1:1, -2:x, -3:y}; EdDSA {1:1, 3:-8, -1:6, -2:x}; RS256 {1:3, 3:-257, -1:n, -2:e}.
 */
export function encodeCosePublicKey(key: KeyObject, alg: SoftAlg): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' }) as Record<string, unknown>;
  switch (alg) {
    case 'ES256':
      return cborEncode(
        new Map<number, number | Buffer>([
          [1, 2],
          [3, -7],
          [-1, 1],
          [-2, jwkField(jwk, 'x')],
          [-3, jwkField(jwk, 'y')],
        ]),
      );
    case 'EdDSA':
      return cborEncode(
        new Map<number, number | Buffer>([
          [1, 1],
          [3, -8],
          [-1, 6],
          [-2, jwkField(jwk, 'x')],
        ]),
      );
    case 'RS256':
      return cborEncode(
        new Map<number, number | Buffer>([
          [1, 3],
          [3, -257],
          [-1, jwkField(jwk, 'n')],
          [-2, jwkField(jwk, 'e')],
        ]),
      );
  }
}

/** Signature as WebAuthn carries it: ES256 DER ECDSA/SHA-256, EdDSA Ed25519, RS256 PKCS#1 v1.5/SHA-256. */
export function signData(alg: SoftAlg, privateKey: KeyObject, data: Uint8Array): Buffer {
  return alg === 'EdDSA' ? sign(null, data, privateKey) : sign('sha256', data, privateKey);
}

export function flagsByte(f: FlagOverrides & { at?: boolean; ed?: boolean }): number {
  return (
    (f.up ? AUTH_DATA_FLAGS.UP : 0) |
    (f.uv ? AUTH_DATA_FLAGS.UV : 0) |
    (f.be ? AUTH_DATA_FLAGS.BE : 0) |
    (f.bs ? AUTH_DATA_FLAGS.BS : 0) |
    (f.at ? AUTH_DATA_FLAGS.AT : 0) |
    (f.ed ? AUTH_DATA_FLAGS.ED : 0)
  );
}

export function aaguidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`Invalid AAGUID "${uuid}"`);
  return Buffer.from(hex, 'hex');
}

export interface AttestedCredentialData {
  aaguid: Uint8Array /* 16 bytes */;
  credentialId: Uint8Array;
  cosePublicKey: Uint8Array;
}

/**
 * rpIdHash(32) | flags(1) | signCount(4, BE) | [aaguid(16) | credIdLen(2, BE) | credId | COSE key].
 * The AT bit is set when (and only when) attested credential data is given.
 */
export function buildAuthenticatorData(args: {
  rpId: string;
  flags: FlagOverrides;
  counter: number;
  attested?: AttestedCredentialData;
}): Buffer {
  const head = Buffer.alloc(37);
  sha256(args.rpId).copy(head, 0);
  head[32] = flagsByte({ ...args.flags, at: args.attested !== undefined });
  head.writeUInt32BE(args.counter >>> 0, 33);
  if (!args.attested) return head;
  const { aaguid, credentialId, cosePublicKey } = args.attested;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(credentialId.length, 0);
  return Buffer.concat([head, Buffer.from(aaguid), len, Buffer.from(credentialId), Buffer.from(cosePublicKey)]);
}

/** clientDataJSON bytes, in the member order browsers use. */
export function buildClientDataJSON(c: {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin?: boolean | undefined;
  topOrigin?: string | undefined;
}): Buffer {
  const obj: Record<string, string | boolean> = {
    type: c.type,
    challenge: c.challenge,
    origin: c.origin,
    crossOrigin: c.crossOrigin ?? false,
  };
  if (c.topOrigin !== undefined) obj.topOrigin = c.topOrigin;
  return Buffer.from(JSON.stringify(obj), 'utf8');
}

function hostOf(origin: string): string {
  return new URL(origin).hostname;
}

// ---------------------------------------------------------------------------------------------

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  private readonly alg: SoftAlg | undefined;
  private readonly aaguid: Buffer;
  private readonly attestation: 'none' | 'packed';
  private readonly attestationCertificate: SoftAuthenticatorOptions['attestationCertificate'];
  private readonly backupEligible: boolean;
  private readonly backupState: boolean;
  private readonly userVerification: boolean;
  private readonly userPresence: boolean;
  private readonly initialCounter: number;
  private readonly counterStep: number;

  constructor(opts: SoftAuthenticatorOptions = {}) {
    this.alg = opts.alg;
    this.aaguid = aaguidToBytes(opts.aaguid ?? DEFAULT_AAGUID);
    this.attestation = opts.attestation ?? 'none';
    this.attestationCertificate = opts.attestationCertificate;
    this.backupEligible = opts.backupEligible ?? false;
    this.backupState = opts.backupState ?? false;
    this.userVerification = opts.userVerification ?? true;
    this.userPresence = opts.userPresence ?? true;
    this.initialCounter = opts.initialCounter ?? 0;
    this.counterStep = opts.counterStep ?? 1;
    for (const [name, v] of [
      ['initialCounter', this.initialCounter],
      ['counterStep', this.counterStep],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be a uint32, got ${v}`);
    }
  }

  /** The credential with this base64url id, if held. */
  getCredential(id: string): SoftCredential | undefined {
    return this.credentials.find((c) => c.id === id);
  }

  /** COSE public key of a held credential (what the server stores after registration). */
  publicKeyCose(id: string): Uint8Array {
    const cred = this.getCredential(id);
    if (!cred) throw new Error(`No credential ${id}`);
    return new Uint8Array(encodeCosePublicKey(cred.privateKey, cred.alg));
  }

  createCredential(
    options: PublicKeyCredentialCreationOptionsJSON,
    ctx: { origin: string },
    overrides: RegistrationOverrides = {},
  ): RegistrationResponseJSON {
    const rpId = options.rp.id ?? hostOf(ctx.origin);
    const userHandle = options.user.id;

    for (const ex of options.excludeCredentials ?? []) {
      if (this.credentials.some((c) => c.id === ex.id && c.rpId === rpId)) {
        throw new WebAuthnClientError(
          'InvalidStateError',
          'The authenticator already contains one of the credentials in excludeCredentials',
        );
      }
    }

    const alg = overrides.alg ?? this.pickAlg(options);
    const { privateKey } = generateSoftKeyPair(alg);
    const credentialId = randomBytes(32);
    const cosePublicKey = encodeCosePublicKey(privateKey, alg);

    const flags = this.flags(overrides.flags);
    const counter = this.initialCounter;
    const authData = buildAuthenticatorData({
      rpId: overrides.rpId ?? rpId,
      flags,
      counter,
      attested: { aaguid: this.aaguid, credentialId, cosePublicKey },
    });

    const clientDataJSON = buildClientDataJSON({
      type: overrides.type ?? 'webauthn.create',
      challenge: overrides.challenge ?? options.challenge,
      origin: overrides.origin ?? ctx.origin,
      crossOrigin: overrides.crossOrigin,
      topOrigin: overrides.topOrigin,
    });
    const clientDataHash = sha256(clientDataJSON);

    const fmt = overrides.attestation ?? this.attestation;
    const full = fmt === 'packed' ? this.attestationCertificate : undefined;
    const attStmt = full
      ? new Map<string, number | Buffer | Buffer[]>([
          ['alg', COSE_ALG.ES256],
          ['sig', signData('ES256', full.privateKey, Buffer.concat([authData, clientDataHash]))],
          ['x5c', full.x5c],
        ])
      : fmt === 'packed'
        ? new Map<string, number | Buffer>([
            ['alg', COSE_ALG[alg]],
            ['sig', signData(alg, privateKey, Buffer.concat([authData, clientDataHash]))],
          ])
        : new Map<string, never>();
    const attestationObject = cborEncode(
      new Map<string, string | Buffer | Map<string, number | Buffer | Buffer[]>>([
        ['fmt', fmt],
        ['attStmt', attStmt],
        ['authData', authData],
      ]),
    );

    const id = b64url(credentialId);
    // Resident credential: one per (RP ID, user handle), a new one replaces the old.
    const existing = this.credentials.findIndex((c) => c.rpId === rpId && c.userHandle === userHandle);
    if (existing >= 0) this.credentials.splice(existing, 1);
    this.credentials.push({
      id,
      rpId,
      userHandle,
      alg,
      counter,
      privateKey,
      backupEligible: this.backupEligible,
      backupState: this.backupState,
    });

    const clientExtensionResults: AuthenticationExtensionsClientOutputs = {};
    if (options.extensions?.credProps) clientExtensionResults.credProps = { rk: true };

    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: ['internal'],
        publicKeyAlgorithm: COSE_ALG[alg],
        publicKey: b64url(createPublicKey(privateKey).export({ format: 'der', type: 'spki' })),
      },
      clientExtensionResults,
      authenticatorAttachment: 'platform',
    };
  }

  getAssertion(
    options: PublicKeyCredentialRequestOptionsJSON,
    ctx: { origin: string; credentialId?: string },
    overrides: AssertionOverrides = {},
  ): AuthenticationResponseJSON {
    const rpId = options.rpId ?? hostOf(ctx.origin);
    const cred = this.selectCredential(rpId, options, ctx.credentialId);

    // Only mutate state once nothing can throw any more.
    const newCounter = cred.counter + this.counterStep;
    if (newCounter > 0xffffffff) throw new RangeError('Signature counter overflow');

    const authData = buildAuthenticatorData({
      rpId: overrides.rpId ?? rpId,
      flags: this.flags(overrides.flags, cred),
      counter: overrides.counter ?? newCounter,
    });
    const clientDataJSON = buildClientDataJSON({
      type: overrides.type ?? 'webauthn.get',
      challenge: overrides.challenge ?? options.challenge,
      origin: overrides.origin ?? ctx.origin,
      crossOrigin: overrides.crossOrigin,
      topOrigin: overrides.topOrigin,
    });
    const clientDataHash = sha256(clientDataJSON);
    if (overrides.tamperSignature) clientDataHash.writeUInt8(clientDataHash.readUInt8(0) ^ 0x01, 0); // sign something else
    const signature = signData(cred.alg, cred.privateKey, Buffer.concat([authData, clientDataHash]));

    cred.counter = newCounter;

    const claimedId = overrides.credentialId ?? cred.id;
    const userHandle = overrides.userHandle === undefined ? cred.userHandle : overrides.userHandle;
    return {
      id: claimedId,
      rawId: claimedId,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  private pickAlg(options: PublicKeyCredentialCreationOptionsJSON): SoftAlg {
    const supported = this.alg ? [this.alg] : ALL_ALGS;
    const params = options.pubKeyCredParams ?? [];
    if (params.length === 0) {
      // WebAuthn: an empty list means ES256 and RS256.
      const dflt = supported.find((a) => a === 'ES256' || a === 'RS256');
      if (dflt) return dflt;
    }
    for (const p of params) {
      if (p.type !== 'public-key') continue;
      const alg = algFromCose(p.alg);
      if (alg && supported.includes(alg)) return alg;
    }
    throw new WebAuthnClientError(
      'NotSupportedError',
      `No supported algorithm in pubKeyCredParams [${params.map((p) => p.alg).join(', ')}] (authenticator supports ${supported.join(', ')})`,
    );
  }

  private selectCredential(
    rpId: string,
    options: PublicKeyCredentialRequestOptionsJSON,
    wanted: string | undefined,
  ): SoftCredential {
    const forRp = this.credentials.filter((c) => c.rpId === rpId);
    const allow = options.allowCredentials ?? [];
    const candidates =
      allow.length > 0
        ? allow.map((d) => forRp.find((c) => c.id === d.id)).filter((c): c is SoftCredential => c !== undefined)
        : forRp;
    const chosen = wanted === undefined ? candidates[0] : candidates.find((c) => c.id === wanted);
    if (!chosen) {
      throw new WebAuthnClientError(
        'NotAllowedError',
        wanted === undefined
          ? `No credential for RP ID "${rpId}"${allow.length > 0 ? ' among allowCredentials' : ''}`
          : `Credential ${wanted} is not held for RP ID "${rpId}"${allow.length > 0 ? ' or not in allowCredentials' : ''}`,
      );
    }
    return chosen;
  }

  private flags(over: Partial<FlagOverrides> | undefined, cred?: SoftCredential): FlagOverrides {
    return {
      up: over?.up ?? this.userPresence,
      uv: over?.uv ?? this.userVerification,
      be: over?.be ?? cred?.backupEligible ?? this.backupEligible,
      bs: over?.bs ?? cred?.backupState ?? this.backupState,
    };
  }
}
