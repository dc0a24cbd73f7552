import { boxCentre, boxSize, iou } from './geometry.js';
import type { Box, Landmarks5 } from './types.js';

export interface TrackerOptions {
  /** A track with no face for more than this many frames ends (default 30). */
  maxMissedFrames?: number;
  /** ... or for longer than this, in stream time (default 1000 ms). Whichever comes first. */
  maxMissedMs?: number;
  /** Largest centre shift from the predicted position, in face sizes, for a match one frame on (default 0.8). The gate widens while a track is missing. */
  maxShift?: number;
  /** Largest size change for a match, as a ratio (default 2: from half to twice the size; detector boxes of blurred faces jump). */
  maxSizeRatio?: number;
  /** Lowest colour-histogram similarity (Bhattacharyya, 0..1) for a match, when both sides have one (default 0.8). */
  minColourSimilarity?: number;
  /**
   * Lowest appearance-pattern similarity (-1..1) for taking a face back after a miss (default
   * 0.2): where someone else stepped into the place a hidden face left. Same faces measured
   * 0.5..1, different people -0.2..0.5.
   */
  minReturnAppearance?: number;
}

export interface TrackInput {
  box: Box;
  score: number;
  landmarks: Landmarks5;
  /** Optional appearance vector (unit length); helps keep identities when faces cross. */
  appearance?: Float32Array;
  /** Optional square-rooted colour histogram (unit length); a match below minColourSimilarity is refused. */
  colour?: Float32Array;
}

export interface TrackSnapshot {
  id: number;
  box: Box;
  landmarks: Landmarks5;
  /** Predicted box at the last update's time (moves with the track's velocity while it is missing). */
  predicted: Box;
  missedFrames: number;
  lastPts: number;
  hits: number;
}

interface Track {
  id: number;
  box: Box;
  landmarks: Landmarks5;
  vx: number; // px per ms
  vy: number;
  lastPts: number;
  lastFrameIndex: number;
  missedFrames: number;
  hits: number;
  appearance: Float32Array | null;
  colour: Float32Array | null;
  predicted: Box;
  /** Smoothed face size: one shrunken box of a half-hidden face does not redefine it. */
  size: number;
  /** Smoothed landmark spread (mean distance of the five points from their centroid). */
  spread: number;
}

const NS_PER_MS = 1e6;
/** Velocity is extrapolated at most this far: beyond it a lost face is as likely to have stopped. */
const MAX_EXTRAPOLATE_MS = 400;
/** Largest size ratio for taking a face back after a miss. */
const RETURN_SIZE_RATIO = 1.3;
/** Largest change of the landmarks' spread against the track's, for a match. */
const MAX_SPREAD_RATIO = 1.4;
/** Misses after which a track predicted outside the frame ends. */
const EXIT_MISSES = 2;

/**
 * Gives each face a stable identity over time. Tracks predict their position with a
 * smoothed velocity, match detections greedily by overlap, centre distance and (when
 * given) appearance, and survive missed detections for a while: a face that is
 * occluded, missed by the detector or crosses another face keeps its id when it comes
 * back near where it should be. A scene cut ends every track (endAll).
 */
export class FaceTracker {
  readonly options: Required<TrackerOptions>;
  #tracks: Track[] = [];
  #nextId = 1;

  constructor(options: TrackerOptions = {}) {
    this.options = {
      maxMissedFrames: options.maxMissedFrames ?? 30,
      maxMissedMs: options.maxMissedMs ?? 1000,
      maxShift: options.maxShift ?? 0.8,
      maxSizeRatio: options.maxSizeRatio ?? 2,
      minColourSimilarity: options.minColourSimilarity ?? 0.8,
      minReturnAppearance: options.minReturnAppearance ?? 0.2,
    };
    const o = this.options;
    if (!Number.isInteger(o.maxMissedFrames) || o.maxMissedFrames < 0) throw new TypeError(`maxMissedFrames must be a non-negative integer, got ${o.maxMissedFrames}`);
    if (!(o.maxMissedMs >= 0)) throw new TypeError(`maxMissedMs must be >= 0, got ${o.maxMissedMs}`);
    if (!(o.maxShift > 0)) throw new TypeError(`maxShift must be positive, got ${o.maxShift}`);
    if (!(o.maxSizeRatio >= 1)) throw new TypeError(`maxSizeRatio must be >= 1, got ${o.maxSizeRatio}`);
    if (!(o.minColourSimilarity >= 0 && o.minColourSimilarity <= 1)) throw new TypeError(`minColourSimilarity must be within 0..1, got ${o.minColourSimilarity}`);
    if (!(o.minReturnAppearance >= -1 && o.minReturnAppearance <= 1)) throw new TypeError(`minReturnAppearance must be within -1..1, got ${o.minReturnAppearance}`);
  }

