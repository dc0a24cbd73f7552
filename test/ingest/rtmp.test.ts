import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RtmpIngest } from '../../server/ingest/rtmp-ingest.js';
import { StreamManager, type PublishRejection } from '../../server/ingest/stream-manager.js';
import { stopChild, until } from '../helpers/gst.js';
import { childProcesses, collectFrames, exited, nextState, rtmpPublisher } from './helpers.js';

describe('RtmpIngest', () => {
  let manager: StreamManager;
  let rtmp: RtmpIngest;
  let frames: ReturnType<typeof collectFrames>;
  const publishers: ChildProcess[] = [];

  beforeAll(async () => {
    manager = new StreamManager({ keys: [{ key: 'cam-1', name: 'Lobby' }, { key: 'cam-2' }], output: { maxFps: 10 } });
    rtmp = await RtmpIngest.listen(manager, { port: 0, host: '127.0.0.1' });
    frames = collectFrames(manager);
  });
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map(stopChild));
  });
  afterAll(async () => {
    await manager.close();
  });

  it('listens on a free port when asked for port 0', () => {
    expect(rtmp.port).toBeGreaterThan(0);
    expect(rtmp.url('cam-1')).toBe(`rtmp://127.0.0.1:${rtmp.port}/live/cam-1`);
  });

  it('decodes a GStreamer publish with a valid key: frames with rising PTS', async () => {
    publishers.push(rtmpPublisher(rtmp.url('cam-1')));
    const live = await nextState(manager, 'cam-1', ['live', 'failed']);
    expect(live.state).toBe('live');
    expect(live.name).toBe('Lobby');
    expect(live.kind).toBe('rtmp');
    await until(() => (frames.get('cam-1')?.length ?? 0) >= 15, 30_000, '15 frames');
    const list = frames.get('cam-1')!;
    for (let i = 1; i < list.length; i++) expect(list[i]!.pts).toBeGreaterThan(list[i - 1]!.pts);
    expect([list[0]!.width, list[0]!.height]).toEqual([320, 240]);
    expect(manager.get('cam-1')!.status().width).toBe(320);
  });

  it('refuses a publish with an unknown key: the publisher is cut off and no stream goes live', async () => {
    const rejected: PublishRejection[] = [];
    manager.on('publish:rejected', (r) => rejected.push(r));
    const pub = rtmpPublisher(rtmp.url('intruder'));
    publishers.push(pub);
    const code = await exited(pub);
    expect(code).not.toBe(0);
    expect(rejected).toMatchObject([{ kind: 'rtmp', key: 'intruder', code: 'unknown-key' }]);
    expect(manager.get('intruder')).toBeUndefined();
    expect(frames.get('intruder')).toBeUndefined();
  });

  it('ends the stream when its publisher is killed, while another keeps delivering', async () => {
    const a = rtmpPublisher(rtmp.url('cam-1'));
    const b = rtmpPublisher(rtmp.url('cam-2'));
    publishers.push(a, b);
    await Promise.all([nextState(manager, 'cam-1', ['live']), nextState(manager, 'cam-2', ['live'])]);
    await stopChild(a);
    const ended = await nextState(manager, 'cam-1', ['ended', 'stalled']);
    expect(ended.reason).toMatch(/disconnected|no video/);
    const before = frames.get('cam-2')!.length;
    await until(() => frames.get('cam-2')!.length >= before + 10, 20_000, '10 more frames from cam-2');
    expect(manager.get('cam-2')!.state).toBe('live');
  });

  it('ends a live stream when its key is revoked, and refuses the key afterwards', async () => {
    // The previous test's publisher was killed: wait until its publish is over.
    await until(() => !manager.get('cam-2')!.busy, 20_000, 'cam-2 to end');
    const pub = rtmpPublisher(rtmp.url('cam-2'));
    publishers.push(pub);
    await nextState(manager, 'cam-2', ['live']);
    expect(manager.revokeKey('cam-2')).toBe(true);
    const ended = await nextState(manager, 'cam-2', ['ended']);
    expect(ended.reason).toBe('stream key revoked');
    expect(await exited(pub)).not.toBe(0);
    const rejected: PublishRejection[] = [];
    manager.on('publish:rejected', (r) => rejected.push(r));
    const again = rtmpPublisher(rtmp.url('cam-2'));
    publishers.push(again);
    expect(await exited(again)).not.toBe(0);
    expect(rejected).toMatchObject([{ key: 'cam-2', code: 'unknown-key' }]);
    expect(manager.get('cam-2')!.state).toBe('ended');
  });

  it('continues stream time when the same key publishes again', async () => {
    await until(() => !manager.get('cam-1')?.busy, 20_000, 'cam-1 to end');
    const before = frames.get('cam-1')!;
    const last = before[before.length - 1]!;
    const count = before.length;
    publishers.push(rtmpPublisher(rtmp.url('cam-1')));
    await nextState(manager, 'cam-1', ['live']);
    await until(() => frames.get('cam-1')!.length >= count + 5, 20_000, '5 frames of the new publish');
    const next = frames.get('cam-1')![count]!;
    expect(next.pts).toBeGreaterThan(last.pts);
    expect(next.index).toBe(last.index + 1);
    expect(manager.get('cam-1')!.counters.runs).toBeGreaterThanOrEqual(3);
  });

  it('a crashed decoder restarts primed with the stream headers and resumes within seconds', async () => {
    await until(() => !manager.get('cam-1')?.busy, 20_000, 'cam-1 to end');
    // One keyframe in 20 s: recovering within seconds needs the replayed headers.
    publishers.push(rtmpPublisher(rtmp.url('cam-1'), { keyframeEvery: 300 }));
    await nextState(manager, 'cam-1', ['live']);
    const stream = manager.get('cam-1')!;
    await until(() => stream.counters.framesDecoded >= 5, 20_000, 'a few frames');
    const restarts = stream.counters.restarts;
    process.kill(stream.decoder!.pid!, 'SIGKILL');
    await nextState(manager, 'cam-1', ['reconnecting']);
    const count = frames.get('cam-1')!.length;
    await nextState(manager, 'cam-1', ['live'], 10_000);
    await until(() => frames.get('cam-1')!.length >= count + 10, 10_000, '10 frames after the restart');
    const list = frames.get('cam-1')!;
    for (let i = count; i < list.length; i++) expect(list[i]!.pts).toBeGreaterThan(list[i - 1]!.pts);
    expect(stream.counters.restarts).toBe(restarts + 1);
  });

  it('leaves no child process behind after close', async () => {
    publishers.push(rtmpPublisher(rtmp.url('cam-1')));
    await nextState(manager, 'cam-1', ['live']);
    await Promise.all(publishers.splice(0).map(stopChild));
    await manager.close();
    expect(childProcesses()).toEqual([]);
  });
});
