import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, EmbeddedJWK, exportJWK, importJWK, jwtVerify, SignJWT } from 'jose';
import { signCompactJws } from './compact-jws';

describe('signCompactJws', () => {
  const claims = {
    client_id: 'c',
    groups: ['a', 'b'],
    iss: 'https://issuer.example',
    sub: 's',
    aud: 'airflow',
    iat: 1_700_000_000,
    nbf: 1_700_000_000,
    exp: 4_000_000_000,
    jti: 'j',
  };

  it.each([
    ['EdDSA', () => generateKeyPairSync('ed25519')],
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ] as const)(
    'produces a %s at+jwt that jose verifies, with exactly the header and claims given',
    async (alg, keys) => {
      const { privateKey, publicKey } = keys();
      const token = signCompactJws({ alg, typ: 'at+jwt', kid: 'k1' }, claims, privateKey);
      expect(decodeProtectedHeader(token)).toEqual({ alg, typ: 'at+jwt', kid: 'k1' });
      const { payload } = await jwtVerify(token, await importJWK(await exportJWK(publicKey), alg), {
        typ: 'at+jwt',
        algorithms: [alg],
        issuer: claims.iss,
        audience: 'airflow',
        currentDate: new Date(1_700_000_100_000),
      });
      expect(payload).toEqual(claims);
    },
  );

  it('serialises the same bytes as jose SignJWT did for the same header and claims (Ed25519 is deterministic)', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const { iss, sub, aud, iat, nbf, exp, jti, ...rest } = claims;
    const viaJose = await new SignJWT(rest)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(iss)
      .setSubject(sub)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setNotBefore(nbf)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(key);
    expect(signCompactJws({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' }, claims, key)).toBe(viaJose);
  });

  it('refuses a key that does not match the algorithm, and any other algorithm', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(() => signCompactJws({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k' }, claims, ec)).toThrow(/Ed25519/);
    expect(() => signCompactJws({ alg: 'ES256', typ: 'at+jwt', kid: 'k' }, claims, ed)).toThrow(/P-256/);
    expect(() => signCompactJws({ alg: 'none' as never, typ: 'at+jwt', kid: 'k' }, claims, ed)).toThrow(/not allowed/);
  });

  it('carries the public key as a standard jwk header parameter when asked (audit checkpoints), which jose verifies with', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    const jws = signCompactJws(
      { alg: 'EdDSA', typ: 'audit-checkpoint+jws', kid: 'k1', jwk },
      { throughSeq: 3 },
      privateKey,
    );
    const { payload, protectedHeader } = await compactVerify(jws, EmbeddedJWK);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'audit-checkpoint+jws', kid: 'k1', jwk });
    expect(JSON.parse(Buffer.from(payload).toString())).toEqual({ throughSeq: 3 });
    // The same kid without the jwk is another header, not a cached one.
    expect(
      decodeProtectedHeader(signCompactJws({ alg: 'EdDSA', typ: 'audit-checkpoint+jws', kid: 'k1' }, {}, privateKey)),
    ).toEqual({ alg: 'EdDSA', typ: 'audit-checkpoint+jws', kid: 'k1' });
  });
});
