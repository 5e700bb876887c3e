/**
 * Roles in the browser: a person whose group maps to Airflow's VIEWER role can read the DAG list but cannot open the
 * passkey administration page, its API, or Airflow's admin resources.
 */
import { browserTest, useBrowser } from './support/browser';
import { signedInPerson } from './support/people';
import { GROUPS, stack } from './support/stack';

describe('roles in a real browser', () => {
  useBrowser();

  browserTest(
    'a VIEWER reads DAGs but gets "Administrators only" (403) on the admin page and its API',
    async (session) => {
      expect(stack().roleMapping[GROUPS.viewer]).toBe('VIEWER');
      const { device, username } = await signedInPerson(session, { groups: [GROUPS.viewer], prefix: 'viewer' });
      const { page, context } = device;
      const airflow = stack().airflowUrl;

      // What a viewer may do: Airflow's UI lists the DAG.
      await page.goto(`${airflow}/dags`);
      await page.getByRole('link', { name: stack().exampleDagId }).waitFor();

      // Airflow's user menu offers the viewer their passkeys; the administration page ("Users") is not offered.
      await page.getByRole('button', { name: 'User' }).click();
      await page.getByRole('menuitem', { name: 'Passkeys' }).waitFor();
      expect(await page.getByRole('menuitem', { name: 'Users' }).count()).toBe(0);
      await page.keyboard.press('Escape');
      expect(await page.getByRole('button', { name: 'Security' }).count()).toBe(0);

      // The administration page itself: refused with a page that says why, and a way to their own passkeys.
      const response = await page.goto(`${airflow}/auth/admin`);
      expect(response?.status()).toBe(403);
      await page.getByRole('heading', { name: 'Administrators only', level: 1 }).waitFor();
      expect(await page.locator('main').innerText()).toContain(username);
      expect(await page.getByRole('button').count()).toBe(0); // nothing to act on
      await page.getByRole('link', { name: 'Manage your own passkeys' }).waitFor();
      await device.screenshot('admin-forbidden-viewer');

      // Its API, called with the viewer's own session cookie, and Airflow's admin-only resources.
      const adminApi = await context.request.get(`${airflow}/auth/api/admin/users`);
      expect(adminApi.status()).toBe(403);
      expect(JSON.stringify(await adminApi.json())).not.toContain(username); // no user list leaked in the refusal
      expect((await context.request.get(`${airflow}/api/v2/connections`)).status()).toBe(403);
      expect((await context.request.get(`${airflow}/api/v2/dags`)).status()).toBe(200);
    },
  );
});
