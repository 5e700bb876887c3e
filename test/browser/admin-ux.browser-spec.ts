/**
 * Pages that speak human, in a real browser: everyone finds "Passkeys" (the words, not a translation key) in
 * Airflow's user menu; the enrollment page checks its link on opening (naming the account, or saying a used link is
 * used, with no form); the administration page edits groups, explains and unblocks a flagged passkey, marks Airflow's
 * own service account, and shows and filters the audit trail by name.
 */
import { expectStatus, openAdminPage } from './support/admin-page';
import { browserTest, useBrowser } from './support/browser';
import { admin, enrolledPerson, signedInPerson } from './support/people';
import { GROUPS, stack, uniqueName } from './support/stack';

describe('pages that speak human', () => {
  useBrowser();

  browserTest(
    'a person finds "Passkeys" in Airflow\'s user menu, labelled in words, and it opens their passkeys page inside Airflow',
    async (session) => {
      const { device } = await signedInPerson(session, { groups: [GROUPS.viewer], prefix: 'menu', label: 'Desk key' });
      const { page } = device;
      await page.goto(`${stack().airflowUrl}/`);
      await page.getByRole('button', { name: 'User' }).click();
      const item = page.getByRole('menuitem', { name: 'Passkeys' });
      await item.waitFor();
      // What the person reads, not only the accessible name: Airflow labels auth-manager menu items with a
      // translation key, which is why this item is a plugin view with a literal name.
      expect((await item.innerText()).trim()).toBe('Passkeys');
      expect(await page.getByText(/security\.passkeys/).count()).toBe(0);
      await device.screenshot('passkeys-in-user-menu');
      await item.click();
      // Airflow's plugin route; the UI appends the framed page's own path, so the address can be bookmarked.
      await page.waitForURL(/\/plugin\/passkeys(\/auth\/passkeys)?$/);
      const framed = page.frameLocator('iframe');
      await framed.getByRole('heading', { name: 'Passkeys', level: 1 }).waitFor();
      await framed.getByText('Desk key').first().waitFor();
      // Non-admins get no Security menu entry for the administration page.
      expect(await page.getByText(/security\./).count()).toBe(0);
    },
  );

  browserTest(
    'the enrollment page names the account before the prompt; a used link says so on opening, with no form',
    async (session) => {
      const username = uniqueName('newcomer');
      const invite = await admin.createInvite(username, [GROUPS.user], { displayName: 'Nia Newcomer' });
      const device = await session.device();
      const { page } = device;
      await page.goto(invite.url);
      const account = page.locator('#invite-account');
      await account.waitFor();
      expect(await account.innerText()).toContain(`This link sets up a passkey for ${username} (Nia Newcomer)`);
      await device.screenshot('enroll-names-account');
      expect((await admin.invites()).find((i) => i.id === invite.id)).toMatchObject({ state: 'pending' }); // not used up

      await page.getByLabel('Passkey name').fill('Work laptop');
      await page.getByRole('button', { name: 'Create a passkey' }).click();
      await page.getByRole('status').filter({ hasText: 'Passkey saved' }).waitFor();

      const later = await session.device();
      await later.page.goto(invite.url);
      const problem = later.page.getByRole('alert');
      await problem.waitFor();
      expect((await problem.innerText()).trim()).toBe(
        'This invite link can no longer be used: it has expired, was already used, or was revoked. Ask an administrator for a new invite.',
      );
      expect(await later.page.getByRole('button', { name: 'Create a passkey' }).count()).toBe(0);
      expect(await later.page.getByText('can no longer be used').count()).toBe(1); // said once
      await later.screenshot('enroll-used-link');
    },
  );

  browserTest(
    "an admin edits groups, unblocks a flagged passkey after reading why, sees Airflow's own account marked, and reads the audit trail by name",
    async (session) => {
      const person = await enrolledPerson(session, { prefix: 'flagged', label: 'Old phone' });
      const before = await admin.user(person.username);
      admin.flagPasskey(before.passkeys[0]!.id);
      const { device } = await signedInPerson(session, { groups: [GROUPS.admin], prefix: 'ux-admin' });
      const { page } = device;
      await openAdminPage(device);

      // Groups, through a dialog (the page has already confirmed it's the admin).
      await page.getByRole('button', { name: `Edit groups of ${person.username}` }).click();
      const groupsDialog = page.getByRole('dialog', { name: `Groups of ${person.username}` });
      await groupsDialog.getByLabel('Groups').fill(`${GROUPS.op}, ${GROUPS.viewer}`);
      await groupsDialog.getByRole('button', { name: 'Save groups' }).click();
      await expectStatus(device, new RegExp(`Groups of ${person.username} saved`));
      expect((await admin.user(person.username)).groups).toEqual([GROUPS.op, GROUPS.viewer]);

      // The flagged passkey says why in words, and can be unblocked after review.
      await page.getByRole('button', { name: `Passkeys of ${person.username}` }).click();
      const flagged = page.locator('li.item.flagged');
      await flagged.waitFor();
      expect(await flagged.innerText()).toContain(
        'its signature counter went backwards, which can mean the passkey was copied to another device',
      );
      await device.screenshot('admin-flagged-passkey');
      await page.getByRole('button', { name: 'Unblock Old phone' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Unblock passkey' }).click();
      await expectStatus(device, /“Old phone” is unblocked/);
      expect((await admin.user(person.username)).passkeys[0]).toMatchObject({ flaggedAt: null, flagReason: null });

      // Airflow's own service account is marked, and disabling it says what that does (cancelled here).
      const own = page.locator('#service-accounts-table tr.airflow-own');
      expect(await own.count()).toBe(1);
      expect(await own.innerText()).toContain('Used by Airflow');
      const ownName = (await own.locator('td').first().innerText()).replace('Used by Airflow', '').trim();
      await page.getByRole('button', { name: `Disable ${ownName}`, exact: true }).click();
      const warning = page.getByRole('dialog', { name: `Disable ${ownName}?` });
      expect(await warning.innerText()).toContain('everyone is signed out within seconds');
      await device.screenshot('admin-airflow-account-warning');
      await warning.getByRole('button', { name: 'Cancel' }).click();
      expect(
        (await admin.call<Array<{ name: string; disabled: boolean }>>('GET', '/service-accounts')).find(
          (a) => a.name === ownName,
        )!.disabled,
      ).toBe(false);

      // The audit trail, filtered by the person's username, shows names rather than ids.
      await page.getByLabel('Subject').fill(person.username);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(device, /Showing \d+ events/, 'info');
      const rows = await page
        .locator('#audit-table tbody tr')
        .evaluateAll((trs) => trs.map((r) => (r as unknown as { innerText: string }).innerText));
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) expect(row).toContain(`user ${person.username}`);
      expect(rows.join('\n')).not.toContain(before.id);
      expect(rows.some((row) => row.includes('passkey.unflagged'))).toBe(true);
      await device.screenshot('admin-audit-by-name');
    },
  );
});
