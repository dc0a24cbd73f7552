import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlertService,
  WebhookOutbox,
  openAlertDatabase,
  parseAlertsConfig,
  verifyWebhook,
  type AlertsConfigInput,
  type DeliveryRecord,
  type WebhookPayload,
} from '../../server/alerts/index.js';
import { Receiver, clips, deadPort, nextEvent, tempDir, waitUntil } from './helpers.js';

const SECRET = 'test-secret-0123456789';
/** Small back-off so retries happen within a test. */
const fast = { baseDelayMs: 20, maxDelayMs: 100, timeoutMs: 2_000, maxAttempts: 3 };

/** A sustained incident on one track, then its end: open, (updates), close. */
function incident(s: AlertService, trackId = 1): void {
  for (const c of clips([0.9, 0.9, 0.92, 0.95, 0.97, 0.97], { trackId })) s.onClipScore(c);
  s.onTrackEnd('cam1', trackId, 4);
}

function on<E extends 'delivered' | 'failed' | 'dead'>(outbox: WebhookOutbox, event: E) {
  return (l: (d: DeliveryRecord) => void) => {
    outbox.on(event, l);
    return () => void outbox.off(event, l);
  };
}

describe('webhooks', () => {
  let tmp: ReturnType<typeof tempDir>;
  const closers: (() => Promise<void>)[] = [];
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    tmp.cleanup();
  });

  function openService(config: AlertsConfigInput): AlertService {
    const s = AlertService.open({ modelThreshold: 0.5, config: { database: join(tmp.dir, 'dw.db'), ...config } });
    closers.push(() => s.close());
    return s;
  }
  async function receiver(...args: Parameters<typeof Receiver.start>): Promise<Receiver> {
    const r = await Receiver.start(...args);
    closers.push(() => r.close());
    return r;
  }

  it('a receiver gets open and close, in order, with a valid signature and the documented headers', async () => {
    const rx = await receiver();
    const s = openService({ webhooks: [{ url: rx.url, secret: SECRET, events: ['open', 'close'] }], delivery: fast });
    incident(s);
    await waitUntil(() => s.outbox.stats().delivered === 2, 'two deliveries');
    expect(rx.requests.map((r) => r.headers['x-deepwatch-event'])).toEqual(['alert.open', 'alert.close']);
    for (const r of rx.requests) {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/json');
      const ts = r.headers['x-deepwatch-timestamp'] as string;
      const sig = r.headers['x-deepwatch-signature'] as string;
      // The receiver's own check, written from the documented recipe.
      const expected = 'sha256=' + createHmac('sha256', SECRET).update(`${ts}.${r.body}`).digest('hex');
      expect(sig).toBe(expected);
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
      expect(verifyWebhook({ secret: SECRET, body: r.body, timestamp: ts, signature: sig })).toBe(true);
      expect(verifyWebhook({ secret: 'another-secret-123456', body: r.body, timestamp: ts, signature: sig })).toBe(false);
      expect(verifyWebhook({ secret: SECRET, body: r.body + ' ', timestamp: ts, signature: sig })).toBe(false);
    }
    const [open, close] = rx.requests.map((r) => JSON.parse(r.body) as WebhookPayload);
    expect(open.event).toBe('alert.open');
    expect(open.alert.phase).toBe('open');
    expect(close.alert).toMatchObject({ id: open.alert.id, phase: 'close', stream: 'cam1', trackId: 1, ptsEnd: 4 });
    expect(close.closeReason).toBe('track-end');
    expect(close.alert.peak).toBeCloseTo(0.97);

    const deliveries = s.outbox.list({ alertId: open.alert.id });
    expect(deliveries.map((d) => d.state)).toEqual(['delivered', 'delivered']);
    expect(new Set(rx.requests.map((r) => r.headers['x-deepwatch-delivery']))).toEqual(new Set(deliveries.map((d) => d.id)));
    expect(s.outbox.stats()).toMatchObject({ delivered: 2, failed: 0, pending: 0, dead: 0 });
  });

  it('a receiver that answers 500 then 200 gets the delivery on the retry, with the same delivery id', async () => {
    const rx = await receiver((_r, n) => (n === 0 ? 500 : 200));
    const s = openService({ webhooks: [{ url: rx.url, secret: SECRET, events: ['open'] }], delivery: fast });
    const delivered = nextEvent(on(s.outbox, 'delivered'));
    for (const c of clips([0.9, 0.9, 0.9, 0.9, 0.9])) s.onClipScore(c);
    const d = await delivered;
    expect(d).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 200, url: rx.url });
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[0].headers['x-deepwatch-delivery']).toBe(d.id);
    expect(rx.requests[1].headers['x-deepwatch-delivery']).toBe(d.id);
    expect(rx.requests[0].body).toBe(rx.requests[1].body);
    expect(s.outbox.stats()).toMatchObject({ delivered: 1, failed: 1, pending: 0, dead: 0 });
  });

  it('a receiver that is down leaves the delivery pending, then dead-lettered after maxAttempts; retryDead() sends it once it is back', async () => {
    const port = await deadPort();
    const url = `http://127.0.0.1:${port}/hook`;
    const s = openService({ webhooks: [{ url, secret: SECRET, events: ['open'] }], delivery: fast });
    const failed = nextEvent(on(s.outbox, 'failed'));
    const dead = nextEvent(on(s.outbox, 'dead'));
    const alerts: string[] = [];
    s.on('alert', (a) => alerts.push(a.phase));
    for (const c of clips([0.9, 0.9, 0.9, 0.9, 0.9])) s.onClipScore(c);
    // Alerting is not held up by the webhook: the alert is out before any attempt ends.
    expect(alerts).toEqual(['open']);

    const first = await failed;
    expect(first).toMatchObject({ state: 'pending', attempts: 1, lastStatus: null });
    expect(first.lastError).toMatch(/ECONNREFUSED/);
    expect(s.outbox.stats().pending).toBe(1);

    const d = await dead;
    expect(d).toMatchObject({ state: 'dead', attempts: 3 });
    expect(s.outbox.stats()).toMatchObject({ pending: 0, dead: 1, failed: 3, deadLettered: 1, delivered: 0 });
    expect(s.outbox.list({ state: 'dead' }).map((x) => x.id)).toEqual([d.id]);

    const rx = await receiver(() => 200, port);
    const delivered = nextEvent(on(s.outbox, 'delivered'));
    expect(s.outbox.retryDead({ id: d.id })).toBe(1);
    expect((await delivered).id).toBe(d.id);
    expect(rx.requests).toHaveLength(1);
    expect(s.outbox.stats()).toMatchObject({ pending: 0, dead: 0, delivered: 1 });
  });

  it('a new outbox on the same database file delivers what an earlier one left pending', async () => {
    const path = join(tmp.dir, 'dw.db');
    const config = parseAlertsConfig({ webhooks: [{ name: 'ops', url: 'http://127.0.0.1:9/unused', secret: SECRET }], delivery: fast });
    // First run: events queued (as in the alert transaction), process stops before sending.
    let db = openAlertDatabase(path);
    let outbox = new WebhookOutbox(db, { webhooks: config.webhooks, delivery: config.delivery });
    db.transaction(() => {
      outbox.enqueue('open', 'a-1', JSON.stringify({ n: 1 }));
      outbox.enqueue('close', 'a-1', JSON.stringify({ n: 2 }));
    })();
    expect(outbox.stats().pending).toBe(2);
    await outbox.close();
    db.close();

    // Second run: same webhook name, now reachable at another address.
    const rx = await receiver();
    db = openAlertDatabase(path);
    closers.push(async () => { db.close(); });
    outbox = new WebhookOutbox(db, { webhooks: [{ ...config.webhooks[0], url: rx.url }], delivery: config.delivery });
    closers.push(() => outbox.close());
    outbox.start();
    await waitUntil(() => outbox.stats().delivered === 2, 'two deliveries');
    expect(rx.requests.map((r) => JSON.parse(r.body).n)).toEqual([1, 2]);
    expect(outbox.list().map((d) => d.state)).toEqual(['delivered', 'delivered']);
  });

  it('shutting down mid-request keeps the delivery pending (no attempt counted); the next service delivers it', async () => {
    let answer: number | 'hang' = 'hang';
    const rx = await receiver(() => answer);
    const hook = { url: rx.url, secret: SECRET, events: ['open' as const] };
    const s1 = AlertService.open({ modelThreshold: 0.5, config: { database: join(tmp.dir, 'dw.db'), webhooks: [hook], delivery: { ...fast, shutdownGraceMs: 50 } } });
    for (const c of clips([0.9, 0.9, 0.9, 0.9, 0.9])) s1.onClipScore(c);
    await rx.waitForRequests(1);
    await s1.close();

    answer = 200;
    const s2 = openService({ webhooks: [hook], delivery: fast });
    const d = await nextEvent(on(s2.outbox, 'delivered'));
    expect(d.attempts).toBe(1);
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[1].headers['x-deepwatch-delivery']).toBe(rx.requests[0].headers['x-deepwatch-delivery']);
    expect(JSON.parse(rx.requests[1].body).event).toBe('alert.open');
  });

  it('a webhook that hangs does not hold up another webhook', async () => {
    const good = await receiver();
    const stuck = await receiver(() => 'hang');
    const s = openService({
      webhooks: [
        { name: 'stuck', url: stuck.url, secret: SECRET },
        { name: 'up', url: good.url, secret: SECRET },
      ],
      delivery: { ...fast, timeoutMs: 30_000, concurrency: 1, shutdownGraceMs: 0 },
    });
    incident(s, 1);
    incident(s, 2);
    const queued = s.outbox.list({ webhook: 'up' }).length;
    expect(queued).toBeGreaterThanOrEqual(4);
    await waitUntil(() => s.outbox.list({ webhook: 'up', state: 'delivered' }).length === queued, 'all deliveries to the working webhook');
    expect(good.requests).toHaveLength(queued);
    // The stuck one has exactly its one allowed request in flight, the rest wait in the database.
    expect(stuck.requests).toHaveLength(1);
    expect(s.outbox.stats()).toMatchObject({ inFlight: 1, pending: queued });
  });
});

