import type { Server } from 'node:http';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StreamManager, type PublishRejection } from '../../server/ingest/stream-manager.js';
import { WhipIngest } from '../../server/ingest/whip.js';
import { until } from '../helpers/gst.js';
import { childProcesses, collectFrames, nextState } from './helpers.js';
import { WhipTestClient } from './whip-client.js';

describe('WhipIngest', () => {
  let manager: StreamManager;
  let whip: WhipIngest;
  let server: Server;
  let base: string;
  let frames: ReturnType<typeof collectFrames>;
  const rejected: PublishRejection[] = [];
  const clients: WhipTestClient[] = [];

  beforeAll(async () => {
    manager = new StreamManager({ keys: [{ key: 'webcam', name: 'Desk' }, { key: 'phone' }], output: { maxFps: 10 }, stallTimeoutMs: 2500 });
    whip = new WhipIngest(manager);
    const app = express();
    app.use('/whip', whip.router);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/whip`;
    frames = collectFrames(manager);
    manager.on('publish:rejected', (r) => rejected.push(r));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    rejected.length = 0;
  });
  afterAll(async () => {
    await manager.close();
    await new Promise((r) => server.close(r));
  });

  function client(codec: 'VP8' | 'H264', opts: { audio?: boolean } = {}): WhipTestClient {
    const c = new WhipTestClient(codec, opts);
    clients.push(c);
    return c;
  }

  it('POST rejects a missing bearer token with 401, a wrong key with 403, a wrong type with 415', async () => {
    const a = await client('VP8').publish(`${base}/webcam`, null);
    expect(a.status).toBe(401);
    expect(a.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const b = await client('VP8').publish(`${base}/webcam`, 'phone');
    expect(b.status).toBe(403);
    const c = await client('VP8').publish(`${base}/stranger`, 'stranger');
    expect(c.status).toBe(403);
    const d = await client('VP8').publish(`${base}/webcam`, 'webcam', 'text/plain');
    expect(d.status).toBe(415);
    expect(rejected.map((r) => r.code)).toEqual(['unknown-key', 'unknown-key', 'unknown-key', 'bad-request']);
    expect(manager.get('webcam')).toBeUndefined();
  });

  for (const codec of ['VP8', 'H264'] as const) {
    it(`publishes ${codec} over WHIP: 201 with an answer and Location, frames arrive, DELETE ends it`, async () => {
      const c = client(codec, { audio: true });
      const res = await c.publish(`${base}/webcam`, 'webcam');
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toMatch(/^application\/sdp/);
      expect(res.headers.get('location')).toMatch(/^\/whip\/webcam\/[0-9a-f-]{36}$/);
      await c.startVideo();
      const live = await nextState(manager, 'webcam', ['live', 'failed'], 45_000);
      expect(live.state).toBe('live');
      expect(live.kind).toBe('whip');
      const before = frames.get('webcam')?.length ?? 0;
      await until(() => (frames.get('webcam')?.length ?? 0) >= before + 10, 30_000, '10 frames');
      const list = frames.get('webcam')!.slice(before);
      for (let i = 1; i < list.length; i++) expect(list[i]!.pts).toBeGreaterThan(list[i - 1]!.pts);
      expect([list[0]!.width, list[0]!.height]).toEqual([320, 240]);
      // 15 fps sent, at most 10 wanted: the decoder dropped the rest.
      const meanGapMs = (list[list.length - 1]!.pts - list[0]!.pts) / (list.length - 1) / 1e6;
      expect(meanGapMs).toBeGreaterThanOrEqual(95);
      expect(manager.get('webcam')!.status().fps).toBeLessThanOrEqual(10.5);
      // The decoder joined mid-stream: the publisher was asked for a keyframe.
      expect(c.plisReceived).toBeGreaterThan(0);

      const location = c.location!;
      const wrong = await fetch(location, { method: 'DELETE', headers: { Authorization: 'Bearer phone' } });
      expect(wrong.status).toBe(403);
      expect(await c.delete()).toBe(200);
      const ended = await nextState(manager, 'webcam', ['ended']);
      expect(ended.reason).toBe('publisher ended the session');
      expect(whip.sessions).toHaveLength(0);
      const again = await fetch(location, { method: 'DELETE', headers: { Authorization: 'Bearer webcam' } });
      expect(again.status).toBe(404);
    });
  }

  it('a publisher that goes silent makes its stream stalled, and is asked for a keyframe again', async () => {
    const c = client('VP8');
    expect((await c.publish(`${base}/webcam`, 'webcam')).status).toBe(201);
    await c.startVideo();
    await nextState(manager, 'webcam', ['live'], 45_000);
    const plis = c.plisReceived;
    c.encoder!.kill('SIGKILL');
    const stalled = await nextState(manager, 'webcam', ['stalled'], 20_000);
    expect(stalled.reason).toMatch(/no video for 2\.5 s/);
    await until(() => c.plisReceived > plis, 10_000, 'a keyframe request after the stall');

    // The same publisher comes back (a reloaded page): it replaces the silent session.
    const back = client('VP8');
    expect((await back.publish(`${base}/webcam`, 'webcam')).status).toBe(201);
    expect(rejected).toEqual([]);
    await back.startVideo();
    const live = await nextState(manager, 'webcam', ['live'], 45_000);
    expect(live.kind).toBe('whip');
    expect(whip.sessions).toHaveLength(1);
  });

  it('answers 409 while the key is already live', async () => {
    const first = client('VP8');
    expect((await first.publish(`${base}/phone`, 'phone')).status).toBe(201);
    const second = await client('VP8').publish(`${base}/phone`, 'phone');
    expect(second.status).toBe(409);
    expect(rejected).toMatchObject([{ key: 'phone', code: 'busy' }]);
  });

  it('leaves no child process behind after close', async () => {
    const c = client('VP8');
    expect((await c.publish(`${base}/webcam`, 'webcam')).status).toBe(201);
    await c.startVideo();
    await nextState(manager, 'webcam', ['live'], 45_000);
    await c.stop(false);
    await manager.close();
    expect(whip.sessions).toHaveLength(0);
    expect(childProcesses()).toEqual([]);
  });
});
