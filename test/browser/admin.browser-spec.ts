/**
 * The administration page (/auth/admin) driven by an Airflow ADMIN in a real browser: every action goes through the
 * page (after "Confirm it's you"), and its effect is checked on the auth service itself.
 */
import { expectStatus, openAdminPage } from './support/admin-page';
import { browserTest, Device, enroll, openLoginPage, useBrowser } from './support/browser';
import { admin, signedInPerson } from './support/people';
import { clientCredentialsGrant, GROUPS, Invite, stack, uniqueName } from './support/stack';

/** Press a row's button, then the confirmation dialog's button. */
async function confirmAction(device: Device, rowButton: string, confirmButton: string): Promise<void> {
  await device.page.getByRole('button', { name: rowButton, exact: true }).click();
  await device.page.getByRole('dialog').getByRole('button', { name: confirmButton }).click();
}

function userRow(device: Device, username: string) {
  return device.page
    .locator('#users-table tbody tr')
    .filter({ has: device.page.getByRole('cell', { name: username, exact: true }) });
}

describe('the administration page in a real browser', () => {
  useBrowser();

  browserTest(
    "an admin opens the page from Airflow's Security menu, where it is labelled Users and framed in Airflow",
    async (session) => {
      const { device } = await signedInPerson(session, { groups: [GROUPS.admin], prefix: 'admin-menu' });
      const { page } = device;
      await page.goto(`${stack().airflowUrl}/`);
      await page.getByRole('button', { name: 'Security' }).click();
      const item = page.getByRole('menuitem', { name: 'Users' });
      expect((await item.innerText()).trim()).toBe('Users'); // Airflow's UI shows its own translation of the label
      // The only item there: everyone's Passkeys item is in the user menu (a Security item would read security.passkeys).
      expect(await page.getByRole('menuitem').allInnerTexts()).toEqual(['Users']);
      await item.click();
      await page.waitForURL(/\/security\/users$/);
      await page.frameLocator('iframe').getByRole('heading', { name: 'Administration', level: 1 }).waitFor();
      await device.screenshot('admin-in-airflow-menu');
    },
  );

  browserTest(
    'pending invites name who created them: a service account (the CLI) by its name, a person by username, never an id',
    async (session) => {
      const { device, username } = await signedInPerson(session, { groups: [GROUPS.admin], prefix: 'admin-names' });
      const { page } = device;
      // As `airflow webauthn invite create` does: through the admin API with a service account's token.
      const byScript = uniqueName('by-script');
      await admin.createInvite(byScript, [GROUPS.viewer]);
      const accounts = await admin.call<Array<{ id: string; name: string; clientId: string }>>(
        'GET',
        '/service-accounts',
      );
      const cli = accounts.find((a) => a.clientId === stack().adminClient.clientId)!;

      await openAdminPage(device);
      const byPerson = uniqueName('by-person');
      await page.getByLabel('Username', { exact: true }).fill(byPerson);
      await page.getByRole('button', { name: 'Create invite' }).click();
      await expectStatus(device, new RegExp(`Invite created for ${byPerson}`));

      const createdBy = async (invitee: string) => {
        const row = page
          .locator('#invites-table tbody tr')
          .filter({ has: page.getByRole('cell', { name: invitee, exact: true }) });
        return (await row.locator('td').nth(2).innerText()).trim();
      };
      await page.locator('#invites-table').getByRole('cell', { name: byPerson, exact: true }).waitFor();
      expect(await createdBy(byScript)).toBe(cli.name);
      expect(await createdBy(byPerson)).toBe(username);
      const personId = (await admin.user(username)).id;
      expect(await page.locator('#invites-table').innerText()).not.toContain(cli.id);
      expect(await page.locator('#invites-table').innerText()).not.toContain(personId);

      // One time convention on the page, zone shown (UTC, as on the enrollment page).
      const expiry = page
        .locator('#invites-table tbody tr')
        .filter({ has: page.getByRole('cell', { name: byScript, exact: true }) })
        .locator('td')
        .nth(1);
      expect((await expiry.innerText()).trim()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);

      // Token grants (this person's sign-in made one) are collapsed in the audit trail unless asked for.
      const auditTypes = () =>
        page
          .locator('#audit-table tbody tr')
          .evaluateAll((rows) =>
            rows.map((r) => (r as unknown as { cells: Array<{ innerText: string }> }).cells[1]?.innerText ?? ''),
          );
      await page.getByLabel('Subject').fill(username);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(device, /Showing \d+ events/, 'info');
      expect(await auditTypes()).not.toContain('token.issued');
      expect(await page.locator('#audit-hidden-grants').innerText()).toMatch(
        /\d+ token grants \(token\.issued\) hidden/,
      );
      await page.getByLabel('Show token grants').check();
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(device, /Showing \d+ events/, 'info');
      expect(await auditTypes()).toContain('token.issued');
    },
  );

  browserTest(
    'an admin invites a person, who enrolls with the link; then disables, enables and revokes their passkey',
    async (session) => {
      const { device } = await signedInPerson(session, { groups: [GROUPS.admin], prefix: 'admin' });
      const { page } = device;
      await device.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack().airflowUrl });
      await openAdminPage(device);
      await device.screenshot('admin-page');

      // Invite: the page shows the one-time link and when it expires.
      const invitee = uniqueName('invitee');
      await page.getByLabel('Username', { exact: true }).fill(invitee);
      await page.getByLabel('Display name').fill('Ivy Invitee');
      await page.getByRole('combobox', { name: 'Groups (optional)' }).fill(`${GROUPS.user}`);
      await page.getByRole('button', { name: 'Create invite' }).click();
      await expectStatus(device, new RegExp(`Invite created for ${invitee}`));
      const link = await page.getByLabel('Invite link').inputValue();
      expect(link).toMatch(new RegExp(`^${stack().airflowUrl}/auth/enroll\\?invite=[A-Za-z0-9_-]{20,}$`));
      expect(await page.locator('#invite-expiry').innerText()).toMatch(/expires/);
      const pending = (await admin.invites()).find((i) => i.username === invitee);
      expect(pending).toMatchObject({ state: 'pending' });
      await page.getByRole('button', { name: 'Copy link' }).click();
      await expectStatus(device, /Invite link copied/);
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(link);
      await device.screenshot('admin-invite-created');

      // The invitee uses the link on their own device.
      const inviteeDevice = await session.device();
      const token = new URL(link).searchParams.get('invite')!;
      await enroll(
        inviteeDevice,
        { id: pending!.id, username: invitee, token, url: link, expiresAt: '' } satisfies Invite,
        'Invitee phone',
      );
      expect(await admin.user(invitee)).toMatchObject({ displayName: 'Ivy Invitee', groups: [GROUPS.user] });

      // Disable them: the service refuses their sign-in; enable them again.
      await page.reload();
      await page.locator('#users-table tbody tr:not(.empty)').first().waitFor();
      await confirmAction(device, `Disable ${invitee}`, 'Disable user');
      await expectStatus(device, new RegExp(`${invitee} is disabled`));
      await userRow(device, invitee).getByRole('cell', { name: 'Disabled', exact: true }).waitFor();
      expect((await admin.user(invitee)).disabled).toBe(true);
      await openLoginPage(inviteeDevice);
      await inviteeDevice.setPresence(true);
      await inviteeDevice.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await inviteeDevice.page
        .getByRole('status')
        // Said as it is: the passkey was fine, the account is disabled.
        .filter({ hasText: /This account is disabled\. Ask an administrator/ })
        .waitFor();
      expect(await inviteeDevice.sessionCookie()).toBeUndefined();

      await page.getByRole('button', { name: `Enable ${invitee}`, exact: true }).click();
      await expectStatus(device, new RegExp(`${invitee} is enabled again`));
      expect((await admin.user(invitee)).disabled).toBe(false);

      // Revoke their passkey from the list of their passkeys.
      await page.getByRole('button', { name: `Passkeys of ${invitee}` }).click();
      await confirmAction(device, 'Revoke Invitee phone', 'Revoke passkey');
      await expectStatus(device, /Revoked “Invitee phone”/);
      expect((await admin.user(invitee)).passkeys[0]!.revokedAt).not.toBeNull();
      await device.screenshot('admin-passkey-revoked');
    },
  );

  browserTest(
    'an admin creates a service account (secret shown once), rotates keys and filters the audit trail',
    async (session) => {
      const { device } = await signedInPerson(session, { groups: [GROUPS.admin], prefix: 'keyadmin' });
      const { page } = device;
      // Enough events of one type for more than one page of the audit table (the page shows 50 at a time).
      const bulk = uniqueName('bulk');
      for (let i = 0; i < 51; i += 1) await admin.createInvite(`${bulk}-${i}`, [GROUPS.viewer]);
      await openAdminPage(device);

      // Service account: the secret is on the page once, and it works.
      const name = uniqueName('ci-deployer');
      await page.getByLabel('Account name').fill(name);
      await page.getByLabel('Group membership').fill(GROUPS.viewer);
      await page.getByRole('button', { name: 'Create service account' }).click();
      await expectStatus(device, /shown only once/);
      const clientId = await page.getByLabel('Client ID').inputValue();
      const clientSecret = await page.getByLabel('Client secret', { exact: true }).inputValue();
      expect(clientId).not.toBe('');
      expect(clientSecret.length).toBeGreaterThanOrEqual(32);
      await device.screenshot('admin-service-account-secret');
      const grant = await clientCredentialsGrant(clientId, clientSecret);
      expect(grant.status).toBe(200);
      await page.locator('#service-accounts-table').getByRole('cell', { name, exact: true }).waitFor();
      expect(await page.locator('#service-accounts-table').innerText()).not.toContain(clientSecret);
      await page.reload();
      await page.locator('#service-accounts-table').getByRole('cell', { name, exact: true }).waitFor();
      expect(await page.getByLabel('Client secret', { exact: true }).isVisible()).toBe(false);
      expect(await page.content()).not.toContain(clientSecret); // never shown again
      const kindOf = async (account: string) =>
        (
          await page
            .locator('#service-accounts-table tbody tr')
            .filter({ has: page.getByRole('cell', { name: account, exact: true }) })
            .locator('td')
            .nth(2)
            .innerText()
        ).trim();
      expect(await kindOf(name)).toBe('Service account');

      // An agent is made the same way, with its box ticked: the service knows it as one, and the table says so.
      const agentName = uniqueName('copilot');
      await page.getByLabel('Account name').fill(agentName);
      await page.getByLabel('An agent').check();
      await page.getByRole('button', { name: 'Create service account' }).click();
      await expectStatus(device, new RegExp(`Service account ${agentName} created`));
      const accounts = await admin.call<Array<{ name: string; agent: boolean }>>('GET', '/service-accounts');
      expect(accounts.find((a) => a.name === agentName)?.agent).toBe(true);
      await page.locator('#service-accounts-table').getByRole('cell', { name: agentName, exact: true }).waitFor();
      expect(await kindOf(agentName)).toBe('Agent');

      // Rotate signing keys: a different key is active afterwards, on the page and in the service.
      const activeBefore = (await admin.call<Array<{ kid: string; state: string }>>('GET', '/keys')).find(
        (k) => k.state === 'active',
      )!;
      await confirmAction(device, 'Rotate signing keys', 'Rotate keys');
      await expectStatus(device, /Signing keys rotated/);
      const keys = await admin.call<Array<{ kid: string; state: string }>>('GET', '/keys');
      const activeAfter = keys.find((k) => k.state === 'active')!;
      expect(activeAfter.kid).not.toBe(activeBefore.kid);
      expect(keys.find((k) => k.kid === activeBefore.kid)!.state).not.toBe('active');
      const keysTable = page.locator('#keys-table');
      await keysTable.getByRole('row').filter({ hasText: activeAfter.kid }).filter({ hasText: 'active' }).waitFor();

      // Audit trail: filter by event type and outcome, then page through with "Load more".
      await page.getByLabel('Event type').fill('key.rotated');
      await page.getByLabel('Outcome').selectOption('success');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(device, /Showing \d+ events/, 'info');
      const auditRows = page.locator('#audit-table tbody tr');
      const events = await auditRows.evaluateAll((rows) =>
        rows.map((r) => (r as unknown as { innerText: string }).innerText),
      );
      expect(events.length).toBeGreaterThanOrEqual(1);
      for (const event of events) expect(event).toMatch(/key\.rotated\s+success/);
      await device.screenshot('admin-audit-filtered');

      await page.getByLabel('Event type').fill('invite.created');
      await page.getByLabel('Outcome').selectOption('');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(device, /Showing 50\+ events/, 'info');
      expect(await auditRows.count()).toBe(50);
      await page.getByRole('button', { name: 'Load more' }).click();
      await expectStatus(device, /Loaded \d+ more events/, 'info');
      expect(await auditRows.count()).toBeGreaterThan(50);
      const types = await auditRows.evaluateAll((rows) =>
        rows.map((r) => (r as unknown as { cells: Array<{ innerText: string }> }).cells[1]!.innerText),
      );
      expect(new Set(types)).toEqual(new Set(['invite.created']));
    },
  );
});
