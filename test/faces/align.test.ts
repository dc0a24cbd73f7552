import { describe, expect, it } from 'vitest';
import { alignFrame, alignWindow, cropEnlarged, fitSimilarity, mapLandmarks, templateFor, warpAffineRGB, windowTransform, windowTransforms } from '../../server/faces/align.js';
import { python } from '../model/helpers.js';
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

describe("windowTransforms('trajectory')", () => {
  const tpl = templateFor(224);
  // A face walking 3 eye distances across the frame in 16 frames, growing 20 %, turning.
  const walk = Array.from({ length: 16 }, (_, t) => mapLandmarks(sim(0.5 * (1 + 0.2 * t / 15), 0.1 + 0.004 * t, 40 + 7 * t, 30 + 1.5 * t + 0.05 * t * t), tpl as Landmarks5));

  it('keeps a walking, zooming face on the template in every frame (joint lets it slide)', () => {
    const per = windowTransforms(walk, 112, 'trajectory');
    const joint = windowTransforms(walk, 112, 'joint');
    let worstTrajectory = 0, worstJoint = 0;
    walk.forEach((lm, t) => {
      mapLandmarks(per[t]!, lm).forEach((p, k) => { worstTrajectory = Math.max(worstTrajectory, Math.hypot(p[0] - tpl[k]![0] / 2, p[1] - tpl[k]![1] / 2)); });
      mapLandmarks(joint[t]!, lm).forEach((p, k) => { worstJoint = Math.max(worstJoint, Math.hypot(p[0] - tpl[k]![0] / 2, p[1] - tpl[k]![1] / 2)); });
    });
    expect(worstTrajectory).toBeLessThan(0.05);
    expect(worstJoint).toBeGreaterThan(20);
  });

  it('does not follow landmark noise: transforms lie on a quadratic in time', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5);
    const noisy = walk.map((lm) => lm.map(([x, y]) => [x + 3 * rand(), y + 3 * rand()]) as Landmarks5);
    const ms = windowTransforms(noisy, 112, 'trajectory');
    // Rotation-scale (a, b) and the frame point that lands on the template's centre are
    // quadratics in time: their third differences are zero, no frame-to-frame jitter is left.
    const tc = tpl.reduce((c, p) => [c[0] + p[0] / 10, c[1] + p[1] / 10], [0, 0]);
    const series = ms.map((m) => {
      const det = m[0] * m[4] - m[1] * m[3];
      const x = tc[0] - m[2], y = tc[1] - m[5];
      return [m[0], m[3], (m[4] * x - m[1] * y) / det, (-m[3] * x + m[0] * y) / det];
    });
    for (let i = 0; i < 4; i++) {
      for (let t = 3; t < series.length; t++) {
        const d3 = series[t]![i]! - 3 * series[t - 1]![i]! + 3 * series[t - 2]![i]! - series[t - 3]![i]!;
        expect(Math.abs(d3)).toBeLessThan(1e-8 * Math.max(1, Math.abs(series[t]![i]!)));
      }
    }
    // and the per-frame fits it replaces do jitter
    const raw = noisy.map((lm) => windowTransform([lm], 112));
    const jitter = Math.max(...raw.slice(3).map((m, k) => Math.abs(m[2] - 3 * raw[k + 2]![2] + 3 * raw[k + 1]![2] - raw[k]![2])));
    expect(jitter).toBeGreaterThan(0.1);
  });

  it('gives a short window a lower degree and a single frame its own fit', () => {
    const one = windowTransforms(walk.slice(0, 1), 112, 'trajectory')[0]!;
    const own = windowTransform(walk.slice(0, 1), 112);
    one.forEach((v, i) => expect(v).toBeCloseTo(own[i]!, 9));
    expect(windowTransforms(walk.slice(0, 2), 112, 'trajectory')).toHaveLength(2);
  });

  it('is the alignment the demo-model trainer uses (models/toolkit/demo/geometry.py)', () => {
    const noisy = walk.map((lm, t) => lm.map(([x, y], k) => [x + Math.sin(t * 3 + k), y + Math.cos(t * 5 + k)]) as Landmarks5);
    const out = python(['-c', `import json; import numpy as np; from demo.geometry import window_similarities
lm = np.array(${JSON.stringify(noisy)})
print(json.dumps([m.reshape(-1).tolist() for m in window_similarities(lm, 112, 'trajectory')]))`]);
    const py = JSON.parse(out) as number[][];
    const ts = windowTransforms(noisy, 112, 'trajectory');
    py.forEach((m, t) => m.forEach((v, i) => expect(ts[t]![i]!).toBeCloseTo(v, 7)));
  });
});
