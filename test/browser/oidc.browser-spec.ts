/**
 * Sign-in through the organisation's identity provider, in a real headless Chromium with a virtual authenticator,
 * against the real auth service, a real Airflow api-server and a REAL OpenID provider (oidc-provider, with its own
 * sign-in page; started by the stack launcher, test/integration/support/serve_stack.py). Its accounts' groups map
 * to Airflow roles through the suite's role_mapping; admins must finish with a passkey, viewers need not.
 */
import { join } from 'node:path';
import { Device, SCREENSHOTS, browserTest, openLoginPage, useBrowser } from './support/browser';
import { openAdminPage } from './support/admin-page';
import { admin } from './support/people';
import { GROUPS, stack, uniqueName } from './support/stack';

/** How long a session may outlive the provider's sign-out: the stack's recheck_interval_seconds (1 s,
 * test/integration/support/stack.py) plus Airflow's own latency on a loaded 2-core runner. Measured: about 0.5 s. */
const SESSION_END_LIMIT_MS = 1_000 + 4_000;

const idp = () => stack().idp;
const airflow = () => stack().airflowUrl;

/** Login page (autofill parked, see openLoginPage) → "Sign in with …" → the provider's own sign-in page. */
async function toProvider(device: Device, screenshot?: string): Promise<void> {
  await openLoginPage(device, `?next=${encodeURIComponent('/dags')}`);
  const button = device.page.getByRole('link', { name: `Sign in with ${idp().displayName}` });
  await button.waitFor();
  if (screenshot) await device.screenshot(screenshot);
  await button.click();
  await device.page.waitForURL((url) => url.href.startsWith(idp().issuer));
}

/** At the provider: type the account and press "Sign in"; resolves once the browser is back on Airflow. */
async function signInAtProvider(device: Device, username: string, screenshot?: string): Promise<void> {
  const { page } = device;
  await page.getByLabel('Username').fill(username);
  if (screenshot) await device.screenshot(screenshot);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.href.startsWith(airflow()));
}

/** The passkey step's page, its button named `name` once it has asked the service what this sign-in needs. */
async function passkeyStep(device: Device, name: 'Set up a passkey' | 'Continue with passkey') {
  await device.page.waitForURL(`${airflow()}/auth/oidc/passkey`);
  const button = device.page.getByRole('button', { name, exact: true });
  await button.waitFor();
  await device.page.locator('#passkey-step:enabled').waitFor(); // enabled once the page knows the step
  return button;
}

async function status(device: Device, path: string): Promise<number> {
  return (await device.context.request.get(`${airflow()}${path}`, { maxRedirects: 0 })).status();
}

