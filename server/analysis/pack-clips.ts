import type { ClipModelManifest } from '../shared/model-manifest.js';

type PackSpec = Pick<ClipModelManifest, 'clipLength' | 'height' | 'width' | 'mean' | 'std'>;

/**
 * One 256-entry table per channel: (v - mean*255) / (std*255) for every byte value, so
 * packing is a table look-up per sample instead of a subtract and divide.
 */
function normalisationTables(spec: PackSpec): [Float32Array, Float32Array, Float32Array] {
  const make = (c: 0 | 1 | 2): Float32Array => {
    const t = new Float32Array(256);
    const m = spec.mean[c] * 255;
    const s = spec.std[c] * 255;
    for (let v = 0; v < 256; v++) t[v] = (v - m) / s;
    return t;
  };
  return [make(0), make(1), make(2)];
}

const tableCache = new WeakMap<PackSpec, [Float32Array, Float32Array, Float32Array]>();

function tablesFor(spec: PackSpec): [Float32Array, Float32Array, Float32Array] {
  let t = tableCache.get(spec);
  if (!t) {
    t = normalisationTables(spec);
    tableCache.set(spec, t);
  }
  return t;
}

/** Floats in one packed clip: 3 * T * H * W. */
export function clipSize(spec: PackSpec): number {
  return 3 * spec.clipLength * spec.height * spec.width;
}

/**
 * Writes one clip (T aligned RGB frames, each H*W*3 interleaved bytes) into `out` as clip
 * number `index` of a (B, 3, T, H, W) batch, normalised with the manifest's mean and std.
 * Reads each frame once and writes each float once: the de-interleave (HWC -> CHW) and
 * the normalisation happen in the same pass.
 */
export function packClip(frames: readonly Uint8Array[], spec: PackSpec, out: Float32Array, index: number): void {
  const { clipLength: T, height: H, width: W } = spec;
  const plane = H * W;
  const frameBytes = plane * 3;
  if (frames.length !== T) throw new TypeError(`clip ${index} has ${frames.length} frames; the model takes ${T}`);
  const base = index * 3 * T * plane;
  if (base + 3 * T * plane > out.length) {
    throw new RangeError(`clip ${index} does not fit in a buffer of ${out.length} floats (${3 * T * plane} per clip)`);
  }
  const [lr, lg, lb] = tablesFor(spec);
  const channelStride = T * plane;
  for (let t = 0; t < T; t++) {
    const src = frames[t];
    if (src.length !== frameBytes) {
      throw new TypeError(`clip ${index} frame ${t} has ${src.length} bytes; ${W}x${H} RGB needs ${frameBytes}`);
    }
    let r = base + t * plane;
    let g = r + channelStride;
    let b = g + channelStride;
    for (let i = 0; i < frameBytes; i += 3) {
      out[r++] = lr[src[i]];
      out[g++] = lg[src[i + 1]];
      out[b++] = lb[src[i + 2]];
    }
  }
}

/**
 * Packs clips of aligned RGB frames into one normalised (B, 3, T, H, W) float32 batch.
 * Pass `out` (at least B clips long) to reuse a buffer between calls; the returned array
 * is then a view of it sized to exactly B clips.
 */
export function packClips(clips: readonly (readonly Uint8Array[])[], spec: PackSpec, out?: Float32Array): Float32Array {
  const per = clipSize(spec);
  const need = clips.length * per;
  if (clips.length === 0) throw new TypeError('packClips needs at least one clip');
  let buf: Float32Array;
  if (out) {
    if (out.length < need) throw new RangeError(`output buffer holds ${Math.floor(out.length / per)} clips; ${clips.length} given`);
    buf = out.length === need ? out : out.subarray(0, need);
  } else {
    buf = new Float32Array(need);
  }
  for (let i = 0; i < clips.length; i++) packClip(clips[i], spec, buf, i);
  return buf;
}
