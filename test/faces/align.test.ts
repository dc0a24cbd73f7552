import { describe, expect, it } from 'vitest';
import { alignFrame, alignWindow, cropEnlarged, fitSimilarity, mapLandmarks, templateFor, warpAffineRGB, windowTransform } from '../../server/faces/align.js';
import { applyAffine } from '../../server/faces/geometry.js';
import type { Affine, Landmarks5, Point } from '../../server/faces/types.js';

const sim = (s: number, r: number, tx: number, ty: number): Affine => [s * Math.cos(r), -s * Math.sin(r), tx, s * Math.sin(r), s * Math.cos(r), ty];
const sse = (m: Affine, src: Point[], dst: Point[]) => src.reduce((e, p, i) => {
  const q = applyAffine(m, p);
  return e + (q[0] - dst[i]![0]) ** 2 + (q[1] - dst[i]![1]) ** 2;
}, 0);

/** A test image whose pixels are a known function of their position. */
function ramp(w: number, h: number): { data: Buffer; width: number; height: number } {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const p = (y * w + x) * 3;
    data[p] = x * 2; data[p + 1] = y * 3; data[p + 2] = 100;
  }
  return { data, width: w, height: h };
}

describe('templateFor()', () => {
  it('is the FTCN 224 template, scaled for other sizes', () => {
    expect(templateFor(224)[0]).toEqual([75.10, 75.06]);
    expect(templateFor(224)[4]).toEqual([146.39, 151.70]);
    const t112 = templateFor(112);
    templateFor(224).forEach(([x, y], i) => { expect(t112[i]![0]).toBeCloseTo(x / 2, 10); expect(t112[i]![1]).toBeCloseTo(y / 2, 10); });
    expect(templateFor(224)[0][0]).toBeLessThan(templateFor(224)[1][0]);
  });

  it('throws TypeError for a size that is not positive', () => {
    expect(() => templateFor(0)).toThrow(TypeError);
  });
});

describe('fitSimilarity()', () => {
  const src: Point[] = [[10, 20], [50, 22], [30, 45], [15, 70], [48, 69]];

  it('recovers an exact similarity', () => {
    const truth = sim(1.7, 0.3, 12, -5);
    const m = fitSimilarity(src, src.map((p) => applyAffine(truth, p)));
    m.forEach((v, i) => expect(v).toBeCloseTo(truth[i]!, 9));
  });

  it('is the least-squares optimum for noisy points (no nearby similarity fits better)', () => {
    const dst = src.map((p, i) => { const q = applyAffine(sim(0.8, -0.2, 3, 4), p); return [q[0] + (i % 2 ? 1.5 : -1), q[1] + (i % 3 ? -0.7 : 1.2)] as Point; });
    const m = fitSimilarity(src, dst);
    const best = sse(m, src, dst);
    const [a, , tx, b, , ty] = m;
    for (const [da, db, dx, dy] of [[1e-3, 0, 0, 0], [-1e-3, 0, 0, 0], [0, 1e-3, 0, 0], [0, -1e-3, 0, 0], [0, 0, 0.01, 0], [0, 0, 0, -0.01]]) {
      const p: Affine = [a + da!, -(b + db!), tx + dx!, b + db!, a + da!, ty + dy!];
      expect(sse(p, src, dst)).toBeGreaterThan(best);
    }
  });

  it('never reflects, even when the targets are mirrored', () => {
    const mirrored = src.map(([x, y]) => [-x, y] as Point);
    const m = fitSimilarity(src, mirrored);
    expect(m[0]).toBeCloseTo(m[4], 12);
    expect(m[1]).toBeCloseTo(-m[3], 12);
    expect(m[0] * m[4] - m[1] * m[3]).toBeGreaterThanOrEqual(0);
  });

  it('throws TypeError for mismatched or too few points', () => {
    expect(() => fitSimilarity(src, src.slice(1))).toThrow(TypeError);
    expect(() => fitSimilarity([[0, 0]], [[1, 1]])).toThrow(TypeError);
    expect(() => fitSimilarity([[1, 1], [1, 1]], [[0, 0], [2, 2]])).toThrow(RangeError);
  });
});

