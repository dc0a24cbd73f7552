import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { InvalidStateError } from '../shared/errors.js';
import { GdpReader, GdpType, parseVideoCaps } from './gdp.js';
import { buildPipeline, isLiveSource, toLaunchArgs, type OutputSpec, type SourceSpec } from './pipeline.js';
import { registerChild } from './child-registry.js';
import { DecoderError, classifyStderr } from './decoder-error.js';
import type { Frame, VideoInfo } from './frame.js';

export interface DecoderOptions extends OutputSpec {
  source: SourceSpec;
  /** Restart after a crash or stall; defaults to true for live sources, false for files. */
  restart?: boolean;
  /** Give up after this many restarts in a row without a frame in between. */
  maxRestarts?: number;
  /** No frame for this long while running counts as a stall. */
  stallTimeoutMs?: number;
  /** How long start() waits for the first video caps. */
  startTimeoutMs?: number;
  /** First restart delay; doubles each time up to backoffMaxMs. */
  backoffMs?: number;
  backoffMaxMs?: number;
  /** For flv-stdin: bytes to write first after every (re)start (FLV header and sequence headers). */
  stdinPreamble?: () => Buffer | undefined;
  /** Most bytes queued to the child's stdin before further input is dropped and counted. */
  maxStdinBytes?: number;
  gstLaunch?: string;
}

export type DecoderState = 'idle' | 'starting' | 'running' | 'restarting' | 'ended' | 'failed' | 'closed';

export interface DecoderDied {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

export type DecoderEvents = {
  /** The child process exists (an RTP publisher may now be asked for a keyframe). */
  spawned: [pid: number];
  caps: [info: VideoInfo];
  frame: [frame: Frame];
  /** The source ended normally; no more frames. */
  eos: [];
  stalled: [silentMs: number];
  /** The child exited when it should not have. */
  died: [info: DecoderDied];
  restarting: [info: { attempt: number; delayMs: number; reason: DecoderError }];
  /** Terminal failure: no more restarts. */
  failed: [error: DecoderError];
  state: [state: DecoderState];
  closed: [];
};

const STDERR_TAIL_BYTES = 4096;
const KILL_GRACE_MS = 1500;

export interface DecoderStats {
  frames: number;
  restarts: number;
  droppedInputBytes: number;
  lastFrameWallMs: number | null;
}

/**
 * One `gst-launch-1.0` child per stream, delivering typed RGB frames with exact PTS.
 * It watches its child: end of stream, crash and stall are each reported as an event with
 * GStreamer's own words, live sources are restarted with back-off, and the child is always
 * reaped (close() waits for it, and no child outlives the server process).
 */
export class Decoder extends TypedEmitter<DecoderEvents> {
  readonly options: Required<Pick<DecoderOptions, 'restart' | 'maxRestarts' | 'stallTimeoutMs' | 'startTimeoutMs' | 'backoffMs' | 'backoffMaxMs' | 'maxStdinBytes' | 'gstLaunch'>> & DecoderOptions;
  readonly description: string;
  #state: DecoderState = 'idle';
  #child: ChildProcess | null = null;
  #reader = new GdpReader();
  #info: VideoInfo | null = null;
  #stderr = '';
  #stallTimer: NodeJS.Timeout | null = null;
  #restartTimer: NodeJS.Timeout | null = null;
  #restartsInARow = 0;
  #paused = false;
  /** Added to each process's PTS so stream time keeps rising across restarts. */
  #ptsBase = 0;
  #lastPtsEnd = 0;
  #exited: Promise<void> = Promise.resolve();
  readonly stats: DecoderStats = { frames: 0, restarts: 0, droppedInputBytes: 0, lastFrameWallMs: null };

  constructor(options: DecoderOptions) {
    super();
    const live = isLiveSource(options.source);
    this.options = {
      restart: live,
      maxRestarts: live ? Number.POSITIVE_INFINITY : 0,
      stallTimeoutMs: 10_000,
      startTimeoutMs: 15_000,
      backoffMs: 500,
      backoffMaxMs: 10_000,
      maxStdinBytes: 16 * 1024 * 1024,
      gstLaunch: 'gst-launch-1.0',
      ...options,
    };
    this.description = buildPipeline(options.source, options);
  }

