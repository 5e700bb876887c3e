/**
 * What a person can get wrong, or an attacker can try, on the real pages: each attempt must end with a clear
 * sentence in the page's status region (role=status) and without Airflow's session cookie.
 */
import { afterFailedAttempt, browserTest, Device, onLoginPage, openLoginPage, useBrowser } from './support/browser';
import { admin, enrolledPerson } from './support/people';
import { GROUPS, uniqueName } from './support/stack';

const NOT_ACCEPTED = /not accepted/i;
const NO_PASSKEY_CHOSEN = /cancelled.*no passkey|no passkey.*cancelled/is;

async function pressSignIn(device: Device, username: string): Promise<void> {
  await device.page.getByLabel('Username').fill(username);
  await device.setPresence(true); // openLoginPage parked the autofill request with presence off
  await device.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
}

/** The attempt failed the way a person can see, and nothing signed them in. */
async function expectRefused(device: Device, message: RegExp): Promise<string> {
  const status = device.page.getByRole('status');
  await status.filter({ hasText: message }).waitFor();
  await afterFailedAttempt(device);
  const text = await status.innerText();
  expect(text).toMatch(message);
  expect(await status.getAttribute('data-kind')).toBe('error');
  expect(await device.page.getByRole('button', { name: 'Sign in with a passkey' }).isEnabled()).toBe(true); // can retry
  expect(onLoginPage(device.page)).toBe(true);
  expect(await device.sessionCookie()).toBeUndefined();
  return text;
}

describe('failed sign-ins and enrollments in a real browser', () => {
  useBrowser();

  browserTest(
    'a prompt that ends without a passkey (none on this device) says so and signs nobody in',
    async (session) => {
      // WebAuthn reports "the person cancelled" and "no passkey here" the same way (NotAllowedError); a device with
      // no passkey for the user is the one way to get it from the virtual authenticator without waiting for a timeout.
      const { username } = await enrolledPerson(session, { prefix: 'elsewhere' });
      const otherDevice = await session.device();
      await openLoginPage(otherDevice);
      await pressSignIn(otherDevice, username);
      await expectRefused(otherDevice, NO_PASSKEY_CHOSEN);
      expect(otherDevice.webauthnCalls().filter((c) => c.mediation === 'default')).toEqual([
        { kind: 'get', mediation: 'default', outcome: 'rejected:NotAllowedError' },
      ]);
      await otherDevice.screenshot('login-error-cancelled');
    },
  );

  browserTest('an unknown username gets the same message as a known one, and no session', async (session) => {
    const { username } = await enrolledPerson(session, { prefix: 'known' });
    const device = await session.device(); // holds no passkeys, as for anyone typing a name that does not exist
    await openLoginPage(device);
    await pressSignIn(device, uniqueName('nobody'));
    const unknown = await expectRefused(device, NO_PASSKEY_CHOSEN);

    await openLoginPage(device);
    await pressSignIn(device, username);
    const known = await expectRefused(device, NO_PASSKEY_CHOSEN);
    expect(unknown).toBe(known); // the page does not reveal which usernames exist
  });

  browserTest('an assertion without user verification (isBadUV) is refused', async (session) => {
    const { device, username } = await enrolledPerson(session, { prefix: 'baduv' });
    await openLoginPage(device);
    await device.overrideResponses({ isBadUV: true });
    await pressSignIn(device, username);
    const text = await expectRefused(device, NOT_ACCEPTED);
    expect(text).toMatch(/user verification|could not be verified/i);
    const user = await admin.user(username);
    expect(await admin.loginFailureReasons(user.id)).toContain('assertion_invalid');
    await device.screenshot('login-error-user-verification');
  });

  browserTest('an assertion with a bogus signature (isBogusSignature) is refused', async (session) => {
    const { device, username } = await enrolledPerson(session, { prefix: 'bogus' });
    await openLoginPage(device);
    await device.overrideResponses({ isBogusSignature: true });
    await pressSignIn(device, username);
    await expectRefused(device, NOT_ACCEPTED);
    const user = await admin.user(username);
    expect(await admin.loginFailureReasons(user.id)).toContain('bad_signature');
    expect(user.passkeys[0]!.lastUsedAt).toBeNull(); // a refused assertion is not a use
  });

  browserTest('a revoked passkey no longer signs in, even though the device still holds it', async (session) => {
    const { device, username } = await enrolledPerson(session, { prefix: 'revoked' });
    const user = await admin.user(username);
    await admin.revokePasskey(user.passkeys[0]!.id);
    expect(await device.credentials()).toHaveLength(1);

    await openLoginPage(device);
    await pressSignIn(device, ''); // usernameless: the device offers the revoked credential itself
    // Named for what it is, not "not accepted" in general: the signature checked out, the passkey is revoked.
    const text = await expectRefused(device, /This passkey was revoked/);
    expect(text).toMatch(/another passkey|enrollment invite/);
    expect(await admin.loginFailureReasons(user.id)).toContain('passkey_revoked'); // refused by the service, for that reason
    await device.screenshot('login-error-revoked');
  });

  browserTest('an expired invite link cannot enroll and says why', async (session) => {
    const username = uniqueName('late');
    const invite = await admin.createInvite(username, [GROUPS.user], { ttlSeconds: 60 });
    admin.expireInvite(invite.id);
    const device = await session.device();

    // The page checks the link when it opens: it says why at once and offers no button to press.
    await device.page.goto(invite.url);
    const status = device.page.getByRole('alert');
    await status.filter({ hasText: /invite/i }).waitFor();
    expect(await status.innerText()).toMatch(/expired/);
    expect(await status.getAttribute('data-kind')).toBe('error');
    expect(await device.page.getByRole('button', { name: 'Create a passkey' }).count()).toBe(0);
    await device.screenshot('enroll-error-expired-invite');

    expect(await device.credentials()).toEqual([]); // the authenticator was never asked
    expect(device.webauthnCalls()).toEqual([]);
    expect(await device.sessionCookie()).toBeUndefined();
    expect((await admin.invites()).find((i) => i.id === invite.id)).toMatchObject({ state: 'expired', usedAt: null });
  });
});
