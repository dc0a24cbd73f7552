import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/api/wire.js';
import { alert, score, startTestServer, streamStatus, track } from './fixtures.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
type Received = { event: string; args: unknown[] };

/** A real client that records every event it receives. */
async function client(url: string): Promise<{ socket: Client; got: Received[] }> {
  const socket: Client = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  const got: Received[] = [];
  socket.onAny((event: string, ...args: unknown[]) => got.push({ event, args }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, got };
}

function subscribe(socket: Client, stream: string): Promise<[boolean, string | undefined]> {
  return new Promise((resolve) => socket.emit('subscribe', stream, (ok, error) => resolve([ok, error])));
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Socket.IO', () => {
  let s: Server;
  const sockets: Client[] = [];
  const open = async () => {
    const c = await client(s.url);
    sockets.push(c.socket);
    return c;
  };

  beforeAll(async () => {
    s = await startTestServer();
  });
  afterEach(() => {
    for (const so of sockets.splice(0)) so.disconnect();
  });
  afterAll(async () => s.close());

  it('a client in a stream room gets its state, tracks, scores, alerts and previews, and nothing of another stream', async () => {
    s.hub.publishStreamState(streamStatus('cam1'));
    s.hub.publishStreamState(streamStatus('cam2'));
    const a = await open();
    expect(await subscribe(a.socket, 'cam1')).toEqual([true, undefined]);
    // The snapshot on joining: the current state of cam1.
    await until(() => a.got.some((g) => g.event === 'stream:state'), 'snapshot');
    expect(a.got[0]).toMatchObject({ event: 'stream:state', args: [{ key: 'cam1' }] });

    s.hub.publishStreamState(streamStatus('cam2', { state: 'stalled' }));
    s.hub.publishTrack(track('cam2', 9));
    s.hub.publishScore(score('cam2', 9, 5, 0.9));
    s.hub.publishAlert(alert('other', 'cam2'));
    s.hub.publishPreview({ stream: 'cam2', pts: 1, width: 2, height: 2, jpeg: Buffer.from([0xff, 0xd8]), tracks: [] });

    s.hub.publishStreamState(streamStatus('cam1', { state: 'stalled', reason: 'no frame for 10 s' }));
    s.hub.publishTrack(track('cam1', 4, { score: 0.7, verdict: 'fake' }));
    s.hub.publishScore(score('cam1', 4, 3.2, 0.77));
    s.hub.publishAlert(alert('mine', 'cam1'));
    // Previews are volatile: one sent while the connection is still writing the burst above may be dropped.
    await until(() => a.got.some((g) => g.event === 'alert'), 'alert');
    s.hub.publishPreview({ stream: 'cam1', pts: 2, width: 2, height: 2, jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]), tracks: [track('cam1', 4)] });
    s.hub.endTrack('cam1', 4);

    await until(() => a.got.some((g) => g.event === 'track:end'), 'track:end');
    const events = a.got.slice(1).map((g) => g.event);
    expect(events).toEqual(['stream:state', 'track:update', 'clip:score', 'alert', 'preview', 'track:end']);
    expect(a.got[1]!.args[0]).toMatchObject({ key: 'cam1', state: 'stalled', reason: 'no frame for 10 s' });
    expect(a.got[2]!.args[0]).toMatchObject({ stream: 'cam1', trackId: 4, score: 0.7, verdict: 'fake' });
    expect(a.got[4]!.args[0]).toMatchObject({ id: 'mine', stream: 'cam1', phase: 'open' });
    const preview = a.got[5]!.args[0] as { jpeg: ArrayBuffer; tracks: unknown[] };
    expect(Buffer.from(preview.jpeg)).toEqual(Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    expect(preview.tracks).toHaveLength(1);
    expect(JSON.stringify(a.got)).not.toContain('cam2');
  });

  it('"*" gets every stream\'s state and every alert, but no tracks, scores or previews', async () => {
    s.hub.publishStreamState(streamStatus('cam3'));
    const b = await open();
    expect(await subscribe(b.socket, '*')).toEqual([true, undefined]);
    await until(() => b.got.filter((g) => g.event === 'stream:state').length >= 3, 'snapshot of all streams');
    b.got.length = 0;
    s.hub.publishTrack(track('cam3', 1));
    s.hub.publishScore(score('cam3', 1, 2, 0.3));
    s.hub.publishPreview({ stream: 'cam3', pts: 3, width: 2, height: 2, jpeg: Buffer.from([1]), tracks: [] });
    s.hub.publishAlert(alert('a-star', 'cam3'));
    s.hub.publishStreamState(streamStatus('cam3', { state: 'ended', reason: 'publisher left' }));
    s.hub.removeStream('cam3');
    await until(() => b.got.some((g) => g.event === 'stream:removed'), 'stream:removed');
    expect(b.got.map((g) => g.event)).toEqual(['alert', 'stream:state', 'stream:removed']);
  });

  it('a late joiner gets the current tracks and recent scores; unsubscribe stops the events', async () => {
    s.hub.publishStreamState(streamStatus('cam4'));
    s.hub.publishTrack(track('cam4', 2, { score: 0.4 }));
    for (let i = 1; i <= 3; i++) s.hub.publishScore(score('cam4', 2, i, i / 10));
    const c = await open();
    await subscribe(c.socket, 'cam4');
    await until(() => c.got.filter((g) => g.event === 'clip:score').length === 3, 'replayed scores');
    expect(c.got.map((g) => g.event)).toEqual(['stream:state', 'track:update', 'clip:score', 'clip:score', 'clip:score']);
    expect(s.hub.previewWanted('cam4')).toBe(true);

    c.socket.emit('unsubscribe', 'cam4');
    await until(() => !s.hub.previewWanted('cam4'), 'viewer count to drop');
    c.got.length = 0;
    s.hub.publishAlert(alert('after', 'cam4'));
    // A round trip on the same connection: had the alert been sent, it would have arrived first.
    expect(await subscribe(c.socket, 'cam5')).toEqual([true, undefined]);
    expect(c.got.map((g) => g.event)).toEqual([]);
  });

  it('rejects a malformed stream key in the ack', async () => {
    const d = await open();
    const [ok, error] = await subscribe(d.socket, '../etc');
    expect(ok).toBe(false);
    expect(error).toMatch(/invalid stream key "\.\.\/etc"/);
  });

  it('a client that stops reading does not hold up publishing or the other clients, and its backlog stays bounded', async () => {
    s.hub.publishStreamState(streamStatus('busy'));
    const healthy = await open();
    const stuck = await open();
    await subscribe(healthy.socket, 'busy');
    await subscribe(stuck.socket, 'busy');
    // Stop reading on the stuck client's TCP socket: once the kernel buffers are full, the
    // server cannot write to it any more.
    const raw = (stuck.socket.io.engine.transport as unknown as { ws: { _socket: { pause(): void } } }).ws._socket;
    raw.pause();
    const jpeg = Buffer.alloc(256 * 1024, 7);
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      s.hub.publishPreview({ stream: 'busy', pts: i, width: 640, height: 360, jpeg, tracks: [] });
      for (let k = 0; k < 20; k++) s.hub.publishTrack(track('busy', 1, { pts: i + k / 20 }));
      await new Promise((r) => setImmediate(r));
    }
    const publishMs = performance.now() - t0;
    s.hub.publishAlert(alert('busy-alert', 'busy'));
    await until(() => healthy.got.some((g) => g.event === 'alert'), 'alert at the healthy client');
    expect(publishMs).toBeLessThan(3000);
    expect(healthy.got.filter((g) => g.event === 'preview').length).toBeGreaterThan(10);
    expect(healthy.got.filter((g) => g.event === 'track:update').length).toBeGreaterThan(1000);
    const server = s.api.sockets.io.sockets.sockets.get(stuck.socket.id!);
    const backlog = (server!.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
    expect(backlog).toBeGreaterThan(0); // it really is stuck...
    expect(backlog).toBeLessThanOrEqual(130); // ...but only up to the limit, plus the alert
  });
});