describe('webhook helpers', () => {
  it('verifyWebhook() refuses a stale or malformed timestamp even with a matching signature', async () => {
    const { signWebhook } = await import('../../server/alerts/index.js');
    const now = 1_700_000_000_000;
    const old = String(now / 1000 - 600);
    const body = '{"x":1}';
    expect(verifyWebhook({ secret: SECRET, body, timestamp: old, signature: signWebhook(SECRET, old, body), now })).toBe(false);
    expect(verifyWebhook({ secret: SECRET, body, timestamp: old, signature: signWebhook(SECRET, old, body), now, toleranceSeconds: 601 })).toBe(true);
    expect(verifyWebhook({ secret: SECRET, body, timestamp: 'soon', signature: signWebhook(SECRET, 'soon', body), now })).toBe(false);
    expect(verifyWebhook({ secret: SECRET, body, timestamp: undefined, signature: undefined, now })).toBe(false);
  });

  it('backoff() doubles from the base, stays within [d/2, d] and under the cap', async () => {
    const { backoff } = await import('../../server/alerts/index.js');
    const cfg = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoff(n, cfg, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect([1, 2, 3, 4, 5].map((n) => backoff(n, cfg, () => 0))).toEqual([50, 100, 200, 400, 500]);
  });

  it('a delivery older than maxAgeMs is dead-lettered on its next failure', async () => {
    const tmp = tempDir();
    const port = await deadPort();
    const s = AlertService.open({
      modelThreshold: 0.5,
      config: { database: join(tmp.dir, 'dw.db'), webhooks: [{ url: `http://127.0.0.1:${port}/`, secret: SECRET, events: ['open'] }], delivery: { ...fast, maxAttempts: 100, maxAgeMs: 1 } },
    });
    try {
      const dead = nextEvent(on(s.outbox, 'dead'));
      for (const c of clips([0.9, 0.9, 0.9, 0.9, 0.9])) s.onClipScore(c);
      expect(await dead).toMatchObject({ state: 'dead', attempts: 1 });
    } finally {
      await s.close();
      tmp.cleanup();
    }
  });
});
