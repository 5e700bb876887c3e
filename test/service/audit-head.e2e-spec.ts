/**
 * Signed chain heads kept outside the database: `audit head --json` (and GET /v1/admin/audit/head, and the log
 * every AUDIT_HEAD_LOG_SECONDS) give the chain's head signed by the active signing key; `audit verify --head FILE`
 * (and the admin API's `?head=`) fail, naming what is missing, when the trail no longer contains it. The attacker
 * here can write to the database (delete the newest events, move audit_chain_head back, append new events through
 * the service) but holds no signing key. Runs on SQLite, and on PostgreSQL with E2E_DATABASE_URL.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  AuditChainService,
  AuditHeadLogger,
  AuditService,
  CHECKPOINT_TYP,
  CheckpointKeys,
  jwkThumbprint,
  SignedHead,
} from '@app/audit';
import { signCompactJws } from '../../libs/tokens/src/compact-jws';
import { runServiceCli } from '../support/service-cli';
import { adminToken, clientToken, createServiceAccount, startTestApp, TestApp } from '../support/test-app';

jest.setTimeout(180_000);

let t: TestApp;
let cwd: string;

beforeEach(async () => {
  t = await startTestApp();
  cwd = mkdtempSync(join(tmpdir(), 'audit-head-'));
  for (let i = 0; i < 3; i++) {
    const account = await createServiceAccount(t);
    await clientToken(t, account.clientId, account.clientSecret);
  }
});
afterEach(async () => {
  await t?.close();
  rmSync(cwd, { recursive: true, force: true });
});

const sql = (text: string) => t.app.get(DataSource).query(text);
const cli = (...args: string[]) => runServiceCli(args, { env: t.env, cwd });

async function headNow(): Promise<{ seq: number; hash: string }> {
  const [row] = (await sql('SELECT seq, hash FROM audit_chain_head WHERE id = 1')) as Array<{
    seq: string | number;
    hash: string;
  }>;
  return { seq: Number(row!.seq), hash: row!.hash };
}

/** `audit head --json`, kept in a file as an operator would. */
async function keepHead(name = 'head.json'): Promise<{ path: string; head: SignedHead }> {
  const printed = await cli('audit', 'head', '--json');
  expect(printed).toMatchObject({ code: 0 });
  const path = join(cwd, name);
  writeFileSync(path, printed.stdout);
  return { path, head: JSON.parse(printed.stdout) as SignedHead };
}

/** Deletes the newest `count` events and moves the chain head back onto the last one kept: the chain alone is intact. */
async function truncate(count: number): Promise<{ keptThrough: number }> {
  const { seq } = await headNow();
  const keptThrough = seq - count;
  await sql(`DELETE FROM audit_events WHERE seq > ${keptThrough}`);
  const [kept] = (await sql(`SELECT hash FROM audit_events WHERE seq = ${keptThrough}`)) as Array<{ hash: string }>;
  await sql(`UPDATE audit_chain_head SET seq = ${keptThrough}, hash = '${kept!.hash}' WHERE id = 1`);
  return { keptThrough };
}

const adminVerify = async (head: string, token?: string) =>
  t.http
    .get('/v1/admin/audit/verify')
    .query({ head })
    .set('Authorization', `Bearer ${token ?? (await adminToken(t))}`);

describe('audit head', () => {
  it('prints the current head signed by the active key, and a trail that grew past it still contains it', async () => {
    const { path, head } = await keepHead();
    expect(head).toMatchObject({
      kind: 'audit-head',
      ...(await headNow()),
      occurredAt: expect.any(String),
      signature: expect.any(String),
    });
    const account = await createServiceAccount(t);
    await clientToken(t, account.clientId, account.clientSecret);
    const verified = await cli('audit', 'verify', '--head', path, '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      ok: true,
      anchor: { seq: head.seq, hash: head.hash, pruned: false },
    });
    expect((await cli('audit', 'verify', '--head', path)).stdout).toContain(`contains the signed head ${head.seq}`);
  });

  it('the admin API serves the same signed head, and verifies the trail against one', async () => {
    const token = await adminToken(t);
    const served = await t.http.get('/v1/admin/audit/head').set('Authorization', `Bearer ${token}`);
    expect(served.status).toBe(200);
    expect(served.body).toMatchObject({ kind: 'audit-head', seq: (await headNow()).seq });
    const answer = await adminVerify(JSON.stringify(served.body));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: true, anchor: { seq: served.body.seq, pruned: false } });
    // Its signature alone (what a log line carries) is a head too.
    expect((await adminVerify(served.body.signature)).body).toMatchObject({ ok: true });
  });

  it('the log writes a signed head when the chain moved, not again while it stands still', async () => {
    const logger = t.app.get(AuditHeadLogger);
    const first = await logger.logHead();
    expect(first).toMatchObject({ kind: 'audit-head', ...(await headNow()) });
    expect(await logger.logHead()).toBeNull();
    await createServiceAccount(t);
    const moved = await logger.logHead();
    expect(moved!.seq).toBeGreaterThan(first!.seq);
    // What the log carries is a head `audit verify --head` accepts.
    const path = join(cwd, 'from-log.txt');
    writeFileSync(path, `2026-12-07T10:00:00.000Z LOG [AuditHead] audit head ${JSON.stringify(moved)}\n`);
    expect((await cli('audit', 'verify', '--head', path)).code).toBe(0);
  });
});

