import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AppConfig } from '@app/config';
import { AppError } from '@app/errors';
import { FAKE_TX, FakeClock, FakeUsedClientAssertionRepository } from '../../../test/support/fakes';
import { ClientAssertionVerifier } from './client-assertion';
import { ClientJwks, parseClientJwks } from './client-keys';
import type { ServiceAccount } from './service-account.entity';
import type { UsedClientAssertionRepository } from './used-client-assertion.repository';

const ISSUER = 'https://auth.example.com';
const TOKEN_ENDPOINT = 'https://auth.example.com/v1/oauth/token';
const CLIENT_ID = 'sa_agent';
const NOW = new Date('2026-12-07T12:00:00Z');
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };
const ed25519 = (): KeyPair => generateKeyPairSync('ed25519');
const p256 = (): KeyPair => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = (bits = 2048): KeyPair => generateKeyPairSync('rsa', { modulusLength: bits });
const publicJwk = (pair: KeyPair) => pair.publicKey.export({ format: 'jwk' });

function assertion(
  pair: KeyPair,
  alg: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = seconds(NOW);
  const body = { iss: CLIENT_ID, sub: CLIENT_ID, aud: TOKEN_ENDPOINT, jti: randomUUID(), iat: now, exp: now + 60 };
  return new SignJWT(Object.fromEntries(Object.entries({ ...body, ...claims }).filter(([, v]) => v !== undefined)))
    .setProtectedHeader({ alg, ...header })
    .sign(pair.privateKey);
}

function setUp(jwks: ClientJwks | null) {
  const clock = new FakeClock(NOW);
  const used = new FakeUsedClientAssertionRepository();
  const config = { jwt: { issuer: ISSUER }, publicUrl: 'https://auth.example.com' } as AppConfig;
  const verifier = new ClientAssertionVerifier(used as unknown as UsedClientAssertionRepository, clock, config);
  const account = { clientId: CLIENT_ID, jwks } as ServiceAccount;
  const authenticate = async (token: string) =>
    verifier.accept(FAKE_TX, account, await verifier.verify(account, token));
  return { clock, verifier, account, authenticate };
}

async function reasonOf(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error.reason;
}

