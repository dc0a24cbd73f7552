import type { Affine, RgbImage } from './types.js';

/**
 * Bilinear affine warps on packed RGB. Matrices follow OpenCV's warpAffine convention:
 * integer coordinates are pixel centres, and samples that fall outside the source read
 * as black (a constant border), as the reference alignment does.
 *
 * Both warps take the inverse map (output pixel -> source position), so a caller that
 * built the map that way never inverts twice.
 */

function checkImage(src: RgbImage): void {
  if (!Number.isInteger(src.width) || !Number.isInteger(src.height) || src.width <= 0 || src.height <= 0) {
    throw new TypeError(`image size must be positive integers, got ${src.width}x${src.height}`);
  }
  if (src.data.length < src.width * src.height * 3) {
    throw new TypeError(`image buffer has ${src.data.length} bytes, ${src.width}x${src.height} RGB needs ${src.width * src.height * 3}`);
  }
}

function checkOut(outW: number, outH: number): void {
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW <= 0 || outH <= 0) {
    throw new TypeError(`output size must be positive integers, got ${outW}x${outH}`);
  }
}

/** RGB -> RGB, `inv` maps output pixel coordinates to source coordinates. */
export function warpRgbInverse(src: RgbImage, inv: Affine, outW: number, outH: number, out?: Buffer): Buffer {
  checkImage(src);
  checkOut(outW, outH);
  const need = outW * outH * 3;
  if (out !== undefined && out.length < need) throw new TypeError(`output buffer has ${out.length} bytes, needs ${need}`);
  const dst = out ?? Buffer.allocUnsafe(need);
  const s = src.data;
  const W = src.width, H = src.height, stride = W * 3;
  const [a, b, tx, c, d, ty] = inv;
  let o = 0;
  for (let y = 0; y < outH; y++) {
    let sx = b * y + tx;
    let sy = d * y + ty;
    for (let x = 0; x < outW; x++, sx += a, sy += c, o += 3) {
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        const fx = sx - x0, fy = sy - y0;
        const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
        const p = y0 * stride + x0 * 3;
        const q = p + stride;
        dst[o] = s[p]! * w00 + s[p + 3]! * w01 + s[q]! * w10 + s[q + 3]! * w11 + 0.5;
        dst[o + 1] = s[p + 1]! * w00 + s[p + 4]! * w01 + s[q + 1]! * w10 + s[q + 4]! * w11 + 0.5;
        dst[o + 2] = s[p + 2]! * w00 + s[p + 5]! * w01 + s[q + 2]! * w10 + s[q + 5]! * w11 + 0.5;
      } else if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) {
        dst[o] = 0; dst[o + 1] = 0; dst[o + 2] = 0;
      } else {
        edgeSample(s, W, H, sx, sy, x0, y0, dst, o);
      }
    }
  }
  return dst;
}

/** A sample whose 2x2 neighbourhood straddles the border: missing taps count as black. */
function edgeSample(s: Buffer, W: number, H: number, sx: number, sy: number, x0: number, y0: number, dst: Buffer | Float32Array, o: number): void {
  const fx = sx - x0, fy = sy - y0;
  let r = 0, g = 0, bl = 0;
  for (let j = 0; j < 2; j++) {
    const yy = y0 + j;
    if (yy < 0 || yy >= H) continue;
    const wy = j === 0 ? 1 - fy : fy;
    for (let i = 0; i < 2; i++) {
      const xx = x0 + i;
      if (xx < 0 || xx >= W) continue;
      const w = wy * (i === 0 ? 1 - fx : fx);
      const p = (yy * W + xx) * 3;
      r += s[p]! * w; g += s[p + 1]! * w; bl += s[p + 2]! * w;
    }
  }
  if (dst instanceof Float32Array) {
    dst[o] = r; dst[o + 1] = g; dst[o + 2] = bl;
  } else {
    dst[o] = r + 0.5; dst[o + 1] = g + 0.5; dst[o + 2] = bl + 0.5;
  }
}

/**
 * RGB -> float NHWC model input: `value = pixel * scale + bias`, written at `offset` of
 * `out` (so several crops can share one batch tensor). Outside the source reads as pixel 0.
 */
