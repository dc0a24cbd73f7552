import { TypedEmitter } from '../shared/typed-emitter.js';
import { InvalidStateError } from '../shared/errors.js';
import { median } from '../shared/median.js';
import type { ClipJob, ClipResult } from './clip.js';
import type { ClipRunner } from './clip-runner.js';

export interface SchedulerOptions {
  /** Most clips waiting for the model; past it the lowest-risk clip is skipped. */
  maxQueue?: number;
}

export type SchedulerEvents = {
  result: [result: ClipResult];
  /** A clip was not scored: the queue was full and it was the least risky one. */
  skipped: [job: ClipJob];
  error: [error: Error, jobs: ClipJob[]];
};

export interface SchedulerStats {
  submitted: number;
  scored: number;
  skipped: number;
  failed: number;
  batches: number;
  queued: number;
  /** Median seconds from a clip's newest frame arriving to its score, over recent clips. */
  lagSeconds: number | null;
  msPerClip: number | null;
}

const LAG_SAMPLES = 64;

/**
 * One model, shared by every track of every stream: clips queue here and go to the model
 * in batches. The queue is bounded; when it is full, the clip with the lowest risk (the
 * track's rolling score) is dropped and counted, so rising tracks keep their place.
 */
export class ClipScheduler extends TypedEmitter<SchedulerEvents> {
  readonly maxQueue: number;
  readonly #queue: ClipJob[] = [];
  #running = false;
  #closed = false;
  #idle: Array<() => void> = [];
  #room: Array<() => void> = [];
  readonly #lags: number[] = [];
  readonly #msPerClip: number[] = [];
  readonly #stats = { submitted: 0, scored: 0, skipped: 0, failed: 0, batches: 0 };

  constructor(readonly runner: ClipRunner, options: SchedulerOptions = {}) {
    super();
    this.maxQueue = options.maxQueue ?? Math.max(8, runner.maxBatch * 4);
  }

  /** Share of the queue in use, 0..1: the stream analyzers widen low-risk strides with it. */
  get pressure(): number {
    return Math.min(1, this.#queue.length / this.maxQueue);
  }

  get stats(): SchedulerStats {
    return {
      ...this.#stats,
      queued: this.#queue.length,
      lagSeconds: this.#lags.length ? median(this.#lags) : null,
      msPerClip: this.#msPerClip.length ? median(this.#msPerClip) : null,
    };
  }

  /** Queues a clip; returns false when it (or a less risky one) had to be skipped. */
  submit(job: ClipJob): boolean {
    if (this.#closed) throw new InvalidStateError('scheduler is closed');
    if (job.frames.length !== this.runner.clipLength) {
      throw new TypeError(`clip for track ${job.trackId} has ${job.frames.length} frames, the model takes ${this.runner.clipLength}`);
    }
    this.#stats.submitted++;
    let accepted = true;
    if (this.#queue.length >= this.maxQueue) {
      let low = 0;
      for (let i = 1; i < this.#queue.length; i++) if (this.#queue[i]!.risk < this.#queue[low]!.risk) low = i;
      if (this.#queue[low]!.risk <= job.risk) {
        const [dropped] = this.#queue.splice(low, 1);
        this.#skip(dropped!);
      } else {
        this.#skip(job);
        accepted = false;
      }
    }
    if (accepted) this.#queue.push(job);
    this.#pump();
    return accepted;
  }

  /** Resolves when the queue has room again: offline work waits here instead of skipping. */
  waitForRoom(): Promise<void> {
    if (this.#queue.length < this.maxQueue) return Promise.resolve();
    return new Promise((r) => this.#room.push(r));
  }

  /** Resolves when every queued clip has been scored (for offline analysis and tests). */
  drain(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const j of this.#queue.splice(0)) this.#skip(j);
    await this.drain();
    this.removeAllListeners();
  }

  #skip(job: ClipJob): void {
    this.#stats.skipped++;
    this.safeEmit('skipped', job);
  }

  #pump(): void {
    if (this.#running) return;
    if (this.#queue.length === 0) {
      for (const r of this.#idle.splice(0)) r();
      return;
    }
    this.#running = true;
    const batch = this.#queue.splice(0, this.runner.maxBatch);
    for (const r of this.#room.splice(0)) r();
    void this.#run(batch).finally(() => {
      this.#running = false;
      this.#pump();
    });
  }

  async #run(batch: ClipJob[]): Promise<void> {
    try {
      const { probs, ms } = await this.runner.score(batch.map((j) => j.frames));
      const now = performance.now();
      const per = ms / batch.length;
      this.#stats.batches++;
      push(this.#msPerClip, per);
      batch.forEach((job, i) => {
        this.#stats.scored++;
        push(this.#lags, (now - job.arrivedAt) / 1000);
        this.safeEmit('result', { job, probability: probs[i]!, msPerClip: per, scoredAt: now });
      });
    } catch (e) {
      this.#stats.failed += batch.length;
      this.safeEmit('error', e instanceof Error ? e : new Error(String(e)), batch);
    }
  }
}

function push(xs: number[], x: number): void {
  xs.push(x);
  if (xs.length > LAG_SAMPLES) xs.shift();
}
