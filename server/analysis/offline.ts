import type { Frame } from '../media/frame.js';
import { NS_PER_SECOND } from '../media/frame.js';
import { decodeFrames } from '../media/frames.js';
import type { SourceSpec } from '../media/pipeline.js';
import type { Box } from '../faces/types.js';
import type { ClipRunner } from './clip-runner.js';
import type { FaceSource } from './face-source.js';
import { ClipScheduler } from './scheduler.js';
import { TrackWindow } from './track-window.js';
import type { AnalysisReport, ClipScoreRecord, FrameScoreRecord, TrackReport } from './report.js';
import { REPORT_SCHEMA_ID } from './report.js';

export interface AnalyzeProgress {
  frames: number;
  ptsSeconds: number;
  clipsScored: number;
}

export interface AnalyzeOptions {
  source: SourceSpec;
  sourceLabel?: string;
  runner: ClipRunner;
  faces: FaceSource;
  /** Frames between clips of a track: 1 reproduces the reference (one clip per frame). */
  stride: number;
  threshold?: number;
  /** Analysis resolution bound; the annotated output keeps the input's own size. */
  maxWidth?: number;
  maxHeight?: number;
  durationSeconds?: number | null;
  fps?: number | null;
  onProgress?: (p: AnalyzeProgress) => void;
  signal?: AbortSignal;
}

/** Per frame, the faces to draw: what the annotation pass needs, kept small. */
export type FaceTimeline = Map<number, { trackId: number; box: Box }[]>;

interface TrackState {
  id: number;
  window: TrackWindow;
  frames: { frame: number; pts: number; box: Box }[];
  clips: ClipScoreRecord[];
  clipsCut: number;
  finished: boolean;
}

/**
 * The offline path, on the live path's parts: decoder -> faces -> per-track windows ->
 * scheduler -> model. Every frame is decoded (back-pressure, no drops); a track shorter
 * than a clip is mirror-padded; at the end each frame's score is the mean of the clips
 * that cover it.
 */
export async function analyzeVideo(opts: AnalyzeOptions): Promise<{ report: AnalysisReport; timeline: FaceTimeline }> {
  const { runner, faces } = opts;
  if (!Number.isInteger(opts.stride) || opts.stride < 1) throw new TypeError(`stride must be a positive integer, got ${opts.stride}`);
  const T = runner.clipLength;
  const threshold = opts.threshold ?? runner.threshold;
  const scheduler = new ClipScheduler(runner, { maxQueue: Math.max(4, runner.maxBatch * 2) });
  const tracks = new Map<number, TrackState>();
  const timeline: FaceTimeline = new Map();
  let failure: Error | null = null;
  let clipsScored = 0;
  let clipMs = 0;
  scheduler.on('result', (r) => {
    const st = tracks.get(r.job.trackId)!;
    const distinct = [...new Set(r.job.frameIndices)];
    st.clips.push({
      ptsStart: r.job.ptsStart / NS_PER_SECOND,
      ptsEnd: r.job.ptsEnd / NS_PER_SECOND,
      firstFrame: Math.min(...distinct),
      lastFrame: Math.max(...distinct),
      probability: r.probability,
      padded: distinct.length < r.job.frameIndices.length,
    });
    clipsScored++;
    clipMs += r.msPerClip;
  });
  scheduler.on('error', (e) => { failure ??= new Error(`the model failed: ${e.message}`); });

  const cut = async (st: TrackState): Promise<void> => {
    const { frames, entries } = st.window.clip(runner.size, T, runner.alignment);
    const pts = entries.map((e) => e.pts);
    st.clipsCut++;
    await scheduler.waitForRoom();
    scheduler.submit({
      stream: 'offline', trackId: st.id, frames, risk: 1, arrivedAt: performance.now(),
      ptsStart: Math.min(...pts), ptsEnd: Math.max(...pts), frameIndices: entries.map((e) => e.frameIndex),
    });
  };
  const finish = async (id: number): Promise<void> => {
    const st = tracks.get(id);
    if (!st || st.finished) return;
    st.finished = true;
    // A short track gets one mirror-padded clip; a long one a last clip for its tail.
    if (st.clipsCut === 0 || st.window.sinceClip > 0) await cut(st);
  };

  const started = performance.now();
  let frameCount = 0;
  let width = 0;
  let height = 0;
  let lastPts = 0;
  for await (const frame of decodeFrames(
    { source: opts.source, maxWidth: opts.maxWidth ?? 1280, maxHeight: opts.maxHeight ?? 1280 },
    { signal: opts.signal },
  )) {
    if (failure) throw failure;
    frameCount++;
    width = frame.width;
    height = frame.height;
    lastPts = frame.pts;
    const res = await faces.process(frame);
    for (const id of res.endedTracks) await finish(id);
    for (const f of res.faces) await observe(f.trackId, frame, f.box, f.landmarks);
    opts.onProgress?.({ frames: frameCount, ptsSeconds: frame.pts / NS_PER_SECOND, clipsScored });
  }
  for (const id of faces.flush()) await finish(id);
  for (const id of tracks.keys()) await finish(id);
  await scheduler.drain();
  await scheduler.close();
  if (failure) throw failure;

  async function observe(id: number, frame: Frame, box: Box, landmarks: Parameters<TrackWindow['push']>[2]): Promise<void> {
    let st = tracks.get(id);
    if (!st || st.finished) {
      st = { id, window: new TrackWindow(id, T), frames: [], clips: [], clipsCut: 0, finished: false };
      tracks.set(id, st);
    }
    st.window.push(frame, box, landmarks);
    st.frames.push({ frame: frame.index, pts: frame.pts / NS_PER_SECOND, box });
    const list = timeline.get(frame.index) ?? [];
    list.push({ trackId: id, box });
    timeline.set(frame.index, list);
    if (st.window.full && (st.clipsCut === 0 || st.window.sinceClip >= opts.stride)) await cut(st);
  }

  const trackReports = [...tracks.values()].filter((t) => t.clips.length > 0).map((t) => trackReport(t, threshold));
  const fakeTracks = trackReports.filter((t) => t.verdict === 'fake').map((t) => t.id);
  const wallSeconds = (performance.now() - started) / 1000;
  const report: AnalysisReport = {
    $schema: REPORT_SCHEMA_ID,
    source: opts.sourceLabel ?? (opts.source.kind === 'file' ? opts.source.path : opts.source.kind === 'url' ? opts.source.url : opts.source.kind),
    createdAt: new Date().toISOString(),
    model: { name: runner.name, threshold, clipLength: T, size: runner.size },
    stride: opts.stride,
    video: {
      width, height, fps: opts.fps ?? null, frames: frameCount,
      durationSeconds: opts.durationSeconds ?? (frameCount ? lastPts / NS_PER_SECOND : null),
      analysedAt: { width, height },
    },
    verdict: trackReports.length === 0 ? 'no-faces' : fakeTracks.length > 0 ? 'fake' : 'real',
    fakeTracks,
    tracks: trackReports.sort((a, b) => a.id - b.id),
    timing: { wallSeconds, framesPerSecond: frameCount / Math.max(wallSeconds, 1e-9), clips: clipsScored, msPerClip: clipsScored ? clipMs / clipsScored : null },
  };
  return { report, timeline };
}

