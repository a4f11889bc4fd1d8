import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium (apt-get install chromium): Playwright drives it; no browser is downloaded. */
export const CHROMIUM_PATH = process.env.COFFER_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  // Chromium's sandbox cannot start as root (CI containers run as root).
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args });
}

/** A fresh browser profile: no cookies. The server's certificate comes from the test CA chromium does not know. */
export function newProfile(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 800 } });
}

/** Opens the console, which sends the browser to the sign-in form, and signs in there. */
export async function signIn(
  page: Page,
  consoleUrl: string,
  username: string,
  password: string,
): Promise<void> {
  await page.goto(`${consoleUrl}/ui/`);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/ui\/vaults$/);
}
