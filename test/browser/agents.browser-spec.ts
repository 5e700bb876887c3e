/**
 * "Agents acting for you" on the Passkeys page, in a real browser with a virtual authenticator: an agent asks
 * Airflow's /auth/device/code with its own client authentication and a dag: scope, the person approves on
 * /auth/device with a passkey confirmation for the days they choose (never more than DELEGATION_MAX_DAYS), the
 * agent's delegated token works on Airflow's REST API; the person sees the agent (name, scope, state) on the
 * Passkeys page, revokes it there, and the agent's token is refused. A person also grants an agent from the
 * Passkeys page (its refresh token shown once); the agent's DAG run names both in Airflow's own run view; an
 * admin lists the person's delegations and revokes it.
 */
import { expectStatus, openAdminPage } from './support/admin-page';
import { join } from 'node:path';
import { browserTest, Device, SCREENSHOTS, useBrowser } from './support/browser';
import { admin, signedInPerson } from './support/people';
import { GROUPS, stack, uniqueName } from './support/stack';

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
  // The duration: at most DELEGATION_MAX_DAYS (offered by default); the page states the end of what is chosen.
  const days = page.getByLabel('For how many days');
  const max = Number(await page.locator('#req-max-days').innerText());
  expect(await days.inputValue()).toBe(String(max));
  await days.fill('7');
  const ends = Date.parse((await page.locator('#req-ends').innerText()).replace(' UTC', ':00Z').replace(' ', 'T'));
  expect(Math.abs(ends - (Date.now() + 7 * 86_400_000))).toBeLessThan(120_000);
  await device.screenshot('agent-approval');
  // More than the most is refused on the page, before the service (which refuses it too: 400).
  await days.fill(String(max + 1));
  await page.getByRole('button', { name: 'Approve' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: `Choose for how many days the agent may act for you: 1 to ${max}` })
    .waitFor();
  expect(await page.locator('#req-ends').innerText()).toMatch(/Choose from 1 to/);
  await days.fill('7');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.locator('#decision').waitFor({ state: 'hidden' });
  await page.getByText(/Only on what you approved, for 7 days: until/).waitFor();
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

