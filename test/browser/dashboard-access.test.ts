import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alert, startTestServer, streamStatus } from '../api/fixtures.js';
import { buildDashboard, openPage } from './chromium.js';

/**
 * A locked server (server.accessTokens) in real headless Chromium: the dashboard asks for
 * the token, refuses a wrong one in words, then shows streams, live state and the evidence
 * image (an <img>, which only the session cookie can open); the session survives a reload
 * and ends with "Sign out".
 */

const TOKEN = 'dashboard-test-token-0123456789';
const work = mkdtempSync(join(tmpdir(), 'dw-access-'));

describe('dashboard on a locked server', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  const signIn = () => page.locator('dw-sign-in');

  beforeAll(async () => {
    const clientDir = buildDashboard();
    const evidence = join(work, 'evidence.jpg');
    execFileSync('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=1', '!', 'video/x-raw,width=224,height=112', '!', 'jpegenc', '!',
      'filesink', `location=${evidence}`], { timeout: 20_000 });
    server = await startTestServer({ clientDir, accessTokens: [TOKEN] });
    server.hub.setModel({ name: 'ftcn-tt-demo', provider: 'cpu', threshold: 0.6 });
    server.hub.publishStreamState(streamStatus('vault', { name: 'Vault camera', openAlerts: 1 }));
    server.hub.publishEvidence('ax-1', { contentType: 'image/jpeg', data: readFileSync(evidence) });
    server.hub.publishAlert(alert('ax-1', 'vault', { wallStart: Date.now() - 2000 }));
    ({ browser, page, pageErrors } = await openPage({ width: 1280, height: 900 }));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('asks for the token instead of showing anything', async () => {
    await page.goto(server.url);
    await expect.poll(() => signIn().count()).toBe(1);
    await expect.poll(() => signIn().locator('input[name="token"]').isVisible()).toBe(true);
    expect(await page.locator('dw-stream-card').count()).toBe(0);
    expect(await page.getByText('Vault camera').count()).toBe(0);
  });

  it('refuses a wrong token in words', async () => {
    await signIn().locator('input[name="token"]').fill('not-the-right-token-at-all');
    await signIn().locator('button[type="submit"]').click();
    await expect.poll(async () => (await signIn().getByRole('alert').count()) > 0 && signIn().getByRole('alert').textContent())
      .toBe('the access token is not valid');
    await page.screenshot({ path: '/tmp/deepwatch-dashboard-sign-in.png' });
  });

  it('with the right token shows the streams, connects live and loads the evidence image', async () => {
    await signIn().locator('input[name="token"]').fill(TOKEN);
    await signIn().locator('button[type="submit"]').click();
    await expect.poll(() => signIn().count()).toBe(0);
    await expect.poll(() => page.locator('[data-role="connection"]').textContent()).toBe('connected');
    await expect.poll(() => page.locator('dw-stream-card').count()).toBe(1);
    const img = page.locator('dw-alert-list li[data-alert="ax-1"] img');
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(224);
    // live events arrive over the authenticated socket
    server.hub.publishStreamState(streamStatus('vault2', { name: 'Second vault camera' }));
    await expect.poll(() => page.locator('dw-stream-card').count()).toBe(2);
  });

  it('stays signed in across a reload, and "Sign out" locks it again', async () => {
    await page.reload();
    await expect.poll(() => page.locator('[data-role="connection"]').textContent()).toBe('connected');
    expect(await signIn().count()).toBe(0);
    await page.locator('[data-role="sign-out"]').click();
    await expect.poll(() => signIn().count()).toBe(1);
    await page.reload();
    await expect.poll(() => signIn().count()).toBe(1);
    expect(await page.locator('dw-stream-card').count()).toBe(0);
  });

  it('ran without script errors in the page', () => {
    // Refused requests (401) are logged by Chromium as failed resource loads: expected.
    expect(pageErrors.filter((e) => !e.includes('status of 401'))).toEqual([]);
  });
});
