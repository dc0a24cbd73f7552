import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { alignWindow, cropEnlarged, type FrameImage, type WindowAlignment } from './align.js';
import type { FaceObservation, Landmarks5, RgbImage } from './types.js';

export interface CropStripOptions {
  /** Frames per jointly aligned window (default 32, as FTCN). */
  window?: number;
  /** Tile side in pixels (default 112). */
  tile?: number;
  /** Frames shown per window, evenly spaced (default 4). */
  perWindow?: number;
  /** Windows (rows) kept per track (default 8). */
  maxRows?: number;
  /** How each window is aligned (default joint, as the reference). */
  alignment?: WindowAlignment;
}

interface TrackStrip {
  pending: { crop: FrameImage; landmarks: Landmarks5 }[];
  rows: Buffer[][];
}

/**
 * Collects aligned face strips per track so a person can look at what the clip model
 * would see: each row is one window, aligned as `alignment` says (joint or trajectory),
 * showing a few of its frames. Keeps only enlarged face crops, never whole frames.
 */
export class CropStripWriter {
  readonly dir: string;
  readonly window: number;
  readonly tile: number;
  readonly perWindow: number;
  readonly maxRows: number;
  readonly alignment: WindowAlignment;
  #tracks = new Map<number, TrackStrip>();
  written: string[] = [];

  constructor(dir: string, options: CropStripOptions = {}) {
    this.dir = dir;
    this.window = options.window ?? 32;
    this.tile = options.tile ?? 112;
    this.perWindow = options.perWindow ?? 4;
    this.maxRows = options.maxRows ?? 8;
    this.alignment = options.alignment ?? 'joint';
  }

  add(frame: RgbImage, face: FaceObservation): void {
    let t = this.#tracks.get(face.trackId);
    if (!t) this.#tracks.set(face.trackId, (t = { pending: [], rows: [] }));
    if (t.rows.length >= this.maxRows) return;
    t.pending.push({ crop: cropEnlarged(frame, face.box, 0.5), landmarks: face.landmarks });
    if (t.pending.length >= this.window) this.#row(t);
  }

  #row(t: TrackStrip): void {
    if (t.pending.length === 0) return;
    const n = Math.min(this.perWindow, t.pending.length);
    const pick = Array.from({ length: n }, (_, i) => Math.floor((i * t.pending.length) / n));
    const aligned = alignWindow(t.pending.map((p) => p.crop), t.pending.map((p) => p.landmarks), this.tile, this.alignment);
    t.rows.push(pick.map((i) => aligned[i]!));
    t.pending = [];
  }

  /** Writes the strip of each ended track as `track-<id>.png`. */
  end(ids: number[]): void {
    for (const id of ids) {
      const t = this.#tracks.get(id);
      if (!t) continue;
      this.#tracks.delete(id);
      if (t.rows.length < this.maxRows) this.#row(t);
      if (t.rows.length === 0) continue;
      const T = this.tile;
      const png = new PNG({ width: this.perWindow * T, height: t.rows.length * T });
      png.data.fill(0);
      t.rows.forEach((row, r) => row.forEach((tile, c) => {
        for (let y = 0; y < T; y++) {
          for (let x = 0; x < T; x++) {
            const s = (y * T + x) * 3;
            const d = (((r * T + y) * png.width) + c * T + x) * 4;
            png.data[d] = tile[s]!; png.data[d + 1] = tile[s + 1]!; png.data[d + 2] = tile[s + 2]!; png.data[d + 3] = 255;
          }
        }
      }));
      const path = join(this.dir, `track-${id}.png`);
      writeFileSync(path, PNG.sync.write(png));
      this.written.push(path);
    }
  }
}
