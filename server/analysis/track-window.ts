import { alignWindow, cropEnlarged, type FrameImage, type WindowAlignment } from '../faces/align.js';
import type { Box, Landmarks5, RgbImage } from '../faces/types.js';
import { mirrorIndices } from './mirror-pad.js';

/** What a window keeps of one frame: a crop around the face (with its corner), not the whole frame. */
export interface WindowEntry {
  pts: number;
  frameIndex: number;
  crop: Required<FrameImage>;
  /** Landmarks in frame pixels. */
  landmarks: Landmarks5;
  box: Box;
}

/**
 * Each side of the face box is extended by this share of its size before cropping: more than
 * the reference's 0.5, because one transform serves a whole window and the face moves in it.
 */
const CROP_MARGIN = 0.75;

/**
 * The last `capacity` face crops of one track, with their landmarks. A clip is aligned with
 * ONE similarity transform fitted to the landmarks of all its frames (as FTCN does): a
 * per-frame transform would add jitter of its own, which the detector is built to notice.
 */
export class TrackWindow {
  readonly #entries: WindowEntry[] = [];
  /** Frames pushed since the last clip was cut. */
  sinceClip = 0;
  /** Frames pushed in total. */
  pushed = 0;

  constructor(readonly trackId: number, readonly capacity: number) {}

  get length(): number { return this.#entries.length; }
  get full(): boolean { return this.#entries.length >= this.capacity; }
  get last(): WindowEntry | undefined { return this.#entries[this.#entries.length - 1]; }

  push(frame: RgbImage & { pts: number; index: number }, box: Box, landmarks: Landmarks5): void {
    this.#entries.push({ pts: frame.pts, frameIndex: frame.index, crop: cropEnlarged(frame, box, CROP_MARGIN), landmarks, box });
    if (this.#entries.length > this.capacity) this.#entries.shift();
    this.sinceClip++;
    this.pushed++;
  }

  /**
   * Aligns the newest `clipLength` frames into a clip at size x size. A window shorter than
   * the clip is mirror-padded (0 1 2 1 0 ...), so even a 5-frame track is scored.
   */
  clip(size: number, clipLength = this.capacity, alignment: WindowAlignment = 'joint'): { frames: Buffer[]; entries: WindowEntry[] } {
    const n = this.#entries.length;
    if (n === 0) throw new RangeError(`track ${this.trackId}: empty window`);
    const first = Math.max(0, n - clipLength);
    const distinct = this.#entries.slice(first);
    const aligned = alignWindow(distinct.map((e) => e.crop), distinct.map((e) => e.landmarks), size, alignment);
    const order = distinct.length >= clipLength ? [...distinct.keys()] : mirrorIndices(distinct.length, clipLength);
    this.sinceClip = 0;
    return { frames: order.map((i) => aligned[i]!), entries: order.map((i) => distinct[i]!) };
  }
}
