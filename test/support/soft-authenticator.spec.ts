/**
 * Proves the soft authenticator against the real @simplewebauthn/server verification (nothing
 * mocked, no network, no database).
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  RegistrationResponseJSON,
  WebAuthnCredential,
} from '@simplewebauthn/server';
import { decodeAttestationObject, isoBase64URL, isoCBOR, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { cborEncode } from './cbor';
import type { CborValue } from './cbor';
import { AUTH_DATA_FLAGS, COSE_ALG, SoftAuthenticator, WebAuthnClientError } from './soft-authenticator';
import type { SoftAlg, SoftAuthenticatorOptions } from './soft-authenticator';

const RP_ID = 'localhost';
const ORIGIN = 'http://localhost:3000';
const ALGS: SoftAlg[] = ['ES256', 'EdDSA', 'RS256'];

async function regOptions(
  extra: Partial<Parameters<typeof generateRegistrationOptions>[0]> = {},
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: 'Airflow',
    rpID: RP_ID,
    userName: 'alice',
    attestationType: 'none',
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    ...extra,
  });
}

/** Registers with the real library and returns what a server would store. */
async function register(
  auth: SoftAuthenticator,
  extra: Partial<Parameters<typeof generateRegistrationOptions>[0]> = {},
): Promise<{
  options: PublicKeyCredentialCreationOptionsJSON;
  response: RegistrationResponseJSON;
  credential: WebAuthnCredential;
}> {
  const options = await regOptions(extra);
  const response = auth.createCredential(options, { origin: ORIGIN });
  const result = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
  });
  if (!result.verified) throw new Error('registration did not verify');
  return { options, response, credential: result.registrationInfo.credential };
}

describe('cborEncode', () => {
  it('round-trips through the CBOR decoder that @simplewebauthn/server uses', () => {
    const value = new Map<CborValue, CborValue>([
      ['small', 23],
      ['u8', 24],
      ['u16', 0x1234],
      ['u32', 0x12345678],
      ['neg', -1],
      ['neg16', -300],
      [-257, 'alg'],
      ['bytes', new Uint8Array([1, 2, 3])],
      ['text', 'héllo'],
      ['arr', [1, 'two']],
      ['bool', true],
    ]);
    const encoded = cborEncode(value);
    const decoded = isoCBOR.decodeFirst<Map<string | number, unknown>>(new Uint8Array(encoded));
    expect(decoded.get('small')).toBe(23);
    expect(decoded.get('u8')).toBe(24);
    expect(decoded.get('u16')).toBe(0x1234);
    expect(decoded.get('u32')).toBe(0x12345678);
    expect(decoded.get('neg')).toBe(-1);
    expect(decoded.get('neg16')).toBe(-300);
    expect(decoded.get(-257)).toBe('alg');
    expect(Array.from(decoded.get('bytes') as Uint8Array)).toEqual([1, 2, 3]);
    expect(decoded.get('text')).toBe('héllo');
    expect(decoded.get('arr')).toEqual([1, 'two']);
    expect(decoded.get('bool')).toBe(true);
    // Same bytes as the library's own encoder. (Compared without the non-ASCII text: tiny-cbor 0.2
    // writes a text string's length in UTF-16 units, not bytes; our encoder writes bytes as RFC 8949 says.)
    decoded.delete('text');
    value.delete('text');
    const reencoded = Buffer.from(isoCBOR.encode(decoded as Map<string, never>));
    expect(reencoded.equals(cborEncode(value))).toBe(true);
  });

  it('rejects non-integer numbers instead of encoding floats', () => {
    expect(() => cborEncode(1.5)).toThrow(TypeError);
  });
});

