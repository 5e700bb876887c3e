import { createPrivateKey, createPublicKey, JsonWebKey, KeyObject, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, JWK } from 'jose';
import { AuditContext, AuditService, CHECKPOINT_TYP, CheckpointKeys, CheckpointSign, jwkThumbprint } from '@app/audit';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { decryptPrivateKey, encryptPrivateKey, sealedWith, sealErasedKey } from './key-encryption';
import { signCompactJws } from './compact-jws';
import { SigningKey } from './signing-key.entity';
import { SigningKeyRepository } from './signing-key.repository';

/** KEY_ENCRYPTION_KEY is not the key the stored signing keys were encrypted with. */
export class KeyEncryptionKeyMismatch extends Error {
  constructor(readonly unreadable: string[]) {
    super(
      `KEY_ENCRYPTION_KEY does not decrypt the stored signing keys (${unreadable.join(', ')}): use the key they were stored with ` +
        '(the demo keeps it in data/service.env); nothing was changed',
    );
    this.name = 'KeyEncryptionKeyMismatch';
  }
}

export interface ActiveSigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  privateKey: KeyObject;
}

interface KeyMaterial {
  alg: 'EdDSA' | 'ES256';
  kid: string;
  publicJwk: JWK;
  encryptedPrivateKey: string;
}

/**
 * How long one instance may keep signing with (and publishing) what it last read: a rotation made elsewhere (another
 * instance, the CLI) is used everywhere within this time. One small query per interval per instance.
 */
const CACHE_MS = 5_000;
/** Slack added to the longest token lifetime before a retired key leaves the JWKS (clock skew, caches). */
const PUBLISH_SLACK_MS = 5 * 60_000;
/**
 * How long a key must have been in the database before it signs. Every instance's key set (and so its verifier and
 * its JWKS) is at most CACHE_MS old, so a key older than that plus a margin (the insert's commit, small clock skew
 * between hosts) is known everywhere. Normally the promoted key was published as `next` long before; only a second
 * rotation within seconds promotes a key that other instances may not know yet.
 */
const SETTLE_MS = CACHE_MS + 2_000;

@Injectable()
export class KeyStoreService implements CheckpointKeys {
  /** See CACHE_MS: what the CLI tells an operator after a rotation. */
  static readonly CACHE_MS = CACHE_MS;
  private readonly logger = new Logger('KeyStore');
  /** Read at `loadedAt` (kept for CACHE_MS); `until`: when a stand-in for a key not yet settled gives way. */
  private active?: { key: ActiveSigningKey; loadedAt: number; until: number };
  /** Decrypted private keys by kid: a re-read that finds the same key does not decrypt it again. */
  private readonly decrypted = new Map<string, KeyObject>();
  private published?: { keys: SigningKey[]; loadedAt: number };