describe('sign-in through the identity provider in a real browser', () => {
  useBrowser();

  browserTest(
    'an admin: the provider, then "Set up a passkey" the first time and "Continue with passkey" the next; the DAG list as ADMIN',
    async (session) => {
      const username = uniqueName('fedadmin');
      const device = await session.device();

      // First sign-in: the provider vouches, the person sets up a passkey (no invite), and only then has a session.
      await toProvider(device, 'oidc-login-page');
      await signInAtProvider(device, username, 'oidc-provider-sign-in');
      const setUp = await passkeyStep(device, 'Set up a passkey');
      expect(await device.sessionCookie()).toBeUndefined();
      await device.screenshot('oidc-passkey-set-up');
      await device.setPresence(true);
      await setUp.click();
      await device.page.waitForURL((url) => url.pathname === '/dags');
      await device.page.getByRole('link', { name: stack().exampleDagId, exact: true }).waitFor();
      await device.screenshot('oidc-dags-after-passkey');
      expect(await device.sessionCookie()).toBeDefined();
      // ADMIN through the provider's airflow-admins group: Airflow's admin-only resources answer.
      expect(stack().roleMapping[GROUPS.admin]).toBe('ADMIN');
      expect(await status(device, '/api/v2/connections')).toBe(200);
      const [credential] = await device.credentials();
      expect(credential).toMatchObject({ rpId: 'localhost', isResidentCredential: true });
      const created = await admin.user(username);
      expect(created).toMatchObject({ idp: idp().issuer, groups: [GROUPS.admin], lastIdpLoginAt: expect.any(String) });
      expect(created.passkeys).toHaveLength(1);

      // Next time (signed out of both Airflow and the provider): the provider again, then the passkey just made.
      await device.context.clearCookies();
      await device.setPresence(false);
      await toProvider(device);
      await signInAtProvider(device, username);
      const confirm = await passkeyStep(device, 'Continue with passkey');
      await device.screenshot('oidc-passkey-continue');
      await device.setPresence(true);
      await confirm.click();
      await device.page.waitForURL((url) => url.pathname === '/dags');
      await device.page.getByRole('link', { name: stack().exampleDagId, exact: true }).waitFor();
      const after = await admin.user(username);
      expect(after.passkeys).toHaveLength(1); // confirmed, not a second enrollment
      expect(after.passkeys[0]!.lastUsedAt).toEqual(expect.any(String));
      expect(Date.parse(after.lastIdpLoginAt!)).toBeGreaterThan(Date.parse(created.lastIdpLoginAt!));
      expect((await device.credentials())[0]!.signCount).toBeGreaterThan(credential!.signCount);

      // On the administration page (confirmed with the same passkey), the users table names their provider.
      await openAdminPage(device);
      const row = device.page
        .locator('#users-table tbody tr')
        .filter({ has: device.page.getByRole('cell', { name: username, exact: true }) });
      await row.getByRole('cell', { name: idp().issuer, exact: true }).waitFor();
      const headers = await device.page.locator('#users-table thead th').allInnerTexts();
      const lastIdp = await row.locator('td').nth(headers.indexOf('Last IdP sign-in')).innerText();
      expect(lastIdp).toBe(`${new Date(after.lastIdpLoginAt!).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
      await device.page
        .locator('section[aria-labelledby="users-title"]')
        .screenshot({ path: join(SCREENSHOTS, 'oidc-admin-users.png') });
    },
  );

  browserTest(
    'a viewer-only group signs in with the provider alone (FEDERATION_PASSKEY_REQUIRED_GROUPS leaves it out)',
    async (session) => {
      expect(idp().FEDERATION_PASSKEY_REQUIRED_GROUPS.split(',')).not.toContain(GROUPS.viewer);
      const username = uniqueName('fedviewer');
      const device = await session.device();
      await toProvider(device);
      await signInAtProvider(device, username);
      await device.page.waitForURL((url) => url.pathname === '/dags');
      await device.page.getByRole('link', { name: stack().exampleDagId, exact: true }).waitFor();
      expect(await device.credentials()).toEqual([]); // no passkey was asked for or made
      expect(await status(device, '/api/v2/dags')).toBe(200);
      expect(await status(device, '/api/v2/connections')).toBe(403); // VIEWER, from the provider's it-viewers
      expect(await admin.user(username)).toMatchObject({ idp: idp().issuer, groups: [GROUPS.viewer], passkeys: [] });
    },
  );

  browserTest('cancelling the passkey step leaves no session, and the step cannot be resumed', async (session) => {
    const device = await session.device();
    await toProvider(device);
    await signInAtProvider(device, uniqueName('fedadmin'));
    await passkeyStep(device, 'Set up a passkey');
    await device.page.getByRole('link', { name: 'Cancel' }).click();
    await device.page.waitForURL(
      (url) => url.pathname.endsWith('/auth/login') && url.searchParams.get('oidc_error') === 'passkey_failed',
    );
    await device.page
      .getByRole('alert')
      .filter({ hasText: 'The passkey step was not completed, so no session was created.' })
      .waitFor();
    await device.screenshot('oidc-passkey-cancelled');
    expect(await device.sessionCookie()).toBeUndefined();
    expect(await device.credentials()).toEqual([]);
    expect(await status(device, '/api/v2/dags')).toBe(401);
    // The waiting sign-in went with its cookie: the passkey page now sends the person back to the start.
    await device.page.goto(`${airflow()}/auth/oidc/passkey`);
    await device.page.waitForURL((url) => url.searchParams.get('oidc_error') === 'state_invalid');
  });

  browserTest(
    'signing out at the provider ends the live Airflow session (back-channel logout) within the re-check interval',
    async (session) => {
      const username = uniqueName('fedviewer');
      const device = await session.device();
      await toProvider(device);
      await signInAtProvider(device, username);
      await device.page.waitForURL((url) => url.pathname === '/dags');
      expect(await status(device, '/api/v2/dags')).toBe(200);

      // The person signs out at the provider, which posts a logout token to Airflow's /auth/oidc/backchannel-logout.
      await device.page.goto(`${idp().issuer}/session/end`);
      const yes = device.page.getByRole('button', { name: 'Yes, sign me out' });
      await yes.waitFor();
      await device.screenshot('oidc-provider-sign-out');
      await yes.click();
      await device.page.getByRole('heading', { name: 'Signed out' }).waitFor();
      const signedOut = Date.now();
      // The same Airflow cookie, still in the browser, stops working at its next confirmation.
      while ((await status(device, '/api/v2/dags')) === 200) {
        expect(Date.now() - signedOut).toBeLessThan(SESSION_END_LIMIT_MS);
        await new Promise((r) => setTimeout(r, 200));
      }
      process.stdout.write(
        `back-channel logout: session refused ${Date.now() - signedOut} ms after the provider's sign-out\n`,
      );
      expect([401, 403]).toContain(await status(device, '/api/v2/dags'));
      await device.page.goto(`${airflow()}/dags`);
      await device.page.waitForURL((url) => url.pathname.endsWith('/auth/login')); // Airflow's UI sends them to sign in
      expect((await admin.user(username)).groups).toEqual([]);
    },
  );

  browserTest(
    'a person outside OIDC_ALLOWED_GROUPS, and a refusal at the provider, each get one clear message and no session',
    async (session) => {
      expect(idp().OIDC_ALLOWED_GROUPS.split(',')).not.toContain('it-contractors');
      const device = await session.device();
      await toProvider(device);
      await signInAtProvider(device, uniqueName('fedoutsider'));
      await device.page.waitForURL(
        (url) => url.pathname.endsWith('/auth/login') && url.searchParams.get('oidc_error') === 'not_allowed',
      );
      const alert = device.page.getByRole('alert');
      await alert.filter({ hasText: 'not in a group allowed to sign in to Airflow' }).waitFor();
      expect(await alert.count()).toBe(1);
      await device.screenshot('oidc-error-not-allowed');
      expect(await device.sessionCookie()).toBeUndefined();

      // The person presses "Cancel" at the provider instead: the provider refuses, Airflow says so.
      await device.context.clearCookies();
      await toProvider(device);
      await device.page.getByRole('button', { name: 'Cancel' }).click();
      await device.page.waitForURL(
        (url) => url.pathname.endsWith('/auth/login') && url.searchParams.get('oidc_error') === 'idp_refused',
      );
      await device.page.getByRole('alert').filter({ hasText: 'Your identity provider did not sign you in' }).waitFor();
      expect(await device.sessionCookie()).toBeUndefined();
    },
  );
});