  get state(): DecoderState { return this.#state; }
  get info(): VideoInfo | null { return this.#info; }
  get pid(): number | undefined { return this.#child?.pid; }
  get closed(): boolean { return this.#state === 'closed'; }

  /** Resolves with the video's caps once the first ones arrive; rejects with a DecoderError. */
  async start(): Promise<VideoInfo> {
    if (this.#state !== 'idle') throw new InvalidStateError(`decoder.start() called in state ${this.#state}`);
    const src = this.options.source;
    if (src.kind === 'file') {
      try {
        await access(src.path, constants.R_OK);
      } catch {
        const err = new DecoderError('not-found', `cannot read file ${src.path}`);
        if (this.#state === 'idle') this.#setState('failed');
        throw err;
      }
      // close() may have come while the file was checked: then nothing must be spawned.
      if (this.#state !== 'idle') throw new InvalidStateError(`decoder ${this.#state} while starting`);
    }
    return new Promise<VideoInfo>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('caps', onCaps);
        this.off('failed', onFailed);
        this.off('restarting', onRestarting);
        this.off('eos', onEos);
      };
      const onCaps = (info: VideoInfo) => { cleanup(); resolve(info); };
      const onFailed = (e: DecoderError) => { cleanup(); reject(e); };
      // A live source is still retried in the background, but start() reports the failure.
      const onRestarting = (info: { reason: DecoderError }) => { cleanup(); reject(info.reason); };
      const onEos = () => { cleanup(); reject(new DecoderError('bad-input', 'the source ended before any video frame', this.stderrTail)); };
      const timer = setTimeout(() => {
        cleanup();
        const e = new DecoderError('start-timeout', `no video within ${this.options.startTimeoutMs} ms`, this.stderrTail);
        this.#fail(e);
        reject(e);
      }, this.options.startTimeoutMs);
      this.on('caps', onCaps).on('failed', onFailed).on('restarting', onRestarting).on('eos', onEos);
      this.#spawn();
    });
  }

  #lastError: DecoderError | null = null;

  get stderrTail(): string { return this.#stderr.trim(); }

  /** For flv-stdin sources: feeds bytes. Drops (and counts) when the child cannot keep up. */
  write(chunk: Buffer): boolean {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return false;
    if (stdin.writableLength > this.options.maxStdinBytes) {
      this.stats.droppedInputBytes += chunk.length;
      return false;
    }
    stdin.write(chunk);
    return true;
  }

  /** For flv-stdin sources: no more input; the decoder drains and reports eos. */
  endInput(): void {
    this.#child?.stdin?.end();
  }

  /** Stops reading frames (the child blocks on its pipe): back-pressure without drops. */
  pause(): void {
    this.#paused = true;
    this.#child?.stdout?.pause();
    this.#clearStallTimer();
  }

  resume(): void {
    this.#paused = false;
    this.#child?.stdout?.resume();
    this.#armStallTimer();
  }

  /** Stops the child (SIGTERM, then SIGKILL) and resolves once it has exited. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return this.#exited;
    this.#setState('closed');
    this.#clearStallTimer();
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    await this.#kill();
    this.safeEmit('closed');
    this.removeAllListeners();
  }

  #setState(s: DecoderState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.safeEmit('state', s);
  }

  #spawn(): void {
    this.#setState('starting');
    this.#reader = new GdpReader();
    this.#stderr = '';
    const stdinMode = this.options.source.kind === 'flv-stdin' ? 'pipe' : 'ignore';
    const child = spawn(this.options.gstLaunch, ['-q', ...toLaunchArgs(this.description)], { stdio: [stdinMode, 'pipe', 'pipe'] });
    this.#child = child;
    registerChild(child);
    this.#exited = new Promise((resolve) => child.once('close', () => resolve()));
    // The preamble goes into the pipe before anything write() may add, so the FLV header is
    // always the first byte the new process reads (the pipe buffers until the child runs).
    const pre = this.options.stdinPreamble?.();
    if (pre && child.stdin) child.stdin.write(pre);
    child.once('spawn', () => {
      if (child.pid !== undefined) this.safeEmit('spawned', child.pid);
    });
    child.stdin?.on('error', () => { /* the child exiting closes the pipe: reported through 'close' */ });
    child.on('error', (err) => {
      // spawn failure (gst-launch missing); 'close' follows.
      this.#stderr += `\n${err.message}`;
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.#stderr = (this.#stderr + s).slice(-STDERR_TAIL_BYTES);
    });
    child.stdout!.on('data', (chunk: Buffer) => this.#onData(chunk));
    if (this.#paused) child.stdout!.pause();
    child.once('close', (code, signal) => this.#onExit(child, code, signal));
  }

  #onData(chunk: Buffer): void {
    let packets;
    try {
      packets = this.#reader.push(chunk);
    } catch (e) {
      this.#fail(new DecoderError('failed', (e as Error).message, this.stderrTail));
      void this.#kill();
      return;
    }
    for (const p of packets) {
      if (p.type === GdpType.Caps) {
        const caps = parseVideoCaps(p.payload);
        this.#info = caps;
        if (this.#state === 'starting') this.#setState('running');
        this.safeEmit('caps', caps);
        this.#armStallTimer();
      } else if (p.type === GdpType.Buffer && this.#info) {
        const { width, height } = this.#info;
        const data = packRgb(p.payload, width, height);
        if (!data) continue; // never hand on a torn frame
        const pts = (p.pts ?? this.#lastPtsEnd - this.#ptsBase) + this.#ptsBase;
        const frame: Frame = { pts, duration: p.duration, width, height, format: 'RGB', data, index: this.stats.frames };
        this.#lastPtsEnd = pts + (p.duration ?? 0);
        this.stats.frames++;
        this.stats.lastFrameWallMs = Date.now();
        this.#restartsInARow = 0;
        this.#armStallTimer();
        this.safeEmit('frame', frame);
      }
    }
  }

  #armStallTimer(): void {
    this.#clearStallTimer();
    if (this.#paused || this.#state !== 'running') return;
    this.#stallTimer = setTimeout(() => {
      this.#stallTimer = null;
      this.safeEmit('stalled', this.options.stallTimeoutMs);
      this.#lastError = new DecoderError('stalled', `no frame for ${this.options.stallTimeoutMs} ms`, this.stderrTail);
      void this.#kill(); // its exit goes through #onExit, which restarts or fails
    }, this.options.stallTimeoutMs);
    this.#stallTimer.unref?.();
  }

  #clearStallTimer(): void {
    if (this.#stallTimer) clearTimeout(this.#stallTimer);
    this.#stallTimer = null;
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return;
    this.#child = null;
    this.#clearStallTimer();
    if (this.#state === 'closed' || this.#state === 'failed') return;
    const stalled = this.#lastError?.failure === 'stalled' ? this.#lastError : null;
    this.#lastError = null;
    if (code === 0 && !stalled) {
      this.#setState('ended');
      this.safeEmit('eos');
      return;
    }
    const tail = this.stderrTail;
    this.safeEmit('died', { pid: child.pid, code, signal, stderrTail: tail });
    const classified = classifyStderr(tail);
    const error = stalled ?? (classified
      ? new DecoderError(classified.failure, classified.message, tail)
      : new DecoderError('crashed', `decoder exited with ${signal ? `signal ${signal}` : `code ${code}`}${tail ? `: ${tail.split('\n').pop()}` : ''}`, tail));
    const permanent = error.failure === 'unsupported' || (error.failure === 'bad-input' && !isLiveSource(this.options.source));
    if (!this.options.restart || permanent || this.#restartsInARow >= this.options.maxRestarts) {
      this.#fail(error);
      return;
    }
    this.#restartsInARow++;
    this.stats.restarts++;
    const delayMs = Math.min(this.options.backoffMaxMs, this.options.backoffMs * 2 ** (this.#restartsInARow - 1));
    this.#lastError = error;
    this.#setState('restarting');
    this.safeEmit('restarting', { attempt: this.#restartsInARow, delayMs, reason: error });
    this.#ptsBase = this.#lastPtsEnd;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.#state === 'restarting') this.#spawn();
    }, delayMs);
  }

  #fail(error: DecoderError): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#setState('failed');
    this.safeEmit('failed', error);
    void this.#kill();
  }

  async #kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.#exited;
    child.kill('SIGTERM');
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, KILL_GRACE_MS);
    await this.#exited;
    clearTimeout(t);
  }
}

/**
 * GStreamer pads each RGB row to a multiple of 4 bytes, so a width like 854 arrives with
 * 2 spare bytes a row; Frame promises packed rows. Returns null for a buffer of any other size.
 */
export function packRgb(payload: Buffer, width: number, height: number): Buffer | null {
  const row = width * 3;
  if (payload.length === row * height) return payload;
  const stride = (row + 3) & ~3;
  if (payload.length !== stride * height) return null;
  const out = Buffer.allocUnsafe(row * height);
  for (let y = 0; y < height; y++) payload.copy(out, y * row, y * stride, y * stride + row);
  return out;
}