describe('ClientAssertionVerifier', () => {
  const key = ed25519();
  let jwks: ClientJwks;
  beforeAll(async () => {
    jwks = await parseClientJwks({ keys: [publicJwk(key)] });
  });

  it.each([
    ['EdDSA', ed25519],
    ['ES256', p256],
    ['RS256', rsa],
    ['PS256', rsa],
  ])('accepts an assertion signed with %s by a registered key', async (alg, make) => {
    const pair = make();
    const { authenticate } = setUp(await parseClientJwks({ keys: [publicJwk(pair)] }));
    await expect(authenticate(await assertion(pair, alg))).resolves.toBeUndefined();
  });

  it('accepts the issuer as audience, and finds the key by kid among several', async () => {
    const other = p256();
    const { authenticate } = setUp(
      await parseClientJwks({ keys: [publicJwk(other), { ...publicJwk(key), kid: 'k2' }] }),
    );
    await expect(authenticate(await assertion(key, 'EdDSA', { aud: ISSUER }, { kid: 'k2' }))).resolves.toBeUndefined();
  });

  it('refuses an assertion signed by a key that is not registered', async () => {
    const { authenticate } = setUp(jwks);
    expect(await reasonOf(authenticate(await assertion(ed25519(), 'EdDSA')))).toBe('assertion_bad_signature');
  });

  it('refuses a kid that names no registered key', async () => {
    const { authenticate } = setUp(jwks);
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA', {}, { kid: 'nope' })))).toBe(
      'assertion_unknown_key',
    );
  });

  it('refuses alg none', async () => {
    const { authenticate } = setUp(jwks);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = seconds(NOW);
    const unsigned = `${encode({ alg: 'none' })}.${encode({ iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, jti: 'n', exp: now + 60 })}.`;
    expect(await reasonOf(authenticate(unsigned))).toBe('assertion_alg_refused');
  });

  it('refuses HS256 keyed with the registered public key (algorithm confusion)', async () => {
    const pair = rsa();
    const { authenticate } = setUp(await parseClientJwks({ keys: [publicJwk(pair)] }));
    const secret = new TextEncoder().encode(pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    const now = seconds(NOW);
    const forged = await new SignJWT({ iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, jti: 'h', exp: now + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret);
    expect(await reasonOf(authenticate(forged))).toBe('assertion_alg_refused');
  });

  it('refuses an algorithm of another key family than the registered key', async () => {
    const { authenticate } = setUp(jwks);
    expect(await reasonOf(authenticate(await assertion(p256(), 'ES256')))).toBe('assertion_alg_refused');
  });

  it('refuses an expired assertion, beyond the small clock skew', async () => {
    const { authenticate, clock } = setUp(jwks);
    const token = await assertion(key, 'EdDSA');
    clock.advance(60_000 + 31_000);
    expect(await reasonOf(authenticate(token))).toBe('assertion_expired');
  });

  it('refuses an exp more than five minutes ahead', async () => {
    const { authenticate } = setUp(jwks);
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA', { exp: seconds(NOW) + 600 })))).toBe(
      'assertion_lifetime_too_long',
    );
  });

  it('refuses an assertion issued in the future, or not valid yet', async () => {
    const { authenticate } = setUp(jwks);
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA', { iat: seconds(NOW) + 120 })))).toMatch(
      /^assertion_(issued_in_future|bad_iat)$/,
    );
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA', { nbf: seconds(NOW) + 120 })))).toBe(
      'assertion_bad_nbf',
    );
  });

  it.each(['jti', 'exp'])('refuses an assertion without %s', async (claim) => {
    const { authenticate } = setUp(jwks);
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA', { [claim]: undefined })))).toBe(
      `assertion_bad_${claim}`,
    );
  });

  it('accepts a jti once: the same assertion again is a replay', async () => {
    const { authenticate } = setUp(jwks);
    const token = await assertion(key, 'EdDSA');
    await authenticate(token);
    expect(await reasonOf(authenticate(token))).toBe('assertion_replayed');
  });

  it('refuses another audience', async () => {
    const { authenticate } = setUp(jwks);
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA', { aud: 'https://elsewhere.example' })))).toBe(
      'assertion_bad_aud',
    );
  });

  it('refuses iss other than sub, and a sub other than the authenticating client', async () => {
    const { authenticate } = setUp(jwks);
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA', { iss: 'sa_other' })))).toBe('assertion_bad_iss');
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA', { sub: 'sa_other' })))).toBe('assertion_bad_sub');
  });

  it('refuses every assertion of an account without registered keys', async () => {
    const { authenticate } = setUp(null);
    expect(await reasonOf(authenticate(await assertion(key, 'EdDSA')))).toBe('no_client_keys');
  });
});

describe('parseClientJwks', () => {
  /** The refusal's message (400 invalid_client_keys), or 'accepted'. */
  const refusal = (input: unknown) =>
    parseClientJwks(input).then(
      () => 'accepted',
      (error: AppError) => `${error.reason}: ${error.message}`,
    );

  it('keeps only the public members and names a key without kid by its RFC 7638 thumbprint', async () => {
    const jwk = publicJwk(ed25519());
    const parsed = await parseClientJwks({ keys: [{ ...jwk, use: 'sig', extra: 'dropped' }] });
    expect(parsed.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: expect.stringMatching(/^[\w-]{43}$/) }]);
  });

  it('refuses a private key', async () => {
    expect(await refusal({ keys: [ed25519().privateKey.export({ format: 'jwk' })] })).toMatch(
      /^invalid_client_keys: .*private key material/,
    );
  });

  it('refuses a symmetric key, an RSA key under 2048 bits, and an alg of another family', async () => {
    expect(await refusal({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })).toMatch(/private key material/);
    expect(await refusal({ keys: [publicJwk(rsa(1024))] })).toMatch(/at least 2048 bits/);
    expect(await refusal({ keys: [{ ...publicJwk(ed25519()), alg: 'HS256' }] })).toMatch(/alg must be one of/);
  });

  it('takes 1 to 3 keys with distinct kids', async () => {
    const jwk = publicJwk(ed25519());
    expect(await refusal({ keys: [] })).toMatch(/1 to 3 keys/);
    expect(await refusal({ keys: [1, 2, 3, 4].map(() => publicJwk(ed25519())) })).toMatch(/1 to 3 keys/);
    expect(await refusal({ keys: [jwk, jwk] })).toMatch(/own kid/);
    expect(await refusal([jwk])).toMatch(/JWK Set/);
  });
});
