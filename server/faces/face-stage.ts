import type { Frame } from '../media/frame.js';
import { InvalidStateError } from '../shared/errors.js';
import { fitSimilarity, templateFor, warpAffineRGB } from './align.js';
import { BlazeFaceDetector, type DetectorOptions } from './blazeface.js';
import { FaceMeshLandmarker, roiFromBox, type LandmarkResult, type Roi } from './facemesh.js';
import { applyAffine, boxCentre, iou } from './geometry.js';
import { SceneCutDetector, type SceneCutOptions } from './scene-cut.js';
import { FaceTracker, normalise, type TrackerOptions, type TrackInput } from './tracker.js';
import type { Box, FaceObservation, FaceStageResult, Landmarks5, Point } from './types.js';

export interface FaceStageOptions extends TrackerOptions {
  /** Lowest detector score kept, 0..1 (default 0.5). */
  minScore?: number;
  /** Smallest face kept, box side in frame pixels (default 24). */
  minFaceSize?: number;
  /** Most faces per frame (default 10). */
  maxFaces?: number;
  /** NMS flavour (default 'weighted'). */
  nms?: DetectorOptions['nms'];
  /** Extra detector passes over the halves of wide, large frames (default 'auto': one half per frame). */
  tiles?: DetectorOptions['tiles'];
  /** Lowest landmark-model "face" probability for a face to be kept (default 0.5). */
  minFaceFlag?: number;
  /**
   * When the detector misses a tracked face, look for it with the landmark model where
   * the track predicts it (default true). Only for this long after the last real
   * detection (default 1000 ms), so a track cannot live on landmarks alone.
   */
  recoverMissed?: boolean;
  recoverForMs?: number;
  /** End all tracks at scene cuts (default true). */
  sceneCuts?: boolean | SceneCutOptions;
  detectorModel?: string;
  landmarkModel?: string;
  modelsRoot?: string;
}

export interface FaceStageTimings {
  detectMs: number;
  landmarksMs: number;
  trackMs: number;
  faces: number;
  recovered: number;
}

const APPEARANCE_SIZE = 24;

/**
 * Detect, landmark and track every face of a stream, frame by frame. One instance per
 * stream: it holds the tracks and the scene-cut state. Landmarks come from the landmark
 * model (the detector's own keypoints only place its crop), so the five points are the
 * ones the FTCN template expects.
 */
export class FaceStage {
  readonly options: FaceStageOptions;
  readonly #detector: BlazeFaceDetector;
  readonly #landmarker: FaceMeshLandmarker;
  readonly #tracker: FaceTracker;
  readonly #cuts: SceneCutDetector | null;
  readonly #lastDetected = new Map<number, number>(); // track id -> pts of its last detector hit
  /** The detector's two eye keypoints, image-left first on an upright face (from its manifest). */
  readonly #eyes: [number, number];
  #closed = false;
  #busy = false;
  /** Where the time of the last process() call went. */
  lastTimings: FaceStageTimings = { detectMs: 0, landmarksMs: 0, trackMs: 0, faces: 0, recovered: 0 };

  private constructor(options: FaceStageOptions, detector: BlazeFaceDetector, landmarker: FaceMeshLandmarker) {
    this.options = options;
    this.#detector = detector;
    this.#landmarker = landmarker;
    this.#tracker = new FaceTracker(options);
    const names = detector.settings.keypoints;
    const right = names.indexOf('right_eye'), left = names.indexOf('left_eye');
    if (right < 0 || left < 0) throw new TypeError(`the detector's manifest names no right_eye/left_eye keypoints (has ${names.join(', ')})`);
    this.#eyes = [right, left];
    const cuts = options.sceneCuts ?? true;
    this.#cuts = cuts === false ? null : new SceneCutDetector(cuts === true ? {} : cuts);
    const flag = options.minFaceFlag ?? 0.5;
    if (!(flag >= 0 && flag <= 1)) throw new TypeError(`minFaceFlag must be within 0..1, got ${flag}`);
  }

