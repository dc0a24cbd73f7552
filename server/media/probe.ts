import { decodeFrames } from './frames.js';
import type { SourceSpec } from './pipeline.js';
import { NS_PER_SECOND, type VideoInfo } from './frame.js';

export interface ProbeResult {
  frames: number;
  width: number;
  height: number;
  /** Negotiated rate, or measured from PTS when the caps do not say. */
  fps: number | null;
  /** Seconds. */
  firstPts: number | null;
  lastPts: number | null;
  /** Frames decoded and converted to RGB per second of wall time. */
  decodeFps: number;
}

/** Decodes up to `maxFrames` frames (all when omitted) and describes what came out. */
export async function probe(source: SourceSpec, maxFrames?: number): Promise<ProbeResult> {
  let info: VideoInfo | null = null;
  let frames = 0;
  let firstPts: number | null = null;
  let lastPts: number | null = null;
  const started = performance.now();
  const ac = new AbortController();
  try {
    for await (const f of decodeFrames({ source }, { onInfo: (i) => { info = i; }, signal: ac.signal })) {
      frames++;
      firstPts ??= f.pts;
      lastPts = f.pts;
      if (maxFrames !== undefined && frames >= maxFrames) break;
    }
  } finally {
    ac.abort();
  }
  const seconds = (performance.now() - started) / 1000;
  const i = info as VideoInfo | null;
  let fps = i?.fps ?? null;
  if (!fps && frames > 1 && firstPts !== null && lastPts !== null && lastPts > firstPts) {
    fps = ((frames - 1) * NS_PER_SECOND) / (lastPts - firstPts);
  }
  return {
    frames,
    width: i?.width ?? 0,
    height: i?.height ?? 0,
    fps,
    firstPts: firstPts === null ? null : firstPts / NS_PER_SECOND,
    lastPts: lastPts === null ? null : lastPts / NS_PER_SECOND,
    decodeFps: frames / Math.max(seconds, 1e-9),
  };
}
