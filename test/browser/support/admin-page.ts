/** The administration page's steps shared by its browser tests. */
import { Device } from './browser';
import { stack } from './stack';

/** Open the admin page as a signed-in admin and confirm it's them (the first API call asks for it). */
export async function openAdminPage(device: Device): Promise<void> {
  const { page } = device;
  await page.goto(`${stack().airflowUrl}/auth/admin`);
  await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor();
  const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
  await dialog.getByRole('button', { name: 'Confirm with your passkey' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.locator('#audit-table tbody tr:not(.empty)').first().waitFor(); // everything loaded
}

/** Wait for the page's status region to say `text`, as a message of `kind`; returns what it says. */
export async function expectStatus(device: Device, text: RegExp, kind = 'success'): Promise<string> {
  const status = device.page.getByRole('status');
  await status.filter({ hasText: text }).waitFor();
  expect(await status.getAttribute('data-kind')).toBe(kind);
  return status.innerText();
}
