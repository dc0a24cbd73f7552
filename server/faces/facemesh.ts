import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { ModelLoadError } from '../shared/model-manifest.js';
import { boxFromPoints } from './geometry.js';
import { openFaceModel, type FaceModel } from './model-session.js';
import type { Affine, Box, Landmarks5, Point, RgbImage } from './types.js';
import { warpToTensor } from './warp.js';

/** What the landmark model's manifest must say under `settings` (models/face_landmarks/manifest.json). */
export const faceMeshSettings = z.object({
  inputSize: z.number().int().positive(),
  inputRange: z.tuple([z.number(), z.number()]),
  /** The crop is the face box's longer side times this, square, turned upright by the eye line. */
  cropScale: z.number().positive(),
  meshOutput: z.string(),
  pointCount: z.number().int().positive(),
  /** Values per point in the mesh output (x, y, z). */
  pointStride: z.number().int().min(2),
  flagOutput: z.string().optional(),
  /** Mesh indices averaged into each of the 5 template points, in template order. */
  templatePoints: z.array(z.array(z.number().int().nonnegative()).min(1)).length(5),
});
export type FaceMeshSettings = z.infer<typeof faceMeshSettings>;

/** A square, rotated region of the frame to run the landmark model on. */
export interface Roi {
  /** Centre in frame pixels. */
  centre: Point;
  /** Side in frame pixels. */
  size: number;
  /** Radians; the crop's x axis points this way in the frame (along the eye line). */
  angle: number;
}

export interface LandmarkResult {
  /** All mesh points in frame pixels, `pointStride` values each (z is in crop units, scaled like x). */
  mesh: Float32Array;
  landmarks: Landmarks5;
  /** The model's own "is this still a face" probability, or 1 when the model has none. */
  faceFlag: number;
  /** Tight box around the mesh, in frame pixels. */
  box: Box;
  roi: Roi;
}

/** The ROI MediaPipe derives from a detection: box centre, longer side x cropScale, eye-line angle. */
export function roiFromBox(box: Box, eyeA: Point, eyeB: Point, cropScale: number): Roi {
  return {
    centre: [box.x + box.width / 2, box.y + box.height / 2],
    size: Math.max(box.width, box.height) * cropScale,
    angle: Math.atan2(eyeB[1] - eyeA[1], eyeB[0] - eyeA[0]),
  };
}

/** The same for a previous landmark result: how a tracked face's next crop is placed. */
export function roiFromLandmarks(lm: Landmarks5, box: Box, cropScale: number): Roi {
  return roiFromBox(box, lm[0], lm[1], cropScale);
}

/** Crop pixel (OpenCV convention) -> frame pixel. */
function cropToFrame(roi: Roi, inputSize: number): Affine {
  const k = roi.size / inputSize;
  const cos = Math.cos(roi.angle) * k, sin = Math.sin(roi.angle) * k;
  const h = 0.5 - inputSize / 2;
  return [cos, -sin, roi.centre[0] + (cos - sin) * h, sin, cos, roi.centre[1] + (sin + cos) * h];
}

/**
 * MediaPipe FaceMesh (468 points) converted to ONNX by models/toolkit/face/convert_facemesh.py.
 * Several faces of one frame run as one batch.
 */
export class FaceMeshLandmarker {
  readonly settings: FaceMeshSettings;
  readonly #model: FaceModel;
  readonly #inputName: string;
  #input = new Float32Array(0);
  #closed = false;

  private constructor(model: FaceModel, settings: FaceMeshSettings) {
    this.#model = model;
    this.settings = settings;
    this.#inputName = model.model.manifest.inputs[0]!.name;
  }

  static async create(options: { model?: string; modelsRoot?: string } = {}): Promise<FaceMeshLandmarker> {
    const name = options.model ?? 'face_landmarks';
    const model = await openFaceModel(name, 'face-landmarks', options.modelsRoot);
    const parsed = faceMeshSettings.safeParse(model.model.manifest.settings);
    if (!parsed.success) {
      await model.session.release();
      throw new ModelLoadError(`model "${name}": settings in its manifest are invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const bad = parsed.data.templatePoints.flat().filter((i) => i >= parsed.data.pointCount);
    if (bad.length > 0) throw new ModelLoadError(`model "${name}": template point indices ${bad.join(', ')} exceed the ${parsed.data.pointCount} mesh points`);
    return new FaceMeshLandmarker(model, parsed.data);
  }

  async run(frame: RgbImage, rois: Roi[]): Promise<LandmarkResult[]> {
    if (this.#closed) throw new Error('FaceMeshLandmarker is closed');
    if (rois.length === 0) return [];
    const { inputSize: S, inputRange: [lo, hi], pointCount, pointStride } = this.settings;
    const per = S * S * 3;
    if (this.#input.length < per * rois.length) this.#input = new Float32Array(per * rois.length);
    const maps = rois.map((roi, i) => {
      if (!(roi.size > 0) || !Number.isFinite(roi.centre[0]) || !Number.isFinite(roi.centre[1]) || !Number.isFinite(roi.angle)) {
        throw new TypeError(`invalid landmark ROI ${JSON.stringify(roi)}`);
      }
      const m = cropToFrame(roi, S);
      warpToTensor(frame, m, S, S, this.#input, i * per, (hi - lo) / 255, lo);
      return m;
    });
    const x = new ort.Tensor('float32', this.#input.subarray(0, per * rois.length), [rois.length, S, S, 3]);
    const out = await this.#model.session.run({ [this.#inputName]: x });
    const mesh = out[this.settings.meshOutput]!.data as Float32Array;
    const flags = this.settings.flagOutput ? (out[this.settings.flagOutput]!.data as Float32Array) : null;
    const n = pointCount * pointStride;
    return rois.map((roi, i) => {
      const m = maps[i]!;
      const pts = new Float32Array(n);
      const k = roi.size / S;
      for (let p = 0; p < pointCount; p++) {
        // Model coordinates are continuous (pixel centres at +0.5); the map takes pixel indices.
        const u = mesh[i * n + p * pointStride]! - 0.5;
        const v = mesh[i * n + p * pointStride + 1]! - 0.5;
        pts[p * pointStride] = m[0] * u + m[1] * v + m[2];
        pts[p * pointStride + 1] = m[3] * u + m[4] * v + m[5];
        for (let c = 2; c < pointStride; c++) pts[p * pointStride + c] = mesh[i * n + p * pointStride + c]! * k;
      }
      const landmarks = this.settings.templatePoints.map((idx) => {
        let sx = 0, sy = 0;
        for (const j of idx) { sx += pts[j * pointStride]!; sy += pts[j * pointStride + 1]!; }
        return [sx / idx.length, sy / idx.length] as Point;
      }) as Landmarks5;
      return { mesh: pts, landmarks, faceFlag: flags ? flags[i]! : 1, box: boxFromPoints(pts, pointStride), roi };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#model.session.release();
  }
}
