import { applyAffine, composeAffine, invertAffine } from './geometry.js';
import type { Affine, Box, Landmarks5, Point, RgbImage } from './types.js';
import { warpRgbInverse } from './warp.js';

export type { Affine } from './types.js';

/**
 * The FTCN alignment: a least-squares similarity (rotation, uniform scale, translation;
 * never a reflection) from the five landmarks to fixed template points, fitted jointly
 * over every frame of a clip so one transform serves the whole window. Sharing it is the
 * only temporal smoothing the reference does, and the detector is trained on it: a
 * per-frame transform adds jitter of its own (use it for previews only).
 */

/** Template points for a 224x224 output (left eye, right eye, nose tip, left and right mouth corners). */
const TEMPLATE_224: Landmarks5 = [
  [75.10, 75.06],
  [147.92, 73.80],
  [111.63, 119.88],
  [79.36, 152.86],
  [146.39, 151.70],
];

/** The template for an S x S output: the 224 template scaled by S/224. */
export function templateFor(size: number): Landmarks5 {
  if (!(size > 0)) throw new TypeError(`template size must be positive, got ${size}`);
  const k = size / 224;
  return TEMPLATE_224.map(([x, y]) => [x * k, y * k]) as Landmarks5;
}

/**
 * Least-squares similarity mapping `src` onto `dst` (Umeyama's problem, without
 * reflection). In 2-D it has a closed form: with both point sets centred, the rotation
 * and scale a = s*cos(t), b = s*sin(t) are the normalised dot and cross sums.
 */
export function fitSimilarity(src: Point[], dst: Point[]): Affine {
  if (src.length !== dst.length) throw new TypeError(`fitSimilarity needs as many source as target points, got ${src.length} and ${dst.length}`);
  if (src.length < 2) throw new TypeError(`fitSimilarity needs at least 2 point pairs, got ${src.length}`);
  const n = src.length;
  let mx = 0, my = 0, nx = 0, ny = 0;
  for (let i = 0; i < n; i++) {
    const p = src[i]!, q = dst[i]!;
    if (!Number.isFinite(p[0]) || !Number.isFinite(p[1]) || !Number.isFinite(q[0]) || !Number.isFinite(q[1])) {
      throw new TypeError(`fitSimilarity: point pair ${i} is not finite`);
    }
    mx += p[0]; my += p[1]; nx += q[0]; ny += q[1];
  }
  mx /= n; my /= n; nx /= n; ny /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - mx, py = src[i]![1] - my;
    const qx = dst[i]![0] - nx, qy = dst[i]![1] - ny;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm < 1e-12) throw new RangeError('fitSimilarity: the source points all coincide');
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, nx - (a * mx - b * my), b, a, ny - (b * mx + a * my)];
}

/** Warps `src` by `m` (source -> output coordinates, OpenCV convention) into an outW x outH RGB buffer. */
export function warpAffineRGB(src: RgbImage, m: Affine, outW: number, outH: number, out?: Buffer): Buffer {
  return warpRgbInverse(src, invertAffine(m), outW, outH, out);
}

/** An image that may be a crop of a larger frame, whose top-left sits at (x0, y0) in frame coordinates. */
export interface FrameImage extends RgbImage {
  x0?: number;
  y0?: number;
}

/** The similarity taking frame coordinates to the template for one window of landmark sets. */
export function windowTransform(landmarks: Landmarks5[], size: number): Affine {
  if (landmarks.length === 0) throw new TypeError('alignWindow needs at least one frame');
  const tpl = templateFor(size);
  const src: Point[] = [];
  const dst: Point[] = [];
  for (const lm of landmarks) {
    if (lm.length !== 5) throw new TypeError(`each landmark set must have 5 points, got ${lm.length}`);
    for (let k = 0; k < 5; k++) { src.push(lm[k]!); dst.push(tpl[k]!); }
  }
  return fitSimilarity(src, dst);
}

/**
 * How a window is aligned. `joint`: the reference's ONE similarity for the whole window.
 * `trajectory`: a similarity per frame whose parameters follow a quadratic in time fitted
 * to the per-frame estimates: a walking or zooming face stays put in the crop (under
 * `joint` it slides across it, and the crop's black outside creeps in), while landmark
 * noise, which no quadratic over a window follows, still adds no jitter.
 */
export const WINDOW_ALIGNMENTS = ['joint', 'trajectory'] as const;
export type WindowAlignment = (typeof WINDOW_ALIGNMENTS)[number];

/** Polynomial degree of the trajectory fit; a window too short for it gets less. */
export const TRAJECTORY_DEGREE = 2;

/** One similarity per frame of the window (frame coordinates -> the size x size template). */
export function windowTransforms(landmarks: Landmarks5[], size: number, alignment: WindowAlignment): Affine[] {
  if (alignment === 'joint') {
    const m = windowTransform(landmarks, size);
    return landmarks.map(() => m);
  }
  const n = landmarks.length;
  if (n === 0) throw new TypeError('alignWindow needs at least one frame');
  const tpl = templateFor(size);
  const tc = centroid(tpl);
  // Per frame: the linear part (a, b) of its own fit, and where its landmark centroid is;
  // fitting the centroid rather than the translation keeps rotation and position apart.
  const a: number[] = [], b: number[] = [], cx: number[] = [], cy: number[] = [];
  for (const lm of landmarks) {
    const m = windowTransform([lm], size);
    const c = centroid(lm);
    a.push(m[0]); b.push(m[3]); cx.push(c[0]); cy.push(c[1]);
  }
  const degree = Math.min(TRAJECTORY_DEGREE, Math.floor((n - 1) / 2));
  const [sa, sb, sx, sy] = [a, b, cx, cy].map((v) => polyfitValues(v, degree));
  return sa!.map((ai, t) => {
    const bi = sb![t]!, x = sx![t]!, y = sy![t]!;
    return [ai, -bi, tc[0] - (ai * x - bi * y), bi, ai, tc[1] - (bi * x + ai * y)] as Affine;
  });
}

