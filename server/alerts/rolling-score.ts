export type RollingMethod = 'mean' | 'trimmed-mean' | 'median';
export type Verdict = 'fake' | 'real' | 'pending';

export interface RollingScoreOptions {
  /** Clips in the window (N). */
  clips: number;
  method: RollingMethod;
  /** Rolling score at or above which the verdict is 'fake'. */
  threshold: number;
  /** The verdict stays 'pending' until this many clips have been seen. */
  verdictMinClips: number;
}

/**
 * The rolling score of one track: a combination of the fake probabilities of its last N
 * clips. One clip is a noisy sample (a blink, motion blur, a compression burst), so the
 * alert policy and the dashboard look at this instead of single clips.
 *
 * - `mean` (default): plain mean of the window. Smooth and predictable; with N = 4 one
 *   outlier clip moves it by at most 1/4.
 * - `trimmed-mean`: with 3 or more clips, drops the single highest and lowest first, so one
 *   outlier in either direction has no effect at all.
 * - `median`: most robust, but coarse with a small N.
 */
export class RollingScore {
  readonly #opts: RollingScoreOptions;
  readonly #window: number[] = [];
  #seen = 0;
  #value: number | null = null;

  constructor(opts: RollingScoreOptions) {
    if (!Number.isInteger(opts.clips) || opts.clips < 1) throw new TypeError(`rolling clips must be a positive integer, got ${opts.clips}`);
    this.#opts = opts;
  }

  /** Adds one clip's probability and returns the new rolling score. */
  push(probability: number): number {
    if (!(probability >= 0 && probability <= 1)) throw new TypeError(`clip probability must be in [0, 1], got ${probability}`);
    this.#window.push(probability);
    if (this.#window.length > this.#opts.clips) this.#window.shift();
    this.#seen++;
    this.#value = combine(this.#window, this.#opts.method);
    return this.#value;
  }

  /** Forgets the window (after a PTS discontinuity). */
  reset(): void {
    this.#window.length = 0;
    this.#seen = 0;
    this.#value = null;
  }

  /** The rolling score, or null before the first clip. */
  get value(): number | null {
    return this.#value;
  }

  get clipsSeen(): number {
    return this.#seen;
  }

  get verdict(): Verdict {
    if (this.#value === null || this.#seen < this.#opts.verdictMinClips) return 'pending';
    return this.#value >= this.#opts.threshold ? 'fake' : 'real';
  }
}

function combine(values: readonly number[], method: RollingMethod): number {
  if (method === 'mean') return mean(values);
  const sorted = [...values].sort((a, b) => a - b);
  if (method === 'trimmed-mean') return mean(sorted.length >= 3 ? sorted.slice(1, -1) : sorted);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