describe('SoftAuthenticator registration is verified by verifyRegistrationResponse', () => {
  describe.each(ALGS)('%s', (alg) => {
    it.each(['none', 'packed'] as const)('with %s attestation', async (attestation) => {
      const aaguid = '11112222-3333-4444-5555-666677778888';
      const auth = new SoftAuthenticator({ alg, attestation, aaguid });
      const options = await regOptions();
      const response = auth.createCredential(options, { origin: ORIGIN });

      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: true,
      });

      expect(result.verified).toBe(true);
      if (!result.verified) return;
      const info = result.registrationInfo;
      expect(info.fmt).toBe(attestation);
      expect(info.aaguid).toBe(aaguid);
      expect(info.credential.id).toBe(response.id);
      expect(info.credential.counter).toBe(0);
      expect(info.userVerified).toBe(true);
      expect(info.credentialDeviceType).toBe('singleDevice');
      expect(info.rpID).toBe(RP_ID);
      expect(Buffer.from(info.credential.publicKey).equals(Buffer.from(auth.publicKeyCose(response.id)))).toBe(true);
      expect(response.response.publicKeyAlgorithm).toBe(COSE_ALG[alg]);
      expect(response.response.transports).toEqual(['internal']);
      expect(response.authenticatorAttachment).toBe('platform');
      expect(auth.credentials).toHaveLength(1);
      expect(auth.credentials[0]).toMatchObject({ id: response.id, rpId: RP_ID, alg, userHandle: options.user.id });
    });
  });

  it('produces base64url (unpadded) fields and the documented authenticatorData layout', async () => {
    const auth = new SoftAuthenticator({ alg: 'ES256', initialCounter: 7, backupEligible: true });
    const options = await regOptions();
    const response = auth.createCredential(options, { origin: ORIGIN });
    for (const v of [response.id, response.response.clientDataJSON, response.response.attestationObject]) {
      expect(v).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    const attObj = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject));
    const authData = attObj.get('authData');
    expect(authData[32]).toBe(AUTH_DATA_FLAGS.UP | AUTH_DATA_FLAGS.UV | AUTH_DATA_FLAGS.BE | AUTH_DATA_FLAGS.AT);
    expect(Buffer.from(authData.slice(33, 37)).readUInt32BE(0)).toBe(7);
    const parsed = parseAuthenticatorData(authData);
    expect(isoBase64URL.fromBuffer(parsed.credentialID as Uint8Array<ArrayBuffer>)).toBe(response.id);
    const clientData = JSON.parse(
      Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8'),
    ) as unknown;
    expect(clientData).toEqual({
      type: 'webauthn.create',
      challenge: options.challenge,
      origin: ORIGIN,
      crossOrigin: false,
    });
  });

  it('picks the first algorithm of pubKeyCredParams that it supports', async () => {
    const any = new SoftAuthenticator();
    expect((await register(any, { supportedAlgorithmIDs: [-257, -7] })).response.response.publicKeyAlgorithm).toBe(
      -257,
    );
    const esOnly = new SoftAuthenticator({ alg: 'ES256' });
    expect(
      (await register(esOnly, { supportedAlgorithmIDs: [-8, -257, -7] })).response.response.publicKeyAlgorithm,
    ).toBe(-7);
  });

  it('throws NotSupportedError when the RP offers none of its algorithms', async () => {
    const auth = new SoftAuthenticator({ alg: 'RS256' });
    const options = await regOptions({ supportedAlgorithmIDs: [-7] });
    expect(() => auth.createCredential(options, { origin: ORIGIN })).toThrow(
      expect.objectContaining({ name: 'NotSupportedError' }),
    );
    expect(auth.credentials).toHaveLength(0);
  });

  it('throws InvalidStateError and stores nothing when one of its credentials is in excludeCredentials', async () => {
    const auth = new SoftAuthenticator();
    const first = await register(auth);
    const options = await regOptions({ excludeCredentials: [{ id: first.credential.id }] });
    let err: unknown;
    try {
      auth.createCredential(options, { origin: ORIGIN });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebAuthnClientError);
    expect((err as WebAuthnClientError).name).toBe('InvalidStateError');
    expect(auth.credentials.map((c) => c.id)).toEqual([first.credential.id]);
  });

  it('keeps one resident credential per RP ID and user handle (a re-registration replaces it)', async () => {
    const auth = new SoftAuthenticator();
    const userID = new Uint8Array([9, 9, 9]);
    await register(auth, { userID });
    const second = await register(auth, { userID });
    await register(auth, { userID: new Uint8Array([8]) });
    expect(auth.credentials).toHaveLength(2);
    expect(auth.credentials.some((c) => c.id === second.credential.id)).toBe(true);
  });

  it('reports backup eligibility and state as a backed-up multi-device credential', async () => {
    const auth = new SoftAuthenticator({ backupEligible: true, backupState: true });
    const options = await regOptions();
    const result = await verifyRegistrationResponse({
      response: auth.createCredential(options, { origin: ORIGIN }),
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
    });
    expect(result.registrationInfo).toMatchObject({ credentialDeviceType: 'multiDevice', credentialBackedUp: true });
  });

  it('returns credProps.rk=true when the RP asks for credProps', async () => {
    const auth = new SoftAuthenticator();
    const { response } = await register(auth, { extensions: { credProps: true } });
    expect(response.clientExtensionResults).toEqual({ credProps: { rk: true } });
  });
});

