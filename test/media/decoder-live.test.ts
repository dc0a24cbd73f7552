import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { Decoder } from '../../server/media/decoder.js';
import type { DecoderError } from '../../server/media/decoder-error.js';
import type { Frame } from '../../server/media/frame.js';
import { freeUdpPort, gstStart, makeH264File, processAlive, stopChild, tempDir, until } from '../helpers/gst.js';

const tmp = tempDir();
const senders: ChildProcess[] = [];
const decoders: Decoder[] = [];
afterEach(async () => {
  await Promise.all(senders.splice(0).map(stopChild));
  await Promise.all(decoders.splice(0).map((d) => d.close()));
});
afterAll(() => tmp.cleanup());

function rtpSender(codec: 'VP8' | 'H264', port: number, buffers = -1): ChildProcess {
  const enc = codec === 'VP8'
    ? 'vp8enc deadline=1 keyframe-max-dist=10 ! rtpvp8pay pt=96'
    : 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph264pay pt=96 config-interval=1';
  const s = gstStart(`videotestsrc is-live=true num-buffers=${buffers} ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! ${enc} ! udpsink host=127.0.0.1 port=${port}`);
  senders.push(s);
  return s;
}

function track(d: Decoder): Frame[] {
  const frames: Frame[] = [];
  d.on('frame', (f) => frames.push(f));
  decoders.push(d);
  return frames;
}

describe('Decoder on live sources', () => {
  for (const codec of ['VP8', 'H264'] as const) {
    it(`decodes RTP/UDP ${codec}`, async () => {
      const port = await freeUdpPort();
      const d = new Decoder({ source: { kind: 'rtp', codec, port, payloadType: 96 } });
      const frames = track(d);
      const started = d.start();
      rtpSender(codec, port);
      const info = await started;
      expect([info.width, info.height]).toEqual([320, 240]);
      await until(() => frames.length >= 20, 15_000, '20 frames');
      for (let i = 1; i < frames.length; i++) expect(frames[i]!.pts).toBeGreaterThan(frames[i - 1]!.pts);
    });
  }

  it('decodes FLV bytes written to its stdin, then reports eos', async () => {
    const flv = join(tmp.dir, 'in.flv');
    makeH264File(flv, { frames: 40, fps: 25, container: 'flv' });
    const d = new Decoder({ source: { kind: 'flv-stdin' }, restart: false });
    const frames = track(d);
    const eos = new Promise<void>((r) => d.once('eos', () => r()));
    const started = d.start();
    const bytes = readFileSync(flv);
    // Written in pieces, as an RTMP server would hand them on.
    for (let i = 0; i < bytes.length; i += 4096) d.write(bytes.subarray(i, i + 4096));
    d.endInput();
    await started;
    await eos;
    expect(frames).toHaveLength(40);
    expect(frames[39]!.pts - frames[0]!.pts).toBe(39 * 40_000_000);
  });

  it('detects a killed child and restarts a live source, keeping PTS rising', async () => {
    const port = await freeUdpPort();
    const d = new Decoder({ source: { kind: 'rtp', codec: 'VP8', port, payloadType: 96 }, backoffMs: 100 });
    const frames = track(d);
    const died: number[] = [];
    const restarts: DecoderError[] = [];
    d.on('died', (info) => died.push(info.pid ?? -1));
    d.on('restarting', (info) => restarts.push(info.reason));
    const started = d.start();
    rtpSender('VP8', port);
    await started;
    await until(() => frames.length >= 10, 15_000, 'frames before the kill');
    const firstPid = d.pid!;
    process.kill(firstPid, 'SIGKILL');
    await until(() => restarts.length === 1, 5000, 'restart');
    expect(died).toEqual([firstPid]);
    expect(restarts[0]!.failure).toBe('crashed');
    expect(restarts[0]!.message).toMatch(/SIGKILL/);
    const before = frames.length;
    await until(() => frames.length >= before + 10, 15_000, 'frames after the restart');
    expect(d.pid).not.toBe(firstPid);
    expect(processAlive(firstPid)).toBe(false);
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.pts).toBeGreaterThan(frames[i - 1]!.pts);
    expect(d.stats.restarts).toBe(1);
  });

  it('detects a stall when the sender goes quiet', async () => {
    const port = await freeUdpPort();
    const d = new Decoder({ source: { kind: 'rtp', codec: 'VP8', port, payloadType: 96 }, stallTimeoutMs: 800, restart: false });
    const frames = track(d);
    const stalled = new Promise<number>((r) => d.once('stalled', r));
    const failed = new Promise<DecoderError>((r) => d.once('failed', r));
    const started = d.start();
    rtpSender('VP8', port, 30);
    await started;
    expect(await stalled).toBe(800);
    const err = await failed;
    expect(err.failure).toBe('stalled');
    expect(frames.length).toBeGreaterThan(10);
    expect(d.state).toBe('failed');
  });

  it('a file source is not restarted after a crash: it fails with the reason', async () => {
    const mp4 = join(tmp.dir, 'long.mp4');
    makeH264File(mp4, { frames: 300, fps: 30 });
    const d = new Decoder({ source: { kind: 'file', path: mp4 }, realtime: true });
    track(d);
    const failed = new Promise<DecoderError>((r) => d.once('failed', r));
    await d.start();
    process.kill(d.pid!, 'SIGKILL');
    const err = await failed;
    expect(err.failure).toBe('crashed');
    expect(d.stats.restarts).toBe(0);
  });
});
