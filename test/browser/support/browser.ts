/**
 * Real headless Chromium (Debian's, through playwright-core) with a CDP virtual authenticator, and the steps a
 * person takes on the login and enrollment pages.
 *
 * Headless facts this relies on (found by trying, Chromium 156):
 * - A conditional-UI request (`mediation: "conditional"`, what the login page starts on load) is answered by the
 *   virtual authenticator at once, with no click, when automatic presence simulation is on: that is how autofill
 *   sign-in behaves headless.
 * - With presence simulation off, the request reaches the authenticator and waits for a touch that never comes;
 *   turning simulation back on does not release it. `openLoginPage` uses that to park the page's autofill request
 *   so a test can drive the button flow without the autofill request racing it; `expectButtonCeremonyOnly` then
 *   checks (from the recorded navigator.credentials calls) that the button's request is the one that answered.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, CDPSession, chromium, Cookie, Page } from 'playwright-core';
import { Invite, stack, stackLogTails } from './stack';

export const SCREENSHOTS = join(__dirname, '..', 'screenshots');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

export interface AuthenticatorOptions {
  transport?: 'internal' | 'usb';
  hasResidentKey?: boolean;
  isUserVerified?: boolean;
  /** Credentials it creates are backup eligible and backed up: a synced passkey (e.g. in a password manager). */
  synced?: boolean;
}

export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId: string;
  userHandle?: string;
  signCount: number;
  userName?: string;
}

export interface CapturedResponse {
  url: string;
  status: number;
  contentType: string;
  headers: Record<string, string>;
  body: string;
}

interface FetchPausedEvent {
  requestId: string;
  request: { url: string };
  responseStatusCode?: number;
  responseHeaders?: Array<{ name: string; value: string }>;
}

/** One call the page made to navigator.credentials, recorded by SPY_SCRIPT. */
export interface WebAuthnCall {
  kind: 'get' | 'create';
  mediation: string;
  outcome: string; // "pending" | "resolved" | "rejected:<error name>"
}

/**
 * Records (never alters) the page's navigator.credentials calls, so a test can tell which ceremony produced the
 * assertion: the autofill one (mediation "conditional") or the button's. Entries go to the test through a CDP
 * binding, so they survive the navigation that follows a sign-in (and the pages' CSP does not apply).
 */
const SPY_SCRIPT = `(() => {
  const container = navigator.credentials;
  if (!container || !window.__webauthnSpy) return;
  let next = 0;
  const page = Math.random().toString(36).slice(2);
  for (const kind of ['get', 'create']) {
    const original = container[kind].bind(container);
    container[kind] = (options) => {
      const id = page + ':' + next++;
      window.__webauthnSpy({ id, kind, mediation: (options && options.mediation) || 'default', outcome: 'pending' });
      const result = original(options);
      result.then(
        () => window.__webauthnSpy({ id, outcome: 'resolved' }),
        (e) => window.__webauthnSpy({ id, outcome: 'rejected:' + (e && e.name) }),
      );
      return result;
    };
  }
})();`;