describe('SoftAuthenticator registration overrides make verification throw', () => {
  async function attempt(
    overrides: Parameters<SoftAuthenticator['createCredential']>[2],
    authOpts: SoftAuthenticatorOptions = {},
    verifyExtra: Partial<Parameters<typeof verifyRegistrationResponse>[0]> = {},
  ): Promise<unknown> {
    const auth = new SoftAuthenticator(authOpts);
    const options = await regOptions();
    const response = auth.createCredential(options, { origin: ORIGIN }, overrides);
    return verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      ...verifyExtra,
    });
  }

  it('wrong origin is rejected', async () => {
    await expect(attempt({ origin: 'https://evil.example' })).rejects.toThrow(/origin/);
  });
  it('wrong rpId hash is rejected', async () => {
    await expect(attempt({ rpId: 'evil.example' })).rejects.toThrow(/RP ID/);
  });
  it('wrong challenge is rejected', async () => {
    await expect(attempt({ challenge: 'AAAA' })).rejects.toThrow(/challenge/);
  });
  it('wrong clientData type is rejected', async () => {
    await expect(attempt({ type: 'webauthn.get' })).rejects.toThrow(/type/);
  });
  it('missing UV is rejected when user verification is required', async () => {
    await expect(attempt({ flags: { uv: false } }, {}, { requireUserVerification: true })).rejects.toThrow(
      /User verification was required/,
    );
    await expect(attempt({}, { userVerification: false }, { requireUserVerification: true })).rejects.toThrow(
      /User verification was required/,
    );
  });
  it('missing UP is rejected', async () => {
    await expect(attempt({ flags: { up: false } })).rejects.toThrow(/presence/);
  });
  it('an algorithm the RP did not allow is rejected', async () => {
    await expect(attempt({ alg: 'RS256' }, {}, { supportedAlgorithmIDs: [-7] })).rejects.toThrow(/alg/);
  });
  it('backup state without backup eligibility is rejected', async () => {
    await expect(attempt({ flags: { be: false, bs: true } })).rejects.toThrow(/backed up/);
  });
});

describe('SoftAuthenticator assertions are verified by verifyAuthenticationResponse', () => {
  describe.each(ALGS)('%s', (alg) => {
    it('verifies with the stored public key and the counter increases on each login', async () => {
      const auth = new SoftAuthenticator({ alg, attestation: 'packed' });
      const { credential } = await register(auth);
      let stored = credential.counter;

      for (let i = 1; i <= 2; i++) {
        const options = await generateAuthenticationOptions({
          rpID: RP_ID,
          allowCredentials: [{ id: credential.id }],
          userVerification: 'required',
        });
        const response = auth.getAssertion(options, { origin: ORIGIN });
        expect(response.id).toBe(credential.id);

        const result = await verifyAuthenticationResponse({
          response,
          expectedChallenge: options.challenge,
          expectedOrigin: ORIGIN,
          expectedRPID: RP_ID,
          credential: { ...credential, counter: stored },
          requireUserVerification: true,
        });
        expect(result.verified).toBe(true);
        expect(result.authenticationInfo.newCounter).toBe(stored + 1);
        expect(result.authenticationInfo.userVerified).toBe(true);
        stored = result.authenticationInfo.newCounter;
      }
      expect(auth.credentials[0]?.counter).toBe(2);
    });
  });

  it('returns the user.id of the creation options as userHandle in a discoverable (no allowCredentials) login', async () => {
    const auth = new SoftAuthenticator();
    const { options: creation, credential } = await register(auth);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = auth.getAssertion(options, { origin: ORIGIN });
    expect(response.response.userHandle).toBe(creation.user.id);
    expect(response.id).toBe(credential.id);
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      credential,
    });
    expect(result.verified).toBe(true);
  });

  it('uses ctx.credentialId to choose among several discoverable credentials', async () => {
    const auth = new SoftAuthenticator();
    await register(auth, { userName: 'alice', userID: new Uint8Array([1]) });
    const bob = await register(auth, { userName: 'bob', userID: new Uint8Array([2]) });
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = auth.getAssertion(options, { origin: ORIGIN, credentialId: bob.credential.id });
    expect(response.id).toBe(bob.credential.id);
    expect(response.response.userHandle).toBe(bob.options.user.id);
  });

  it('uses the first allowCredentials entry it holds', async () => {
    const auth = new SoftAuthenticator();
    const { credential } = await register(auth);
    const options = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials: [{ id: 'bm90LW91cnM' }, { id: credential.id }],
    });
    expect(auth.getAssertion(options, { origin: ORIGIN }).id).toBe(credential.id);
  });

  it('throws NotAllowedError without changing the counter when it holds no matching credential', async () => {
    const auth = new SoftAuthenticator();
    await register(auth);
    const other = await generateAuthenticationOptions({ rpID: 'example.org' });
    expect(() => auth.getAssertion(other, { origin: 'https://example.org' })).toThrow(
      expect.objectContaining({ name: 'NotAllowedError' }),
    );
    const notListed = await generateAuthenticationOptions({ rpID: RP_ID, allowCredentials: [{ id: 'bm90LW91cnM' }] });
    expect(() => auth.getAssertion(notListed, { origin: ORIGIN })).toThrow(
      expect.objectContaining({ name: 'NotAllowedError' }),
    );
    expect(auth.credentials[0]?.counter).toBe(0);
  });

  it('keeps the counter at 0 for an authenticator without a counter (counterStep 0), which still verifies', async () => {
    const auth = new SoftAuthenticator({ counterStep: 0 });
    const { credential } = await register(auth);
    for (let i = 0; i < 2; i++) {
      const options = await generateAuthenticationOptions({ rpID: RP_ID });
      const result = await verifyAuthenticationResponse({
        response: auth.getAssertion(options, { origin: ORIGIN }),
        expectedChallenge: options.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        credential,
      });
      expect(result.verified).toBe(true);
      expect(result.authenticationInfo.newCounter).toBe(0);
    }
  });

  it('reports the backup flags in assertions', async () => {
    const auth = new SoftAuthenticator({ backupEligible: true, backupState: true });
    const { credential } = await register(auth);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const result = await verifyAuthenticationResponse({
      response: auth.getAssertion(options, { origin: ORIGIN }),
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      credential,
    });
    expect(result.authenticationInfo).toMatchObject({ credentialDeviceType: 'multiDevice', credentialBackedUp: true });
  });
});

