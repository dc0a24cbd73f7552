import { mkdirSync } from 'node:fs';
import { decodeFrames } from '../media/frames.js';
import { NS_PER_SECOND } from '../media/frame.js';
import type { SourceSpec } from '../media/pipeline.js';
import type { WindowAlignment } from './align.js';
import { CropStripWriter } from './crops.js';
import { FaceStage, type FaceStageOptions } from './face-stage.js';
import { boxSize } from './geometry.js';

export interface TrackSummary {
  id: number;
  /** PTS of the first and last frame with this face, ns. */
  firstPts: number;
  lastPts: number;
  /** Frames in which the face was seen. */
  frames: number;
  /** Mean face box side, frame pixels. */
  meanSize: number;
  /** frames / frames the track spans (1 = never missed). */
  coverage: number;
}

export interface FacesTotals {
  tracks: number;
  frames: number;
  /** Frames in which at least one face was found. */
  framesWithFaces: number;
  /** Faces over all frames (one per face per frame). */
  faceObservations: number;
  sceneCuts: number;
}

export interface FacesReport {
  width: number;
  height: number;
  /** Decode + face stage, frames per second of wall time. */
  fps: number;
  totals: FacesTotals;
  tracks: TrackSummary[];
  /** PNG files written with --crops. */
  crops?: string[];
}

interface Acc { id: number; firstPts: number; lastPts: number; firstIndex: number; lastIndex: number; frames: number; sizeSum: number }

/** Runs the face stage over a whole finite source and summarises its tracks. */
export async function runFaces(source: SourceSpec, opts: { stage?: FaceStageOptions; cropsDir?: string; alignment?: WindowAlignment; maxFrames?: number; maxFps?: number } = {}): Promise<FacesReport> {
  const stage = await FaceStage.create(opts.stage);
  const crops = opts.cropsDir ? (mkdirSync(opts.cropsDir, { recursive: true }), new CropStripWriter(opts.cropsDir, { alignment: opts.alignment })) : null;
  const acc = new Map<number, Acc>();
  let frames = 0, width = 0, height = 0, cuts = 0, withFaces = 0, observations = 0;
  const started = performance.now();
  const ac = new AbortController();
  try {
    for await (const frame of decodeFrames({ source, maxFps: opts.maxFps }, { signal: ac.signal })) {
      width = frame.width; height = frame.height;
      frames++;
      const r = await stage.process(frame);
      if (r.sceneCut) cuts++;
      crops?.end(r.endedTracks);
      if (r.faces.length > 0) withFaces++;
      for (const f of r.faces) {
        observations++;
        let a = acc.get(f.trackId);
        if (!a) acc.set(f.trackId, (a = { id: f.trackId, firstPts: f.pts, lastPts: f.pts, firstIndex: f.frameIndex, lastIndex: f.frameIndex, frames: 0, sizeSum: 0 }));
        a.lastPts = f.pts; a.lastIndex = f.frameIndex; a.frames++; a.sizeSum += boxSize(f.box);
        crops?.add(frame, f);
      }
      if (opts.maxFrames !== undefined && frames >= opts.maxFrames) break;
    }
    crops?.end(stage.flush());
  } finally {
    ac.abort();
    await stage.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const tracks = [...acc.values()].sort((a, b) => a.id - b.id).map((a) => ({
    id: a.id, firstPts: a.firstPts, lastPts: a.lastPts, frames: a.frames,
    meanSize: Math.round((a.sizeSum / a.frames) * 10) / 10,
    coverage: Math.round((a.frames / (a.lastIndex - a.firstIndex + 1)) * 1000) / 1000,
  }));
  return {
    width, height, fps: Math.round((frames / seconds) * 10) / 10,
    totals: { tracks: tracks.length, frames, framesWithFaces: withFaces, faceObservations: observations, sceneCuts: cuts },
    tracks,
    ...(crops ? { crops: crops.written } : {}),
  };
}

export function describeReport(src: string, r: FacesReport): string {
  const t = r.totals;
  const lines = [`${src}: ${r.width}x${r.height}, ${t.frames} frames at ${r.fps} frames/s, ${t.tracks} tracks, ` +
    `faces in ${t.framesWithFaces}/${t.frames} frames, ${t.sceneCuts} scene cuts`];
  for (const k of r.tracks) {
    lines.push(`  track ${k.id}: ${(k.firstPts / NS_PER_SECOND).toFixed(2)}..${(k.lastPts / NS_PER_SECOND).toFixed(2)} s, ` +
      `${k.frames} frames (coverage ${(k.coverage * 100).toFixed(1)}%), mean size ${k.meanSize} px`);
  }
  if (r.crops) lines.push(`  aligned strips: ${r.crops.length} PNG files`);
  return lines.join('\n');
}
