import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { ModelLoadError } from '../shared/model-manifest.js';
import { composeAffine, invertAffine } from './geometry.js';
import { openFaceModel, type FaceModel } from './model-session.js';
import { nms, type Candidate } from './nms.js';
import type { Affine, RgbImage } from './types.js';
import { boxDownscale, warpToTensor } from './warp.js';

/** What the detector's manifest must say under `settings` (models/blazeface/manifest.json). */
export const blazeFaceSettings = z.object({
  inputSize: z.number().int().positive(),
  /** One entry per output resolution, in output order: cells per side and anchors per cell. */
  anchorLayers: z.array(z.object({
    cells: z.number().int().positive(),
    anchorsPerCell: z.number().int().positive(),
    scoreOutput: z.string(),
    regressorOutput: z.string(),
  })).min(1),
  /** Names of the keypoints in regressor order. */
  keypoints: z.array(z.string()).min(2),
  /** Pixel 0..255 maps linearly onto this range. */
  inputRange: z.tuple([z.number(), z.number()]),
  iouThreshold: z.number().min(0).max(1).default(0.3),
});
export type BlazeFaceSettings = z.infer<typeof blazeFaceSettings>;

export interface DetectorOptions {
  /** Lowest detection score kept, 0..1 (default 0.5). */
  minScore?: number;
  /** Smallest face kept, as the box side in frame pixels (default 24). */
  minFaceSize?: number;
  /** Most faces per frame (default 10, as the reference). */
  maxFaces?: number;
  nms?: 'weighted' | 'hard';
  /**
   * Wide frames with a short side of at least 3x the model input are also searched in
   * their two end squares, where small faces get up to twice the pixels. 'auto' (default)
   * searches one of the two in turn on each frame (the tracker bridges the other frame),
   * 'all' both on every frame, 'off' neither.
   */
  tiles?: 'auto' | 'all' | 'off';
  /** Model folder under models/ (default "blazeface"). */
  model?: string;
  modelsRoot?: string;
}

/** Continuous-coordinate affine (pixel k spans [k, k+1)) as an OpenCV-convention one. */
export function toIndexAffine(m: Affine): Affine {
  return composeAffine([1, 0, -0.5, 0, 1, -0.5], composeAffine(m, [1, 0, 0.5, 0, 1, 0.5]));
}

/**
 * MediaPipe BlazeFace (the 256x256 "back camera" full-range model). The frame is
 * letterboxed into the square input so any aspect ratio keeps its geometry; each anchor
 * regresses a box and six keypoints relative to its cell centre.
 */
export class BlazeFaceDetector {
  readonly settings: BlazeFaceSettings;
  readonly options: Required<Omit<DetectorOptions, 'model' | 'modelsRoot'>>;
  readonly #model: FaceModel;
  readonly #anchors: Float32Array; // (cx, cy) per anchor in input pixels, all layers in order
  readonly #input: Float32Array;
  #small = Buffer.alloc(0);
  #turn = 0;
  #closed = false;

  private constructor(model: FaceModel, settings: BlazeFaceSettings, options: DetectorOptions) {
    this.#model = model;
    this.settings = settings;
    this.options = {
      minScore: options.minScore ?? 0.5,
      minFaceSize: options.minFaceSize ?? 24,
      maxFaces: options.maxFaces ?? 10,
      nms: options.nms ?? 'weighted',
      tiles: options.tiles ?? 'auto',
    };
    if (!(this.options.minScore >= 0 && this.options.minScore <= 1)) throw new TypeError(`minScore must be within 0..1, got ${this.options.minScore}`);
    if (!(this.options.minFaceSize >= 0)) throw new TypeError(`minFaceSize must be >= 0, got ${this.options.minFaceSize}`);
    if (!Number.isInteger(this.options.maxFaces) || this.options.maxFaces < 1) throw new TypeError(`maxFaces must be a positive integer, got ${this.options.maxFaces}`);
    const S = settings.inputSize;
    const centres: number[] = [];
    for (const layer of settings.anchorLayers) {
      for (let y = 0; y < layer.cells; y++) {
        for (let x = 0; x < layer.cells; x++) {
          for (let a = 0; a < layer.anchorsPerCell; a++) centres.push(((x + 0.5) / layer.cells) * S, ((y + 0.5) / layer.cells) * S);
        }
      }
    }
    this.#anchors = Float32Array.from(centres);
    this.#input = new Float32Array(S * S * 3);
  }