/** A person's browser: its own context (cookie jar), one tab, and a virtual authenticator attached to that tab. */
export class Device {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly cdp: CDPSession,
    public authenticatorId: string,
    private readonly calls: Map<string, WebAuthnCall>,
  ) {
    page.on('response', (response) => {
      if (response.request().method() === 'POST' && response.url().endsWith('/webauthn/authentication/verify'))
        this.verifyAnswers += 1;
    });
  }

  /** How many answers to authentication/verify this tab has received. */
  verifyAnswers = 0;

  static async open(browser: Browser, options: AuthenticatorOptions = {}): Promise<Device> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const calls = new Map<string, WebAuthnCall>();
    await context.exposeBinding('__webauthnSpy', (_source, entry: Partial<WebAuthnCall> & { id: string }) => {
      const { id, ...fields } = entry;
      calls.set(id, { ...(calls.get(id) as WebAuthnCall), ...fields });
    });
    await context.addInitScript(SPY_SCRIPT);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const device = new Device(context, page, cdp, '', calls);
    device.authenticatorId = await device.addAuthenticator(options);
    return device;
  }

  async addAuthenticator(options: AuthenticatorOptions = {}): Promise<string> {
    const { authenticatorId } = await this.cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: options.transport ?? 'internal',
        hasResidentKey: options.hasResidentKey ?? true,
        hasUserVerification: true,
        isUserVerified: options.isUserVerified ?? true,
        automaticPresenceSimulation: true,
        ...(options.synced ? { defaultBackupEligibility: true, defaultBackupState: true } : {}),
      },
    });
    return authenticatorId;
  }

  async removeAuthenticator(authenticatorId = this.authenticatorId): Promise<void> {
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  }

  async credentials(authenticatorId = this.authenticatorId): Promise<VirtualCredential[]> {
    const { credentials } = await this.cdp.send('WebAuthn.getCredentials', { authenticatorId });
    return credentials as VirtualCredential[];
  }

  async setPresence(enabled: boolean, authenticatorId = this.authenticatorId): Promise<void> {
    await this.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
  }

  async setUserVerified(isUserVerified: boolean, authenticatorId = this.authenticatorId): Promise<void> {
    await this.cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified });
  }

  /** Make the authenticator misbehave: UV/UP flags cleared in its answers, or a signature that does not verify. */
  async overrideResponses(
    bits: { isBadUV?: boolean; isBadUP?: boolean; isBogusSignature?: boolean },
    authenticatorId = this.authenticatorId,
  ): Promise<void> {
    await this.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId, ...bits });
  }

  /** Every navigator.credentials call of this device's pages so far, oldest first. */
  webauthnCalls(): WebAuthnCall[] {
    return [...this.calls.values()];
  }

  /** Wait until the page has a WebAuthn call matching `predicate` (polling the recorded calls). */
  async waitForCall(predicate: (call: WebAuthnCall) => boolean, { since = 0, timeoutMs = 10_000 } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.webauthnCalls().slice(since).some(predicate)) {
      if (Date.now() > deadline)
        throw new Error(`no matching WebAuthn call; calls so far: ${JSON.stringify(this.webauthnCalls())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async sessionCookie(): Promise<Cookie | undefined> {
    return (await this.context.cookies(stack().airflowUrl)).find((c) => c.name === '_token');
  }

  /**
   * Record the body of every response this tab receives from now on, exactly as the browser got it (paused at the
   * response stage over CDP, read, and let through unchanged), including bodies a navigation would discard.
   */
  async captureResponses(): Promise<CapturedResponse[]> {
    const captured: CapturedResponse[] = [];
    const fetchSession = await this.context.newCDPSession(this.page);
    fetchSession.on('Fetch.requestPaused', (event: FetchPausedEvent) => {
      void (async () => {
        const headers = Object.fromEntries((event.responseHeaders ?? []).map((h) => [h.name.toLowerCase(), h.value]));
        let body = '';
        try {
          const reply = await fetchSession.send('Fetch.getResponseBody', { requestId: event.requestId });
          body = reply.base64Encoded ? Buffer.from(reply.body, 'base64').toString('utf8') : reply.body;
        } catch {
          // redirects have no body
        }
        captured.push({
          url: event.request.url,
          status: event.responseStatusCode ?? 0,
          contentType: headers['content-type'] ?? '',
          headers,
          body,
        });
        await fetchSession.send('Fetch.continueRequest', { requestId: event.requestId }).catch(() => undefined);
      })();
    });
    await fetchSession.send('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Response' }] });
    return captured;
  }

  /** The status region's text (the page's role=status element). */
  status(): Promise<string> {
    return this.page.getByRole('status').innerText();
  }

  async screenshot(name: string): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await this.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** Enroll through the real enrollment page: open the invite link, name the passkey, press the button. */
export async function enroll(device: Device, invite: Invite, label = 'Test laptop'): Promise<VirtualCredential> {
  const { page } = device;
  await page.goto(invite.url);
  await page.getByLabel('Passkey name').fill(label);
  await page.getByRole('button', { name: 'Create a passkey' }).click();
  await page.getByRole('status').filter({ hasText: 'Passkey saved' }).waitFor();
  const credentials = await device.credentials();
  const created = credentials.find((c) => c.userName === invite.username);
  if (!created) throw new Error(`no credential for ${invite.username} in the virtual authenticator after enrollment`);
  return created;
}

/**
 * Open the login page with its autofill request parked (see the file comment): presence simulation is off while the
 * page starts its conditional request, and STAYS off when this returns. Call `device.setPresence(true)` right before
 * the action that should use the passkey (`signInWithButton` does), so the parked request has had every chance to
 * reach the authenticator first.
 */
export async function openLoginPage(device: Device, query = ''): Promise<void> {
  await device.setPresence(false);
  const since = device.webauthnCalls().length;
  await device.page.goto(`${stack().airflowUrl}/auth/login${query}`);
  await device.waitForCall((c) => c.kind === 'get' && c.mediation === 'conditional' && c.outcome === 'pending', {
    since,
  });
  // The page has made the call; give the browser process a moment to hand it to the authenticator.
  await device.page.waitForTimeout(250);
}

export function onLoginPage(page: Page): boolean {
  return new URL(page.url()).pathname.endsWith('/auth/login');
}

/** Type a username (or leave it empty) and press the button; resolves when the browser has left the login page. */
export async function signInWithButton(device: Device, username: string): Promise<void> {
  const { page } = device;
  await page.getByLabel('Username').fill(username);
  await device.setPresence(true);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL((url) => !url.pathname.endsWith('/auth/login'));
}

/**
 * After a failed button attempt the login page re-arms autofill. Wait until that has played out: the re-armed
 * conditional request exists and has ended, and every assertion it or the button produced has been answered by
 * Airflow. (Headless, a re-armed request on an authenticator holding a passkey is answered at once.)
 */
export async function afterFailedAttempt(device: Device): Promise<void> {
  const settled = () => {
    const gets = device.webauthnCalls().filter((c) => c.kind === 'get');
    const lastButton = gets.map((c) => c.mediation).lastIndexOf('default');
    const rearmed = gets.slice(lastButton + 1).filter((c) => c.mediation === 'conditional');
    const assertions = gets.filter((c) => c.outcome === 'resolved').length;
    return (
      lastButton >= 0 &&
      rearmed.length > 0 &&
      rearmed.every((c) => c.outcome !== 'pending') &&
      device.verifyAnswers === assertions
    );
  };
  const deadline = Date.now() + 10_000;
  while (!settled()) {
    if (Date.now() > deadline)
      throw new Error(
        `the login page did not settle: ${JSON.stringify(device.webauthnCalls())}, ${device.verifyAnswers} verify answers`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Fails the test unless the assertion came from the button's (modal) request, not the parked autofill one. */
export function expectButtonCeremonyOnly(calls: WebAuthnCall[]): void {
  const gets = calls.filter((c) => c.kind === 'get');
  expect(gets.filter((c) => c.mediation === 'conditional' && c.outcome === 'resolved')).toEqual([]);
  expect(gets.filter((c) => c.mediation !== 'conditional' && c.outcome === 'resolved')).toHaveLength(1);
}

/** The devices (contexts) one test opened; all closed when it ends. */
export class Session {
  readonly devices: Device[] = [];
  constructor(readonly browser: Browser) {}

  async device(options: AuthenticatorOptions = {}): Promise<Device> {
    const device = await Device.open(this.browser, options);
    this.devices.push(device);
    return device;
  }
}

let sharedBrowser: Browser | undefined;

/**
 * One Chromium per test file (each test gets fresh contexts). Launching takes well under a second warm, but the
 * first launch on a cold machine was seen to take over Jest's default 5 s hook timeout.
 */
export function useBrowser(): void {
  beforeAll(async () => {
    sharedBrowser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await sharedBrowser?.close();
  });
}

/**
 * A browser test: fresh devices from `session.device()`, closed afterwards. On failure, a screenshot of every
 * device goes to screenshots/FAILED-*.png and the tails of the service's and Airflow's logs join the message.
 */
export function browserTest(name: string, body: (session: Session) => Promise<void>, timeoutMs = 60_000): void {
  it(
    name,
    async () => {
      if (!sharedBrowser) throw new Error('call useBrowser() in the describe block first');
      const session = new Session(sharedBrowser);
      try {
        await body(session);
      } catch (error) {
        const safe = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
        await Promise.all(session.devices.map((d, i) => d.screenshot(`FAILED-${safe}-${i}`).catch(() => undefined)));
        if (error instanceof Error) error.message += `\n\n${stackLogTails()}`;
        throw error;
      } finally {
        await Promise.all(session.devices.map((d) => d.close().catch(() => undefined)));
      }
    },
    timeoutMs,
  );
}