describe('warpAffineRGB()', () => {
  const img = ramp(40, 30);

  it('copies the image under the identity', () => {
    expect(warpAffineRGB(img, [1, 0, 0, 0, 1, 0], 40, 30).equals(img.data)).toBe(true);
  });

  it('interpolates bilinearly (exact on a ramp) and reads black outside the source', () => {
    const out = warpAffineRGB(img, [1, 0, -0.5, 0, 1, -0.5], 40, 30); // output(x) = source(x + 0.5)
    const px = (x: number, y: number) => [...out.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3)];
    expect(px(10, 10)).toEqual([21, 32, 100]); // 2 * 10.5, 3 * 10.5 rounded
    const shifted = warpAffineRGB(img, [1, 0, 100, 0, 1, 0], 40, 30);
    expect(shifted.every((v) => v === 0)).toBe(true);
  });

  it('scales and rotates around the right point (OpenCV convention: integer coordinates are pixel centres)', () => {
    const m = sim(2, Math.PI / 2, 30, 5); // source (x, y) -> (30 - 2y, 5 + 2x)
    const out = warpAffineRGB(img, m, 64, 64);
    const [x, y] = applyAffine(m, [7, 4]);
    const p = (Math.round(y) * 64 + Math.round(x)) * 3;
    expect([out[p], out[p + 1]]).toEqual([14, 12]);
  });

  it('writes into a caller buffer and rejects one that is too small', () => {
    const buf = Buffer.alloc(10 * 10 * 3);
    expect(warpAffineRGB(img, [1, 0, 0, 0, 1, 0], 10, 10, buf)).toBe(buf);
    expect(() => warpAffineRGB(img, [1, 0, 0, 0, 1, 0], 20, 20, buf)).toThrow(TypeError);
    expect(() => warpAffineRGB({ data: Buffer.alloc(5), width: 40, height: 30 }, [1, 0, 0, 0, 1, 0], 10, 10)).toThrow(/needs 3600/);
  });
});

describe('alignWindow()', () => {
  const img = ramp(200, 150);
  const tpl = templateFor(224);

  it('fits ONE transform to all frames: a face that moves inside the window moves in the output', () => {
    const base = sim(0.5, 0.1, 40, 30);
    const lmA = mapLandmarks(base, tpl as Landmarks5);
    const lmB = lmA.map(([x, y]) => [x + 6, y]) as Landmarks5; // the face moved 6 px right
    const [outA, outB] = alignWindow([img, img], [lmA, lmB], 224);
    // Same image and the same joint transform: identical output, although the landmarks differ.
    expect(outA!.equals(outB!)).toBe(true);
    // One transform: every point of frame B sits the same offset from frame A's (the motion,
    // scaled and turned), and the points' overall centroid is the template's (least squares).
    const m = windowTransform([lmA, lmB], 224);
    const a = mapLandmarks(m, lmA), b = mapLandmarks(m, lmB);
    const scale = Math.hypot(m[0], m[3]);
    for (let k = 0; k < 5; k++) {
      expect(b[k]![0] - a[k]![0]).toBeCloseTo(m[0] * 6, 9);
      expect(b[k]![1] - a[k]![1]).toBeCloseTo(m[3] * 6, 9);
    }
    expect(Math.hypot(b[0]![0] - a[0]![0], b[0]![1] - a[0]![1])).toBeCloseTo(6 * scale, 9);
    const centroid = (pts: Point[]) => pts.reduce((c, p) => [c[0] + p[0] / pts.length, c[1] + p[1] / pts.length], [0, 0]);
    const got = centroid([...a, ...b]), want = centroid(tpl);
    expect(got[0]).toBeCloseTo(want[0], 9);
    expect(got[1]).toBeCloseTo(want[1], 9);
  });

  it('maps landmarks exactly onto the template when the face has the template\'s shape', () => {
    const lms = [sim(0.4, -0.2, 10, 20), sim(0.4, -0.2, 10, 20)].map((m) => mapLandmarks(m, tpl as Landmarks5));
    const m = windowTransform(lms, 112);
    mapLandmarks(m, lms[0]!).forEach((p, k) => { expect(p[0]).toBeCloseTo(tpl[k]![0] / 2, 6); expect(p[1]).toBeCloseTo(tpl[k]![1] / 2, 6); });
  });

  it('gives the same pixels from an enlarged face crop as from the whole frame', () => {
    const lm = mapLandmarks(sim(0.3, 0.05, 60, 40), tpl as Landmarks5);
    const box = { x: 70, y: 55, width: 40, height: 40 };
    const crop = cropEnlarged(img, box, 0.5);
    expect([crop.x0, crop.y0, crop.width, crop.height]).toEqual([50, 35, 80, 80]);
    const full = alignFrame(img, lm, 64);
    const fromCrop = alignWindow([crop], [lm], 64)[0]!;
    expect(fromCrop.equals(full)).toBe(true);
  });

  it('throws TypeError when frames and landmark sets do not pair up', () => {
    expect(() => alignWindow([img], [], 224)).toThrow(TypeError);
    expect(() => alignWindow([], [], 224)).toThrow(TypeError);
  });
});
