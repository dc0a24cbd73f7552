import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../server/shared/paths.js';
import { alert, startTestServer, streamStatus } from '../api/fixtures.js';
import { buildDashboard, openPage } from './chromium.js';
import type { ClipScore, TrackUpdate } from '../../server/api/wire.js';

/**
 * The dashboard in real headless Chromium against the real server, fed through a
 * MonitorHub: streams render with their state, a failed stream says why, scores reach the
 * chart, an alert appears when published, the add form shows the server's refusal.
 * Screenshots go to /tmp/deepwatch-dashboard*.png for a look.
 */

const work = mkdtempSync(join(tmpdir(), 'dw-browser-'));
const portrait = join(repoRoot, 'test', 'fixtures', 'astronaut.png');

/** A 640x360 JPEG of the portrait (pillarboxed) and a 4-crop evidence strip, made by GStreamer. */
function makeImages(): { preview: Buffer; strip: Buffer } {
  const previewPath = join(work, 'preview.jpg');
  const stripPath = join(work, 'strip.jpg');
  execFileSync('gst-launch-1.0', ['-q', 'filesrc', `location=${portrait}`, '!', 'pngdec', '!', 'videoconvert', '!',
    'videoscale', 'add-borders=true', '!', 'video/x-raw,width=640,height=360,pixel-aspect-ratio=1/1', '!', 'jpegenc', 'quality=85', '!',
    'filesink', `location=${previewPath}`], { timeout: 20_000 });
  execFileSync('gst-launch-1.0', ['-q',
    'compositor', 'name=c', 'sink_1::xpos=112', 'sink_2::xpos=224', 'sink_3::xpos=336', '!', 'video/x-raw,width=448,height=112', '!',
    'jpegenc', '!', 'filesink', `location=${stripPath}`,
    'filesrc', `location=${portrait}`, '!', 'pngdec', '!', 'videoconvert', '!', 'videocrop', 'left=150', 'right=212', 'top=40', 'bottom=322', '!',
    'videoscale', '!', 'video/x-raw,width=112,height=112', '!', 'imagefreeze', 'num-buffers=1', '!', 'tee', 'name=t',
    't.', '!', 'queue', '!', 'c.sink_0', 't.', '!', 'queue', '!', 'c.sink_1', 't.', '!', 'queue', '!', 'c.sink_2', 't.', '!', 'queue', '!', 'c.sink_3',
  ], { timeout: 20_000 });
  return { preview: readFileSync(previewPath), strip: readFileSync(stripPath) };
}

