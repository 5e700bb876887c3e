/**
 * The access review's HTML page (`airflow webauthn report access-review`, the real Airflow CLI against the stack's
 * auth service) opened in a real Chromium: every section is there, the chart is drawn, nothing is fetched from
 * anywhere (the page is one file an auditor can keep), and it prints.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserTest, useBrowser } from './support/browser';
import { admin, enrolledPerson, signedInPerson } from './support/people';
import { clientCredentialsGrant, GROUPS, stack } from './support/stack';

const ROOT = join(__dirname, '..', '..');

function accessReviewHtml(): string {
  const workdir = mkdtempSync(join(tmpdir(), 'access-review-'));
  const out = join(workdir, 'access-review.html');
  const { clientId, clientSecret } = stack().adminClient;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AIRFLOW_HOME: join(workdir, 'airflow-home'),
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__AUTH_MANAGER: 'airflow_webauthn.auth_manager.WebAuthnAuthManager',
    AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL: stack().serviceUrl,
    AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS: `${clientId}:${clientSecret}`,
    AIRFLOW__WEBAUTHN_AUTH_MANAGER__ROLE_MAPPING: JSON.stringify(stack().roleMapping),
  };
  execFileSync(join(ROOT, '.venv/bin/airflow'), ['webauthn', 'report', 'access-review', '--out', out], {
    env,
    timeout: 180_000,
  });
  return out;
}

describe('the access review page in a real browser', () => {
  useBrowser();

  browserTest(
    'shows every section with roles, a sign-in chart and the signed audit head, loads nothing from outside, and prints',
    async (session) => {
      const { username } = await signedInPerson(session, { groups: [GROUPS.admin], prefix: 'reviewed' });
      const leaver = await enrolledPerson(session, { groups: [GROUPS.op], prefix: 'leaver' });
      await admin.call('POST', `/users/${leaver.username}/disable`);
      expect((await clientCredentialsGrant(stack().adminClient.clientId, 'not-the-secret')).status).toBe(401);
      const file = accessReviewHtml();
      const device = await session.device();
      const { page } = device;
      const requests: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith('file://')) requests.push(request.url());
      });
      await page.goto(`file://${file}`);
      await page.getByRole('heading', { name: 'Access review', level: 1 }).waitFor();
      for (const section of [
        'Everyone with access, and why',
        'Admin and operator rights',
        'Dormant accounts',
        'Disabled accounts',
        'Service accounts and agents',
        'Delegations',
        'Signing-key rotations in the period',
        'Sign-ins per day',
        'Failed sign-ins',
        'Audit chain head',
      ]) {
        await page.getByRole('heading', { name: section, exact: true }).waitFor();
      }
      const row = page.locator('#access ~ table').first().locator('tr').filter({ hasText: username });
      expect(await row.innerText()).toContain('ADMIN');
      expect(await row.innerText()).toContain(`${GROUPS.admin} → ADMIN`);
      const disabled = page.locator('#disabled ~ table').first().locator('tr').filter({ hasText: leaver.username });
      expect(await disabled.innerText()).toContain('yes: no token issued since');
      const refused = page.locator('#failures ~ table').first().locator('tr').filter({ hasText: 'client_credentials' });
      expect(Number((await refused.first().locator('td.num').innerText()).trim())).toBeGreaterThanOrEqual(1);
      const chart = page.getByRole('img', { name: /sign-ins from/ });
      expect(await chart.locator('rect').count()).toBeGreaterThan(80);
      expect(await page.locator('#audit ~ p').first().innerText()).toMatch(/^intact \d+ events verified/);
      expect(requests).toEqual([]);
      expect(readFileSync(file, 'utf8')).not.toMatch(/<script|<link|src=/);
      const pdf = await page.pdf({ format: 'A4', landscape: true });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      await device.screenshot('access-review');
    },
    240_000,
  );
});
