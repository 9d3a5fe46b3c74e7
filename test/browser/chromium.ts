/**
 * Shared helpers for tests that drive Debian's headless Chromium through playwright-core.
 * Every browser gets a fresh, empty user-data-dir (removed on close) and no network beyond what
 * the test serves on loopback: background networking, component updates, sync and QUIC are off.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['SIOS_CHROMIUM'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox', // the test runs unprivileged in a container without user namespaces for Chromium's sandbox
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--metrics-recording-only',
  '--password-store=basic',
  '--use-mock-keychain',
];

export interface LaunchedChromium {
  context: BrowserContext;
  /** A page opened in the context (about:blank). */
  page: Page;
  /** Closes the browser and removes its profile directory; safe to call twice. */
  close(): Promise<void>;
}

/** Launches headless Chromium with a new empty profile. Always `await close()` in a finally/after hook. */
export async function launchChromium(options: { args?: readonly string[] } = {}): Promise<LaunchedChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'sios-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
      timeout: 30_000,
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? await context.newPage();
  let closed = false;
  return {
    context,
    page,
    async close() {
      if (closed) return;
      closed = true;
      try { await context.close(); } finally { await rm(userDataDir, { recursive: true, force: true }); }
    },
  };
}

export interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
}

/**
 * Attaches a CTAP2 platform ("internal") virtual authenticator to the page via the Chrome DevTools
 * Protocol WebAuthn domain: resident keys, user verification supported and always succeeding, and
 * presence simulated so no prompt blocks the headless run.
 */
export async function addVirtualAuthenticator(page: Page, overrides: Record<string, unknown> = {}): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      ...overrides,
    },
  });
  return { cdp, authenticatorId };
}