  /** Open tracks, including those currently missing their face. */
  get tracks(): TrackSnapshot[] {
    return this.#tracks.map((t) => ({ id: t.id, box: t.box, landmarks: t.landmarks, predicted: t.predicted, missedFrames: t.missedFrames, lastPts: t.lastPts, hits: t.hits }));
  }

  /** Where each open track expects its face at `pts` (for re-acquiring missed faces). */
  predict(pts: number): TrackSnapshot[] {
    for (const t of this.#tracks) t.predicted = this.#predict(t, pts);
    return this.tracks;
  }

  #predict(t: Track, pts: number): Box {
    const dt = Math.min(MAX_EXTRAPOLATE_MS, Math.max(0, (pts - t.lastPts) / NS_PER_MS));
    return { ...t.box, x: t.box.x + t.vx * dt, y: t.box.y + t.vy * dt };
  }

  /**
   * Matches this frame's faces to tracks. Returns the track id of each input (same order)
   * and the ids of tracks that ended because they stayed missing too long.
   */
  update(faces: TrackInput[], pts: number, frameIndex: number, frame?: { width: number; height: number }): { ids: number[]; ended: number[] } {
    const o = this.options;
    const pairs: { t: number; f: number; affinity: number }[] = [];
    this.#tracks.forEach((t, ti) => {
      const pred = this.#predict(t, pts);
      t.predicted = pred;
      const size = t.size;
      // The longer a face is missing, the less its predicted place is worth: widen the gate.
      const gate = o.maxShift * size * (1 + Math.min(t.missedFrames, 12) / 3);
      const [px, py] = boxCentre(pred);
      faces.forEach((f, fi) => {
        const [cx, cy] = boxCentre(f.box);
        const dist = Math.hypot(cx - px, cy - py);
        const ratio = boxSize(f.box) / size;
        // A face that comes back after a miss must also come back at about its size: a box
        // twice the size one frame on is detector jitter, after a gap it is someone else.
        const maxRatio = t.missedFrames > 0 ? Math.min(o.maxSizeRatio, RETURN_SIZE_RATIO) : o.maxSizeRatio;
        if (dist > gate || ratio > maxRatio || ratio < 1 / maxRatio) return;
        if (!this.#looksLike(t, f)) return;
        const look = t.appearance && f.appearance ? dot(t.appearance, f.appearance) : null;
        let affinity = 0.5 * iou(pred, f.box) + 0.3 * (1 - dist / gate) + 0.2 * (1 - Math.abs(Math.log(ratio)) / Math.log(o.maxSizeRatio));
        if (look !== null) affinity += 0.3 * look;
        pairs.push({ t: ti, f: fi, affinity });
      });
    });
    pairs.sort((a, b) => b.affinity - a.affinity);
    const ids = new Array<number>(faces.length).fill(0);
    const trackUsed = new Uint8Array(this.#tracks.length);
    for (const p of pairs) {
      if (trackUsed[p.t] || ids[p.f] !== 0) continue;
      trackUsed[p.t] = 1;
      const t = this.#tracks[p.t]!;
      this.#absorb(t, faces[p.f]!, pts, frameIndex);
      ids[p.f] = t.id;
    }
    const ended: number[] = [];
    const kept: Track[] = [];
    this.#tracks.forEach((t, ti) => {
      if (!trackUsed[ti]) {
        t.missedFrames += 1;
        const goneMs = (pts - t.lastPts) / NS_PER_MS;
        // A face whose predicted centre has left the picture is gone, not hidden: end it soon,
        // before someone else walks into the place it left.
        const [cx, cy] = boxCentre(t.predicted);
        const left = frame !== undefined && t.missedFrames >= EXIT_MISSES && (cx < 0 || cy < 0 || cx >= frame.width || cy >= frame.height);
        if (left || t.missedFrames > o.maxMissedFrames || goneMs > o.maxMissedMs) {
          ended.push(t.id);
          return;
        }
      }
      kept.push(t);
    });
    this.#tracks = kept;
    faces.forEach((f, fi) => {
      if (ids[fi] !== 0) return;
      const t: Track = {
        id: this.#nextId++, box: f.box, landmarks: f.landmarks, vx: 0, vy: 0, lastPts: pts, lastFrameIndex: frameIndex,
        missedFrames: 0, hits: 1, appearance: f.appearance ? Float32Array.from(f.appearance) : null,
        colour: f.colour ? Float32Array.from(f.colour) : null, predicted: f.box, size: boxSize(f.box),
        spread: landmarkSpread(f.landmarks),
      };
      this.#tracks.push(t);
      ids[fi] = t.id;
    });
    return { ids, ended };
  }

  /** The identity checks a face must pass to join a track, besides place and size. */
  #looksLike(t: Track, f: TrackInput): boolean {
    const o = this.options;
    // The landmarks' spread is a steadier scale than the detector box: a jump means another face.
    const spread = landmarkSpread(f.landmarks) / t.spread;
    if (spread > MAX_SPREAD_RATIO || spread < 1 / MAX_SPREAD_RATIO) return false;
    if (t.colour && f.colour && dot(t.colour, f.colour) < o.minColourSimilarity) return false;
    if (t.appearance && f.appearance && t.missedFrames > 0 && dot(t.appearance, f.appearance) < o.minReturnAppearance) return false;
    return true;
  }

  #absorb(t: Track, f: TrackInput, pts: number, frameIndex: number): void {
    const dt = (pts - t.lastPts) / NS_PER_MS;
    const size = boxSize(f.box);
    // A box much smaller or larger than usual is a face half hidden or half found: its centre
    // slides, so it says nothing about speed.
    const steady = Math.abs(Math.log(size / t.size)) < Math.log(1.25);
    if (dt > 0 && steady) {
      const [ox, oy] = boxCentre(t.box);
      const [nx, ny] = boxCentre(f.box);
      // Smoothed, so one jittery box does not throw the prediction; a long gap says little about speed.
      const k = t.hits === 1 ? 1 : t.missedFrames > 0 ? 0.2 : 0.4;
      t.vx += k * ((nx - ox) / dt - t.vx);
      t.vy += k * ((ny - oy) / dt - t.vy);
    }
    t.size += (steady ? 0.3 : 0.1) * (size - t.size);
    t.spread += 0.3 * (landmarkSpread(f.landmarks) - t.spread);
    t.box = f.box;
    t.landmarks = f.landmarks;
    t.lastPts = pts;
    t.lastFrameIndex = frameIndex;
    t.missedFrames = 0;
    t.hits += 1;
    t.appearance = blend(t.appearance, f.appearance);
    t.colour = blend(t.colour, f.colour);
  }

  /**
   * Gives a face found by other means (the landmark model re-finding a face the detector
   * missed) to an open track. False when the track is no longer open or the face fails the
   * same identity checks a detection would.
   */
  attach(id: number, face: TrackInput, pts: number, frameIndex: number): boolean {
    const t = this.#tracks.find((x) => x.id === id);
    if (!t || !this.#looksLike(t, face)) return false;
    this.#absorb(t, face, pts, frameIndex);
    return true;
  }

  /** Ends every open track (a scene cut, or the end of the stream); returns their ids. */
  endAll(): number[] {
    const ids = this.#tracks.map((t) => t.id);
    this.#tracks = [];
    return ids;
  }
}

function landmarkSpread(lm: Landmarks5): number {
  let cx = 0, cy = 0;
  for (const p of lm) { cx += p[0] / 5; cy += p[1] / 5; }
  let d = 0;
  for (const p of lm) d += Math.hypot(p[0] - cx, p[1] - cy) / 5;
  return Math.max(d, 1e-6);
}

/** A slowly moving average of a unit vector, so one odd frame does not redefine the track's look. */
function blend(track: Float32Array | null, face: Float32Array | undefined): Float32Array | null {
  if (!face) return track;
  if (!track || track.length !== face.length) return Float32Array.from(face);
  for (let i = 0; i < track.length; i++) track[i] = 0.8 * track[i]! + 0.2 * face[i]!;
  return normalise(track);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

export function normalise(a: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < a.length; i++) a[i]! /= n;
  return a;
}
