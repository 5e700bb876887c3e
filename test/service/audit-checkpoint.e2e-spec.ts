/**
 * Signed retention checkpoints: the retention job signs the checkpoint it records with the service's active signing
 * key, and `audit verify` (CLI on the database, CLI on an export, admin API) accepts a chain that starts after seq 1
 * only at a checkpoint whose signature verifies. An attacker here has full write access to the database (deletes,
 * rewrites, rehashes the chain and its head) but not KEY_ENCRYPTION_KEY. Runs on SQLite, and on PostgreSQL with
 * E2E_DATABASE_URL.
 */
import { createPublicKey, generateKeyPairSync, JsonWebKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditChainService, AuditService, chainHash, CHECKPOINT_TYP, CheckpointKeys, jwkThumbprint } from '@app/audit';
import { KeyStoreService, TokenVerifierService } from '@app/tokens';
import { CLI_CONTEXT } from '@app/audit';
import { signCompactJws } from '../../libs/tokens/src/compact-jws';
import { runServiceCli } from '../support/service-cli';
import { adminToken, createServiceAccount, startTestApp, TestApp } from '../support/test-app';

jest.setTimeout(180_000);

const DAY = 24 * 3600 * 1000;

let t: TestApp;
let cwd: string;
/** The position of the `audit.pruned` event and the last position the retention job deleted. */
let checkpointSeq: number;
let prunedThrough: number;

beforeEach(async () => {
  t = await startTestApp();
  cwd = mkdtempSync(join(tmpdir(), 'audit-checkpoint-'));
  for (let i = 0; i < 3; i++) await createServiceAccount(t);
  // A year and more later, everything written so far is past a 400-day retention.
  const pruned = await t.app.get(AuditService).prune(400, t.app.get(CheckpointKeys), Date.now() + 401 * DAY);
  prunedThrough = pruned!.throughSeq;
  checkpointSeq = prunedThrough + 1;
  await createServiceAccount(t);
});
afterEach(async () => {
  await t?.close();
  rmSync(cwd, { recursive: true, force: true });
});

const sql = (text: string, params: unknown[] = []) => t.app.get(DataSource).query(text, params);
const cli = (...args: string[]) => runServiceCli(args, { env: t.env, cwd });
const offline = (...args: string[]) => runServiceCli(args, { env: { PATH: process.env.PATH! }, cwd });
const p = (i: number) => (t.app.get(DataSource).options.type === 'postgres' ? `$${i}` : '?');

type Row = Record<string, string | number | null>;

async function checkpointRow(): Promise<{ id: string; details: Record<string, unknown> }> {
  const [row] = (await sql(`SELECT id, details FROM audit_events WHERE seq = ${checkpointSeq}`)) as Row[];
  expect(row).toBeDefined();
  return { id: String(row!.id), details: JSON.parse(String(row!.details)) };
}

/**
 * What an attacker with write access does: replaces the checkpoint's details, then recomputes every hash from it to
 * the head (and the head itself), so the hash chain alone is intact again.
 */
async function rewriteCheckpoint(details: Record<string, unknown>): Promise<void> {
  await sql(`UPDATE audit_events SET details = ${p(1)} WHERE seq = ${checkpointSeq}`, [JSON.stringify(details)]);
  const rows = (await sql(`SELECT * FROM audit_events WHERE seq >= ${checkpointSeq} ORDER BY seq`)) as Row[];
  let prevHash = String(rows[0]!.prev_hash);
  let last = { seq: 0, hash: '' };
  for (const row of rows) {
    const link = {
      seq: Number(row.seq),
      prevHash,
      id: String(row.id),
      occurredAt: Number(row.occurred_at),
      type: String(row.type),
      outcome: String(row.outcome),
      reason: row.reason as string | null,
      actorType: String(row.actor_type),
      actorId: row.actor_id as string | null,
      subjectType: row.subject_type as string | null,
      subjectId: row.subject_id as string | null,
      clientIp: row.client_ip as string | null,
      userAgent: row.user_agent as string | null,
      details: JSON.parse(String(row.details)),
    };
    const hash = chainHash(link);
    await sql(`UPDATE audit_events SET prev_hash = ${p(1)}, hash = ${p(2)} WHERE id = ${p(3)}`, [
      prevHash,
      hash,
      link.id,
    ]);
    prevHash = hash;
    last = { seq: link.seq, hash };
  }
  await sql(`UPDATE audit_chain_head SET seq = ${last.seq}, hash = ${p(1)} WHERE id = 1`, [last.hash]);
}