describe('audit verify --head', () => {
  it('fails, naming the deleted events, when the newest events were deleted and the chain head moved back', async () => {
    const token = await adminToken(t);
    const { path, head } = await keepHead();
    const { keptThrough } = await truncate(3);
    // Without the head kept outside, the truncated trail passes: that is what the head is for.
    expect((await cli('audit', 'verify')).code).toBe(0);
    const result = await cli('audit', 'verify', '--head', path);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `the trail ends at ${keptThrough}, but a signed head shows it reached ${head.seq} (events ${keptThrough + 1} to ${head.seq} were deleted)`,
    );
    const answer = await adminVerify(JSON.stringify(head), token);
    expect(answer.body).toMatchObject({
      ok: false,
      broken: { seq: keptThrough + 1, problem: expect.stringContaining('were deleted') },
    });
  });

  it('fails when the trail was cut back and rewritten past the head (new events in the old positions)', async () => {
    const { path, head } = await keepHead();
    await truncate(2);
    // The service appends again from the moved-back head: the positions are filled, with other events.
    for (let i = 0; i < 4; i++) await createServiceAccount(t);
    expect((await headNow()).seq).toBeGreaterThan(head.seq);
    expect((await cli('audit', 'verify')).code).toBe(0);
    const result = await cli('audit', 'verify', '--head', path);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`at position ${head.seq} differs from the signed head kept outside`);
  });

  it('checks an export offline against the head too', async () => {
    const { path, head } = await keepHead();
    const exported = join(cwd, 'trail.jsonl');
    writeFileSync(exported, (await cli('audit', 'export')).stdout);
    expect((await cli('audit', 'verify', '--file', exported, '--head', path)).code).toBe(0);
    await truncate(1);
    writeFileSync(exported, (await cli('audit', 'export')).stdout);
    const result = await cli('audit', 'verify', '--file', exported, '--head', path);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`events ${head.seq} were deleted`);
  });

  it('refuses a head that is unsigned, edited after signing, signed by a stranger, or not a head', async () => {
    const { head } = await keepHead();
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const jwk = createPublicKey(stranger).export({ format: 'jwk' });
    const kid = jwkThumbprint(jwk);
    const { signature: _signature, ...fields } = head;
    const forged = {
      ...fields,
      seq: 1,
      signature: signCompactJws({ alg: 'EdDSA', typ: CHECKPOINT_TYP, kid, jwk }, { ...fields, seq: 1 }, stranger),
    };
    const retentionCheckpoint = await t.app.get(CheckpointKeys).checkpointSigner();
    const notAHead = { throughSeq: 1, throughHash: head.hash };
    const cases: Array<[string, unknown]> = [
      ['is unsigned', fields],
      ['was changed after it was signed', { ...head, seq: head.seq - 1 }],
      [`is signed by key ${kid}, which is not a key trusted here`, forged],
      [
        'is not a signed audit head (its kind is not audit-head)',
        { ...notAHead, signature: retentionCheckpoint(notAHead) },
      ],
      ['is not a signed audit head (expected', 'not json at all'],
    ];
    for (const [problem, content] of cases) {
      const path = join(cwd, 'bad-head.json');
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
      const result = await cli('audit', 'verify', '--head', path);
      expect({ problem, code: result.code, stderr: result.stderr }).toEqual({
        problem,
        code: 1,
        stderr: expect.stringContaining(`the audit head given ${problem}`),
      });
      const answer = await adminVerify(typeof content === 'string' ? content : JSON.stringify(content));
      expect({ problem, status: answer.status, message: answer.body.message }).toEqual({
        problem,
        status: 400,
        message: expect.stringContaining(problem),
      });
    }
    // A missing file is named, not a stack trace.
    expect((await cli('audit', 'verify', '--head', join(cwd, 'nope.json'))).stderr).toContain(
      'cannot read the audit head',
    );
  });

  it('a head inside the prefix that retention pruned is vouched for by the signed checkpoint', async () => {
    const { path, head } = await keepHead();
    const keys = t.app.get(CheckpointKeys);
    await createServiceAccount(t);
    await t.app.get(AuditService).prune(400, keys, Date.now() + 401 * 24 * 3600 * 1000);
    const verdict = await t.app.get(AuditChainService).verify(keys, JSON.parse(JSON.stringify(head)));
    expect(verdict).toMatchObject({ ok: true, anchor: { seq: head.seq, pruned: true } });
    expect((await cli('audit', 'verify', '--head', path)).code).toBe(0);
  });
});
