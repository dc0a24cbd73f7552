import type { StreamKind, StreamState, StreamStatus } from '../api/wire.js';
import { Decoder, type DecoderOptions } from '../media/decoder.js';
import { NS_PER_SECOND, type Frame, type VideoInfo } from '../media/frame.js';
import { InvalidStateError } from '../shared/errors.js';
import { TypedEmitter } from '../shared/typed-emitter.js';

/** What feeds a stream for one publish: an RTMP session or a WHIP peer. */
export interface StreamSession {
  readonly id: string;
  /** Stop feeding the stream and hang up on the publisher. Must be safe to call twice. */
  close(reason: string): void;
}

/** One run of a stream: a decoder fed by a publish, a URL, or one pass over a file. */
export interface PlayOptions {
  decoder: DecoderOptions;
  session?: StreamSession;
  /** For files: on end of stream play again from the start, stream time still rising. */
  loop?: boolean;
  /** The decoder's process exists (WHIP asks its publisher for a keyframe). */
  onSpawned?: () => void;
  onStalled?: () => void;
  /** The decoder delivered a frame; WHIP stops asking for keyframes. */
  onFrame?: () => void;
}

export interface StreamCounters {
  framesDecoded: number;
  /** Decoder processes restarted after a crash or stall (loops and new publishes not counted). */
  restarts: number;
  /** Input dropped because the decoder fell behind (RTMP) or was not listening (WHIP). */
  droppedInputBytes: number;
  /** Runs started: one per publish, pull start or loop pass. */
  runs: number;
  loops: number;
}

export type StreamEvents = {
  /** The state (or name, kind, size) changed; carries the full status. */
  state: [status: StreamStatus];
  caps: [info: VideoInfo];
  /** A frame in stream time: PTS keep rising across restarts, loops and republishes. */
  frame: [frame: Frame];
  closed: [reason: string];
};

interface Run {
  readonly decoder: Decoder;
  readonly opts: PlayOptions;
  /** Added to this run's PTS so it starts where the previous run ended. */
  ptsOffset: number | null;
  /** Set when the publisher left: the run ends in 'ended' with this reason. */
  endReason: string | null;
  drainTimer: NodeJS.Timeout | null;
  done: boolean;
}

const TERMINAL: ReadonlySet<StreamState> = new Set(['ended', 'failed']);

/** Frames over which the delivered frame rate is measured. */
const FPS_WINDOW = 16;

/** How long a publish that ended may take to flush its last frames before its decoder is stopped. */
const DRAIN_MS = 3000;

/**
 * One watched stream, known by its key. It lives across publishes: a publisher that leaves
 * moves it to 'ended', the next publish with the same key makes it live again, and stream
 * time (frame PTS, frame index) continues from where it stopped. At most one decoder feeds
 * it at a time. close() stops that decoder and its publisher; it is safe to call twice.
 */
export class Stream extends TypedEmitter<StreamEvents> {
  readonly key: string;
  #name: string;
  #kind: StreamKind;
  #state: StreamState = 'waiting';
  #reason: string | null = null;
  #since = Date.now();
  #info: VideoInfo | null = null;
  #run: Run | null = null;
  #closing: Promise<void> | null = null;
  #retiring = new Set<Promise<void>>();
  #ptsEnd = 0;
  #hasFrames = false;
  #droppedByOthers = 0;
  /** PTS of the last frames, to measure the delivered rate (caps only say the cap). */
  #recentPts: number[] = [];
  #droppedByRetired = 0;
  readonly #counters = { framesDecoded: 0, restarts: 0, runs: 0, loops: 0 };

  constructor(key: string, name: string, kind: StreamKind) {
    super();
    this.key = key;
    this.#name = name;
    this.#kind = kind;
  }