function trackReport(t: TrackState, threshold: number): TrackReport {
  const clips = [...t.clips].sort((a, b) => a.firstFrame - b.firstFrame || a.lastFrame - b.lastFrame);
  // A clip covers the track's frames from its first to its last: prefix sums over the
  // track's frame positions keep this linear even at stride 1 on long videos.
  const position = new Map(t.frames.map((f, i) => [f.frame, i]));
  const sumDiff = new Float64Array(t.frames.length + 1);
  const countDiff = new Int32Array(t.frames.length + 1);
  for (const c of clips) {
    const a = position.get(c.firstFrame)!;
    const b = position.get(c.lastFrame)!;
    sumDiff[a]! += c.probability;
    sumDiff[b + 1]! -= c.probability;
    countDiff[a]! += 1;
    countDiff[b + 1]! -= 1;
  }
  const sum = new Map<number, number>();
  const count = new Map<number, number>();
  let runSum = 0;
  let runCount = 0;
  t.frames.forEach((f, i) => {
    runSum += sumDiff[i]!;
    runCount += countDiff[i]!;
    if (runCount > 0) { sum.set(f.frame, runSum); count.set(f.frame, runCount); }
  });
  const perFrame: FrameScoreRecord[] = t.frames.map((f) => {
    let score: number;
    if (count.has(f.frame)) score = sum.get(f.frame)! / count.get(f.frame)!;
    else {
      // Only with a stride longer than a clip: take the nearest clip's score.
      let best = clips[0]!;
      for (const c of clips) {
        const d = Math.min(Math.abs(c.firstFrame - f.frame), Math.abs(c.lastFrame - f.frame));
        if (d < Math.min(Math.abs(best.firstFrame - f.frame), Math.abs(best.lastFrame - f.frame))) best = c;
      }
      score = best.probability;
    }
    return { frame: f.frame, pts: f.pts, score, label: score >= threshold ? 'fake' : 'real', box: roundBox(f.box) };
  });
  const probs = clips.map((c) => c.probability);
  const mean = probs.reduce((a, b) => a + b, 0) / probs.length;
  let peakClip = clips[0]!;
  for (const c of clips) if (c.probability > peakClip.probability) peakClip = c;
  return {
    id: t.id,
    firstPts: t.frames[0]!.pts,
    lastPts: t.frames[t.frames.length - 1]!.pts,
    frames: t.frames.length,
    clips,
    perFrame,
    mean,
    peak: peakClip.probability,
    peakPts: peakClip.ptsStart,
    verdict: mean >= threshold ? 'fake' : 'real',
  };
}

function roundBox(b: Box): Box {
  const r = (x: number) => Math.round(x * 10) / 10;
  return { x: r(b.x), y: r(b.y), width: r(b.width), height: r(b.height) };
}
