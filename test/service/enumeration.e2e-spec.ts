/**
 * No user enumeration: sign-in options for a username nobody holds are shaped like a real person's (number of
 * credentials, credential id lengths by authenticator type, transports), stable per username, and take the same
 * time. Real people here are a population of varied authenticators, written the way enrollment stores them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { User } from '@app/accounts';
import { Passkey } from '@app/webauthn';
import { startTestApp, TestApp } from '../support/test-app';

jest.setTimeout(180_000);

/** Authenticator kinds as browsers report them: credential id length and transports. */
const KINDS = [
  { idBytes: 16, transports: ['hybrid', 'internal'] },
  { idBytes: 20, transports: ['hybrid', 'internal'] },
  { idBytes: 32, transports: ['internal'] },
  { idBytes: 64, transports: ['nfc', 'usb'] },
  { idBytes: 48, transports: ['usb'] },
];
const PEOPLE = 200;

let t: TestApp;
const realNames: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  const ds = t.app.get(DataSource);
  const now = Date.now();
  for (let i = 0; i < PEOPLE; i++) {
    const user: User = {
      id: randomUUID(),
      username: `person-${i}`,
      displayName: `Person ${i}`,
      groups: [],
      webauthnUserId: randomBytes(16).toString('base64url'),
      createdAt: new Date(now + i),
      updatedAt: new Date(now + i),
      disabledAt: null,
      lastLoginAt: null,
      lastLoginMethod: null,
      idpIssuer: null,
      idpSubject: null,
      lastIdpLoginAt: null,
      sessionGeneration: 0,
      sessionsEndedReason: null,
      sessionsEndedAt: null,
    };
    await ds.getRepository(User).insert(user);
    // One to three passkeys each, of kinds skewed towards platform authenticators.
    const count = 1 + (i % 7 === 0 ? 2 : i % 3 === 0 ? 1 : 0);
    for (let k = 0; k < count; k++) {
      const kind = KINDS[(i * 7 + k * 3) % KINDS.length]!;
      await ds.getRepository(Passkey).insert({
        id: randomUUID(),
        userId: user.id,
        credentialId: randomBytes(kind.idBytes).toString('base64url'),
        publicKey: 'x',
        algorithm: -7,
        counter: 0,
        transports: kind.transports,
        aaguid: '00000000-0000-0000-0000-000000000000',
        deviceType: 'singleDevice',
        backupEligible: false,
        backedUp: false,
        attestationFormat: 'none',
        label: 'k',
        createdAt: new Date(now + i * 10 + k),
        lastUsedAt: null,
        revokedAt: null,
        flaggedAt: null,
        flagReason: null,
      });
    }
    realNames.push(user.username);
  }
});
afterAll(async () => t?.close());

type Allowed = Array<{ id: string; type: string; transports?: string[] }>;

async function options(username: string): Promise<{ allow: Allowed; ms: number }> {
  const started = process.hrtime.bigint();
  const res = await t.http.post('/v1/authentication/options').send({ username });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  expect(res.status).toBe(200);
  return { allow: res.body.allowCredentials as Allowed, ms };
}

/** A histogram of what an observer sees in allowCredentials: count, id lengths and transports. */
function histogram(answers: Allowed[]): Map<string, number> {
  const h = new Map<string, number>();
  const add = (key: string) => h.set(key, (h.get(key) ?? 0) + 1);
  for (const allow of answers) {
    add(`count:${allow.length}`);
    for (const c of allow) {
      add(`bytes:${Buffer.from(c.id, 'base64url').length}`);
      add(`transports:${JSON.stringify(c.transports)}`);
      add(`keys:${Object.keys(c).sort().join(',')}`);
    }
  }
  return h;
}

/** Total variation distance between two histograms, normalised by their totals (0 = same, 1 = disjoint). */
function distance(a: Map<string, number>, b: Map<string, number>): number {
  const total = (h: Map<string, number>) => [...h.values()].reduce((s, v) => s + v, 0);
  const [ta, tb] = [total(a), total(b)];
  let d = 0;
  for (const key of new Set([...a.keys(), ...b.keys()])) d += Math.abs((a.get(key) ?? 0) / ta - (b.get(key) ?? 0) / tb);
  return d / 2;
}

describe('options for unknown usernames', () => {
  it("are distributed like real people's: counts, id lengths and transports", async () => {
    const real: Allowed[] = [];
    for (const name of realNames) real.push((await options(name)).allow);
    const unknown: Allowed[] = [];
    for (let i = 0; i < PEOPLE; i++)
      unknown.push((await options(`nobody-${i}-${randomBytes(3).toString('hex')}`)).allow);
    const [hr, hu] = [histogram(real), histogram(unknown)];
    // Every shape an unknown name shows is one real people show.
    for (const key of hu.keys())
      expect({ key, seenForRealPeople: hr.has(key) }).toEqual({ key, seenForRealPeople: true });
    // And in about the same proportions (sampling noise over 200 draws stays well under 0.2).
    expect(distance(hr, hu)).toBeLessThan(0.2);
    // The old tell is gone: not one fixed 16-byte id with ["internal","hybrid"] for every unknown name.
    expect(new Set(unknown.map((a) => a.length)).size).toBeGreaterThan(1);
  });

  it('are stable per username and differ between usernames', async () => {
    const first = await options('nobody-stable');
    const again = await options('NoBody-Stable ');
    expect(again.allow).toEqual(first.allow);
    const other = await options('nobody-else');
    expect(other.allow.map((c) => c.id)).not.toEqual(first.allow.map((c) => c.id));
  });

  it("take about as long as a real person's", async () => {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const real: number[] = [];
    const unknown: number[] = [];
    // Interleaved, so load from the rest of the machine falls on both alike.
    for (let i = 0; i < 100; i++) {
      real.push((await options(realNames[i]!)).ms);
      unknown.push((await options(`timing-${i}`)).ms);
    }
    const [mr, mu] = [median(real), median(unknown)];
    expect(Math.abs(mr - mu)).toBeLessThan(Math.max(2, 0.5 * Math.max(mr, mu)));
  });
});
