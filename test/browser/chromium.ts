import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../../server/shared/paths.js';

const CHROMIUM = '/usr/bin/chromium';

/** The built dashboard (dist/client, rebuilt if its sources changed), for a test server to serve. */
export function buildDashboard(): string {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-client.mjs'), '--quiet'], { stdio: 'inherit', timeout: 120_000 });
  return join(repoRoot, 'dist', 'client');
}

/** Debian's headless Chromium and one page whose script errors and console errors are collected. */
export async function openPage(viewport: { width: number; height: number }): Promise<{ browser: Browser; page: Page; pageErrors: string[] }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  return { browser, page, pageErrors };
}
