/**
 * bench/alerts: what the alerts stage costs on the analysis path, and how fast webhooks go
 * out. Medians of several runs, printed as JSON.
 *   node dist/bench/alerts.js [--runs 5] [--clips 20000] [--deliveries 300]
 *
 * - score_us: one onClipScore() that changes nothing but the rolling score (the common case).
 * - alert_event_us: one onClipScore() that opens or closes an alert: SQLite transaction
 *   (alert row + history + evidence PNG + outbox row) on a file database in WAL mode.
 * - webhook_latency_ms: from the alert event to a local receiver having the request.
 * - webhook_throughput_per_s: queued deliveries drained by a local receiver (concurrency 4);
 *   baseline_fetch_per_s: bare fetch() POSTs to the same receiver, 4 at a time, for scale.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertService } from '../server/alerts/index.js';
import { machine, median, numArg, round } from './stats.js';

const arg = numArg;
const runs = arg('runs', 5);
const nClips = arg('clips', 20_000);
const nDeliveries = arg('deliveries', 300);

const evidence = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(30_000, 7)]); // ~30 kB, the size of a face strip PNG
const clip = (i: number, p: number, trackId = 1) => ({
  stream: 'bench',
  trackId,
  ptsStart: i * 0.32,
  ptsEnd: i * 0.32 + 1.28,
  probability: p,
  model: 'demo',
  wallTime: Date.now(),
});

async function withReceiver<T>(fn: (url: string, arrived: (cb: () => void) => void) => Promise<T>): Promise<T> {
  let waiter: (() => void) | null = null;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.end('ok');
      const w = waiter;
      waiter = null;
      w?.();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (cb) => (waiter = cb));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'deepwatch-bench-alerts-'));
const secret = 'bench-secret-0123456789';
try {
  const scoreUs: number[] = [];
  const eventUs: number[] = [];
  const latencyMs: number[] = [];
  const throughput: number[] = [];
  const baseline: number[] = [];
  for (let r = 0; r < runs; r++) {
    // Scores that never cross: rolling score + policy step only.
    let s = AlertService.open({ modelThreshold: 0.5, config: { database: join(dir, `score-${r}.db`) } });
    let t0 = performance.now();
    for (let i = 0; i < nClips; i++) s.onClipScore(clip(i, 0.1 + (i % 3) * 0.05));
    scoreUs.push(((performance.now() - t0) * 1000) / nClips);
    await s.close();

    // Alternating incidents: every clip opens or closes (minimum durations 0), no webhooks.
    s = AlertService.open({ modelThreshold: 0.5, config: { database: join(dir, `event-${r}.db`), policy: { rollingClips: 1, minOpenSeconds: 0, minCloseSeconds: 0 } } });
    let events = 0;
    s.on('alert', () => events++);
    t0 = performance.now();
    for (let i = 0; i < 2_000; i++) s.onClipScore(clip(i, i % 2 ? 0.05 : 0.95), () => evidence);
    eventUs.push(((performance.now() - t0) * 1000) / events);
    await s.close();

    await withReceiver(async (url, arrived) => {
      const svc = AlertService.open({
        modelThreshold: 0.5,
        config: { database: join(dir, `hook-${r}.db`), webhooks: [{ url, secret }], policy: { rollingClips: 1, minOpenSeconds: 0, minCloseSeconds: 0 } },
      });
      try {
        for (let i = 0; i < 20; i++) {
          const got = new Promise<void>((res) => arrived(res));
          const start = performance.now();
          svc.onClipScore(clip(i, i % 2 ? 0.05 : 0.95, 100 + r));
          await got;
          latencyMs.push(performance.now() - start);
        }
        // A backlog: queue many (as after an outage), then time the drain.
        const before = svc.outbox.stats().delivered;
        const tq = performance.now();
        for (let i = 0; i < nDeliveries; i++) svc.onClipScore(clip(100 + i, i % 2 ? 0.05 : 0.95, 200 + r));
        while (svc.outbox.stats().delivered - before < nDeliveries) await new Promise((res) => setTimeout(res, 5));
        throughput.push((nDeliveries / (performance.now() - tq)) * 1000);

        let sent = 0;
        const tb = performance.now();
        const worker = async (): Promise<void> => {
          while (sent++ < nDeliveries) await (await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).text();
        };
        await Promise.all([worker(), worker(), worker(), worker()]);
        baseline.push((nDeliveries / (performance.now() - tb)) * 1000);
      } finally {
        await svc.close();
      }
    });
  }
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'alerts',
        machine: machine(),
        runs,
        score_us: round(median(scoreUs), 2),
        alert_event_us: round(median(eventUs), 1),
        webhook_latency_ms: round(median(latencyMs), 2),
        webhook_throughput_per_s: round(median(throughput), 0),
        baseline_fetch_per_s: round(median(baseline), 0),
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