describe('dashboard in Chromium', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  let page: Page;
  let images: { preview: Buffer; strip: Buffer };
  let pageErrors: string[] = [];

  beforeAll(async () => {
    const clientDir = buildDashboard();
    images = makeImages();
    server = await startTestServer({ clientDir });
    ({ browser, page, pageErrors } = await openPage({ width: 1440, height: 1000 }));
    server.hub.setModel({ name: 'ftcn-tt-demo', provider: 'cpu', threshold: 0.6 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('shows the empty state before any stream exists', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.locator('[data-role="connection"]').textContent()).toBe('connected');
    await expect.poll(() => page.getByText('No streams yet').count()).toBe(1);
    await page.screenshot({ path: '/tmp/deepwatch-dashboard-empty.png' });
  });

  it('renders the streams fed by the hub, with state, counters and a failed stream\'s reason', async () => {
    server.hub.publishStreamState(streamStatus('studio', {
      name: 'Studio A (manipulated demo)', kind: 'demo', width: 640, height: 360, fps: 25, framesDecoded: 4210, framesAnalysed: 4180,
      framesDropped: 30, clipsScored: 512, clipsSkipped: 4, lagSeconds: 0.38, activeTracks: 1, openAlerts: 0, since: Date.now() - 90_000,
    }));
    server.hub.publishStreamState(streamStatus('lobby', {
      name: 'Lobby camera', kind: 'pull', state: 'failed', reason: 'connection refused (rtsp://192.0.2.10/stream1)',
      width: null, height: null, fps: null, framesDecoded: 0, framesAnalysed: 0, framesDropped: 0, clipsScored: 0, clipsSkipped: 0,
      lagSeconds: null, activeTracks: 0, since: Date.now() - 30_000,
    }));
    const cards = page.locator('dw-stream-card');
    await expect.poll(() => cards.count()).toBe(2);
    const studio = page.locator('article[data-stream="studio"]');
    await expect.poll(() => studio.locator('[data-role="state"]').textContent()).toBe('live');
    expect(await studio.textContent()).toContain('4,210');
    expect(await studio.textContent()).toContain('640×360');
    const lobby = page.locator('article[data-stream="lobby"]');
    expect(await lobby.getByRole('alert').textContent()).toBe('stream failed: connection refused (rtsp://192.0.2.10/stream1)');
    expect(await page.locator('header').first().textContent()).toContain('ftcn-tt-demo (cpu)');
  });

  it('draws the preview with the face box, and the track\'s scores on its chart', async () => {
    const box = { x: 262, y: 40, width: 80, height: 96 };
    const t0 = 100;
    let last: TrackUpdate | null = null;
    for (let i = 0; i < 40; i++) {
      const ptsEnd = t0 + i * 0.32;
      // A score that rises as the manipulated segment begins.
      const probability = Math.min(0.97, 0.12 + (i > 18 ? (i - 18) * 0.06 : 0) + ((i * 37) % 10) / 100);
      const rolling = Math.min(0.95, 0.15 + (i > 18 ? (i - 18) * 0.045 : 0));
      const s: ClipScore = { stream: 'studio', trackId: 1, ptsStart: ptsEnd - 1.28, ptsEnd, probability, rolling, model: 'ftcn-tt-demo', wallTime: Date.now() };
      server.hub.publishScore(s);
      last = { stream: 'studio', trackId: 1, box, pts: ptsEnd, score: rolling, verdict: rolling >= 0.6 ? 'fake' : i < 4 ? 'pending' : 'real' };
      server.hub.publishTrack(last);
    }
    const chart = page.locator('article[data-stream="studio"] dw-score-chart');
    await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBe(40);
    // Previews are volatile (dropped while the connection is still busy), so this one goes out once the burst above is through.
    server.hub.publishPreview({ stream: 'studio', pts: last!.pts, width: 640, height: 360, jpeg: images.preview, tracks: [last!] });
    const score = page.locator('article[data-stream="studio"] [data-track="1"] [data-role="score"]');
    await expect.poll(() => score.textContent()).toBe(last!.score!.toFixed(2));
    // The preview canvas holds the JPEG with a verdict-coloured box drawn on it.
    const canvas = page.locator('article[data-stream="studio"] dw-preview canvas');
    await expect.poll(() => canvas.count()).toBe(1);
    const boxPixel = await canvas.evaluate((c: HTMLCanvasElement, b) => {
      const d = c.getContext('2d')!.getImageData(b.x + Math.round(b.width / 2), b.y + b.height, 1, 1).data;
      return [d[0], d[1], d[2]];
    }, box);
    expect(boxPixel[0]).toBeGreaterThan(200); // the red of a 'fake' verdict
    expect(boxPixel[1]).toBeLessThan(140);
  });

  it('shows an alert when one is published, with its evidence image', async () => {
    server.hub.publishEvidence('al-1', { contentType: 'image/jpeg', data: images.strip });
    server.hub.publishAlert(alert('al-1', 'studio', {
      trackId: 1, ptsStart: 106.1, ptsEnd: 112.5, wallStart: Date.now() - 4000, peak: 0.91, mean: 0.78, threshold: 0.6, model: 'ftcn-tt-demo',
    }));
    server.hub.updateStream('studio', { openAlerts: 1 });
    const item = page.locator('dw-alert-list li[data-alert="al-1"]');
    await expect.poll(() => item.count()).toBe(1);
    const text = (await item.textContent())!.replace(/\s+/g, ' ');
    expect(text).toContain('open');
    expect(text).toContain('Studio A (manipulated demo) · face #1');
    expect(text).toContain('0.91');
    expect(text).toContain('1:46.1 – 1:52.5');
    await expect.poll(() => item.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(448);
    await expect.poll(() => page.locator('[data-role="open-alerts"]').textContent()).toBe('1');
    await page.waitForTimeout(300);
    await page.screenshot({ path: '/tmp/deepwatch-dashboard.png', fullPage: true });
  });

  it('the add form shows the server\'s refusal, in words', async () => {
    const form = page.locator('dw-add-stream');
    await form.locator('input[name="url"]').fill('gopher://example.net/video');
    await form.locator('input[name="name"]').fill('Old camera');
    await form.locator('button[type="submit"]').click();
    const msg = form.getByRole('alert');
    await expect.poll(() => msg.count()).toBe(1);
    expect(await msg.textContent()).toMatch(/^body -> url: must be an rtmp:\/\//);
  });

  it('ran without script errors in the page', () => {
    // The refused POST above is logged by Chromium as a failed resource load: expected.
    expect(pageErrors.filter((e) => !e.includes('status of 400'))).toEqual([]);
  });
});
