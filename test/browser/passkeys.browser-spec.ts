/**
 * The Passkeys page (/auth/passkeys): a signed-in person lists, renames, adds and removes their own passkeys, every
 * change confirmed with a passkey first (step-up), in a real browser with virtual authenticators.
 */
import { browserTest, Device, useBrowser } from './support/browser';
import { admin, signedInPerson } from './support/people';
import { GROUPS, stack } from './support/stack';

async function openPasskeysPage(device: Device): Promise<void> {
  await device.page.goto(`${stack().airflowUrl}/auth/passkeys`);
  await device.page.getByRole('heading', { name: 'Passkeys', level: 1 }).waitFor();
  await device.page.locator('#passkey-list[aria-busy="false"]').waitFor();
}

function passkeyItem(device: Device, name: string) {
  return device.page.getByRole('listitem').filter({ has: device.page.getByRole('button', { name: `Rename ${name}` }) });
}

async function expectStatus(device: Device, text: RegExp, kind?: string): Promise<void> {
  const status = device.page.getByRole('status');
  await status.filter({ hasText: text }).waitFor();
  if (kind) expect(await status.getAttribute('data-kind')).toBe(kind);
}

/** The "Confirm it's you" dialog is up: confirm with the passkey (the browser's prompt is the virtual authenticator). */
async function confirmItsMe(device: Device): Promise<void> {
  const dialog = device.page.getByRole('dialog', { name: "Confirm it's you" });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Confirm with your passkey' }).click();
  await dialog.waitFor({ state: 'hidden' });
}

describe('the Passkeys page in a real browser', () => {
  useBrowser();

  browserTest(
    'a person sees, renames, adds (after confirming) and removes passkeys, but never the last one',
    async (session) => {
      const { device, username } = await signedInPerson(session, { prefix: 'keeper', label: 'Work laptop' });
      const { page } = device;

      // The list: name, when added and last used, and whether the passkey is synced or bound to this device.
      await openPasskeysPage(device);
      const first = passkeyItem(device, 'Work laptop');
      await first.waitFor();
      const meta = await first.innerText();
      expect(meta).toMatch(/This device only/); // the virtual authenticator's credentials are not backed up
      expect(meta).toMatch(/Added \S+/);
      expect(meta).toMatch(/Last used \S+/);
      expect(meta).not.toMatch(/Last used never/); // it was just used to sign in
      await device.screenshot('passkeys-page');

      // Add: the page asks to confirm it's you, then the browser's prompt. On this device's authenticator (which
      // already holds a passkey of this person) the browser refuses, and the page says to use another one.
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      await confirmItsMe(device);
      await expectStatus(device, /already holds one of your passkeys/, 'error');

      // A second authenticator whose passkeys are synced (backup eligible and backed up); the first stays, untouched.
      const syncing = await device.addAuthenticator({ transport: 'usb', synced: true });
      await device.setPresence(false);
      await page.getByRole('button', { name: 'Add a passkey' }).click(); // confirmed a moment ago: no second prompt
      await expectStatus(device, /^Added /, 'success');
      expect(await device.credentials(syncing)).toHaveLength(1);
      await device.setPresence(true);
      const afterAdd = (await admin.user(username)).passkeys.filter((p) => !p.revokedAt);
      expect(afterAdd).toHaveLength(2);
      const added = afterAdd.find((p) => p.label !== 'Work laptop')!;
      expect(added).toMatchObject({ backedUp: true, deviceType: 'multiDevice' });
      expect(await passkeyItem(device, added.label).innerText()).toMatch(/Synced/);
      expect(await page.getByRole('dialog', { name: "Confirm it's you" }).isVisible()).toBe(false);

      // Rename the first one.
      await page.getByRole('button', { name: 'Rename Work laptop' }).click();
      const renameDialog = page.getByRole('dialog', { name: 'Rename passkey' });
      await renameDialog.getByLabel('Passkey name').fill('Old laptop');
      await renameDialog.getByRole('button', { name: 'Save' }).click();
      await expectStatus(device, /Renamed/, 'success');
      await passkeyItem(device, 'Old laptop').waitFor();
      expect((await admin.user(username)).passkeys.map((p) => p.label).sort()).toEqual(
        [added.label, 'Old laptop'].sort(),
      );
      await device.screenshot('passkeys-two');

      // Remove the new one: confirmed in a dialog, then gone from the service too.
      await page.getByRole('button', { name: `Remove ${added.label}` }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove passkey' }).click();
      await expectStatus(device, /^Removed /, 'success');
      const removed = (await admin.user(username)).passkeys.find((p) => p.id === added.id)!;
      expect(removed.revokedAt).not.toBeNull();
      expect(await page.getByRole('button', { name: `Remove ${added.label}` }).count()).toBe(0);

      // The last one cannot be removed: the person would be locked out.
      await page.getByRole('button', { name: 'Remove Old laptop' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove passkey' }).click();
      await expectStatus(device, /was not removed/, 'error');
      await device.screenshot('passkeys-last-one');
      const remaining = (await admin.user(username)).passkeys.filter((p) => !p.revokedAt);
      expect(remaining.map((p) => p.label)).toEqual(['Old laptop']);
      await passkeyItem(device, 'Old laptop').waitFor();
    },
  );

  /** A second passkey added through the page (on a second authenticator), then blocked as a security check does. */
  async function withASecondPasskeyBlocked(device: Device, username: string): Promise<string> {
    const { page } = device;
    await openPasskeysPage(device);
    // The first try confirms it's you, then the browser refuses on this device's authenticator (it holds one).
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await confirmItsMe(device);
    await expectStatus(device, /already holds one of your passkeys/, 'error');
    await device.addAuthenticator({ transport: 'usb' });
    await device.setPresence(false);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await expectStatus(device, /^Added /, 'success');
    await device.setPresence(true);
    const second = (await admin.user(username)).passkeys.find((p) => p.label !== 'Daily key' && !p.revokedAt)!;
    admin.flagPasskey(second.id);
    await openPasskeysPage(device);
    return second.id;
  }

  browserTest(
    'a blocked passkey says "Blocked — ask an administrator to review"; only admins see the break-glass command',
    async (session) => {
      for (const role of ['user', 'admin'] as const) {
        const { device, username } = await signedInPerson(session, {
          groups: [GROUPS[role]],
          prefix: `blocked-${role}`,
          label: 'Daily key',
        });
        const blockedId = await withASecondPasskeyBlocked(device, username);
        const blocked = device.page.locator('li.item.flagged');
        expect(await blocked.count()).toBe(1);
        const text = await blocked.innerText();
        expect(text).toContain('Blocked — ask an administrator to review');
        expect(text).toContain(
          'its signature counter went backwards, which can mean the passkey was copied to another device',
        );
        const command = `npm run -s cli -- passkeys unflag ${blockedId}`;
        if (role === 'admin') {
          expect(await blocked.locator('code').innerText()).toBe(command);
          await device.screenshot('passkeys-blocked-admin');
        } else {
          expect(text).not.toContain('passkeys unflag');
        }
        // The passkey this session signed in with is not blocked, and says nothing of the kind.
        expect(await passkeyItem(device, 'Daily key').innerText()).not.toContain('Blocked');
      }
    },
  );

  browserTest('without an Airflow session the Passkeys page sends the person to sign in first', async (session) => {
    const device = await session.device();
    await device.page.goto(`${stack().airflowUrl}/auth/passkeys`);
    await device.page.waitForURL((url) => url.pathname.endsWith('/auth/login'));
    expect(new URL(device.page.url()).searchParams.get('next')).toMatch(/\/auth\/passkeys$/);
  });
});