  static async create(options: DetectorOptions = {}): Promise<BlazeFaceDetector> {
    const name = options.model ?? 'blazeface';
    const model = await openFaceModel(name, 'face-detector', options.modelsRoot);
    const parsed = blazeFaceSettings.safeParse(model.model.manifest.settings);
    if (!parsed.success) {
      await model.session.release();
      throw new ModelLoadError(`model "${name}": settings in its manifest are invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return new BlazeFaceDetector(model, parsed.data, options);
  }

  /** Faces in one frame, best first, boxes and keypoints in frame pixels (OpenCV convention). */
  async detect(frame: RgbImage): Promise<Candidate[]> {
    if (this.#closed) throw new Error('BlazeFaceDetector is closed');
    let regions = detectionRegions(frame.width, frame.height, this.settings.inputSize, this.options.tiles);
    if (regions.length === 3 && this.options.tiles === 'auto') regions = [regions[0]!, regions[1 + (this.#turn++ & 1)]!];
    const all: Candidate[] = [];
    for (const r of regions) all.push(...(await this.#detectRegion(frame, r)));
    return regions.length === 1 ? all : nms(all, this.settings.iouThreshold, 'hard', this.options.maxFaces);
  }

  async #detectRegion(frame: RgbImage, region: Region): Promise<Candidate[]> {
    const S = this.settings.inputSize;
    const whole = region.x === 0 && region.y === 0 && region.width === frame.width && region.height === frame.height;
    // Average down first when the frame is several times the input: plain bilinear sampling would alias.
    const factor = Math.max(1, Math.floor(Math.max(region.width, region.height) / S));
    const need = Math.floor(region.width / factor) * Math.floor(region.height / factor) * 3;
    if (factor > 1 && this.#small.length < need) this.#small = Buffer.alloc(need);
    const img = factor === 1 && whole ? frame : boxDownscale(frame, factor, this.#small, region);
    const scale = S / Math.max(img.width, img.height);
    const ox = (S - img.width * scale) / 2;
    const oy = (S - img.height * scale) / 2;
    // frame (continuous) -> region -> downscaled -> letterboxed input
    const frameToInput: Affine = [scale / factor, 0, ox - (region.x * scale) / factor, 0, scale / factor, oy - (region.y * scale) / factor];
    const imgToInput: Affine = [scale, 0, ox, 0, scale, oy];
    const [lo, hi] = this.settings.inputRange;
    warpToTensor(img, toIndexAffine(invertAffine(imgToInput)), S, S, this.#input, 0, (hi - lo) / 255, lo);
    const feeds = { [this.#model.model.manifest.inputs[0]!.name]: new ort.Tensor('float32', this.#input, [1, S, S, 3]) };
    const out = await this.#model.session.run(feeds);
    const inputToFrame = invertAffine(frameToInput);
    const [a, , tx, , d, ty] = inputToFrame; // axis-aligned: no rotation in a letterbox
    const nk = this.settings.keypoints.length;
    const per = 4 + 2 * nk;
    const logitMin = Math.log(this.options.minScore / (1 - this.options.minScore));
    const cands: Candidate[] = [];
    let anchor = 0;
    for (const layer of this.settings.anchorLayers) {
      const scores = out[layer.scoreOutput]!.data as Float32Array;
      const regs = out[layer.regressorOutput]!.data as Float32Array;
      const n = layer.cells * layer.cells * layer.anchorsPerCell;
      if (scores.length < n || regs.length < n * per) {
        throw new Error(`detector output ${layer.scoreOutput}/${layer.regressorOutput} is smaller than ${n} anchors`);
      }
      for (let i = 0; i < n; i++, anchor++) {
        const raw = scores[i]!;
        if (!(raw >= logitMin)) continue;
        const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, raw))));
        const acx = this.#anchors[anchor * 2]!, acy = this.#anchors[anchor * 2 + 1]!;
        const r = i * per;
        const cx = acx + regs[r]!, cy = acy + regs[r + 1]!;
        const w = regs[r + 2]!, h = regs[r + 3]!;
        // Continuous input coords -> continuous frame coords -> OpenCV index coords (-0.5).
        const fx = (x: number) => a * x + tx - 0.5;
        const fy = (y: number) => d * y + ty - 0.5;
        const box = { x: fx(cx - w / 2), y: fy(cy - h / 2), width: w * a, height: h * d };
        if (Math.min(box.width, box.height) < this.options.minFaceSize) continue;
        const keypoints: [number, number][] = [];
        for (let k = 0; k < nk; k++) keypoints.push([fx(acx + regs[r + 4 + 2 * k]!), fy(acy + regs[r + 5 + 2 * k]!)]);
        cands.push({ box, score, keypoints });
      }
    }
    return nms(cands, this.settings.iouThreshold, this.options.nms, this.options.maxFaces);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#model.session.release();
  }
}

interface Region { x: number; y: number; width: number; height: number }

/**
 * The whole frame, plus its two end squares when the frame is wide (or tall) and large
 * enough to gain from them: a short side of at least 3x the input (1080p yes, 720p no, where
 * faces are usually large enough and the extra pass would double the detector's cost).
 */
export function detectionRegions(width: number, height: number, inputSize: number, tiles: 'auto' | 'all' | 'off'): Region[] {
  const whole = { x: 0, y: 0, width, height };
  const short = Math.min(width, height), long = Math.max(width, height);
  if (tiles === 'off' || short < 3 * inputSize || long < 1.5 * short) return [whole];
  return width >= height
    ? [whole, { x: 0, y: 0, width: height, height }, { x: width - height, y: 0, width: height, height }]
    : [whole, { x: 0, y: 0, width, height: width }, { x: 0, y: height - width, width, height: width }];
}
