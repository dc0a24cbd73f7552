import * as ort from 'onnxruntime-node';
import { InvalidStateError } from '../shared/errors.js';
import type { WindowAlignment } from '../faces/align.js';
import { type ClipModelManifest, loadClipModelManifest } from '../shared/model-manifest.js';
import { modelsDir } from '../shared/paths.js';
import type { ClipRunner } from './clip-runner.js';
import { clipSize, packClips } from './pack-clips.js';
import { cudaUnavailableReason, type ExecutionProvider } from './providers.js';

export interface ClipModelOptions {
  /** Providers to try, in order (default cuda then cpu). */
  providers?: ExecutionProvider[];
  /** Models root (default the repository's models/). */
  root?: string;
  /** CPU threads inside one operator (default 2: this is meant to share a small machine). */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  /** Largest batch the scheduler should send (default 32 on CUDA, 4 on CPU). */
  maxBatch?: number;
  /** Skip the sha256 check of the ONNX file (it reads the whole file once). */
  skipHashCheck?: boolean;
  /** Where the provider choice is reported (default: stderr). */
  log?: (line: string) => void;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * A clip classifier (FTCN+TT family) in ONNX Runtime, described entirely by its manifest:
 * input name and shape, normalisation, output meaning and threshold all come from there.
 * Runs are serialised: two concurrent runs would only fight over the same cores or GPU.
 */
export class ClipModel implements ClipRunner {
  #session: ort.InferenceSession | null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #inputName: string;
  readonly #outputName: string;
  readonly #perClip: number;

  private constructor(
    session: ort.InferenceSession,
    readonly manifest: ClipModelManifest,
    readonly path: string,
    readonly provider: ExecutionProvider,
    readonly providerNote: string,
    readonly maxBatch: number,
  ) {
    this.#session = session;
    this.#inputName = manifest.inputs[0].name;
    this.#outputName = manifest.outputs[0].name;
    this.#perClip = clipSize(manifest);
    if (!session.inputNames.includes(this.#inputName)) {
      throw new TypeError(`${path} has inputs ${session.inputNames.join(', ')}; the manifest says ${this.#inputName}`);
    }
    if (!session.outputNames.includes(this.#outputName)) {
      throw new TypeError(`${path} has outputs ${session.outputNames.join(', ')}; the manifest says ${this.#outputName}`);
    }
  }

  static async load(name: string, opts: ClipModelOptions = {}): Promise<ClipModel> {
    const resolved = loadClipModelManifest(name, opts.root ?? modelsDir, !opts.skipHashCheck);
    const { manifest, path } = resolved;
    if (manifest.height !== manifest.width) {
      throw new TypeError(`model "${name}" takes ${manifest.width}x${manifest.height} frames; only square inputs are supported`);
    }
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const wanted = opts.providers ?? ['cuda', 'cpu'];
    if (wanted.length === 0) throw new TypeError('providers must name at least one of cuda, cpu');
    const notes: string[] = [];
    for (const provider of wanted) {
      if (provider === 'cuda') {
        const why = cudaUnavailableReason();
        if (why) {
          notes.push(`CUDA not used: ${why}`);
          continue;
        }
        try {
          const session = await ort.InferenceSession.create(path, {
            executionProviders: [{ name: 'cuda', deviceId: 0 }],
            graphOptimizationLevel: 'all',
          });
          return new ClipModel(session, manifest, path, 'cuda', notes.join('; '), opts.maxBatch ?? 32);
        } catch (e) {
          notes.push(`CUDA not used: creating the CUDA session failed: ${(e as Error).message}`);
          continue;
        }
      }
      const session = await ort.InferenceSession.create(path, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: opts.intraOpNumThreads ?? 2,
        interOpNumThreads: opts.interOpNumThreads ?? 1,
        executionMode: opts.executionMode ?? 'sequential',
      });
      const note = notes.join('; ') || 'CPU requested';
      if (wanted.includes('cuda')) log(`model ${name}: running on the CPU (${note})`);
      return new ClipModel(session, manifest, path, 'cpu', note, opts.maxBatch ?? 4);
    }
    throw new Error(`model "${name}": no execution provider could be used (${notes.join('; ')})`);
  }

  get name(): string {
    return this.manifest.name;
  }

  get clipLength(): number {
    return this.manifest.clipLength;
  }

  get size(): number {
    return this.manifest.height;
  }

  get threshold(): number {
    return this.manifest.threshold;
  }

  get alignment(): WindowAlignment {
    return this.manifest.alignment;
  }

  get closed(): boolean {
    return this.#session === null;
  }

  /**
   * Scores `batch` clips already packed as normalised (B, 3, T, H, W) float32 (see
   * packClips). Returns the probability of fake per clip and the time of the model call.
   */
  run(clips: Float32Array, batch: number): Promise<{ probs: Float32Array; ms: number }> {
    if (!Number.isInteger(batch) || batch <= 0) return Promise.reject(new TypeError(`batch must be a positive integer, got ${batch}`));
    if (clips.length !== batch * this.#perClip) {
      return Promise.reject(new TypeError(`input holds ${clips.length} floats; ${batch} clip(s) of ${this.#perClip} need ${batch * this.#perClip}`));
    }
    const next = this.#queue.then(() => this.#run(clips, batch));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** ClipRunner: packs aligned RGB frames and scores them. */
  async score(clips: Buffer[][]): Promise<{ probs: Float32Array; ms: number }> {
    return this.run(packClips(clips, this.manifest), clips.length);
  }

  async #run(clips: Float32Array, batch: number): Promise<{ probs: Float32Array; ms: number }> {
    const session = this.#session;
    if (!session) throw new InvalidStateError(`model ${this.name} is closed`);
    const { clipLength: T, height: H, width: W } = this.manifest;
    const input = new ort.Tensor('float32', clips, [batch, 3, T, H, W]);
    const t0 = performance.now();
    const out = await session.run({ [this.#inputName]: input });
    const ms = performance.now() - t0;
    const tensor = out[this.#outputName];
    const data = tensor.data as Float32Array;
    if (data.length !== batch) throw new Error(`model ${this.name} returned ${data.length} values for ${batch} clips`);
    const probs = new Float32Array(data);
    if (this.manifest.output === 'logit') for (let i = 0; i < batch; i++) probs[i] = sigmoid(probs[i]);
    for (const v of Object.values(out)) v.dispose();
    return { probs, ms };
  }

  /** Releases the session after any run in progress; safe to call twice. */
  async close(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    this.#session = null;
    await this.#queue;
    await session.release();
  }
}
