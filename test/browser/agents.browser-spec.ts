/**
 * "Agents acting for you" on the Passkeys page, in a real browser with a virtual authenticator: an agent asks
 * Airflow's /auth/device/code with its own client authentication and a dag: scope, the person approves on
 * /auth/device with a passkey confirmation, the agent's delegated token works on Airflow's REST API; the person
 * sees the agent (name, scope, state) on the Passkeys page, revokes it there, and the agent's token is refused.
 */
import { browserTest, Device, useBrowser } from './support/browser';
import { admin, signedInPerson } from './support/people';
import { stack, uniqueName } from './support/stack';

const SCOPE = 'dag:trigger:id=finance_*';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function form(basic: string, body: Record<string, string>, path: string): Promise<Response> {
  return fetch(`${stack().airflowUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
}

async function approveOnDevicePage(device: Device, code: string): Promise<void> {
  const { page } = device;
  await page.goto(`${stack().airflowUrl}/auth/device`);
  await page.getByLabel('Code shown by the command line').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Confirm with your passkey' }).click();
  await page.locator('#device-request:not([hidden])').waitFor();
  await device.screenshot('agent-approval');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.locator('#decision').waitFor({ state: 'hidden' });
}

async function dagsStatus(token: string): Promise<number> {
  return (await fetch(`${stack().airflowUrl}/api/v2/dags`, { headers: { Authorization: `Bearer ${token}` } })).status;
}

describe('agents acting for a person', () => {
  useBrowser();

  browserTest(
    'the person approves an agent with a passkey, sees it under "Agents acting for you" and revokes it there',
    async (session) => {
      const { device } = await signedInPerson(session, { prefix: 'delegator' });
      const { page } = device;
      const name = uniqueName('copilot');
      const agent = await admin.call<{ clientId: string; clientSecret: string }>('POST', '/service-accounts', {
        name,
        agent: true,
      });
      const basic = `Basic ${Buffer.from(`${agent.clientId}:${agent.clientSecret}`).toString('base64')}`;
      const started = await form(basic, { scope: SCOPE }, '/auth/device/code');
      expect(started.status).toBe(200);
      const asked = (await started.json()) as { user_code: string; device_code: string; interval?: number };

      await approveOnDevicePage(device, asked.user_code);
      let polled: Response;
      const deadline = Date.now() + 30_000;
      do {
        await new Promise((resolve) => setTimeout(resolve, (asked.interval ?? 5) * 1000));
        polled = await form(basic, { grant_type: DEVICE_GRANT, device_code: asked.device_code }, '/auth/device/token');
      } while (polled.status !== 200 && Date.now() < deadline);
      expect(polled.status).toBe(200);
      const { access_token: token } = (await polled.json()) as { access_token: string };
      expect(await dagsStatus(token)).toBe(200);

      await page.goto(`${stack().airflowUrl}/auth/passkeys`);
      await page.locator('#delegation-list[aria-busy="false"]').waitFor();
      const show = page.getByRole('button', { name: 'Show agents acting for you' });
      if (await show.isVisible()) {
        await show.click();
        const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
        await dialog.waitFor();
        await dialog.getByRole('button', { name: 'Confirm with your passkey' }).click();
      }
      const row = page.locator('#delegation-list').getByRole('listitem').filter({ hasText: name });
      await row.waitFor();
      expect(await row.innerText()).toMatch(/May: dag:trigger:id=finance_\* · Active until/);
      await device.screenshot('agents-acting-for-you');

      await row.getByRole('button', { name: `Revoke ${name}` }).click();
      const confirm = page.getByRole('dialog', { name: 'Revoke this agent?' });
      await confirm.waitFor();
      await confirm.getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('status').filter({ hasText: 'Revoked.' }).waitFor();
      expect(await row.innerText()).toMatch(/Revoked/);

      const refusedBy = Date.now() + 15_000;
      let status = 200;
      while (status === 200 && Date.now() < refusedBy) {
        status = await dagsStatus(token);
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(status).toBe(401);
    },
    120_000,
  );
});
