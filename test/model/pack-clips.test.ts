import { describe, expect, it } from 'vitest';
import { clipSize, packClip, packClips } from '../../server/analysis/pack-clips.js';

const spec = { clipLength: 2, height: 2, width: 3, mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };
const frameBytes = spec.height * spec.width * 3;

function frame(seed: number): Buffer {
  return Buffer.from(Array.from({ length: frameBytes }, (_, i) => (i * 37 + seed * 101) % 256));
}

describe('packClips()', () => {
  it('de-interleaves RGB frames into (B, 3, T, H, W) normalised with the manifest mean/std', () => {
    const clips = [[frame(1), frame(2)], [frame(3), frame(4)]];
    const out = packClips(clips, spec);
    expect(out).toHaveLength(2 * clipSize(spec));
    const plane = spec.height * spec.width;
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 3; c++) {
        for (let t = 0; t < 2; t++) {
          for (let p = 0; p < plane; p++) {
            const want = (clips[b][t][p * 3 + c] - spec.mean[c] * 255) / (spec.std[c] * 255);
            expect(out[((b * 3 + c) * 2 + t) * plane + p]).toBeCloseTo(want, 5);
          }
        }
      }
    }
  });

  it('writes into a caller buffer and returns a view of exactly B clips', () => {
    const buf = new Float32Array(3 * clipSize(spec)).fill(42);
    const out = packClips([[frame(5), frame(6)]], spec, buf);
    expect(out.buffer).toBe(buf.buffer);
    expect(out).toHaveLength(clipSize(spec));
    expect(buf[clipSize(spec)]).toBe(42);
    const alone = new Float32Array(clipSize(spec));
    packClip([frame(5), frame(6)], spec, alone, 0);
    expect(Array.from(out)).toEqual(Array.from(alone));
  });

  it('rejects a clip of the wrong length, a frame of the wrong size, and a buffer too small', () => {
    expect(() => packClips([[frame(1)]], spec)).toThrow(/clip 0 has 1 frames; the model takes 2/);
    expect(() => packClips([[frame(1), Buffer.alloc(5)]], spec)).toThrow(/clip 0 frame 1 has 5 bytes; 3x2 RGB needs 18/);
    expect(() => packClips([[frame(1), frame(2)], [frame(1), frame(2)]], spec, new Float32Array(clipSize(spec)))).toThrow(/holds 1 clips; 2 given/);
    expect(() => packClips([], spec)).toThrow(/at least one clip/);
  });
});