  constructor(
    private readonly keys: SigningKeyRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly uow: UnitOfWork,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** First start: an active key and a published next key. Safe when several instances start at once. */
  async ensureKeys(context: AuditContext): Promise<void> {
    // Never add a key sealed with a KEY_ENCRYPTION_KEY the existing keys were not sealed with.
    await this.assertKeyEncryptionKey();
    if (await this.createKeyIfNone('active', context)) await this.resolveDuplicateActives();
    await this.createKeyIfNone('next', context);
    this.invalidate();
  }

  /** Creates (and audits) a key in `state` when there is none; says whether it did. */
  private async createKeyIfNone(state: 'active' | 'next', context: AuditContext): Promise<boolean> {
    if (await this.uow.run((tx) => this.keys.existsInState(tx, state))) return false;
    const material = await this.newKeyMaterial();
    await this.uow.run(async (tx) => {
      const key = await this.insertKey(tx, state, material);
      await this.audit.record(
        context,
        {
          type: 'key.created',
          outcome: 'success',
          subjectType: 'signing_key',
          subjectId: key.kid,
          details: { state, alg: key.alg },
        },
        tx,
      );
    });
    return true;
  }

  /**
   * Promotes the published next key to active, retires the active one (still published until its last token
   * expires) and publishes a fresh next key. A concurrent rotation elsewhere makes this one fail with 409.
   */
  async rotate(context: AuditContext): Promise<{ activeKid: string; nextKid: string; retiredKid: string }> {
    await this.ensureKeys(context);
    const material = await this.newKeyMaterial();
    const result = await this.uow.run(async (tx) => {
      const active = await this.keys.requireInState(tx, 'active');
      const next = await this.keys.requireInState(tx, 'next');
      const now = this.clock.now();
      const retired = await this.keys.moveState(tx, active.id, 'active', {
        state: 'retired',
        retiredAt: now,
        publishUntil: this.publishUntil(now),
      });
      const promoted = await this.keys.moveState(tx, next.id, 'next', { state: 'active', activatedAt: now });
      if (!retired || !promoted)
        throw new AppError(ErrorCode.Conflict, 'another key rotation is in progress; try again');
      const fresh = await this.insertKey(tx, 'next', material);
      await this.audit.record(
        context,
        {
          type: 'key.rotated',
          outcome: 'success',
          subjectType: 'signing_key',
          subjectId: next.kid,
          details: { retired: active.kid, active: next.kid, next: fresh.kid },
        },
        tx,
      );
      return { activeKid: next.kid, nextKid: fresh.kid, retiredKid: active.kid };
    });
    this.invalidate();
    this.logger.log(`signing key rotated: ${result.retiredKid} -> ${result.activeKid}`);
    return result;
  }

  /** Signs audit retention checkpoints with the active key (see libs/audit/src/audit-checkpoint.ts). */
  async checkpointSigner(): Promise<CheckpointSign> {
    const key = await this.signingKey();
    const jwk = createPublicKey(key.privateKey).export({ format: 'jwk' });
    return (fields) => signCompactJws({ alg: key.alg, typ: CHECKPOINT_TYP, kid: key.kid, jwk }, fields, key.privateKey);
  }

  /**
   * The public keys an audit checkpoint's signature may rely on: every key this service created, in any state,
   * erased ones included. A row counts only when its sealed value opens under KEY_ENCRYPTION_KEY for its kid and its
   * kid is its public key's thumbprint, so a key row written into the database by someone else is not trusted.
   */
  async trustedCheckpointKeys(): Promise<Map<string, JsonWebKey>> {
    const rows = await this.uow.run((tx) => this.keys.all(tx));
    const trusted = rows.filter(
      (row) =>
        jwkThumbprint(row.publicJwk as JsonWebKey) === row.kid &&
        sealedWith(this.config.keyEncryptionKey, row.kid, row.encryptedPrivateKey),
    );
    return new Map(trusted.map((row) => [row.kid, row.publicJwk as JsonWebKey]));
  }

  /**
   * Rotates when the active key is older than the configured interval; erases retired keys nobody can need (their
   * private part; the public part stays, for audit checkpoints they signed).
   */
  async maintain(context: AuditContext, now = this.clock.now()): Promise<void> {
    const hours = this.config.jwt.rotationIntervalHours;
    const active = await this.uow.run((tx) => this.keys.findInState(tx, 'active'));
    const since = active?.activatedAt ?? active?.createdAt;
    if (hours > 0 && since && now.getTime() - since.getTime() >= hours * 3600_000) await this.rotate(context);
    const stale = await this.uow.run((tx) => this.keys.retiredBefore(tx, now));
    for (const key of stale) {
      await this.uow.run(async (tx) => {
        const erased = sealErasedKey(this.config.keyEncryptionKey, key.kid);
        await this.keys.update(tx, key.id, { state: 'expired', encryptedPrivateKey: erased });
        await this.audit.record(
          context,
          { type: 'key.expired', outcome: 'success', subjectType: 'signing_key', subjectId: key.kid },
          tx,
        );
      });
    }
    if (stale.length) this.invalidate();
  }

  /**
   * The key that signs now: the active key, unless it is too new to be known by every instance (see SETTLE_MS; two
   * rotations within seconds), in which case the key retired last keeps signing until it is (a few seconds; it stays
   * published past its tokens' lifetime). A key this instance cannot decrypt is an operator's problem (a wrong
   * KEY_ENCRYPTION_KEY somewhere), not the caller's: it is refused as 503 signing_key_unavailable, and /readyz says why.
   */
  async signingKey(): Promise<ActiveSigningKey> {
    const now = this.clock.now().getTime();
    if (this.active && this.fresh(this.active.loadedAt) && now < this.active.until) return this.active.key;
    const row = await this.uow.run((tx) => this.keys.findInState(tx, 'active'));
    if (!row)
      throw new AppError(
        ErrorCode.SigningUnavailable,
        'the service has no active signing key yet; try again shortly',
        'no_active_key',
      );
    const settlesAt = row.createdAt.getTime() + SETTLE_MS;
    const stand = settlesAt > now ? await this.settledRetiredKey(now) : undefined;
    if (stand) {
      // Looked at again when the active key has settled (or sooner, with the usual cache).
      this.active = { key: stand, loadedAt: now, until: settlesAt };
      return stand;
    }
    const privateKey = this.decrypt(row);
    if (!privateKey) {
      this.logger.error(
        `active signing key ${row.kid} cannot be decrypted with this KEY_ENCRYPTION_KEY; no token can be issued`,
      );
      throw new AppError(
        ErrorCode.SigningUnavailable,
        'the sign-in service cannot sign tokens right now (its signing key is unreadable); an operator must fix KEY_ENCRYPTION_KEY',
        'signing_key_unreadable',
      );
    }
    const key: ActiveSigningKey = { kid: row.kid, alg: row.alg, privateKey };
    this.active = { key, loadedAt: now, until: Number.POSITIVE_INFINITY };
    return key;
  }

  /**
   * The key retired last among those every instance knows (settled) that stay published past a token signed now,
   * when this instance can decrypt it. None (first start: all keys are equally new) means the active key signs.
   */
  private async settledRetiredKey(now: number): Promise<ActiveSigningKey | undefined> {
    const longest = Math.max(this.config.jwt.userTokenTtlSeconds, this.config.jwt.serviceTokenTtlSeconds) * 1000;
    const candidates = (await this.uow.run((tx) => this.keys.findInStates(tx, ['retired'])))
      .filter(
        (k) =>
          k.retiredAt &&
          k.createdAt.getTime() + SETTLE_MS <= now &&
          (k.publishUntil?.getTime() ?? 0) >= now + longest + CACHE_MS,
      )
      .sort((a, b) => (b.retiredAt?.getTime() ?? 0) - (a.retiredAt?.getTime() ?? 0));
    const row = candidates[0];
    const privateKey = row && this.decrypt(row);
    return row && privateKey ? { kid: row.kid, alg: row.alg, privateKey } : undefined;
  }

  /**
   * Refuses a KEY_ENCRYPTION_KEY that does not open the stored keys, before anything is written with it: the
   * service and every CLI command call this first. Keys that sign now or next must decrypt; retired keys never sign
   * again and are not needed. An empty table has nothing to compare with and passes.
   */
  async assertKeyEncryptionKey(): Promise<void> {
    const unreadable = await this.unreadableKeys();
    if (unreadable.length === 0) return;
    throw new KeyEncryptionKeyMismatch(unreadable);
  }

  /** The kids (with state) of the active and next keys this instance cannot decrypt; empty when all is well. */
  async unreadableKeys(): Promise<string[]> {
    const rows = await this.uow.run((tx) => this.keys.findInStates(tx, ['active', 'next']));
    return rows.filter((row) => !this.decrypt(row)).map((row) => `${row.state} key ${row.kid}`);
  }

  private decrypt(row: SigningKey): KeyObject | undefined {
    const cached = this.decrypted.get(row.kid);
    if (cached) return cached;
    try {
      const key = createPrivateKey(decryptPrivateKey(this.config.keyEncryptionKey, row.kid, row.encryptedPrivateKey));
      this.decrypted.set(row.kid, key);
      return key;
    } catch {
      return undefined;
    }
  }

  /** The keys verifiers must know: next, active and retired-but-still-valid. */
  async publishedKeys(): Promise<SigningKey[]> {
    if (this.published && this.fresh(this.published.loadedAt)) return this.published.keys;
    const rows = await this.uow.run((tx) => this.keys.findInStates(tx, ['next', 'active', 'retired']));
    const now = this.clock.now().getTime();
    const keys = rows.filter((k) => k.state !== 'retired' || (k.publishUntil?.getTime() ?? 0) > now);
    this.published = { keys, loadedAt: now };
    return keys;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.publishedKeys()).map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
  }