function centroid(pts: readonly Point[]): Point {
  let x = 0, y = 0;
  for (const p of pts) { x += p[0]; y += p[1]; }
  return [x / pts.length, y / pts.length];
}

/** Least-squares polynomial of `degree` through v[t] at t = 0..n-1, evaluated at each t. */
function polyfitValues(v: number[], degree: number): number[] {
  const n = v.length;
  if (degree <= 0) {
    const mean = v.reduce((s, x) => s + x, 0) / n;
    return v.map(() => mean);
  }
  // Normal equations on t scaled to [-1, 1] (well conditioned for the small degrees used).
  const k = degree + 1;
  const ts = v.map((_, t) => (2 * t) / (n - 1) - 1); // degree > 0 means n >= 3
  const ata = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const atv = new Array<number>(k).fill(0);
  for (let t = 0; t < n; t++) {
    const pw = Array.from({ length: k }, (_, i) => ts[t]! ** i);
    for (let i = 0; i < k; i++) {
      atv[i]! += pw[i]! * v[t]!;
      for (let j = 0; j < k; j++) ata[i]![j]! += pw[i]! * pw[j]!;
    }
  }
  const coef = solve(ata, atv);
  return ts.map((x) => coef.reduce((s, c, i) => s + c * x ** i, 0));
}

/** Gaussian elimination with partial pivoting for a small dense system. */
function solve(m: number[][], y: number[]): number[] {
  const k = y.length;
  const a = m.map((row, i) => [...row, y[i]!]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const d = a[c]![c]!;
    if (Math.abs(d) < 1e-12) throw new RangeError('trajectory fit: singular system');
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / d;
      for (let j = c; j <= k; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row, i) => row[k]! / row[i]!);
}

/**
 * Aligns a window of frames (by default with ONE transform fitted to all of their
 * landmarks, frame coordinates; see WindowAlignment). Returns one size x size RGB buffer
 * per frame. A frame may be a crop of the original (give its x0, y0); pixels outside it
 * read as black, as in the reference, which crops an enlarged face box first.
 */
export function alignWindow(frames: FrameImage[], landmarks: Landmarks5[], size: number, alignment: WindowAlignment = 'joint'): Buffer[] {
  if (frames.length !== landmarks.length) throw new TypeError(`alignWindow got ${frames.length} frames but ${landmarks.length} landmark sets`);
  const ms = windowTransforms(landmarks, size, alignment);
  return frames.map((f, i) => warpFrameImage(f, ms[i]!, size));
}

/** Per-frame alignment (for previews): its own transform for this frame alone. */
export function alignFrame(frame: FrameImage, landmarks: Landmarks5, size: number, out?: Buffer): Buffer {
  return warpFrameImage(frame, windowTransform([landmarks], size), size, out);
}

function warpFrameImage(f: FrameImage, m: Affine, size: number, out?: Buffer): Buffer {
  const x0 = f.x0 ?? 0, y0 = f.y0 ?? 0;
  // The image's own coordinates are frame coordinates shifted by its corner.
  const local = x0 === 0 && y0 === 0 ? m : composeAffine(m, [1, 0, x0, 0, 1, y0]);
  return warpRgbInverse(f, invertAffine(local), size, size, out);
}

/** Maps landmarks through a transform (e.g. to check where they land in the aligned crop). */
export function mapLandmarks(m: Affine, lm: Landmarks5): Landmarks5 {
  return lm.map((p) => applyAffine(m, p)) as Landmarks5;
}

/**
 * Copies the face box enlarged by `margin` times its size on every side (the reference
 * uses 0.5), clipped to the frame: what a window needs to keep per frame instead of the
 * whole frame. The result carries its corner so alignWindow places it correctly.
 */
export function cropEnlarged(frame: RgbImage, box: Box, margin = 0.5): Required<FrameImage> {
  const x0 = Math.max(0, Math.floor(box.x - box.width * margin));
  const y0 = Math.max(0, Math.floor(box.y - box.height * margin));
  const x1 = Math.min(frame.width, Math.ceil(box.x + box.width * (1 + margin)));
  const y1 = Math.min(frame.height, Math.ceil(box.y + box.height * (1 + margin)));
  const w = Math.max(1, x1 - x0), h = Math.max(1, y1 - y0);
  const data = Buffer.allocUnsafe(w * h * 3);
  if (x1 <= x0 || y1 <= y0) {
    data.fill(0);
  } else {
    for (let y = 0; y < h; y++) {
      const from = ((y0 + y) * frame.width + x0) * 3;
      frame.data.copy(data, y * w * 3, from, from + w * 3);
    }
  }
  return { data, width: w, height: h, x0, y0 };
}
