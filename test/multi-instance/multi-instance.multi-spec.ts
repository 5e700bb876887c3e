/**
 * Several auth-service instances on one PostgreSQL behave as one service: they start together on an empty
 * database, finish each other's ceremonies, refuse each other's replays and agree on the signing keys.
 * Real processes (the built service and CLI), a real PostgreSQL schema; nothing in-process.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { TEST_ORIGIN } from '../support/test-app';
import { cli, cliJson, Cluster, eventually, get, Instance, post, startCluster } from './support/instances';

jest.setTimeout(180_000);

let cluster: Cluster;
let a: Instance;
let b: Instance;
let c: Instance;

beforeAll(async () => {
  cluster = await startCluster(3);
  [a, b, c] = cluster.instances as [Instance, Instance, Instance];
});
afterAll(async () => {
  await cluster?.stop();
});

async function onDatabase<T>(sql: string): Promise<T> {
  const ds = await new DataSource({ type: 'postgres', url: cluster.database.url }).initialize();
  try {
    return await ds.query(sql);
  } finally {
    await ds.destroy();
  }
}

async function grant(instance: Instance, clientId: string, clientSecret: string): Promise<string> {
  const res = await fetch(`${instance.url}/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token)
    throw new Error(`token endpoint on ${instance.url} answered ${res.status}: ${JSON.stringify(body)}`);
  return body.access_token;
}

async function publishedKids(instance: Instance): Promise<string[]> {
  const { body } = await get(instance, '/.well-known/jwks.json');
  return (body.keys as Array<{ kid: string }>).map((k) => k.kid).sort();
}

describe('instances started at the same moment on an empty database', () => {
  it('run every migration exactly once and end with one active and one next signing key', async () => {
    const duplicated = await onDatabase<unknown[]>('SELECT name FROM migrations GROUP BY name HAVING count(*) > 1');
    expect(duplicated).toEqual([]);
    // Safely, not by luck: no instance failed a migration and had to retry its start.
    for (const instance of cluster.instances)
      expect(instance.output()).not.toMatch(/Unable to connect to the database|Retrying|already exists/i);
    const keys = await cliJson<Array<{ kid: string; state: string }>>(cluster, ['keys', 'list']);
    expect(keys.filter((k) => k.state === 'active')).toHaveLength(1);
    expect(keys.filter((k) => k.state === 'next').length).toBeGreaterThanOrEqual(1);
  });

  it("publish the same keys, and a token signed by any instance verifies against every instance's JWKS", async () => {
    const account = await cliJson<{ clientId: string; clientSecret: string }>(cluster, [
      'service-account',
      'create',
      '--name',
      'multi-ci',
    ]);
    for (const signer of cluster.instances) {
      const token = await grant(signer, account.clientId, account.clientSecret);
      for (const verifier of cluster.instances) {
        const jwks = createRemoteJWKSet(new URL(`${verifier.url}/.well-known/jwks.json`));
        await expect(jwtVerify(token, jwks, { typ: 'at+jwt' })).resolves.toBeDefined();
      }
    }
  });
});

describe('ceremonies across instances', () => {
  const authenticator = new SoftAuthenticator();
  let username: string;

  it('a registration begun on one instance finishes on another', async () => {
    username = 'carol';
    const invite = await cliJson<{ token: string }>(cluster, ['invite', 'create', '--username', username]);
    const options = await post(a, '/v1/registration/options', { inviteToken: invite.token });
    expect(options.status).toBe(200);
    const response = authenticator.createCredential(options.body as PublicKeyCredentialCreationOptionsJSON, {
      origin: TEST_ORIGIN,
    });
    const verified = await post(b, '/v1/registration/verify', { response });
    expect(verified.status).toBe(201);
  });

  it('a sign-in begun on one instance finishes on another, and its token verifies on a third', async () => {
    const options = await post(b, '/v1/authentication/options', { username });
    expect(options.status).toBe(200);
    const response = authenticator.getAssertion(options.body as PublicKeyCredentialRequestOptionsJSON, {
      origin: TEST_ORIGIN,
    });
    const verified = await post(c, '/v1/authentication/verify', { response });
    expect(verified.status).toBe(200);
    const jwks = createRemoteJWKSet(new URL(`${a.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(verified.body.access_token as string, jwks, { typ: 'at+jwt' });
    expect(payload.preferred_username).toBe(username);
  });

  it('one assertion sent to every instance at once is accepted exactly once', async () => {
    const options = await post(a, '/v1/authentication/options', { username });
    const response = authenticator.getAssertion(options.body as PublicKeyCredentialRequestOptionsJSON, {
      origin: TEST_ORIGIN,
    });
    const answers = await Promise.all(cluster.instances.map((i) => post(i, '/v1/authentication/verify', { response })));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    // The challenge is consumed once, wherever it is consumed: the others are refused as a client error.
    expect(statuses.slice(1).every((s) => s >= 400 && s < 500)).toBe(true);
    expect(answers.filter((r) => r.body?.access_token)).toHaveLength(1);
  });
});

describe('key rotation', () => {
  it('a rotation made with the CLI is published and used by every instance within the key cache time', async () => {
    const account = await cliJson<{ clientId: string; clientSecret: string }>(cluster, [
      'service-account',
      'create',
      '--name',
      'multi-rotation',
    ]);
    const rotated = await cliJson<{ activeKid: string; nextKid: string; retiredKid: string }>(cluster, [
      'keys',
      'rotate',
    ]);
    for (const instance of cluster.instances) {
      await eventually(
        async () => (await publishedKids(instance)).includes(rotated.nextKid),
        45_000,
        `${instance.url} publishes the new next key`,
      );
      await eventually(
        async () =>
          decodeProtectedHeader(await grant(instance, account.clientId, account.clientSecret)).kid ===
          rotated.activeKid,
        45_000,
        `${instance.url} signs with the newly active key`,
      );
      // The retired key stays published until every token it signed has expired.
      expect(await publishedKids(instance)).toContain(rotated.retiredKid);
    }
  });
});

describe('scheduled jobs', () => {
  it('run once across instances: of three instances starting together, one ran each start-up job', async () => {
    // Key maintenance and audit pruning run at start-up and then on their intervals, each behind a lease.
    const leases = await onDatabase<Array<{ name: string; runs: number }>>(
      "SELECT name, runs FROM job_leases WHERE name IN ('keys.maintain', 'audit.prune') ORDER BY name",
    );
    expect(leases).toEqual([
      { name: 'audit.prune', runs: 1 },
      { name: 'keys.maintain', runs: 1 },
    ]);
  });
});

describe('the audit chain', () => {
  it('stays one intact chain while every instance appends at once', async () => {
    const account = await cliJson<{ clientId: string; clientSecret: string }>(cluster, [
      'service-account',
      'create',
      '--name',
      'multi-audit',
    ]);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const instance = cluster.instances[i % cluster.instances.length]!;
        // Refused secrets too: anonymous failures take the aggregation path, which appends to the same chain.
        return i % 3 === 0
          ? grant(instance, account.clientId, 'wrong-secret').catch(() => undefined)
          : grant(instance, account.clientId, account.clientSecret);
      }),
    );
    const verified = await cli(cluster, ['audit', 'verify', '--json']);
    expect({ code: verified.code, stderr: verified.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, first: 1 });
  });
});