  get name(): string { return this.#name; }
  get kind(): StreamKind { return this.#kind; }
  get state(): StreamState { return this.#state; }
  get reason(): string | null { return this.#reason; }
  get info(): VideoInfo | null { return this.#info; }
  get closed(): boolean { return this.#closing !== null; }
  /** A decoder is running for it: a publisher is connected, or the pull is active. */
  get busy(): boolean { return this.#run !== null; }
  /** The decoder of the current run (for tests and diagnostics). */
  get decoder(): Decoder | null { return this.#run?.decoder ?? null; }

  get counters(): StreamCounters {
    const current = this.#run?.decoder.stats.droppedInputBytes ?? 0;
    return { ...this.#counters, droppedInputBytes: this.#droppedByRetired + this.#droppedByOthers + current };
  }

  /** For a source that drops input before it reaches the decoder (the WHIP relay). */
  countDroppedInput(bytes: number): void {
    this.#droppedByOthers += bytes;
  }

  rename(name: string): void {
    if (name === this.#name) return;
    this.#name = name;
    this.#emitState();
  }

  /**
   * The ingest part of the wire status; the analysis counters are left at zero for the
   * analysis stage to fill in. `since` is when the current state began.
   */
  status(): StreamStatus {
    return {
      key: this.key,
      name: this.#name,
      kind: this.#kind,
      state: this.#state,
      reason: this.#reason,
      width: this.#info?.width ?? null,
      height: this.#info?.height ?? null,
      fps: this.#measuredFps() ?? this.#info?.fps ?? null,
      framesDecoded: this.#counters.framesDecoded,
      framesAnalysed: 0,
      framesDropped: 0,
      clipsScored: 0,
      clipsSkipped: 0,
      lagSeconds: null,
      activeTracks: 0,
      openAlerts: 0,
      since: this.#since,
    };
  }

  /**
   * Starts a run: a new decoder feeds the stream until its source ends, fails, or end() or
   * close() is called. Throws InvalidStateError when closed or while another run is active,
   * TypeError when the decoder options are bad.
   */
  play(opts: PlayOptions, kind: StreamKind = this.#kind): void {
    if (this.closed) throw new InvalidStateError(`stream ${this.key} is closed`);
    if (this.#run) throw new InvalidStateError(`stream ${this.key} is already ${this.#state}`);
    this.#kind = kind;
    this.#startRun(opts);
    this.#setState('waiting', null, true);
  }

  /**
   * The publisher of `session` left. With `drain` the decoder gets end-of-input and may
   * deliver what it holds (RTMP); without, it stops at once (WHIP: UDP has no end).
   */
  endSession(session: StreamSession, reason: string, drain: boolean): void {
    const run = this.#run;
    if (!run || run.done || run.opts.session !== session) return;
    run.endReason = reason;
    if (!drain) {
      this.#finish(run, null);
      return;
    }
    run.decoder.endInput();
    run.drainTimer = setTimeout(() => this.#finish(run, null), DRAIN_MS);
    run.drainTimer.unref?.();
  }

  /** Stops the current run (hanging up on its publisher); the stream stays, 'ended'. */
  end(reason: string): void {
    const run = this.#run;
    if (!run || run.done) return;
    run.endReason = reason;
    this.#finish(run, null);
  }

  /** Stops everything and resolves once its decoder processes have exited. Safe to call twice. */
  close(reason: string): Promise<void> {
    if (this.#closing) return this.#closing;
    const run = this.#run;
    if (run && !run.done) {
      run.done = true;
      this.#run = null;
      if (run.drainTimer) clearTimeout(run.drainTimer);
      this.#retire(run);
      run.opts.session?.close(reason);
    }
    this.#closing = (async () => {
      while (this.#retiring.size > 0) await Promise.all([...this.#retiring]);
      this.safeEmit('closed', reason);
      this.removeAllListeners();
    })();
    return this.#closing;
  }

  #startRun(opts: PlayOptions): void {
    const decoder = new Decoder(opts.decoder); // a TypeError for bad options surfaces to the caller
    const run: Run = { decoder, opts, ptsOffset: null, endReason: null, drainTimer: null, done: false };
    this.#run = run;
    this.#counters.runs++;
    const current = () => this.#run === run && !run.done;
    decoder.on('spawned', () => { if (current()) opts.onSpawned?.(); });
    decoder.on('caps', (info) => {
      if (!current()) return;
      const changed = info.width !== this.#info?.width || info.height !== this.#info?.height || info.fps !== this.#info?.fps;
      this.#info = info;
      this.safeEmit('caps', info);
      if (changed && this.#state === 'live') this.#emitState();
    });
    decoder.on('frame', (frame) => { if (current()) this.#onFrame(run, frame); });
    decoder.on('stalled', (ms) => {
      if (!current()) return;
      this.#setState('stalled', `no video for ${(ms / 1000).toFixed(1)} s`);
      opts.onStalled?.();
    });
    decoder.on('restarting', ({ reason }) => {
      if (!current()) return;
      this.#counters.restarts++;
      this.#setState('reconnecting', reason.message);
    });
    decoder.on('eos', () => this.#finish(run, null));
    decoder.on('failed', (error) => this.#finish(run, error));
    decoder.start().catch((error: Error) => {
      // A missing file fails start() without a 'failed' event; other failures came as events.
      if (decoder.state === 'failed') this.#finish(run, error);
    });
  }

  #onFrame(run: Run, frame: Frame): void {
    if (run.ptsOffset === null) run.ptsOffset = this.#hasFrames ? this.#ptsEnd - frame.pts : 0;
    frame.pts += run.ptsOffset;
    frame.index = this.#counters.framesDecoded++;
    const fps = this.#info?.fps;
    this.#ptsEnd = frame.pts + (frame.duration ?? (fps ? Math.round(NS_PER_SECOND / fps) : 1));
    this.#hasFrames = true;
    this.#recentPts.push(frame.pts);
    if (this.#recentPts.length > FPS_WINDOW) this.#recentPts.shift();
    if (this.#state !== 'live') this.#setState('live', null);
    run.opts.onFrame?.();
    this.safeEmit('frame', frame);
  }

  /** A run is over: loop it, or settle the stream in 'ended' / 'failed'. */
  #finish(run: Run, error: Error | null): void {
    if (run.done || this.#run !== run) return;
    run.done = true;
    this.#run = null;
    if (run.drainTimer) clearTimeout(run.drainTimer);
    this.#retire(run);
    if (!error && run.opts.loop && run.endReason === null) {
      this.#counters.loops++;
      try {
        this.#startRun(run.opts);
        return;
      } catch (e) {
        error = e as Error;
      }
    }
    const reason = error ? error.message : (run.endReason ?? 'end of stream');
    this.#setState(error ? 'failed' : 'ended', reason);
    run.opts.session?.close(reason);
  }

  #retire(run: Run): void {
    // Nothing writes to a retired decoder any more, so its drop count is final.
    this.#droppedByRetired += run.decoder.stats.droppedInputBytes;
    const closing = run.decoder.close().finally(() => this.#retiring.delete(closing));
    this.#retiring.add(closing);
  }

  #setState(state: StreamState, reason: string | null, force = false): void {
    if (this.closed) return;
    if (!force && state === this.#state && reason === this.#reason) return;
    // A stream that is not live has no fresh size until the next caps arrive.
    if (state === 'waiting') {
      this.#info = null;
      this.#recentPts = [];
    }
    this.#state = state;
    this.#reason = reason;
    this.#since = Date.now();
    this.#emitState();
  }

  #emitState(): void {
    if (!this.closed) this.safeEmit('state', this.status());
  }

  #measuredFps(): number | null {
    const p = this.#recentPts;
    if (p.length < 2) return null;
    const span = p[p.length - 1]! - p[0]!;
    return span > 0 ? Math.round(((p.length - 1) * NS_PER_SECOND / span) * 100) / 100 : null;
  }

  get terminal(): boolean {
    return TERMINAL.has(this.#state);
  }
}