  list(): Promise<SigningKey[]> {
    return this.uow.run((tx) => this.keys.listNewest(tx));
  }

  /** Whether what was read at `loadedAt` may still be used (a clock set back makes it stale, never fresh longer). */
  private fresh(loadedAt: number): boolean {
    const age = this.clock.now().getTime() - loadedAt;
    return age >= 0 && age < CACHE_MS;
  }

  private invalidate(): void {
    this.active = undefined;
    this.published = undefined;
  }

  private publishUntil(retiredAt: Date): Date {
    const longest = Math.max(this.config.jwt.userTokenTtlSeconds, this.config.jwt.serviceTokenTtlSeconds) * 1000;
    return new Date(retiredAt.getTime() + longest + CACHE_MS + PUBLISH_SLACK_MS);
  }

  /**
   * Generates a key pair outside any transaction: on SQLite all requests share one connection, so a transaction
   * must never wait on the thread pool (another request's statements would land inside it).
   */
  private async newKeyMaterial(): Promise<KeyMaterial> {
    const alg = this.config.jwt.signingAlg;
    const { publicKey, privateKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
    });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    return {
      alg,
      kid,
      publicJwk,
      encryptedPrivateKey: encryptPrivateKey(this.config.keyEncryptionKey, kid, await exportPKCS8(privateKey)),
    };
  }

  private async insertKey(tx: Tx, state: 'active' | 'next', material: KeyMaterial): Promise<SigningKey> {
    const now = this.clock.now();
    const key = Object.assign(new SigningKey(), {
      id: randomUUID(),
      ...material,
      state,
      createdAt: now,
      activatedAt: state === 'active' ? now : null,
      retiredAt: null,
      publishUntil: null,
    });
    await this.keys.insert(tx, key);
    return key;
  }

  /** Two instances starting on an empty database can both create an active key: keep the oldest, retire the rest. */
  private async resolveDuplicateActives(): Promise<void> {
    const actives = await this.uow.run((tx) => this.keys.findInStates(tx, ['active']));
    const now = this.clock.now();
    for (const extra of actives.slice(1)) {
      const retire = { state: 'retired' as const, retiredAt: now, publishUntil: this.publishUntil(now) };
      await this.uow.run((tx) => this.keys.moveState(tx, extra.id, 'active', retire));
    }
  }
}
