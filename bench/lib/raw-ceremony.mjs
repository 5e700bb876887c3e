// Baseline for the sign-in ceremony benchmark: the cryptographic core of a ceremony with nothing around it, in one
// process (a child of run-all.mjs, alone on the machine while it runs).
//
// Each measured iteration = generateAuthenticationOptions (with allowCredentials) + verifyAuthenticationResponse
// (@simplewebauthn/server, same settings as the service: origin list, RP ID, UV required) + an EdDSA-signed at+jwt with
// the service's claim set (jose SignJWT). `concurrency` iterations are in flight at once, like the HTTP benchmark.
//
// Assertion generation (the authenticator's signature) is EXCLUDED: assertions are signed before the timed loop, over
// challenges that are then handed to generateAuthenticationOptions({challenge}). In the service benchmark the
// assertions are signed by the load worker, i.e. outside the service process as well. The per-assertion signing cost
// is measured during setup and reported separately (`assertionSignUs`).
//
// Protocol: forked with IPC; receives {cmd: 'run', concurrency, seconds, warmupSeconds, users}; answers {type:'result'}.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { generateAuthenticationOptions, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { drive, loadSoftAuthenticator, ORIGIN, RP_ID } from './common.mjs';

const POOL = 512;

async function run({ concurrency, seconds, warmupSeconds, users }) {
  const { SoftAuthenticator } = await loadSoftAuthenticator();
  const b64 = (b) => Buffer.from(b).toString('base64url');

  // Users and their passkeys, enrolled the way the service's registration options ask (pubKeyCredParams -8, -7, -257,
  // so the software authenticator picks EdDSA, as it does against the service).
  const creds = [];
  for (let u = 0; u < users; u++) {
    const authenticator = new SoftAuthenticator();
    const reg = authenticator.createCredential(
      {
        rp: { id: RP_ID, name: 'Apache Airflow' },
        user: { id: b64(randomBytes(16)), name: `raw-${u}`, displayName: `raw ${u}` },
        challenge: b64(randomBytes(32)),
        pubKeyCredParams: [-8, -7, -257].map((alg) => ({ type: 'public-key', alg })),
      },
      { origin: ORIGIN },
    );
    creds.push({
      authenticator,
      id: reg.id,
      publicKey: authenticator.publicKeyCose(reg.id),
      userId: randomUUID(),
      username: `raw-${u}`,
      alg: authenticator.credentials[0].alg,
    });
  }

  // Pre-signed assertions over known challenges (excluded from the timed loop; timed here for reference).
  const pool = [];
  const signStart = performance.now();
  for (let j = 0; j < POOL; j++) {
    const cred = creds[j % creds.length];
    const challenge = randomBytes(32);
    const assertion = cred.authenticator.getAssertion(
      {
        challenge: b64(challenge),
        rpId: RP_ID,
        allowCredentials: [{ id: cred.id, type: 'public-key' }],
        userVerification: 'required',
      },
      { origin: ORIGIN },
    );
    pool.push({ cred, challenge, assertion });
  }
  const assertionSignUs = ((performance.now() - signStart) * 1000) / POOL;

  // The service's token key: Ed25519, kid = RFC 7638 thumbprint.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
  const issuer = 'http://127.0.0.1:3000';

  const result = await drive({ concurrency, seconds, warmupSeconds }, async (k, i) => {
    const { cred, challenge, assertion } = pool[(k + i * concurrency) % POOL];
    const options = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials: [{ id: cred.id, transports: ['internal'] }],
      userVerification: 'required',
      timeout: 120_000,
      challenge,
    });
    const verification = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: options.challenge,
      expectedOrigin: [ORIGIN],
      expectedRPID: RP_ID,
      credential: { id: cred.id, publicKey: cred.publicKey, counter: 0, transports: ['internal'] },
      requireUserVerification: true,
    });
    if (!verification.verified) throw new Error('assertion did not verify');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      client_id: 'airflow-webauthn',
      preferred_username: cred.username,
      name: cred.username,
      groups: [],
      auth_time: now,
      amr: ['hwk', 'user', 'mfa'],
      passkey_id: cred.userId,
    })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setIssuer(issuer)
      .setSubject(cred.userId)
      .setAudience('airflow')
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 600)
      .setJti(randomUUID())
      .sign(privateKey);
    if (token.split('.').length !== 3) throw new Error('no JWT');
  });
  return {
    type: 'result',
    ...result,
    assertionSignUs: Math.round(assertionSignUs * 10) / 10,
    credentialAlgs: [...new Set(creds.map((c) => c.alg))],
  };
}

process.on('message', async (cmd) => {
  try {
    if (cmd.cmd === 'run') process.send({ ...(await run(cmd)), rssPeakKb: process.resourceUsage().maxRSS });
    else process.exit(0);
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
