/**
 * Device authorization (RFC 8628) in a real browser: `airflow webauthn login` runs as a real subprocess, the person
 * enters its code on Airflow's /auth/device page and approves with the virtual authenticator (a user-verified passkey
 * confirmation); the CLI exits 0 and the token it stored for airflowctl lists DAGs. Deny makes the CLI say access
 * denied and exit 1; a code approved once cannot be approved again.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserTest, Device, useBrowser } from './support/browser';
import { signedInPerson } from './support/people';
import { stack } from './support/stack';

const ROOT = join(__dirname, '..', '..');

interface LoginRun {
  home: string;
  child: ChildProcessWithoutNullStreams;
  code: Promise<string>;
  exit: Promise<{ status: number | null; out: string; err: string }>;
}

/** `airflow webauthn login --api-url <Airflow>` with its own AIRFLOW_HOME (airflowctl's file store, no keyring). */
function startLogin(): LoginRun {
  const home = mkdtempSync(join(tmpdir(), 'device-login-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AIRFLOW_HOME: home,
    AIRFLOW_CLI_DEBUG_MODE: 'true',
    AIRFLOW__CORE__AUTH_MANAGER: 'airflow_webauthn.auth_manager.WebAuthnAuthManager',
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__LOGGING__LOGGING_LEVEL: 'ERROR',
    AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL: stack().serviceUrl,
  };
  const child = spawn(join(ROOT, '.venv/bin/airflow'), ['webauthn', 'login', '--api-url', stack().airflowUrl], {
    env,
  });
  let out = '';
  let err = '';
  const code = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /code: ([A-Z]{4}-[A-Z]{4})/.exec(out);
      if (found?.[1]) resolve(found[1]);
    });
    child.on('exit', () => reject(new Error(`airflow webauthn login printed no code:\n${out}\n${err}`)));
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<{ status: number | null; out: string; err: string }>((resolve) =>
    child.on('exit', (status) => resolve({ status, out, err })),
  );
  return { home, child, code, exit };
}

/** Open the approval page, enter the code, confirm with the passkey when asked; the request is then shown. */
async function lookUp(device: Device, code: string, { confirm = true } = {}): Promise<void> {
  const { page } = device;
  await page.goto(`${stack().airflowUrl}/auth/device`);
  await page.getByRole('heading', { name: 'Approve a command line', level: 1 }).waitFor();
  await page.getByLabel('Code shown by the command line').fill(code.toLowerCase());
  await page.getByRole('button', { name: 'Continue' }).click();
  if (confirm) {
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Confirm with your passkey' }).click();
  }
  await page.locator('#device-request:not([hidden])').waitFor();
}

function storedToken(home: string): string {
  const file = readdirSync(home).find((name) => name.startsWith('debug_creds_'));
  if (!file) throw new Error('no token stored for airflowctl');
  const stored = JSON.parse(readFileSync(join(home, file), 'utf8')) as Record<string, string>;
  const token = stored.api_token_production;
  if (!token) throw new Error("airflowctl's production token is missing");
  return token;
}

describe('approving a command line on /auth/device', () => {
  useBrowser();

  browserTest(
    'airflow webauthn login is approved with a passkey, stores a token that lists DAGs, and the code works once',
    async (session) => {
      const { device } = await signedInPerson(session, { prefix: 'device' });
      const { page } = device;
      const run = startLogin();
      try {
        const code = await run.code;
        await lookUp(device, code);
        expect(await page.locator('#req-client').innerText()).not.toBe('');
        expect(await page.locator('#req-access').innerText()).toBe('Your own Airflow role: USER');
        expect(await page.locator('#device-warning').innerText()).toBe(
          'Approve only a request you started yourself, just now.',
        );
        await device.screenshot('device-approval');
        await page.getByRole('button', { name: 'Approve' }).click();
        await page.getByRole('heading', { name: 'Done — return to your terminal' }).waitFor();
        const result = await run.exit;
        expect(result.status).toBe(0);
        expect(result.out).toMatch(/Signed in/);
        const dags = await fetch(`${stack().airflowUrl}/api/v2/dags`, {
          headers: { Authorization: `Bearer ${storedToken(run.home)}` },
        });
        expect(dags.status).toBe(200);

        // The same code again: the page says it was already approved, with no buttons.
        await lookUp(device, code, { confirm: false });
        await page
          .getByRole('status')
          .filter({ hasText: /already approved/ })
          .waitFor();
        expect(await page.locator('#decision').isHidden()).toBe(true);
      } finally {
        run.child.kill();
      }
    },
    120_000,
  );

  browserTest(
    'Deny: the command line says access denied and exits 1',
    async (session) => {
      const { device } = await signedInPerson(session, { prefix: 'device-deny' });
      const run = startLogin();
      try {
        await lookUp(device, await run.code);
        await device.page.getByRole('button', { name: 'Deny' }).click();
        await device.page.getByRole('heading', { name: 'Denied' }).waitFor();
        const result = await run.exit;
        expect(result.status).toBe(1);
        expect(result.err).toMatch(/denied/);
      } finally {
        run.child.kill();
      }
    },
    120_000,
  );
});