describe('a person grants an agent from the Passkeys page; an admin sees and revokes it', () => {
  useBrowser();

  browserTest(
    "the grant shows the agent's refresh token once; the agent's DAG run names both in Airflow's UI; the admin revokes",
    async (session) => {
      const person = await signedInPerson(session, { prefix: 'alice' });
      const { page } = person.device;
      const name = uniqueName('copilot');
      const agent = await admin.call<{ clientId: string; clientSecret: string }>('POST', '/service-accounts', {
        name,
        agent: true,
      });

      await page.goto(`${stack().airflowUrl}/auth/passkeys`);
      await page.getByRole('button', { name: 'Choose an agent…' }).click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Confirm with your passkey' }).click();
      const form = page.locator('#grant-form:not([hidden])');
      await form.waitFor();
      // Names and client ids only: never a secret on the page.
      expect(await page.content()).not.toContain(agent.clientSecret);
      await page.getByLabel('Agent', { exact: true }).selectOption(agent.clientId);
      await page.getByLabel('DAGs and actions, one per line').fill('dag:trigger:id=finance_*\ndag:read:id=finance_*');
      await page.getByLabel(/For how many days/).fill('5');
      // The section only: a full-page screenshot resizes the viewport, after which Chromium's next click can land on
      // the form instead of its button.
      await page.locator('#agents').screenshot({ path: join(SCREENSHOTS, 'agent-grant-form.png') });
      await page.getByRole('button', { name: 'Let it act for me' }).click();
      await page.locator('#grant-shown:not([hidden])').waitFor();
      const refreshToken = await page.getByLabel("The agent's refresh token").inputValue();
      expect(refreshToken).toMatch(/^afdr_/);
      const row = page.locator('#delegation-list').getByRole('listitem').filter({ hasText: name });
      await row.waitFor();
      expect(await row.innerText()).toMatch(/May: dag:read:id=finance_\* dag:trigger:id=finance_\* · Active until/);
      await page.locator('#agents').screenshot({ path: join(SCREENSHOTS, 'agent-grant-token.png') });
      // Shown once: a reload shows the delegation, never the token again.
      await page.reload();
      await row.waitFor();
      expect(await page.content()).not.toContain(refreshToken);

      // The agent redeems it with its own client authentication, then triggers a DAG in scope on Airflow.
      const basic = `Basic ${Buffer.from(`${agent.clientId}:${agent.clientSecret}`).toString('base64')}`;
      const redeemed = await fetch(`${stack().serviceUrl}/v1/oauth/token`, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
      });
      expect(redeemed.status).toBe(200);
      const { access_token: token, refresh_token: next } = (await redeemed.json()) as {
        access_token: string;
        refresh_token: string;
      };
      const bearer = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
      const triggered = await fetch(`${stack().airflowUrl}/api/v2/dags/finance_daily/dagRuns`, {
        method: 'POST',
        headers: bearer,
        body: JSON.stringify({ logical_date: null }),
      });
      expect(triggered.status).toBe(200);
      const run = (await triggered.json()) as { dag_run_id: string; triggering_user_name: string };
      const actor = `${name} (for ${person.username})`;
      expect(run.triggering_user_name).toBe(actor);
      const outOfScope = await fetch(`${stack().airflowUrl}/api/v2/dags/marketing_daily/dagRuns`, {
        method: 'POST',
        headers: bearer,
        body: JSON.stringify({ logical_date: null }),
      });
      expect(outOfScope.status).toBe(403);

      // Airflow's own run view (Airflow 3 UI, the run's details) names the agent and the person.
      await page.goto(`${stack().airflowUrl}/dags/finance_daily/runs/${encodeURIComponent(run.dag_run_id)}/details`);
      await page.getByText(actor, { exact: true }).first().waitFor({ timeout: 30_000 });
      await person.device.screenshot('agent-dag-run');

      // The admin lists the person's delegations and revokes this one.
      const boss = await signedInPerson(session, { groups: [GROUPS.admin], prefix: 'admin' });
      await openAdminPage(boss.device);
      await boss.device.page.getByLabel('Person', { exact: true }).fill(person.username);
      await boss.device.page.getByRole('button', { name: 'Show delegations' }).click();
      const adminRow = boss.device.page.locator('#delegations-table tbody tr').filter({ hasText: name });
      await adminRow.waitFor();
      expect(await adminRow.innerText()).toMatch(/dag:read:id=finance_\* dag:trigger:id=finance_\*[\s\S]*Live/);
      // The agent refreshed once: its last refresh is shown, not "Never".
      expect(await adminRow.locator('td').nth(5).innerText()).toMatch(/^\d{4}-\d{2}-\d{2}\s\d{2}:\d{2} UTC$/);
      await boss.device.page.getByLabel('Agent', { exact: true }).fill(agent.clientId);
      await boss.device.page.getByRole('button', { name: 'Show delegations' }).click();
      await boss.device.page
        .locator('#delegations-summary')
        .filter({ hasText: `Showing 1 delegation of ${person.username} to agent ${agent.clientId}.` })
        .waitFor();
      await boss.device.page
        .locator('section[aria-labelledby="delegations-title"]')
        .screenshot({ path: join(SCREENSHOTS, 'admin-delegations.png') });
      await adminRow.getByRole('button', { name: `Revoke ${name} for ${person.username}` }).click();
      const confirm = boss.device.page.getByRole('dialog', { name: `Revoke ${name} for ${person.username}?` });
      await confirm.getByRole('button', { name: 'Revoke delegation' }).click();
      await expectStatus(boss.device, /Revoked:/);
      await adminRow.filter({ hasText: 'Revoked' }).waitFor();

      // Ended for good: the agent's newest refresh token no longer works.
      const after = await fetch(`${stack().serviceUrl}/v1/oauth/token`, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: next }).toString(),
      });
      expect(((await after.json()) as { error: string }).error).toBe('invalid_grant');
    },
    180_000,
  );
});
