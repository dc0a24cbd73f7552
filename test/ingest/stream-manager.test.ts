import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PublishRefusedError, StreamManager, type PublishRejection } from '../../server/ingest/stream-manager.js';
import type { StreamSession } from '../../server/ingest/stream.js';
import { InvalidStateError } from '../../server/shared/errors.js';
import { makeH264File, tempDir, until } from '../helpers/gst.js';
import { collectFrames, nextState } from './helpers.js';

const tmp = tempDir();
let flv: string;
let mp4: string;
beforeAll(() => {
  flv = join(tmp.dir, 'in.flv');
  mp4 = join(tmp.dir, 'in.mp4');
  makeH264File(flv, { frames: 30, fps: 15, container: 'flv' });
  makeH264File(mp4, { frames: 15, fps: 15 });
});
afterAll(() => tmp.cleanup());

function fakeSession(): StreamSession & { closes: string[] } {
  const closes: string[] = [];
  return { id: `s${Math.random()}`, closes, close: (reason: string) => { closes.push(reason); } };
}

describe('StreamManager', () => {
  const managers: StreamManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });
  function make(...args: ConstructorParameters<typeof StreamManager>): StreamManager {
    const m = new StreamManager(...args);
    managers.push(m);
    return m;
  }

  it('validates publish keys and keeps them apart from pulled streams', () => {
    expect(() => make({ keys: [{ key: 'has space' }] })).toThrow(/stream key must be .*"has space"/);
    const m = make({ keys: [{ key: 'a', name: 'Alpha' }] });
    m.allowKey({ key: 'b' });
    expect(m.publishKeys()).toEqual([{ key: 'a', name: 'Alpha' }, { key: 'b' }]);
    expect(m.revokeKey('b')).toBe(true);
    expect(m.revokeKey('b')).toBe(false);
    expect(m.isAllowed('b')).toBe(false);
    expect(() => m.addPull({ key: 'a', url: mp4 })).toThrow(InvalidStateError);
    m.addPull({ key: 'p', url: mp4 });
    expect(() => m.allowKey({ key: 'p' })).toThrow(InvalidStateError);
  });

  it('beginPublish() refuses an unknown key with a PublishRefusedError and reports it', () => {
    const m = make();
    const rejected: PublishRejection[] = [];
    m.on('publish:rejected', (r) => rejected.push(r));
    let error: unknown;
    try {
      m.beginPublish({ key: 'nope', kind: 'rtmp', remote: '1.2.3.4:5', source: { kind: 'flv-stdin' }, session: fakeSession() });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PublishRefusedError);
    expect((error as PublishRefusedError).code).toBe('unknown-key');
    expect(rejected).toEqual([{ kind: 'rtmp', key: 'nope', remote: '1.2.3.4:5', code: 'unknown-key', reason: expect.stringContaining('nope') }]);
    expect(m.streams()).toEqual([]);
  });

  it('a publish that ends drains its decoder: every frame arrives, then the stream ends and its session is closed once', async () => {
    // No rate cap: FLV's millisecond timestamps jitter around the 15 fps grid and the cap could drop one.
    const m = make({ keys: [{ key: 'cam' }], output: { maxFps: undefined } });
    const frames = collectFrames(m);
    const events: string[] = [];
    m.on('stream:added', (s) => events.push(`added:${s.state}`));
    m.on('stream:state', (s) => events.push(s.state));
    const session = fakeSession();
    const stream = m.beginPublish({ key: 'cam', kind: 'rtmp', remote: null, source: { kind: 'flv-stdin' }, session });
    expect(m.publishRefusal('cam')).toMatchObject({ code: 'busy' });
    stream.decoder!.write(readFileSync(flv));
    stream.endSession(session, 'publisher disconnected', true);
    const ended = await nextState(m, 'cam', ['ended', 'failed']);
    expect(ended).toMatchObject({ state: 'ended', reason: 'publisher disconnected', kind: 'rtmp', framesDecoded: 30 });
    expect(frames.get('cam')).toHaveLength(30);
    expect(session.closes).toEqual(['publisher disconnected']);
    expect(events).toEqual(['added:waiting', 'waiting', 'live', 'ended']);
    expect(m.publishRefusal('cam')).toBeNull();
  });

  it('a listener that throws does not stop the frames, and is reported', async () => {
    const m = make();
    const errors: string[] = [];
    m.onListenerError = (event) => errors.push(event);
    m.on('frame', () => { throw new Error('bad listener'); });
    const frames = collectFrames(m);
    m.addPull({ key: 'f', url: mp4 });
    await nextState(m, 'f', ['ended']);
    expect(frames.get('f')).toHaveLength(15);
    expect(errors).toHaveLength(15);
    expect(errors[0]).toBe('frame');
  });

  it('remove() closes the stream and emits stream:removed; the key can be pulled again', async () => {
    const m = make();
    const removed: string[] = [];
    m.on('stream:removed', (k) => removed.push(k));
    const stream = m.addPull({ key: 'r', url: mp4, loop: true });
    await nextState(m, 'r', ['live']);
    expect(await m.remove('r')).toBe(true);
    expect(await m.remove('r')).toBe(false);
    expect(stream.closed).toBe(true);
    expect(removed).toEqual(['r']);
    m.addPull({ key: 'r', url: mp4 });
    await until(() => m.get('r')!.state === 'ended', 20_000, 'second pull to end');
  });
});
