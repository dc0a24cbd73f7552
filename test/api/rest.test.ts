import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorError } from '../../server/api/monitor.js';
import { alert, startTestServer, streamStatus, track } from './fixtures.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

describe('REST API /api/v1', () => {
  let s: Server;
  const api = (path: string, init?: RequestInit) => fetch(`${s.url}/api/v1${path}`, init);
  const post = (path: string, body: unknown) => api(path, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  beforeAll(async () => {
    s = await startTestServer({ clientDir: '/nonexistent-dashboard' });
    s.hub.publishStreamState(streamStatus('cam1'));
    s.hub.publishStreamState(streamStatus('cam2', { state: 'failed', reason: 'connection refused', kind: 'rtmp', since: 1_700_000_000_500 }));
    s.hub.publishTrack(track('cam1', 3, { score: 0.82, verdict: 'fake' }));
    s.hub.publishTrack(track('cam1', 1));
  });
  afterAll(async () => s.close());

  it('GET /health reports uptime, model and stream counts', async () => {
    s.hub.setModel({ name: 'demo', provider: 'cpu' });
    const res = await api('/health');
    expect(res.status).toBe(200);
    const h = await res.json();
    expect(h.model).toEqual({ name: 'demo', provider: 'cpu' });
    expect(h.streams).toMatchObject({ total: 2, live: 1, failed: 1 });
    expect(h.status).toBe('degraded');
    expect(h.problems).toContain('stream cam2 failed: connection refused');
    expect(h.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  it('GET /streams lists what the hub was fed, oldest first', async () => {
    const res = await api('/streams');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.items.map((x: { key: string }) => x.key)).toEqual(['cam1', 'cam2']);
    expect(body.items[1]).toMatchObject({ state: 'failed', reason: 'connection refused', kind: 'rtmp' });
  });

  it('GET /streams/:key returns one stream, 404 JSON for an unknown one, 400 for a malformed key', async () => {
    expect(await (await api('/streams/cam1')).json()).toMatchObject({ key: 'cam1', framesDecoded: 250 });
    const missing = await api('/streams/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no stream "nope"' } });
    const bad = await api(`/streams/${encodeURIComponent('a b')}`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/^stream key: must be 1-64 characters/);
  });

  it('GET /streams/:key/tracks returns the current tracks by id', async () => {
    const body = await (await api('/streams/cam1/tracks')).json();
    expect(body.items.map((t: { trackId: number }) => t.trackId)).toEqual([1, 3]);
    expect(body.items[1]).toMatchObject({ score: 0.82, verdict: 'fake' });
    s.hub.endTrack('cam1', 3);
    expect((await (await api('/streams/cam1/tracks')).json()).items).toHaveLength(1);
    expect((await api('/streams/zzz/tracks')).status).toBe(404);
  });

  it('POST /streams rejects bad input with 400 and a message naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: 'Lobby', url: 'gopher://x' }, /body -> url: must be an rtmp:\/\//],
      [{ url: 'rtsp://h/s' }, /body -> name: /],
      [{ name: 'x', url: 'rtsp://h/s', key: 'no spaces' }, /body -> key: must be 1-64/],
      [{ name: 'x', url: 'rtsp://h/s', colour: 'red' }, /body -> colour: unknown key/],
      [[1, 2], /body must be a JSON object/],
      ['{"name": ', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const res = await post('/streams', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const e = await res.json();
      expect(['bad_request', 'invalid_json']).toContain(e.error.code);
      expect(e.error.message).toMatch(message);
    }
  });

  it('POST /streams without an ingest stage is 503; with one it creates the stream (201, Location) and 409s a taken key', async () => {
    const unavailable = await post('/streams', { name: 'Lobby', url: 'rtsp://192.0.2.1/s' });
    expect(unavailable.status).toBe(503);
    expect((await unavailable.json()).error.code).toBe('unavailable');

    const seen: unknown[] = [];
    const off = s.hub.handle({
      addPull: async (req) => {
        seen.push(req);
        return streamStatus(req.key, { name: req.name, state: 'waiting', kind: 'pull', since: Date.now() });
      },
    });
    try {
      const res = await post('/streams', { name: 'Lobby Cam #2', url: 'rtsp://192.0.2.1/s' });
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe('/api/v1/streams/lobby-cam-2');
      expect(await res.json()).toMatchObject({ key: 'lobby-cam-2', name: 'Lobby Cam #2', state: 'waiting' });
      expect(seen).toEqual([{ key: 'lobby-cam-2', name: 'Lobby Cam #2', url: 'rtsp://192.0.2.1/s' }]);
      const dup = await post('/streams', { key: 'cam1', name: 'again', url: 'rtsp://192.0.2.1/s' });
      expect(dup.status).toBe(409);
      expect(await dup.json()).toEqual({ error: { code: 'conflict', message: 'a stream with key "cam1" already exists' } });
    } finally {
      off();
    }
  });

  it('DELETE /streams/:key removes it (204), then 404', async () => {
    s.hub.publishStreamState(streamStatus('gone'));
    expect((await api('/streams/gone', { method: 'DELETE' })).status).toBe(204);
    expect(s.hub.stream('gone')).toBeUndefined();
    const again = await api('/streams/gone', { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect((await again.json()).error.code).toBe('not_found');
  });

  it('DELETE passes a stage\'s MonitorError through with its status', async () => {
    const off = s.hub.handle({ remove: async (key) => { throw new MonitorError('not_found', `ingest knows no "${key}"`); } });
    try {
      const res = await api('/streams/cam1', { method: 'DELETE' });
      expect(res.status).toBe(404);
      expect((await res.json()).error.message).toBe('ingest knows no "cam1"');
      expect(s.hub.stream('cam1')).toBeDefined();
    } finally {
      off();
    }
  });

  it('GET /alerts filters by stream, open and since, and pages with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      s.hub.publishAlert(alert(`a${i}`, i % 2 ? 'cam2' : 'cam1', { wallStart: 1_700_000_000_000 + i * 1000 }));
    }
    s.hub.publishAlert(alert('a0', 'cam1', { wallStart: 1_700_000_000_000, phase: 'close', wallEnd: 1_700_000_009_000 }));

    const all = await (await api('/alerts')).json();
    expect(all.items.map((a: { id: string }) => a.id)).toEqual(['a4', 'a3', 'a2', 'a1', 'a0']);
    expect(all.next).toBeNull();

    const cam1Open = await (await api('/alerts?stream=cam1&open=true')).json();
    expect(cam1Open.items.map((a: { id: string }) => a.id)).toEqual(['a4', 'a2']);
    const closed = await (await api('/alerts?open=false')).json();
    expect(closed.items.map((a: { id: string }) => a.id)).toEqual(['a0']);
    const since = await (await api(`/alerts?since=${new Date(1_700_000_003_000).toISOString()}`)).json();
    expect(since.items.map((a: { id: string }) => a.id)).toEqual(['a4', 'a3']);

    const p1 = await (await api('/alerts?limit=2')).json();
    expect(p1.items.map((a: { id: string }) => a.id)).toEqual(['a4', 'a3']);
    const p2 = await (await api(`/alerts?limit=2&cursor=${p1.next}`)).json();
    expect(p2.items.map((a: { id: string }) => a.id)).toEqual(['a2', 'a1']);
    const p3 = await (await api(`/alerts?limit=2&cursor=${p2.next}`)).json();
    expect(p3.items.map((a: { id: string }) => a.id)).toEqual(['a0']);
    expect(p3.next).toBeNull();

    for (const q of ['limit=0', 'limit=501', 'open=maybe', 'since=yesterday', 'cursor=xyz', 'colour=red']) {
      const res = await api(`/alerts?${q}`);
      expect(res.status, q).toBe(400);
      expect((await res.json()).error.message, q).toMatch(/^query -> /);
    }
  });

  it('GET /alerts/:id and its evidence image', async () => {
    expect(await (await api('/alerts/a3')).json()).toMatchObject({ id: 'a3', stream: 'cam2', peak: 0.93 });
    expect((await api('/alerts/none')).status).toBe(404);
    expect((await api('/alerts/a3/evidence')).status).toBe(404);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    s.hub.publishEvidence('a3', { contentType: 'image/png', data: png });
    const res = await api('/alerts/a3/evidence');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(png);
  });

  it('unknown API routes and methods are JSON 404s; the dashboard placeholder is served when unbuilt', async () => {
    const res = await api('/nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /nothing-here' } });
    expect((await api('/health', { method: 'PUT' })).status).toBe(404);
    const home = await fetch(`${s.url}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('The dashboard has not been built');
  });
});
