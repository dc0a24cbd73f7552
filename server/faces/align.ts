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
 * Aligns a window of frames with ONE transform fitted to all of their landmarks (frame
 * coordinates). Returns one size x size RGB buffer per frame. A frame may be a crop of the
 * original (give its x0, y0); pixels outside it read as black, as in the reference, which
 * crops an enlarged face box first.
 */
export function alignWindow(frames: FrameImage[], landmarks: Landmarks5[], size: number): Buffer[] {
  if (frames.length !== landmarks.length) throw new TypeError(`alignWindow got ${frames.length} frames but ${landmarks.length} landmark sets`);
  const m = windowTransform(landmarks, size);
  return frames.map((f) => warpFrameImage(f, m, size));
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
