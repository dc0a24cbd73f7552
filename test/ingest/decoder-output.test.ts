import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrames } from '../../server/media/frames.js';
import type { Frame } from '../../server/media/frame.js';
import { packRgb, type DecoderOptions } from '../../server/media/decoder.js';
import { makeH264File, tempDir } from '../helpers/gst.js';

// The decoder output that ingest relies on: any source width, bounded size without upscaling.
const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function collect(options: DecoderOptions): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of decodeFrames(options)) out.push(f);
  return out;
}

describe('decoder output for ingest', () => {
  it('delivers packed rows for a width whose RGB rows GStreamer pads (854 px)', async () => {
    const path = join(tmp.dir, 'odd.mp4');
    makeH264File(path, { frames: 5, fps: 25, width: 854, height: 480 });
    const frames = await collect({ source: { kind: 'file', path } });
    expect(frames).toHaveLength(5);
    expect(frames[0]!.width).toBe(854);
    expect(frames[0]!.data.length).toBe(854 * 480 * 3);
  });

  it('maxWidth/maxHeight scale a larger source down with its aspect and leave a smaller one alone', async () => {
    const big = join(tmp.dir, 'big.mp4');
    const small = join(tmp.dir, 'small.mp4');
    makeH264File(big, { frames: 3, fps: 25, width: 1920, height: 1080 });
    makeH264File(small, { frames: 3, fps: 25, width: 640, height: 480 });
    const bounds = { maxWidth: 1280, maxHeight: 720 };
    const [b] = await collect({ source: { kind: 'file', path: big }, ...bounds });
    const [s] = await collect({ source: { kind: 'file', path: small }, ...bounds });
    expect([b!.width, b!.height]).toEqual([1280, 720]);
    expect([s!.width, s!.height]).toEqual([640, 480]);
  });

  it('packRgb() strips row padding and refuses a buffer of any other size', () => {
    // 2x2 RGB: rows of 6 bytes padded to 8.
    const padded = Buffer.from([1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12, 0, 0]);
    expect([...packRgb(padded, 2, 2)!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(packRgb(Buffer.alloc(13), 2, 2)).toBeNull();
  });
});
