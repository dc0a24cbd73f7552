import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertWire, ClipScore } from '../../server/api/wire.js';
import { AlertService, AlertStore, InProcessAlertBus, openAlertDatabase } from '../../server/alerts/index.js';
import { InvalidStateError } from '../../server/shared/errors.js';
import { clips, pngImage, tempDir } from './helpers.js';

/** Rolling mean over the last 4, as documented: the test's own arithmetic, not the code's. */
function rollingMeans(ps: number[], n = 4): number[] {
  return ps.map((_, i) => {
    const w = ps.slice(Math.max(0, i - n + 1), i + 1);
    return w.reduce((a, b) => a + b, 0) / w.length;
  });
}

describe('AlertService', () => {
  let tmp: ReturnType<typeof tempDir>;
  let service: AlertService | null = null;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    await service?.close();
    service = null;
    tmp.cleanup();
  });

  function open(config: Parameters<typeof AlertService.open>[0]['config'] = {}, extra: Partial<Parameters<typeof AlertService.open>[0]> = {}): AlertService {
    service = AlertService.open({ modelThreshold: 0.5, config: { database: join(tmp.dir, 'dw.db'), ...config }, ...extra });
    return service;
  }

  function collect(s: AlertService): { alerts: AlertWire[]; scores: ClipScore[] } {
    const out = { alerts: [] as AlertWire[], scores: [] as ClipScore[] };
    s.on('alert', (a) => out.alerts.push(a));
    s.on('score', (c) => out.scores.push(c));
    return out;
  }

  it('a short burst of high clip scores gives scores but no alert', () => {
    const s = open();
    const seen = collect(s);
    for (const c of clips([0.1, 0.1, 0.1, 0.95, 0.95, 0.1, 0.1, 0.1, 0.1, 0.1])) s.onClipScore(c);
    expect(seen.scores).toHaveLength(10);
    expect(seen.scores[4].rolling).toBeCloseTo(0.525);
    expect(seen.alerts).toEqual([]);
    expect(s.store.list().items).toEqual([]);
    expect(s.trackScore('cam1', 1).verdict).toBe('real');
  });

  it('a sustained incident gives one open, updates on higher peaks, one close with peak, mean and pts range', () => {
    const s = open();
    const seen = collect(s);
    const bus = [] as AlertWire[];
    s.bus.subscribe((a) => bus.push(a));
    const probs = [0.05, 0.1, 0.1, 0.7, 0.8, 0.75, 0.85, 0.8, 0.9, 0.85, 0.95, 0.9, 0.9, 0.97, 0.9, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05];
    const input = clips(probs);
    const evidenceCalls: number[] = [];
    input.forEach((c, i) =>
      s.onClipScore(c, () => {
        evidenceCalls.push(i);
        return pngImage(4, 4, [i, 0, 0]);
      }),
    );
    const phases = seen.alerts.map((a) => a.phase);
    expect(phases.filter((p) => p === 'open')).toHaveLength(1);
    expect(phases.filter((p) => p === 'close')).toHaveLength(1);
    expect(phases[0]).toBe('open');
    expect(phases.at(-1)).toBe('close');
    expect(new Set(seen.alerts.map((a) => a.id)).size).toBe(1);
    for (let i = 1; i < seen.alerts.length - 1; i++) {
      expect(seen.alerts[i].phase).toBe('update');
      expect(seen.alerts[i].peak).toBeGreaterThan(seen.alerts[i - 1].peak);
    }
    expect(bus).toEqual(seen.alerts);

    // Expected incident from the documented rules: starts at the first clip whose rolling
    // mean reaches 0.5, ends at the last clip whose rolling mean is still >= 0.4.
    const r = rollingMeans(probs);
    const first = r.findIndex((x) => x >= 0.5);
    let last = first;
    while (r[last + 1] >= 0.4) last++;
    const inIncident = probs.slice(first, last + 1);
    const close = seen.alerts.at(-1)!;
    expect(close).toMatchObject({
      stream: 'cam1',
      trackId: 1,
      model: 'demo',
      threshold: 0.5,
      ptsStart: input[first].ptsStart,
      ptsEnd: input[last].ptsEnd,
      wallStart: input[first].wallTime,
      evidenceUrl: `/api/v1/alerts/${close.id}/evidence?v=${evidenceCalls.length}`,
    });
    expect(close.wallEnd).not.toBeNull();
    expect(close.peak).toBeCloseTo(Math.max(...inIncident));
    expect(close.mean).toBeCloseTo(inIncident.reduce((a, b) => a + b, 0) / inIncident.length);
    expect(seen.alerts[0].wallEnd).toBeNull();

    // Evidence: rendered only for emitted peaks; what is stored is the final peak's clip.
    const peakIndex = probs.indexOf(Math.max(...inIncident));
    expect(evidenceCalls.length).toBeLessThanOrEqual(seen.alerts.length);
    expect(evidenceCalls.at(-1)).toBe(peakIndex);
    expect(s.store.evidence(close.id)!.data.equals(pngImage(4, 4, [peakIndex, 0, 0]))).toBe(true);

    const stored = s.store.get(close.id)!;
    expect(stored).toMatchObject({ phase: 'close', closeReason: 'recovered', peak: close.peak, ptsEnd: close.ptsEnd, updates: seen.alerts.length - 2 });
    expect(s.store.events(close.id).map((e) => e.phase)).toEqual(phases);
    expect(s.openAlertCount()).toBe(0);
  });

  it('track end closes the open alert at the given stream time; stream end closes the others', () => {
    const s = open();
    const seen = collect(s);
    for (const c of [...clips([0.9, 0.9, 0.9, 0.9, 0.9], { trackId: 1 }), ...clips([0.8, 0.8, 0.8, 0.8, 0.8], { trackId: 2 })]) s.onClipScore(c);
    expect(s.openAlertCount('cam1')).toBe(2);
    s.onTrackEnd('cam1', 1, 9.5);
    const c1 = seen.alerts.at(-1)!;
    expect(c1).toMatchObject({ phase: 'close', trackId: 1, ptsEnd: 9.5 });
    expect(s.store.get(c1.id)!.closeReason).toBe('track-end');
    expect(s.openAlertCount('cam1')).toBe(1);
    s.onStreamEnd('cam1');
    const c2 = seen.alerts.at(-1)!;
    expect(c2).toMatchObject({ phase: 'close', trackId: 2 });
    expect(s.store.get(c2.id)!.closeReason).toBe('stream-end');
    expect(s.store.list({ open: true }).items).toEqual([]);
  });

  it('close() closes open alerts as shutdown; the next start closes alerts a crashed run left open', async () => {
    const s = open();
    const seen = collect(s);
    for (const c of clips([0.9, 0.9, 0.9, 0.9, 0.9])) s.onClipScore(c);
    await s.close();
    expect(seen.alerts.map((a) => a.phase)).toEqual(['open', 'close']);
    expect(() => s.onClipScore(clips([0.1])[0])).toThrow(InvalidStateError);
    await s.close(); // twice is fine

    // A crashed run: an alert row left open in the file.
    const db = openAlertDatabase(join(tmp.dir, 'dw.db'));
    new AlertStore(db, { evidenceMaxBytes: 0 }).record(
      { ...seen.alerts[0], id: 'crashed-1', phase: 'open', wallEnd: null },
      5,
      null,
      Date.now(),
    );
    db.close();
    const bus = new InProcessAlertBus();
    const published: AlertWire[] = [];
    bus.subscribe((a) => published.push(a));
    const again = open({}, { bus });
    const r = again.store.get('crashed-1')!;
    expect(r).toMatchObject({ phase: 'close', closeReason: 'restart' });
    expect(r.wallEnd).toBeGreaterThan(0);
    expect(published.map((a) => [a.id, a.phase])).toEqual([['crashed-1', 'close']]);
    expect(again.store.get(seen.alerts[0].id)!.closeReason).toBe('shutdown');
  });

  it('a clip that ends before the previous one (clock restart) closes the incident and starts over', () => {
    const s = open({ policy: { minOpenSeconds: 0 } });
    const seen = collect(s);
    for (const c of clips([0.9, 0.9, 0.9], { firstIndex: 100 })) s.onClipScore(c);
    s.onClipScore(clips([0.2])[0]);
    expect(seen.alerts.map((a) => a.phase)).toEqual(['open', 'close']);
    expect(s.store.get(seen.alerts[0].id)!.closeReason).toBe('discontinuity');
    expect(seen.scores.at(-1)!.rolling).toBeCloseTo(0.2);
  });

  it('a listener that throws does not stop the service or other listeners', () => {
    const s = open({ policy: { minOpenSeconds: 0 } });
    const errors: unknown[] = [];
    s.onListenerError = (_e, err) => errors.push(err);
    s.on('alert', () => {
      throw new Error('bad dashboard');
    });
    const seen = collect(s);
    s.onClipScore(clips([0.9])[0]);
    expect(seen.alerts).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('an evidence renderer that throws or returns junk leaves the alert without evidence', () => {
    const s = open({ policy: { minOpenSeconds: 0 } });
    const seen = collect(s);
    s.onClipScore(clips([0.9])[0], () => {
      throw new Error('encoder broke');
    });
    s.onClipScore(clips([0.95], { trackId: 2 })[0], () => Buffer.from('not an image'));
    expect(seen.alerts.map((a) => a.evidenceUrl)).toEqual([null, null]);
  });

  it('rejects bad input with a TypeError that names the field', () => {
    const s = open();
    const good = clips([0.5])[0];
    expect(() => s.onClipScore({ ...good, probability: 1.2 })).toThrow(/probability must be in \[0, 1\], got 1.2/);
    expect(() => s.onClipScore({ ...good, ptsEnd: good.ptsStart - 1 })).toThrow(/ptsEnd must be/);
    expect(() => s.onClipScore({ ...good, stream: '' })).toThrow(/stream must be a non-empty string/);
    expect(() => open({ policy: { minOpenSeconds: -1 } } as never)).toThrow(/alerts -> policy -> minOpenSeconds/);
    expect(() => open({ webhooks: [{ url: 'ftp://x', secret: 'short' }] } as never)).toThrow(/alerts -> webhooks -> 0 -> url: .*alerts -> webhooks -> 0 -> secret/s);
    expect(() => open({ policy: { bogus: 1 } } as never)).toThrow(/Unrecognized key: "bogus"/);
  });

  it('works on an in-memory database', async () => {
    service = AlertService.open({ modelThreshold: () => 0.6, config: { database: ':memory:', policy: { minOpenSeconds: 0 } } });
    const seen = collect(service);
    service.onClipScore(clips([0.59])[0]);
    expect(seen.alerts).toEqual([]);
    service.onClipScore(clips([0.99], { firstIndex: 1 })[0]);
    expect(seen.alerts[0]).toMatchObject({ phase: 'open', threshold: 0.6 });
  });
});

describe('registerAlertMetrics()', () => {
  it('exposes outbox counters and open alerts to Prometheus', async () => {
    const { Registry } = await import('prom-client');
    const { registerAlertMetrics } = await import('../../server/alerts/index.js');
    const s = AlertService.open({ modelThreshold: 0.5, config: { database: ':memory:', policy: { minOpenSeconds: 0 } } });
    try {
      const registry = new Registry();
      registerAlertMetrics(registry, s);
      s.onClipScore(clips([0.9])[0], () => pngImage(2, 2, [1, 2, 3]));
      const text = await registry.metrics();
      expect(text).toMatch(/^deepwatch_alerts_open 1$/m);
      expect(text).toMatch(/^deepwatch_webhook_delivered_total 0$/m);
      expect(text).toMatch(/^deepwatch_webhook_pending 0$/m);
      expect(text).toMatch(new RegExp(`^deepwatch_evidence_bytes ${pngImage(2, 2, [1, 2, 3]).length}$`, 'm'));
    } finally {
      await s.close();
    }
  });
});
