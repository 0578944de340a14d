/**
 * A real browser for end-to-end tests: Debian's Chromium driven by
 * playwright-core. No browser is ever downloaded; `npm test` installs
 * Chromium during set-up (`infra/setup.ts --with-browser`).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from '../../infra/browser.ts';

/**
 * Launches headless Chromium. Each launch gets a fresh temporary user-data
 * directory (Playwright creates and removes it), and each `newContext()` its
 * own storage, so no key or window choice leaks between tests.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing, and the dashboard test needs a real browser: run "node --import tsx infra/setup.ts --no-migrate --with-browser" (npm test does) or install Debian's chromium package`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
