import type { RgbImage } from './types.js';

export interface SceneCutOptions {
  /** Histogram distance (0..1, half the L1 distance of normalised colour histograms) above which a frame starts a new shot. Default 0.5. */
  threshold?: number;
  /** Also require this mean absolute thumbnail change (0..1) so a lighting flicker alone is no cut. Default 0.12. */
  minPixelChange?: number;
}

const GRID_W = 64;
const GRID_H = 36;
const BINS = 4; // per channel: 4x4x4 joint RGB histogram

/**
 * Cheap shot-change detector: a 64x36 sample grid per frame, its joint RGB histogram and
 * grey thumbnail, compared with the previous frame's. A pan or a face moving changes the
 * thumbnail but hardly the histogram; a cut changes both. Costs ~2300 samples a frame.
 */
export class SceneCutDetector {
  readonly threshold: number;
  readonly minPixelChange: number;
  #prevHist: Float32Array | null = null;
  #prevThumb: Float32Array | null = null;
  #hist = new Float32Array(BINS * BINS * BINS);
  #thumb = new Float32Array(GRID_W * GRID_H);
  /** The last frame's scores, for diagnostics. */
  last = { histDistance: 0, pixelChange: 0 };

  constructor(options: SceneCutOptions = {}) {
    this.threshold = options.threshold ?? 0.5;
    this.minPixelChange = options.minPixelChange ?? 0.12;
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new TypeError(`scene cut threshold must be within (0, 1], got ${this.threshold}`);
  }

  /** True when this frame starts a new shot (never for the first frame). */
  update(frame: RgbImage): boolean {
    const hist = this.#hist.fill(0);
    const thumb = this.#thumb;
    const { width: W, height: H, data } = frame;
    const shift = 8 - Math.log2(BINS);
    let i = 0;
    for (let gy = 0; gy < GRID_H; gy++) {
      const y = Math.min(H - 1, Math.floor(((gy + 0.5) * H) / GRID_H));
      for (let gx = 0; gx < GRID_W; gx++, i++) {
        const x = Math.min(W - 1, Math.floor(((gx + 0.5) * W) / GRID_W));
        const p = (y * W + x) * 3;
        const r = data[p]!, g = data[p + 1]!, b = data[p + 2]!;
        hist[((r >> shift) * BINS + (g >> shift)) * BINS + (b >> shift)]! += 1;
        thumb[i] = (r * 0.299 + g * 0.587 + b * 0.114) / 255;
      }
    }
    let cut = false;
    if (this.#prevHist && this.#prevThumb) {
      let hd = 0;
      for (let k = 0; k < hist.length; k++) hd += Math.abs(hist[k]! - this.#prevHist[k]!);
      hd /= 2 * GRID_W * GRID_H;
      let pd = 0;
      for (let k = 0; k < thumb.length; k++) pd += Math.abs(thumb[k]! - this.#prevThumb[k]!);
      pd /= thumb.length;
      this.last = { histDistance: hd, pixelChange: pd };
      cut = hd > this.threshold && pd > this.minPixelChange;
    }
    this.#prevHist = Float32Array.from(hist);
    this.#prevThumb = Float32Array.from(thumb);
    return cut;
  }

  reset(): void {
    this.#prevHist = null;
    this.#prevThumb = null;
  }
}
