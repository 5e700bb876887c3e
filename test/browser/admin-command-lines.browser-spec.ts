/**
 * Command lines on the administration page, in a real browser: a person signs airflowctl in with a one-time code
 * (Passkeys page, then Airflow's POST /auth/token/cli, as airflowctl does); an admin sees that command line under the
 * person (address, client, signed in, last use) and signs it out; Airflow then refuses the command line's token once
 * it re-checks it, and the audit trail names the admin.
 */
import { join } from 'node:path';
import { expectStatus, openAdminPage } from './support/admin-page';
import { browserTest, Device, SCREENSHOTS, useBrowser } from './support/browser';
import { admin, signedInPerson } from './support/people';
import { GROUPS, stack } from './support/stack';

const CLIENT = 'airflowctl/0.1.5';

/** The person's own steps: a code after a passkey confirmation, then airflowctl's sign-in; returns its token. */
async function signCommandLineIn(device: Device, username: string): Promise<string> {
  const { page } = device;
  await page.goto(`${stack().airflowUrl}/auth/passkeys`);
  await page.getByRole('button', { name: 'Create a one-time code' }).click();
  const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
  await dialog.getByRole('button', { name: 'Confirm with your passkey' }).click();
  await page.locator('#cli-code-shown').waitFor();
  const code = await page.getByLabel(/One-time code/).inputValue();
  const res = await fetch(`${stack().airflowUrl}/auth/token/cli`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': CLIENT },
    body: JSON.stringify({ username, password: code }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { access_token: string }).access_token;
}

const dagsStatus = async (token: string) =>
  (await fetch(`${stack().airflowUrl}/api/v2/dags`, { headers: { Authorization: `Bearer ${token}` } })).status;

describe("an admin signs a person's command line out on the administration page", () => {
  useBrowser();

  browserTest(
    'the command line is listed under its person with address, client and times; signed out, Airflow refuses it',
    async (session) => {
      const person = await signedInPerson(session, { prefix: 'terminal-user' });
      const token = await signCommandLineIn(person.device, person.username);
      expect(await dagsStatus(token)).toBe(200);

      const { device, username: adminName } = await signedInPerson(session, {
        groups: [GROUPS.admin],
        prefix: 'cli-admin',
      });
      const { page } = device;
      await openAdminPage(device);
      await page.getByRole('button', { name: `Command lines of ${person.username}`, exact: true }).click();
      const line = page
        .locator(`#users-table ul[data-command-lines-of]`)
        .getByRole('listitem')
        .filter({ hasText: CLIENT });
      await line.waitFor();
      // The relay's address as the service saw it, and both times in the page's one convention (UTC, zone shown).
      expect(await line.innerText()).toMatch(/Signed in \d{4}-\d\d-\d\d \d\d:\d\d UTC from \S+ · Last used \d{4}-/);
      // Another person's panel does not show it.
      await page.getByRole('button', { name: `Command lines of ${adminName}`, exact: true }).click();
      await page.getByText(`No command line is signed in as ${adminName}.`).waitFor();
      await page.getByRole('button', { name: `Command lines of ${adminName}`, exact: true }).click();
      // The Users section only: the whole page is four screens long.
      await page
        .locator('section[aria-labelledby="users-title"]')
        .screenshot({ path: join(SCREENSHOTS, 'admin-command-lines.png') });

      await line.getByRole('button', { name: new RegExp(`^Sign out ${CLIENT} of ${person.username}`) }).click();
      const confirm = page.getByRole('dialog', { name: `Sign out “${CLIENT}” of ${person.username}?` });
      await confirm.getByRole('button', { name: 'Sign out command line' }).click();
      await expectStatus(device, new RegExp(`of ${person.username} is signed out`));
      await page.getByText(`No command line is signed in as ${person.username}.`).waitFor();

      // Airflow's next re-check of the command line finds it gone (recheck + grace in this stack: seconds).
      const deadline = Date.now() + 15_000;
      let status = await dagsStatus(token);
      while (status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = await dagsStatus(token);
      }
      expect(status).toBe(401);

      const personId = (await admin.user(person.username)).id;
      const adminId = (await admin.user(adminName)).id;
      const events = await admin.call<{ items: Array<{ actorId: string; subjectId: string }> }>(
        'GET',
        `/audit?type=cli_session.revoked&subject=${personId}`,
      );
      expect(events.items).toEqual([expect.objectContaining({ actorId: adminId, subjectId: personId })]);
    },
    120_000,
  );
});
