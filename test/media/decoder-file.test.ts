import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Decoder } from '../../server/media/decoder.js';
import { DecoderError } from '../../server/media/decoder-error.js';
import { decodeFrames } from '../../server/media/frames.js';
import { probe } from '../../server/media/probe.js';
import type { Frame } from '../../server/media/frame.js';
import { makeH264File, processAlive, tempDir } from '../helpers/gst.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function collect(options: ConstructorParameters<typeof Decoder>[0]): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of decodeFrames(options)) out.push(f);
  return out;
}

describe('Decoder on files', () => {
  const mp4 = join(tmp.dir, 'fifty.mp4');
  makeH264File(mp4, { frames: 50, fps: 25 });

  it('delivers exactly the frames of a file with an exact PTS sequence', async () => {
    const frames = await collect({ source: { kind: 'file', path: mp4 } });
    expect(frames).toHaveLength(50);
    frames.forEach((f, i) => {
      expect(f.pts).toBe(i * 40_000_000);
      expect(f.duration).toBe(40_000_000);
      expect(f.index).toBe(i);
      expect([f.width, f.height, f.format]).toEqual([320, 240, 'RGB']);
      expect(f.data.length).toBe(320 * 240 * 3);
    });
  });

  it('scales to the requested size', async () => {
    const frames = await collect({ source: { kind: 'file', path: mp4 }, width: 160, height: 120 });
    expect(frames).toHaveLength(50);
    expect(frames[0]!.data.length).toBe(160 * 120 * 3);
  });

  it('drops frames to the requested rate before conversion, keeping source timestamps', async () => {
    const frames = await collect({ source: { kind: 'file', path: mp4 }, maxFps: 10 });
    expect(frames).toHaveLength(20);
    for (let i = 1; i < frames.length; i++) {
      const gap = frames[i]!.pts - frames[i - 1]!.pts;
      expect(gap % 40_000_000).toBe(0); // still on the source's frame grid
      expect(gap).toBeGreaterThanOrEqual(80_000_000);
      expect(gap).toBeLessThanOrEqual(120_000_000);
    }
  });

  it('reads containers other than MP4 and paths with spaces', async () => {
    const mkv = join(tmp.dir, 'with space.mkv');
    makeH264File(mkv, { frames: 12, fps: 30, container: 'mkv' });
    const frames = await collect({ source: { kind: 'file', path: mkv } });
    expect(frames).toHaveLength(12);
  });

  it('probe() reports frames, size, rate and PTS range', async () => {
    const r = await probe({ kind: 'file', path: mp4 });
    expect(r).toMatchObject({ frames: 50, width: 320, height: 240, fps: 25, firstPts: 0, lastPts: 1.96 });
    expect(r.decodeFps).toBeGreaterThan(0);
    const first10 = await probe({ kind: 'file', path: mp4 }, 10);
    expect(first10.frames).toBe(10);
  });

  it('start() rejects with not-found for a missing file', async () => {
    const d = new Decoder({ source: { kind: 'file', path: join(tmp.dir, 'nope.mp4') } });
    await expect(d.start()).rejects.toMatchObject({ name: 'DecoderError', failure: 'not-found' });
    await d.close();
  });

  it('start() rejects with a clear error for garbage bytes, within seconds', async () => {
    const junk = join(tmp.dir, 'junk.mp4');
    writeFileSync(junk, Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251)));
    const d = new Decoder({ source: { kind: 'file', path: junk } });
    const t0 = Date.now();
    const err = await d.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecoderError);
    expect((err as DecoderError).failure).toBe('bad-input');
    expect((err as DecoderError).message).toMatch(/cannot read the input as video/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(d.state).toBe('failed');
    await d.close();
  });

  it('a truncated file fails with a clear error instead of hanging', async () => {
    const cut = join(tmp.dir, 'cut.mp4');
    const whole = readFileSync(mp4);
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const d = new Decoder({ source: { kind: 'file', path: cut }, startTimeoutMs: 5000 });
    const err = (await d.start().catch((e: unknown) => e)) as DecoderError;
    expect(err).toBeInstanceOf(DecoderError);
    expect(['bad-input', 'failed']).toContain(err.failure);
    expect(err.message).not.toMatch(/exited with code/);
    await d.close();
  });

  it('close() while running kills the child and leaves no process behind', async () => {
    const long = join(tmp.dir, 'long.mp4');
    makeH264File(long, { frames: 300, fps: 30 });
    const d = new Decoder({ source: { kind: 'file', path: long }, realtime: true });
    await d.start();
    const pid = d.pid;
    expect(processAlive(pid)).toBe(true);
    await d.close();
    await d.close(); // safe twice
    expect(processAlive(pid)).toBe(false);
    expect(d.state).toBe('closed');
  });
});
