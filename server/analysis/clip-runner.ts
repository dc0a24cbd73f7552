import type { WindowAlignment } from '../faces/align.js';

/**
 * What the scheduler needs from a model: score a batch of aligned clips. ONNX Runtime in
 * process is one implementation; a remote server (Triton, KServe v2) can be another.
 */
export interface ClipRunner {
  readonly name: string;
  readonly clipLength: number;
  /** Aligned frame size (square) the model takes. */
  readonly size: number;
  readonly threshold: number;
  /** How clips must be aligned for this model (from its manifest). */
  readonly alignment: WindowAlignment;
  /** Largest batch worth sending in one call. */
  readonly maxBatch: number;
  /** Probability of fake for each clip (each clip: clipLength RGB buffers of size*size*3). */
  score(clips: Buffer[][]): Promise<{ probs: Float32Array; ms: number }>;
}