/** A key pair the service never had, signing the way the service does. */
function strangerSign(fields: Record<string, unknown>): { signature: string; kid: string; jwk: JsonWebKey } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = jwkThumbprint(jwk);
  return { signature: signCompactJws({ alg: 'EdDSA', typ: CHECKPOINT_TYP, kid, jwk }, fields, privateKey), kid, jwk };
}

async function exportFile(): Promise<string> {
  const exported = await cli('audit', 'export');
  expect(exported.code).toBe(0);
  const file = join(cwd, 'export.ndjson');
  writeFileSync(file, exported.stdout);
  return file;
}

async function expectBroken(problem: string): Promise<void> {
  const { id } = await checkpointRow();
  const result = await cli('audit', 'verify');
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    `event ${id} at position ${checkpointSeq} is the retention checkpoint the chain starts from, and it ${problem}`,
  );
  // The admin API (what `airflow webauthn audit verify` calls) goes through the same verifier.
  const res = await t.http.get('/v1/admin/audit/verify').set('Authorization', `Bearer ${await adminToken(t)}`);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    ok: false,
    broken: { eventId: id, seq: checkpointSeq, problem: expect.stringContaining(problem) },
  });
}

describe('a pruned trail with a signed checkpoint', () => {
  it('asks for no signing key when nothing is due (a new service prunes at start-up before it has one)', async () => {
    const noKey: CheckpointKeys = {
      checkpointSigner: () => Promise.reject(new Error('no signing key was needed')),
      trustedCheckpointKeys: () => Promise.reject(new Error('no key was needed')),
    };
    const before = Number((await sql('SELECT COUNT(*) AS n FROM audit_events'))[0].n);
    await expect(t.app.get(AuditService).prune(400, noKey, Date.now())).resolves.toBeNull();
    expect(Number((await sql('SELECT COUNT(*) AS n FROM audit_events'))[0].n)).toBe(before);
    await expect(t.app.get(AuditService).prune(400, noKey, Date.now() + 801 * DAY)).rejects.toThrow(
      'no signing key was needed',
    );
  });

  it('verifies online (CLI and admin API) and offline from an export, naming the key relied on', async () => {
    const { details } = await checkpointRow();
    const activeKid = (await t.app.get(KeyStoreService).signingKey()).kid;
    expect(details).toMatchObject({
      throughSeq: prunedThrough,
      signature: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
    });
    expect(JSON.parse(Buffer.from(String(details.signature).split('.')[0]!, 'base64url').toString())).toMatchObject({
      alg: 'EdDSA',
      typ: 'audit-checkpoint+jws',
      kid: activeKid,
    });

    const online = await cli('audit', 'verify', '--json');
    expect(online.code).toBe(0);
    expect(JSON.parse(online.stdout)).toMatchObject({
      ok: true,
      first: prunedThrough + 1,
      checkpoint: { seq: checkpointSeq, kid: activeKid },
    });
    const res = await t.http.get('/v1/admin/audit/verify').set('Authorization', `Bearer ${await adminToken(t)}`);
    expect(res.body).toMatchObject({ ok: true });

    const file = await exportFile();
    const unpinned = await offline('audit', 'verify', '--file', file);
    expect(unpinned.code).toBe(0);
    expect(unpinned.stdout).toContain(`signed by key ${activeKid} (carried in the export, not pinned`);
    const pinned = await offline('audit', 'verify', '--file', file, '--trusted-kids', `someone-else,${activeKid}`);
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toContain(`signed by key ${activeKid} (carried in the export, pinned by --trusted-kids)`);
    const otherPin = await offline('audit', 'verify', '--file', file, '--trusted-kids', 'someone-else');
    expect(otherPin.code).toBe(1);
    expect(otherPin.stderr).toContain(
      `at position ${checkpointSeq} is the retention checkpoint the chain starts from, and it is signed by key ${activeKid}, which is not a key trusted here`,
    );
  });

  it('still verifies after its signing key was rotated out and erased (the public part is kept)', async () => {
    const keyStore = t.app.get(KeyStoreService);
    const signer = (await keyStore.signingKey()).kid;
    await keyStore.rotate(CLI_CONTEXT);
    await keyStore.rotate(CLI_CONTEXT);
    // Long after every token it signed has expired: maintenance erases the retired keys' private parts.
    await keyStore.maintain(CLI_CONTEXT, new Date(Date.now() + 30 * DAY));
    const [row] = (await sql(`SELECT state, encrypted_private_key, public_jwk FROM signing_keys WHERE kid = ${p(1)}`, [
      signer,
    ])) as Row[];
    expect(row).toMatchObject({ state: 'expired' });
    expect(String(row!.encrypted_private_key)).not.toContain('PRIVATE KEY');
    expect(jwkThumbprint(JSON.parse(String(row!.public_jwk)))).toBe(signer);

    const online = await cli('audit', 'verify', '--json');
    expect(online.code).toBe(0);
    expect(JSON.parse(online.stdout)).toMatchObject({ ok: true, checkpoint: { kid: signer } });
    expect((await offline('audit', 'verify', '--file', await exportFile(), '--trusted-kids', signer)).code).toBe(0);
  });

  it('its signature is never accepted as an access token (explicit typing, RFC 8725 §3.11)', async () => {
    const { details } = await checkpointRow();
    const jws = String(details.signature);
    await expect(t.app.get(TokenVerifierService).verify(jws)).rejects.toMatchObject({ code: 'unauthenticated' });
    expect((await t.http.get('/v1/admin/users').set('Authorization', `Bearer ${jws}`)).status).toBe(401);
    // Even a checkpoint signature over a valid admin token's exact claims, by the same key, is refused: only its type differs.
    const token = await adminToken(t);
    expect((await t.http.get('/v1/admin/users').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const asCheckpoint = (await t.app.get(CheckpointKeys).checkpointSigner())(claims);
    const res = await t.http.get('/v1/admin/users').set('Authorization', `Bearer ${asCheckpoint}`);
    expect(res.status).toBe(401);
  });
});

describe('a forged checkpoint fails verification, naming the checkpoint event', () => {
  it('an unsigned checkpoint (the signature removed, the chain rehashed)', async () => {
    const { details } = await checkpointRow();
    const { signature: _dropped, ...unsigned } = details;
    await rewriteCheckpoint(unsigned);
    await expectBroken('is unsigned');
  });

  it("a checkpoint signed by a stranger's key, even with that key planted in the key table", async () => {
    const { signature: _original, ...fields } = (await checkpointRow()).details;
    const stranger = strangerSign(fields);
    await rewriteCheckpoint({ ...fields, signature: stranger.signature });
    await expectBroken(`is signed by key ${stranger.kid}, which is not a key trusted here`);
    // Database access is not enough to make a key trusted: the row is not sealed under KEY_ENCRYPTION_KEY.
    await sql(
      `INSERT INTO signing_keys (id, kid, alg, state, public_jwk, encrypted_private_key, created_at) VALUES (${p(1)}, ${p(2)}, 'EdDSA', 'expired', ${p(3)}, '', ${Date.now()})`,
      [randomUUID(), stranger.kid, JSON.stringify(stranger.jwk)],
    );
    await expectBroken(`is signed by key ${stranger.kid}, which is not a key trusted here`);
    expect(await t.app.get(AuditChainService).verify(t.app.get(CheckpointKeys))).toMatchObject({ ok: false });
  });

  it('a checkpoint whose fields were edited after signing', async () => {
    const { details } = await checkpointRow();
    await rewriteCheckpoint({ ...details, deleted: Number(details.deleted) - 1 });
    await expectBroken('was changed after it was signed');
  });

  it('and offline, from the export of such a trail', async () => {
    const { details } = await checkpointRow();
    await rewriteCheckpoint({ ...details, before: new Date(0).toISOString() });
    const result = await offline('audit', 'verify', '--file', await exportFile());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `at position ${checkpointSeq} is the retention checkpoint the chain starts from, and it was changed after it was signed`,
    );
  });
});
