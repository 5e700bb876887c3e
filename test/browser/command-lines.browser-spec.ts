/**
 * "Sign in a command line" on the Passkeys page, in a real browser with a virtual authenticator: the person confirms
 * with their passkey, gets a one-time code shown once with the airflowctl command, signs a command line in with it on
 * Airflow's POST /auth/token/cli (what airflowctl does), sees it listed, and signs it out again.
 */
import { browserTest, Device, useBrowser } from './support/browser';
import { signedInPerson } from './support/people';
import { stack } from './support/stack';

async function openPasskeysPage(device: Device): Promise<void> {
  await device.page.goto(`${stack().airflowUrl}/auth/passkeys`);
  await device.page.getByRole('heading', { name: 'Passkeys', level: 1 }).waitFor();
  await device.page.locator('#command-line-list[aria-busy="false"]').waitFor();
}

/** What airflowctl posts; the caller checks the answer. */
function airflowctlLogin(username: string, password: string): Promise<Response> {
  return fetch(`${stack().airflowUrl}/auth/token/cli`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'airflowctl/0.1.5' },
    body: JSON.stringify({ username, password }),
  });
}

describe('signing a command line in from the Passkeys page', () => {
  useBrowser();

  browserTest(
    'a code is shown once after a passkey confirmation, signs a command line in once, and can be revoked',
    async (session) => {
      const { device, username } = await signedInPerson(session, { prefix: 'terminal' });
      const { page } = device;
      await openPasskeysPage(device);
      expect(await page.locator('#command-line-list').innerText()).toMatch(/No command line is signed in as you/);

      await page.getByRole('button', { name: 'Create a one-time code' }).click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Confirm with your passkey' }).click();
      await page.locator('#cli-code-shown').waitFor();
      const code = await page.getByLabel(/One-time code/).inputValue();
      expect(code).toMatch(/^afcli_[A-Za-z0-9_-]{32}$/);
      expect(await page.locator('#cli-command').innerText()).toBe(
        `airflowctl auth login --api-url ${stack().airflowUrl} --username ${username}`,
      );
      await page.locator('#pending-codes').getByText('Unused code').waitFor();
      await device.screenshot('cli-code-created');

      const signedIn = await airflowctlLogin(username, code);
      expect(signedIn.status).toBe(201);
      const { access_token: token } = (await signedIn.json()) as { access_token: string };
      const dags = await fetch(`${stack().airflowUrl}/api/v2/dags`, { headers: { Authorization: `Bearer ${token}` } });
      expect(dags.status).toBe(200);
      expect((await airflowctlLogin(username, code)).status).toBe(401);

      await openPasskeysPage(device);
      const line = page.locator('#command-line-list').getByRole('listitem').filter({ hasText: 'airflowctl/0.1.5' });
      await line.waitFor();
      expect(await line.innerText()).toMatch(/Signed in \S+.*Last used \S+/);
      await device.screenshot('cli-command-lines');

      await line.getByRole('button', { name: /^Sign out airflowctl/ }).click();
      const confirm = page.getByRole('dialog', { name: 'Revoke?' });
      await confirm.waitFor();
      await confirm.getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('status').filter({ hasText: 'Revoked.' }).waitFor();
      expect(await page.locator('#command-line-list').innerText()).toMatch(/No command line is signed in as you/);
      // Signed out: the token it holds is refused once Airflow re-checks it.
      const deadline = Date.now() + 15_000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        status = (await fetch(`${stack().airflowUrl}/api/v2/dags`, { headers: { Authorization: `Bearer ${token}` } }))
          .status;
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(status).toBe(401);
    },
  );
});