  static async create(opts: FaceStageOptions = {}): Promise<FaceStage> {
    const detector = await BlazeFaceDetector.create({
      minScore: opts.minScore, minFaceSize: opts.minFaceSize, maxFaces: opts.maxFaces, nms: opts.nms, tiles: opts.tiles,
      model: opts.detectorModel, modelsRoot: opts.modelsRoot,
    });
    let landmarker: FaceMeshLandmarker;
    try {
      landmarker = await FaceMeshLandmarker.create({ model: opts.landmarkModel, modelsRoot: opts.modelsRoot });
    } catch (e) {
      await detector.close();
      throw e;
    }
    try {
      return new FaceStage(opts, detector, landmarker);
    } catch (e) {
      await Promise.all([detector.close(), landmarker.close()]);
      throw e;
    }
  }

  async process(frame: Frame): Promise<FaceStageResult> {
    if (this.#closed) throw new InvalidStateError('FaceStage is closed');
    if (this.#busy) throw new InvalidStateError('FaceStage.process() called again before the previous frame finished');
    if (frame.format !== 'RGB') throw new TypeError(`FaceStage needs RGB frames, got ${frame.format}`);
    this.#busy = true;
    try {
      return await this.#process(frame);
    } finally {
      this.#busy = false;
    }
  }

  async #process(frame: Frame): Promise<FaceStageResult> {
    const minFlag = this.options.minFaceFlag ?? 0.5;
    const t0 = performance.now();
    const sceneCut = this.#cuts ? this.#cuts.update(frame) : false;
    const endedTracks = sceneCut ? this.#tracker.endAll() : [];

    const dets = await this.#detector.detect(frame);
    const t1 = performance.now();
    const [eyeA, eyeB] = this.#eyes;
    const rois = dets.map((d) => roiFromBox(d.box, d.keypoints[eyeA]!, d.keypoints[eyeB]!, this.#landmarker.settings.cropScale));
    const marks = await this.#landmarker.run(frame, rois);
    const t2 = performance.now();

    const inputs: TrackInput[] = [];
    dets.forEach((d, i) => {
      const m = marks[i]!;
      if (m.faceFlag < minFlag) return;
      // Two detections (say from the whole frame and from a half) can survive NMS on one face
      // when their boxes differ in size; the same landmarks give them away. Best score first.
      if (inputs.some((f) => sameFace(f.landmarks, m.landmarks))) return;
      inputs.push({ box: d.box, score: d.score, landmarks: m.landmarks, ...appearance(frame, m.landmarks) });
    });
    const { ids, ended } = this.#tracker.update(inputs, frame.pts, frame.index, frame);
    endedTracks.push(...ended);
    const faces: FaceObservation[] = inputs.map((f, i) => ({
      trackId: ids[i]!, pts: frame.pts, frameIndex: frame.index, box: f.box, score: f.score, landmarks: f.landmarks,
    }));
    for (const f of faces) this.#lastDetected.set(f.trackId, frame.pts);
    const t3 = performance.now();

    let recovered = 0;
    let recoverMs = 0;
    if (this.options.recoverMissed ?? true) {
      const t4 = performance.now();
      recovered = await this.#recover(frame, faces, minFlag);
      recoverMs = performance.now() - t4;
    }
    for (const id of endedTracks) this.#lastDetected.delete(id);
    this.lastTimings = { detectMs: t1 - t0, landmarksMs: t2 - t1 + recoverMs, trackMs: t3 - t2, faces: faces.length, recovered };
    return { faces, endedTracks, sceneCut };
  }

  /** Looks for each missing track's face with the landmark model alone, where the track expects it. */
  async #recover(frame: Frame, faces: FaceObservation[], minFlag: number): Promise<number> {
    const windowNs = (this.options.recoverForMs ?? 1000) * 1e6;
    const missing = this.#tracker.predict(frame.pts).filter((t) => t.missedFrames > 0 && frame.pts - (this.#lastDetected.get(t.id) ?? -Infinity) <= windowNs);
    if (missing.length === 0) return 0;
    const rois: Roi[] = missing.map((t) => {
      const dx = t.predicted.x - t.box.x, dy = t.predicted.y - t.box.y;
      return roiFromBox(t.predicted, [t.landmarks[0][0] + dx, t.landmarks[0][1] + dy], [t.landmarks[1][0] + dx, t.landmarks[1][1] + dy], this.#landmarker.settings.cropScale);
    });
    const marks = await this.#landmarker.run(frame, rois);
    let n = 0;
    for (let i = 0; i < missing.length; i++) {
      const t = missing[i]!;
      const m: LandmarkResult = marks[i]!;
      if (m.faceFlag < minFlag) continue;
      const box = moveBox(t.box, t.landmarks, m.landmarks);
      // A face another track already holds is not this one's: it is probably in front of it.
      if (faces.some((f) => iou(f.box, box) > 0.3)) continue;
      const face: TrackInput = { box, score: m.faceFlag, landmarks: m.landmarks, ...appearance(frame, m.landmarks) };
      if (!this.#tracker.attach(t.id, face, frame.pts, frame.index)) continue;
      faces.push({ trackId: t.id, pts: frame.pts, frameIndex: frame.index, box, score: m.faceFlag, landmarks: m.landmarks });
      n++;
    }
    return n;
  }

  /** Ends every open track at the end of the stream; returns their ids. */
  flush(): number[] {
    if (this.#closed) return [];
    this.#lastDetected.clear();
    this.#cuts?.reset();
    return this.#tracker.endAll();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#detector.close(), this.#landmarker.close()]);
  }
}

/** Landmark sets closer than a fifth of the eye distance on average describe one face. */
function sameFace(a: Landmarks5, b: Landmarks5): boolean {
  const eyes = Math.hypot(a[1][0] - a[0][0], a[1][1] - a[0][1]);
  let d = 0;
  for (let k = 0; k < 5; k++) d += Math.hypot(a[k]![0] - b[k]![0], a[k]![1] - b[k]![1]);
  return d / 5 < 0.2 * eyes;
}

/** Carries a box along with the similarity that moved its face's landmarks. */
function moveBox(box: Box, from: Landmarks5, to: Landmarks5): Box {
  const m = fitSimilarity(from, to);
  const [cx, cy] = applyAffine(m, boxCentre(box));
  const s = Math.hypot(m[0], m[3]);
  return { x: cx - (box.width * s) / 2, y: cy - (box.height * s) / 2, width: box.width * s, height: box.height * s };
}

/**
 * Two cheap appearance cues from a loosely aligned face with some hair and background
 * around it: a 16x16 colour pattern (zero-mean per channel, unit length) that tells two
 * people apart when they cross, and a coarse colour histogram (square-rooted, so a dot
 * product is the Bhattacharyya coefficient) that barely changes for one person from frame
 * to frame and is used as a veto.
 */
function appearance(frame: Frame, lm: Landmarks5): { appearance: Float32Array; colour: Float32Array } {
  const N = APPEARANCE_SIZE;
  const tpl = templateFor(N).map(([x, y]) => [(x - N / 2) * 0.6 + N / 2, (y - N / 2) * 0.6 + N / 2] as Point);
  const rgb = warpAffineRGB(frame, fitSimilarity(lm, tpl), N, N);
  const n = N * N;
  const v = new Float32Array(n * 3);
  const hist = new Float32Array(64);
  for (let c = 0; c < 3; c++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += rgb[i * 3 + c]!;
    mean /= n;
    for (let i = 0; i < n; i++) v[c * n + i] = rgb[i * 3 + c]! - mean;
  }
  for (let i = 0; i < n; i++) hist[((rgb[i * 3]! >> 6) * 4 + (rgb[i * 3 + 1]! >> 6)) * 4 + (rgb[i * 3 + 2]! >> 6)]! += 1 / n;
  for (let k = 0; k < hist.length; k++) hist[k] = Math.sqrt(hist[k]!);
  return { appearance: normalise(v), colour: hist };
}
