import { createReadStream, statSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StreamStatus } from '../../server/api/wire.js';
import { StreamManager } from '../../server/ingest/stream-manager.js';
import { InvalidStateError, UnsupportedError } from '../../server/shared/errors.js';
import { makeH264File, tempDir, until } from '../helpers/gst.js';
import { childProcesses, collectFrames, nextState } from './helpers.js';

const tmp = tempDir();
let clip: string;
beforeAll(() => {
  clip = join(tmp.dir, 'clip.mp4');
  makeH264File(clip, { frames: 15, fps: 15 }); // one second
});
afterAll(() => tmp.cleanup());

async function freeTcpPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('StreamManager pull sources', () => {
  let manager: StreamManager;
  let frames: ReturnType<typeof collectFrames>;
  const states: StreamStatus[] = [];
  let http: Server | null = null;

  beforeAll(() => {
    manager = new StreamManager({ pullBackoffMs: 100, pullBackoffMaxMs: 400 });
    frames = collectFrames(manager);
    manager.on('stream:state', (s) => states.push(s));
  });
  afterEach(async () => {
    for (const s of manager.streams()) await manager.remove(s.key);
    if (http) await new Promise((r) => http!.close(r));
    http = null;
    states.length = 0;
  });
  afterAll(async () => {
    await manager.close();
  });

  it('addPull() of a file delivers all its frames with rising PTS, then ends', async () => {
    const stream = manager.addPull({ key: 'file', name: 'A file', url: clip });
    expect(stream.kind).toBe('pull');
    const ended = await nextState(manager, 'file', ['ended', 'failed']);
    expect(ended.state).toBe('ended');
    const list = frames.get('file')!;
    expect(list).toHaveLength(15);
    for (let i = 1; i < list.length; i++) expect(list[i]!.pts).toBeGreaterThan(list[i - 1]!.pts);
    expect(states.filter((s) => s.key === 'file').map((s) => s.state)).toEqual(['waiting', 'live', 'ended']);
    expect(stream.counters.framesDecoded).toBe(15);
  });

  it('a looping file keeps delivering past its length, in real time, with PTS rising across loops', async () => {
    const start = Date.now();
    const stream = manager.addPull({ key: 'demo', url: pathToFileURL(clip).href, loop: true, kind: 'demo' });
    await until(() => (frames.get('demo')?.length ?? 0) >= 40, 30_000, '40 frames (more than two passes)');
    const list = frames.get('demo')!;
    for (let i = 1; i < list.length; i++) {
      expect(list[i]!.pts).toBeGreaterThan(list[i - 1]!.pts);
      expect(list[i]!.index).toBe(list[i - 1]!.index + 1);
    }
    const spanS = (list[list.length - 1]!.pts - list[0]!.pts) / 1e9;
    expect(spanS).toBeGreaterThan(2.5);
    // Paced at the file's own rate: stream time never runs ahead of the wall clock.
    expect(spanS).toBeLessThanOrEqual((Date.now() - start) / 1000 + 0.5);
    expect(stream.counters.loops).toBeGreaterThanOrEqual(2);
    expect(stream.state).toBe('live');
    expect(states.filter((s) => s.key === 'demo').map((s) => s.state)).toEqual(['waiting', 'live']);
    expect(stream.status().kind).toBe('demo');
  });

  it('a missing file fails with its reason while another stream keeps delivering', async () => {
    manager.addPull({ key: 'good', url: clip, loop: true });
    await nextState(manager, 'good', ['live']);
    manager.addPull({ key: 'missing', url: join(tmp.dir, 'nope.mp4') });
    const failed = await nextState(manager, 'missing', ['failed']);
    expect(failed.reason).toContain('nope.mp4');
    const before = frames.get('good')!.length;
    await until(() => frames.get('good')!.length >= before + 10, 20_000, '10 more frames of the good stream');
    expect(manager.get('good')!.state).toBe('live');
  });

  it('an unreachable URL reconnects with back-off until it can be read', async () => {
    const port = await freeTcpPort();
    const stream = manager.addPull({ key: 'net', url: `http://127.0.0.1:${port}/clip.mp4` });
    const reconnecting = await nextState(manager, 'net', ['reconnecting']);
    expect(reconnecting.reason).toBeTruthy();
    await until(() => stream.counters.restarts >= 2, 20_000, 'two restarts');
    const size = statSync(clip).size;
    http = createHttpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': size });
      createReadStream(clip).pipe(res);
    });
    await new Promise<void>((r) => http!.listen(port, '127.0.0.1', () => r()));
    await nextState(manager, 'net', ['live'], 30_000);
    await until(() => (frames.get('net')?.length ?? 0) >= 5, 20_000, '5 frames over HTTP');
  });

  it('addPull() rejects bad input clearly', () => {
    expect(() => manager.addPull({ key: 'bad key!', url: clip })).toThrow(TypeError);
    expect(() => manager.addPull({ key: 'x', url: 'gopher://host/x' })).toThrow(UnsupportedError);
    expect(() => manager.addPull({ key: 'x', url: 'rtsp://127.0.0.1/x', loop: true })).toThrow(/loop is only for files/);
    manager.addPull({ key: 'dup', url: clip });
    expect(() => manager.addPull({ key: 'dup', url: clip })).toThrow(InvalidStateError);
    expect(manager.get('x')).toBeUndefined();
  });

  it('close() twice is safe and leaves no child process', async () => {
    manager.addPull({ key: 'last', url: clip, loop: true });
    await nextState(manager, 'last', ['live']);
    const stream = manager.get('last')!;
    await Promise.all([manager.close(), manager.close(), stream.close('again')]);
    expect(manager.streams()).toHaveLength(0);
    expect(childProcesses()).toEqual([]);
    expect(() => manager.addPull({ key: 'late', url: clip })).toThrow(InvalidStateError);
  });
});
