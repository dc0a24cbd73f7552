import { TypedEmitter } from '../shared/typed-emitter.js';
import type { Frame } from '../media/frame.js';
import type { FaceObservation } from '../faces/types.js';
import type { FaceSource } from './face-source.js';
import type { ClipScheduler } from './scheduler.js';
import { TrackWindow } from './track-window.js';

export interface StreamAnalyzerOptions {
  stream: string;
  faces: FaceSource & { close?: () => Promise<void> };
  scheduler: ClipScheduler;
  /** Frames between clips of a track when the model keeps up. */
  stride: number;
  /** The model's threshold: tracks well below it are the first to be slowed down. */
  threshold: number;
  /** A track's current rolling score (from the alert stage), 0 when unknown. */
  risk: (trackId: number) => number;
  /** Most stride multiplier for low-risk tracks under full model load. */
  maxStrideFactor?: number;
}

export type StreamAnalyzerEvents = {
  /** The faces of one analysed frame (for track updates and previews). */
  faces: [frame: Frame, faces: FaceObservation[]];
  'track:end': [trackId: number, pts: number];
  /** A frame was dropped before face analysis because the previous one was still being processed. */
  dropped: [total: number];
  error: [error: Error];
};

export interface StreamAnalyzerStats {
  framesAnalysed: number;
  framesDropped: number;
  clipsSubmitted: number;
  /** Clips not cut on the base stride because the model was busy and the track looked genuine. */
  clipsDeferred: number;
  activeTracks: number;
}

/**
 * The live path for one stream: frames -> faces -> per-track windows -> clips for the shared
 * scheduler. Face analysis takes one frame at a time; a frame that arrives while another is
 * being analysed replaces any waiting one (the newest wins) and the drop is counted. When the
 * scheduler's queue fills, tracks whose rolling score is well below the threshold get a
 * wider stride, so rising tracks stay on time.
 */
export class StreamAnalyzer extends TypedEmitter<StreamAnalyzerEvents> {
  readonly #windows = new Map<number, TrackWindow>();
  #pending: { frame: Frame; at: number } | null = null;
  #busy = false;
  #closed = false;
  readonly stats: StreamAnalyzerStats = { framesAnalysed: 0, framesDropped: 0, clipsSubmitted: 0, clipsDeferred: 0, activeTracks: 0 };

  constructor(readonly options: StreamAnalyzerOptions) {
    super();
  }

  push(frame: Frame): void {
    if (this.#closed) return;
    if (this.#pending) {
      this.stats.framesDropped++;
      this.safeEmit('dropped', this.stats.framesDropped);
    }
    this.#pending = { frame, at: performance.now() };
    if (!this.#busy) void this.#loop();
  }

  /** Ends every open track (stream ended); returns their ids. */
  endAll(pts: number): number[] {
    const ids = [...this.#windows.keys()];
    for (const id of [...ids, ...this.options.faces.flush()]) this.#end(id, pts);
    return [...new Set(ids)];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = null;
    while (this.#busy) await new Promise((r) => setTimeout(r, 5));
    await this.options.faces.close?.();
    this.removeAllListeners();
  }

  async #loop(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#pending && !this.#closed) {
        const { frame, at } = this.#pending;
        this.#pending = null;
        try {
          await this.#analyse(frame, at);
        } catch (e) {
          this.safeEmit('error', e instanceof Error ? e : new Error(String(e)));
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #analyse(frame: Frame, arrivedAt: number): Promise<void> {
    const o = this.options;
    const res = await o.faces.process(frame);
    this.stats.framesAnalysed++;
    for (const id of res.endedTracks) this.#end(id, frame.pts);
    const T = o.scheduler.runner.clipLength;
    for (const f of res.faces) {
      let w = this.#windows.get(f.trackId);
      if (!w) {
        w = new TrackWindow(f.trackId, T);
        this.#windows.set(f.trackId, w);
      }
      w.push(frame, f.box, f.landmarks);
      if (!w.full) continue;
      const risk = o.risk(f.trackId);
      const stride = this.#strideFor(risk);
      if (w.sinceClip < stride) {
        if (stride > o.stride && w.sinceClip % o.stride === 0) this.stats.clipsDeferred++;
        continue;
      }
      const { frames, entries } = w.clip(o.scheduler.runner.size, T, o.scheduler.runner.alignment);
      this.stats.clipsSubmitted++;
      o.scheduler.submit({
        stream: o.stream, trackId: f.trackId, frames, risk, arrivedAt,
        ptsStart: entries[0]!.pts, ptsEnd: entries[entries.length - 1]!.pts, frameIndices: entries.map((e) => e.frameIndex),
      });
    }
    this.stats.activeTracks = this.#windows.size;
    this.safeEmit('faces', frame, res.faces);
  }

  #strideFor(risk: number): number {
    const o = this.options;
    if (risk >= o.threshold * 0.5) return o.stride;
    const factor = 1 + Math.round(o.scheduler.pressure * ((o.maxStrideFactor ?? 4) - 1));
    return o.stride * factor;
  }

  #end(id: number, pts: number): void {
    if (!this.#windows.delete(id)) return;
    this.stats.activeTracks = this.#windows.size;
    this.safeEmit('track:end', id, pts);
  }
}