describe('SoftAuthenticator assertion overrides make verification fail or throw', () => {
  let auth: SoftAuthenticator;
  let credential: WebAuthnCredential;

  beforeEach(async () => {
    auth = new SoftAuthenticator({ alg: 'ES256' });
    ({ credential } = await register(auth));
  });

  async function attempt(
    overrides: Parameters<SoftAuthenticator['getAssertion']>[2],
    verifyExtra: Partial<Parameters<typeof verifyAuthenticationResponse>[0]> = {},
  ): Promise<Awaited<ReturnType<typeof verifyAuthenticationResponse>>> {
    const options = await generateAuthenticationOptions({ rpID: RP_ID, allowCredentials: [{ id: credential.id }] });
    const response = auth.getAssertion(options, { origin: ORIGIN }, overrides);
    return verifyAuthenticationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      credential,
      ...verifyExtra,
    });
  }

  it.each(ALGS)('a tampered %s signature gives verified:false', async (alg) => {
    auth = new SoftAuthenticator({ alg });
    ({ credential } = await register(auth));
    const result = await attempt({ tamperSignature: true });
    expect(result.verified).toBe(false);
  });
  it('wrong origin throws', async () => {
    await expect(attempt({ origin: 'https://evil.example' })).rejects.toThrow(/origin/);
  });
  it('wrong rpId hash throws', async () => {
    await expect(attempt({ rpId: 'evil.example' })).rejects.toThrow(/RP ID/);
  });
  it('wrong challenge throws', async () => {
    await expect(attempt({ challenge: 'AAAA' })).rejects.toThrow(/challenge/);
  });
  it('wrong clientData type throws', async () => {
    await expect(attempt({ type: 'webauthn.create' })).rejects.toThrow(/type/);
  });
  it('missing UV throws when user verification is required', async () => {
    await expect(attempt({ flags: { uv: false } }, { requireUserVerification: true })).rejects.toThrow(
      /User verification required/,
    );
  });
  it('missing UV still verifies when user verification is not required', async () => {
    expect((await attempt({ flags: { uv: false } }, { requireUserVerification: false })).verified).toBe(true);
  });
  it('missing UP throws', async () => {
    await expect(attempt({ flags: { up: false } })).rejects.toThrow(/not present/);
  });
  it('a counter not above the stored one throws', async () => {
    await expect(attempt({ counter: 3 }, { credential: { ...credential, counter: 5 } })).rejects.toThrow(/counter/);
  });
  it('a cross-origin response with a topOrigin throws when no expectedTopOrigin is given', async () => {
    await expect(attempt({ crossOrigin: true, topOrigin: 'https://evil.example' })).rejects.toThrow(/top origin/);
  });
  it('userHandle can be replaced or omitted, and response.id can claim another credential', async () => {
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const omitted = auth.getAssertion(options, { origin: ORIGIN }, { userHandle: null });
    expect('userHandle' in omitted.response).toBe(false);
    const replaced = auth.getAssertion(options, { origin: ORIGIN }, { userHandle: 'b3RoZXI' });
    expect(replaced.response.userHandle).toBe('b3RoZXI');
    const claimed = auth.getAssertion(options, { origin: ORIGIN }, { credentialId: 'c3dhcHBlZA' });
    expect([claimed.id, claimed.rawId]).toEqual(['c3dhcHBlZA', 'c3dhcHBlZA']);
  });
});
