import { createPublicKey } from 'node:crypto';
import { compactVerify, importJWK } from 'jose';
import type { AuditContext, AuditService } from '@app/audit';
import type { AppConfig } from '@app/config';
import type { UnitOfWork } from '@app/persistence';
import {
  FakeAudit,
  FakeClock,
  FakeLedger,
  FakeSigningKeyRepository,
  FakeUnitOfWork,
} from '../../../test/support/fakes';
import { signCompactJws } from './compact-jws';
import { KeyStoreService } from './key-store.service';

const CONTEXT: AuditContext = { actorType: 'system' };
const T0 = new Date('2026-01-02T03:04:05Z');
const USER_TTL_S = 3600;
const CONFIG = {
  keyEncryptionKey: Buffer.alloc(32, 9),
  jwt: { signingAlg: 'EdDSA', userTokenTtlSeconds: USER_TTL_S, serviceTokenTtlSeconds: 600, rotationIntervalHours: 24 },
} as unknown as AppConfig;

/** A KeyStoreService over an in-memory key table, on a CLOCK standing at T0 until a test moves it. */
function store() {
  const ledger = new FakeLedger();
  const rows = new FakeSigningKeyRepository();
  const clock = new FakeClock(T0);
  const keys = new KeyStoreService(
    rows,
    CONFIG,
    new FakeAudit(ledger) as unknown as AuditService,
    new FakeUnitOfWork() as unknown as UnitOfWork,
    clock,
  );
  return { keys, rows, ledger, clock };
}

const kids = async (keys: KeyStoreService) => (await keys.jwks()).keys.map((k) => k.kid);

describe('KeyStoreService (key rotation order, without a database)', () => {
  it('first start creates an active key and publishes a next key, each audited; a second start creates nothing', async () => {
    const { keys, rows, ledger } = store();
    await keys.ensureKeys(CONTEXT);
    await keys.ensureKeys(CONTEXT);
    expect(rows.rows.map((k) => k.state)).toEqual(['active', 'next']);
    expect(ledger.calls.map((c) => (c.kind === 'audit' ? c.record.type : c.kind))).toEqual([
      'key.created',
      'key.created',
    ]);
    expect(await kids(keys)).toEqual(rows.rows.map((k) => k.kid));
  });

  it('publishes the next key before it signs: after rotation the new signer was already in the JWKS', async () => {
    const { keys, rows } = store();
    await keys.ensureKeys(CONTEXT);
    const publishedBefore = await kids(keys);
    const signerBefore = (await keys.signingKey()).kid;
    const next = rows.rows.find((k) => k.state === 'next');
    expect(signerBefore).not.toBe(next?.kid);

    const rotated = await keys.rotate(CONTEXT);
    expect(rotated).toMatchObject({ activeKid: next?.kid, retiredKid: signerBefore });
    const signer = await keys.signingKey();
    expect(signer.kid).toBe(next?.kid);
    expect(publishedBefore).toContain(signer.kid);
    // ...and the JWKS entry published before really verifies what it now signs.
    const published = rows.rows.find((k) => k.kid === signer.kid)?.publicJwk;
    const jws = signCompactJws(
      {
        alg: signer.alg,
        kid: signer.kid,
        typ: 'JWT',
        jwk: createPublicKey(signer.privateKey).export({ format: 'jwk' }),
      },
      { sub: 'x' },
      signer.privateKey,
    );
    await expect(compactVerify(jws, await importJWK({ ...published, alg: 'EdDSA' }))).resolves.toBeDefined();
    // A fresh next key is published at once, and never signs yet.
    expect(await kids(keys)).toEqual(expect.arrayContaining([rotated.nextKid, rotated.activeKid, rotated.retiredKid]));
  });

  it('a second rotation within seconds keeps the key retired last signing until every instance knows the new one', async () => {
    const { keys, rows, clock } = store();
    // Another instance on the same database, with its own 5 s cache of the published keys.
    const other = new KeyStoreService(
      rows,
      CONFIG,
      new FakeAudit(new FakeLedger()) as unknown as AuditService,
      new FakeUnitOfWork() as unknown as UnitOfWork,
      clock,
    );
    await keys.ensureKeys(CONTEXT);
    clock.at = new Date(T0.getTime() + 3600_000); // long after the first start: both keys have settled
    const knownElsewhere = await kids(other);

    const first = await keys.rotate(CONTEXT);
    expect((await keys.signingKey()).kid).toBe(first.activeKid); // the promoted key was published at start
    clock.at = new Date(T0.getTime() + 3600_000 + 2_000);
    const second = await keys.rotate(CONTEXT);
    // The key promoted now was created by the first rotation, 2 s ago: the other instance has not read it yet...
    expect(knownElsewhere).not.toContain(second.activeKid);
    // ...so the key retired last keeps signing, and it is one the other instance verifies.
    const signer = await keys.signingKey();
    expect(signer.kid).toBe(first.activeKid);
    expect(knownElsewhere).toContain(signer.kid);

    // Once every instance's cache has been read again since the new key was created, it signs.
    clock.at = new Date(T0.getTime() + 3600_000 + 7_000);
    expect(await kids(other)).toContain(second.activeKid);
    expect((await keys.signingKey()).kid).toBe(second.activeKid);
  });

  it('keeps the retired key published until its last token can have expired, then erases its private part', async () => {
    const { keys, rows, ledger, clock } = store();
    await keys.ensureKeys(CONTEXT);
    const { retiredKid } = await keys.rotate(CONTEXT);
    const retired = rows.rows.find((k) => k.kid === retiredKid);
    expect(retired?.state).toBe('retired');
    const until = retired?.publishUntil?.getTime() ?? 0;
    expect(until - T0.getTime()).toBeGreaterThanOrEqual(USER_TTL_S * 1000);

    clock.at = new Date(T0.getTime() + USER_TTL_S * 1000); // the last token signed at T0 expires now
    await keys.maintain(CONTEXT);
    expect(await kids(keys)).toContain(retiredKid);
    expect(retired?.state).toBe('retired');

    clock.at = new Date(until + 1);
    await keys.maintain(CONTEXT);
    expect(retired?.state).toBe('expired');
    expect(await kids(keys)).not.toContain(retiredKid);
    expect(ledger.calls.at(-1)).toMatchObject({
      kind: 'audit',
      record: { type: 'key.expired', subjectId: retiredKid },
    });
  });

  it('rotates from maintain only once the active key is older than the interval', async () => {
    const { keys, rows, clock } = store();
    await keys.ensureKeys(CONTEXT);
    const first = (await keys.signingKey()).kid;
    clock.at = new Date(T0.getTime() + 24 * 3600_000 - 1);
    await keys.maintain(CONTEXT);
    expect(rows.rows.filter((k) => k.state === 'active').map((k) => k.kid)).toEqual([first]);
    clock.at = new Date(T0.getTime() + 24 * 3600_000);
    await keys.maintain(CONTEXT);
    expect(rows.rows.find((k) => k.kid === first)?.state).toBe('retired');
  });
});