export function warpToTensor(
  src: RgbImage, inv: Affine, outW: number, outH: number,
  out: Float32Array, offset: number, scale: number, bias: number,
): void {
  checkImage(src);
  checkOut(outW, outH);
  if (offset + outW * outH * 3 > out.length) throw new RangeError(`tensor too small for a ${outW}x${outH} crop at offset ${offset}`);
  const s = src.data;
  const W = src.width, H = src.height, stride = W * 3;
  const [a, b, tx, c, d, ty] = inv;
  const pix = new Float32Array(3);
  let o = offset;
  for (let y = 0; y < outH; y++) {
    let sx = b * y + tx;
    let sy = d * y + ty;
    for (let x = 0; x < outW; x++, sx += a, sy += c, o += 3) {
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        const fx = sx - x0, fy = sy - y0;
        const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
        const p = y0 * stride + x0 * 3;
        const q = p + stride;
        out[o] = (s[p]! * w00 + s[p + 3]! * w01 + s[q]! * w10 + s[q + 3]! * w11) * scale + bias;
        out[o + 1] = (s[p + 1]! * w00 + s[p + 4]! * w01 + s[q + 1]! * w10 + s[q + 4]! * w11) * scale + bias;
        out[o + 2] = (s[p + 2]! * w00 + s[p + 5]! * w01 + s[q + 2]! * w10 + s[q + 5]! * w11) * scale + bias;
      } else if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) {
        out[o] = bias; out[o + 1] = bias; out[o + 2] = bias;
      } else {
        edgeSample(s, W, H, sx, sy, x0, y0, pix, 0);
        out[o] = pix[0]! * scale + bias; out[o + 1] = pix[1]! * scale + bias; out[o + 2] = pix[2]! * scale + bias;
      }
    }
  }
}

/**
 * Area-averaging downscale by an integer factor. Bilinear sampling alone aliases badly
 * when a 1080p frame shrinks to a 256-pixel detector input; averaging first keeps small
 * faces recognisable. For large factors it averages a spread grid of at most 3x3 taps
 * per block instead of every pixel: nearly the same low-pass, a third of the reads.
 */
export function boxDownscale(src: RgbImage, factor: number, out?: Buffer, region?: { x: number; y: number; width: number; height: number }): RgbImage {
  checkImage(src);
  if (!Number.isInteger(factor) || factor < 1) throw new TypeError(`downscale factor must be a positive integer, got ${factor}`);
  const r = region ?? { x: 0, y: 0, width: src.width, height: src.height };
  if (!Number.isInteger(r.x) || !Number.isInteger(r.y) || r.x < 0 || r.y < 0 || r.x + r.width > src.width || r.y + r.height > src.height) {
    throw new RangeError(`region ${JSON.stringify(r)} is not inside the ${src.width}x${src.height} image`);
  }
  if (factor === 1 && !region) return src;
  const W = Math.floor(r.width / factor), H = Math.floor(r.height / factor);
  if (W < 1 || H < 1) throw new RangeError(`${r.width}x${r.height} is too small to shrink by ${factor}`);
  const need = W * H * 3;
  const dst = out && out.length >= need ? out : Buffer.allocUnsafe(need);
  const s = src.data, stride = src.width * 3;
  const taps = Math.min(factor, 3);
  // Tap offsets inside a block, centred in equal sub-blocks.
  const offs = Array.from({ length: taps }, (_, i) => Math.floor(((i + 0.5) * factor) / taps));
  const colOff = Int32Array.from(offs.map((o) => o * 3));
  const rowOff = Int32Array.from(offs.map((o) => o * stride));
  const n = taps * taps;
  const half = n >> 1;
  let d = 0;
  for (let y = 0; y < H; y++) {
    const rowBase = (r.y + y * factor) * stride + r.x * 3;
    for (let x = 0; x < W; x++, d += 3) {
      const base = rowBase + x * factor * 3;
      let red = 0, g = 0, b = 0;
      for (let j = 0; j < taps; j++) {
        const rb = base + rowOff[j]!;
        for (let i = 0; i < taps; i++) {
          const p = rb + colOff[i]!;
          red += s[p]!; g += s[p + 1]!; b += s[p + 2]!;
        }
      }
      dst[d] = (red + half) / n; dst[d + 1] = (g + half) / n; dst[d + 2] = (b + half) / n;
    }
  }
  return { data: dst.subarray(0, need), width: W, height: H };
}
