import { afterEach, describe, expect, it } from 'vitest';
import { MonitorHub } from '../../server/api/hub.js';
import { MonitorError } from '../../server/api/monitor.js';
import type { StreamStatus } from '../../server/api/wire.js';
import { alert, streamStatus } from './fixtures.js';

describe('MonitorHub', () => {
  const hubs: MonitorHub[] = [];
  const make = (opts: ConstructorParameters<typeof MonitorHub>[0] = {}) => {
    const h = new MonitorHub(opts);
    hubs.push(h);
    return h;
  };
  afterEach(() => hubs.splice(0).forEach((h) => h.close()));

  it('sends a state change at once and coalesces counter-only updates', async () => {
    const hub = make({ stateIntervalMs: 100 });
    const sent: StreamStatus[] = [];
    hub.events.on('stream:state', (s) => sent.push(s));
    hub.publishStreamState(streamStatus('a', { state: 'waiting', framesDecoded: 0 }));
    for (let i = 1; i <= 50; i++) hub.updateStream('a', { framesDecoded: i });
    hub.updateStream('a', { state: 'live' });
    expect(sent.map((s) => [s.state, s.framesDecoded])).toEqual([['waiting', 0], ['live', 50]]);
    hub.updateStream('a', { framesDecoded: 60 });
    hub.updateStream('a', { framesDecoded: 70 });
    expect(sent).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 150));
    expect(sent.map((s) => s.framesDecoded)).toEqual([0, 50, 70]);
    expect(hub.stream('a')!.framesDecoded).toBe(70);
  });

  it('updateStream() of an unknown stream throws a MonitorError naming it', () => {
    const hub = make();
    expect(() => hub.updateStream('ghost', { fps: 1 })).toThrow(MonitorError);
    expect(() => hub.updateStream('ghost', { fps: 1 })).toThrow(/no stream "ghost"/);
  });

  it('wants a preview only when someone watches, at most previewFps a second', () => {
    const hub = make({ previewFps: 2 });
    const p = { stream: 'a', pts: 0, width: 2, height: 2, jpeg: Buffer.from([1]), tracks: [] };
    expect(hub.previewWanted('a')).toBe(false);
    hub.setViewers('a', 1);
    expect(hub.previewWanted('a')).toBe(true);
    expect(hub.publishPreview(p)).toBe(true);
    expect(hub.previewWanted('a')).toBe(false);
    expect(hub.publishPreview({ ...p, pts: 1 })).toBe(false);
    expect(hub.latestPreview('a')!.pts).toBe(0);
    hub.setViewers('a', 0);
    expect(hub.previewWanted('a')).toBe(false);
  });

  it('a listener that throws does not stop the others or the publisher', () => {
    const hub = make();
    const errors: unknown[] = [];
    hub.events.onListenerError = (_e, err) => errors.push(err);
    const got: string[] = [];
    hub.events.on('alert', () => { throw new Error('bad dashboard'); });
    hub.events.on('alert', (a) => got.push(a.id));
    expect(() => hub.publishAlert(alert('x', 'a'))).not.toThrow();
    expect(got).toEqual(['x']);
    expect(errors).toHaveLength(1);
  });

  it('keeps at most maxAlerts, forgetting closed ones first', async () => {
    const hub = make({ maxAlerts: 3 });
    hub.publishAlert(alert('open1', 's', { wallStart: 1 }));
    hub.publishAlert(alert('closed1', 's', { wallStart: 2, phase: 'close' }));
    hub.publishAlert(alert('open2', 's', { wallStart: 3 }));
    hub.publishAlert(alert('open3', 's', { wallStart: 4 }));
    const ids = (await hub.alerts({ limit: 10 })).items.map((a) => a.id);
    expect(ids).toEqual(['open3', 'open2', 'open1']);
    expect(hub.health().openAlerts).toBe(3);
  });

  it('close() is safe twice and stops emitting', () => {
    const hub = make();
    let n = 0;
    hub.events.on('stream:state', () => n++);
    hub.close();
    hub.close();
    hub.publishStreamState(streamStatus('a'));
    expect(n).toBe(0);
    expect(hub.closed).toBe(true);
  });
});
