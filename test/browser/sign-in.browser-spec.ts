/**
 * The happy paths a person walks, in a real headless Chromium with a virtual authenticator, against the real auth
 * service and a real Airflow api-server: enrollment from an invite link, sign-in three ways (username + button,
 * usernameless, autofill), what the browser is allowed to see afterwards, and logout.
 */
import { Request } from 'playwright-core';
import {
  browserTest,
  enroll,
  expectButtonCeremonyOnly,
  onLoginPage,
  openLoginPage,
  signInWithButton,
  useBrowser,
} from './support/browser';
import { admin, enrolledPerson, jwtClaims, signedInPerson } from './support/people';
import { GROUPS, stack, uniqueName } from './support/stack';

const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

/** The JSON bodies of the WebAuthn calls the page posted, in order (which ceremony asked for what). */
function recordCeremonyRequests(requests: Array<{ path: string; body: unknown }>) {
  return (request: Request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() === 'POST' && path.includes('/auth/webauthn/')) {
      requests.push({ path: path.replace(/^.*\/auth\/webauthn\//, ''), body: request.postDataJSON() });
    }
  };
}

describe('passkey sign-in in a real browser', () => {
  useBrowser();

  browserTest(
    'an invite link enrolls a passkey: the authenticator holds it and the service lists it',
    async (session) => {
      const username = uniqueName('enrollee');
      const invite = await admin.createInvite(username, [GROUPS.user], { displayName: 'Enid Rollee' });
      expect(invite.url).toBe(`${stack().airflowUrl}/auth/enroll?invite=${encodeURIComponent(invite.token)}`);
      const device = await session.device();

      await device.page.goto(invite.url);
      await device.page.getByRole('heading', { name: 'Set up your passkey' }).waitFor();
      // The invite (a bearer secret) leaves the address bar, and so the history, once the page holds it.
      await device.page.waitForFunction("!window.location.search.includes('invite')");
      expect(device.page.url()).toBe(`${stack().airflowUrl}/auth/enroll`);
      await device.screenshot('enroll-page');
      const credential = await enroll(device, invite, 'Work laptop');
      await device.screenshot('enroll-done');

      // The browser side: one discoverable credential for this RP and this user, and a way on to sign in.
      expect(await device.credentials()).toHaveLength(1);
      expect(credential).toMatchObject({ rpId: 'localhost', isResidentCredential: true, userName: username });
      await expect(device.page.getByRole('link', { name: 'Sign in with your passkey' }).isVisible()).resolves.toBe(
        true,
      );
      // The service side: the user exists with the invite's groups and exactly that passkey; the invite is spent.
      const user = await admin.user(username);
      expect(user).toMatchObject({ username, displayName: 'Enid Rollee', groups: [GROUPS.user], disabled: false });
      expect(user.passkeys).toHaveLength(1);
      expect(user.passkeys[0]).toMatchObject({ label: 'Work laptop', revokedAt: null, lastUsedAt: null });
      const spent = (await admin.invites()).find((i) => i.id === invite.id);
      expect(spent).toMatchObject({ state: 'used' });
      expect(await device.sessionCookie()).toBeUndefined(); // enrolling is not signing in
    },
  );

  browserTest('signing in with a username opens Airflow, whose DAG list shows the example DAG', async (session) => {
    const { device, username } = await enrolledPerson(session, { prefix: 'dagviewer' });
    const requests: Array<{ path: string; body: unknown }> = [];
    device.page.on('request', recordCeremonyRequests(requests));

    await openLoginPage(device);
    await device.screenshot('login-page');
    await signInWithButton(device, username);

    expect(requests.map((r) => r.path)).toEqual([
      'authentication/options',
      'authentication/options',
      'authentication/verify',
    ]);
    expect(requests[0]!.body).toEqual({}); // the page's autofill request, parked
    expect(requests[1]!.body).toEqual({ username }); // the button's request, for this user's passkeys
    expectButtonCeremonyOnly(device.webauthnCalls());
    expect(await device.sessionCookie()).toBeDefined();

    // Airflow's React UI, using the session: its DAG list shows the DAG the stack serialized.
    await device.page.getByRole('link', { name: 'Dags' }).first().click();
    await device.page.waitForURL(/\/dags$/);
    await device.page.getByRole('link', { name: stack().exampleDagId }).waitFor();
    await device.screenshot('dag-list-after-login');
    const user = await admin.user(username);
    expect(user.passkeys[0]!.lastUsedAt).not.toBeNull();
  });

  browserTest('an empty username signs in with the discoverable passkey (usernameless)', async (session) => {
    const { device, username } = await enrolledPerson(session, { prefix: 'nameless' });
    const requests: Array<{ path: string; body: unknown }> = [];
    device.page.on('request', recordCeremonyRequests(requests));

    await openLoginPage(device);
    await signInWithButton(device, '');

    expect(requests[1]).toEqual({ path: 'authentication/options', body: {} });
    expectButtonCeremonyOnly(device.webauthnCalls());
    const cookie = await device.sessionCookie();
    expect(cookie).toBeDefined();
    // Airflow's session is for the person whose passkey answered, found from the credential alone.
    expect(JSON.stringify(jwtClaims(cookie!.value))).toContain(username);
  });

  browserTest('autofill (conditional UI) signs in from the page load alone, with no click', async (session) => {
    const { device, username } = await enrolledPerson(session, { prefix: 'autofill' });
    const requests: Array<{ path: string; body: unknown }> = [];
    device.page.on('request', recordCeremonyRequests(requests));

    // Headless Chromium's virtual authenticator answers a conditional request at once (a person would pick the
    // passkey from the username field's autofill list): nothing is typed, focused or clicked here.
    await device.page.goto(`${stack().airflowUrl}/auth/login`);
    await device.page.waitForURL((url) => !url.pathname.endsWith('/auth/login'));

    const gets = device.webauthnCalls().filter((c) => c.kind === 'get');
    expect(gets).toEqual([{ kind: 'get', mediation: 'conditional', outcome: 'resolved' }]);
    expect(requests).toEqual([
      { path: 'authentication/options', body: {} },
      { path: 'authentication/verify', body: expect.objectContaining({ response: expect.anything() }) },
    ]);
    const cookie = await device.sessionCookie();
    expect(JSON.stringify(jwtClaims(cookie!.value))).toContain(username);
  });

  browserTest("the session cookie is httponly and the service's JWT never reaches the page", async (session) => {
    const issuer = await admin.issuer();
    const { device, username } = await enrolledPerson(session, { prefix: 'cookie' });
    const seen = await device.captureResponses();

    await openLoginPage(device);
    await signInWithButton(device, username);
    await device.page.getByRole('link', { name: 'Dags' }).first().waitFor();
    await device.page.waitForLoadState('networkidle');

    const cookie = await device.sessionCookie();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false }); // secure only on https
    expect(jwtClaims(cookie!.value).iss).not.toBe(issuer); // Airflow's own token, not the service's
    const visibleToScript = await device.page.evaluate<string>('document.cookie');
    expect(visibleToScript).not.toContain('_token');
    expect(visibleToScript).not.toContain(cookie!.value);

    // Every response the page received (login page, its scripts, the ceremony JSON, Airflow's UI and its API calls):
    // no body or header carries a JWT issued by the service.
    const verify = seen.find((r) => r.url.endsWith('/auth/webauthn/authentication/verify'));
    expect(verify && JSON.parse(verify.body)).toEqual({ redirect: expect.any(String) });
    expect(seen.filter((r) => r.contentType.includes('json')).length).toBeGreaterThan(5); // not a vacuous check
    const serviceTokens = seen.flatMap((r) =>
      (`${JSON.stringify(r.headers)}\n${r.body}`.match(JWT) ?? [])
        .filter((t) => jwtClaims(t).iss === issuer)
        .map(() => r.url),
    );
    expect(serviceTokens).toEqual([]);
  });

  browserTest(
    "logging out from Airflow's menu ends the session: login page, API 401, old token revoked",
    async (session) => {
      const { device } = await signedInPerson(session, { prefix: 'leaver' });
      const cookie = (await device.sessionCookie())!;
      const api = `${stack().airflowUrl}/api/v2/dags`;
      expect((await device.context.request.get(api)).status()).toBe(200);

      // The login page that logout ends on arms passkey autofill; with presence simulated it would sign the person
      // straight back in (a race with the checks below), so park it as openLoginPage does.
      await device.setPresence(false);
      await device.page.getByRole('button', { name: 'User' }).click();
      await device.page.getByRole('menuitem', { name: 'Logout' }).click();
      await device.page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
      await device.page.waitForURL((url) => url.pathname.endsWith('/auth/login'));
      await device.page.getByRole('heading', { name: 'Sign in to Airflow' }).waitFor();
      expect(onLoginPage(device.page)).toBe(true);

      expect(await device.sessionCookie()).toBeUndefined();
      expect((await device.context.request.get(api)).status()).toBe(401);
      // The old token was revoked, not only forgotten by this browser (a revoked token is an invalid one to Airflow,
      // which answers 403 "Invalid JWT token" for those; the same cookie got 200 above).
      const replay = await fetch(api, { headers: { Cookie: `_token=${cookie.value}` } });
      expect({ status: replay.status, body: await replay.json() }).toEqual({
        status: 403,
        body: { detail: 'Invalid JWT token' },
      });
    },
  );

  browserTest(
    'the login page works with the keyboard alone (Tab to the field and the button, Enter)',
    async (session) => {
      const { device, username } = await enrolledPerson(session, { prefix: 'keyboard' });
      const { page } = device;
      await openLoginPage(device);

      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.id')).toBe('username');
      await page.keyboard.type(username);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.id')).toBe('sign-in');
      await device.screenshot('login-keyboard-focus');
      await device.setPresence(true); // openLoginPage parked the autofill request with presence off
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => !url.pathname.endsWith('/auth/login'));

      expectButtonCeremonyOnly(device.webauthnCalls());
      expect(await device.sessionCookie()).toBeDefined();
    },
  );
});
