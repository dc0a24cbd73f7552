import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { StreamKind, StreamStatus } from '../api/wire.js';
import type { DecoderOptions } from '../media/decoder.js';
import type { Frame, VideoInfo } from '../media/frame.js';
import { buildPipeline, type OutputSpec, type SourceSpec } from '../media/pipeline.js';
import { InvalidStateError } from '../shared/errors.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { assertStreamKey, type PublishKey } from './keys.js';
import { Stream, type PlayOptions, type StreamSession } from './stream.js';

export type PushKind = Extract<StreamKind, 'rtmp' | 'whip'>;

/** Why a publish was refused, as a closed set (the WHIP endpoint maps it to an HTTP status). */
export type RefusalCode = 'unknown-key' | 'busy' | 'closed' | 'bad-request';

export class PublishRefusedError extends Error {
  override name = 'PublishRefusedError';
  constructor(readonly code: RefusalCode, message: string) {
    super(message);
  }
}

export interface PublishRejection {
  kind: PushKind;
  key: string;
  /** Where the publisher connected from ("address:port"), when known. */
  remote: string | null;
  code: RefusalCode;
  reason: string;
}

export interface PullSource {
  key: string;
  name?: string;
  /** rtmp://, rtmps://, rtsp://, http(s):// (HLS too), file:// or a plain file path. */
  url: string;
  /** Files only: play at the file's own pace, over and over, stream time still rising. */
  loop?: boolean;
  /** 'demo' for the built-in demo streams; default 'pull'. */
  kind?: Extract<StreamKind, 'pull' | 'demo'>;
}

export interface BeginPublish {
  key: string;
  kind: PushKind;
  remote: string | null;
  source: SourceSpec;
  session: StreamSession;
  /** Extra decoder options for this source (stdinPreamble for RTMP). */
  decoder?: Partial<DecoderOptions>;
  hooks?: Pick<PlayOptions, 'onSpawned' | 'onStalled' | 'onFrame'>;
}

export interface StreamManagerOptions {
  /** Keys allowed to publish over RTMP or WHIP. */
  keys?: PublishKey[];
  /**
   * Size and rate of the frames handed to analysis; frames beyond maxFps are dropped in the
   * decoder before colour conversion. Default: at most 1280x720 (aspect kept, never
   * upscaled) and 15 fps.
   */
  output?: OutputSpec;
  /** No frame for this long counts as a stall (the decoder restarts). Default 10 s. */
  stallTimeoutMs?: number;
  /** Reconnection of pull sources: first delay, doubling up to the maximum. */
  pullBackoffMs?: number;
  pullBackoffMaxMs?: number;
  logger?: Logger;
  /** The gst-launch-1.0 binary (tests may point elsewhere). */
  gstLaunch?: string;
}

export type StreamManagerEvents = {
  'stream:added': [status: StreamStatus];
  /** Any change of a stream's state (full status). */
  'stream:state': [status: StreamStatus];
  'stream:removed': [key: string];
  frame: [key: string, frame: Frame];
  caps: [key: string, info: VideoInfo];
  /** A publisher was turned away (unknown or revoked key, key already live, ...). */
  'publish:rejected': [rejection: PublishRejection];
};

/** Something that accepts publishers for the manager; closed before the streams are. */
export interface Ingest {
  close(): Promise<void>;
}

export const DEFAULT_OUTPUT: Readonly<OutputSpec> = { maxWidth: 1280, maxHeight: 720, maxFps: 15 };

/**
 * Owns every stream: the publish keys, the streams pushed over RTMP and WHIP, and the
 * pulled ones. Each stream has its own decoder process and its own failures; the manager
 * re-emits their states and frames keyed by stream, so the analysis stage and the API see
 * one source of events. close() closes the ingest servers, then every stream, and resolves
 * once no decoder process is left.
 */
export class StreamManager extends TypedEmitter<StreamManagerEvents> {
  readonly output: OutputSpec;
  readonly stallTimeoutMs: number | undefined;
  readonly log: Logger | undefined;
  readonly #opts: StreamManagerOptions;
  readonly #keys = new Map<string, PublishKey>();
  readonly #streams = new Map<string, Stream>();
  readonly #ingests = new Set<Ingest>();
  #closing: Promise<void> | null = null;

  constructor(options: StreamManagerOptions = {}) {
    super();
    this.#opts = options;
    this.output = { ...DEFAULT_OUTPUT, ...options.output };
    this.stallTimeoutMs = options.stallTimeoutMs;
    this.log = options.logger;
    for (const k of options.keys ?? []) this.allowKey(k);
  }

  get closed(): boolean { return this.#closing !== null; }

  // ---- publish keys ----

  allowKey(entry: PublishKey): void {
    assertStreamKey(entry.key);
    const existing = this.#streams.get(entry.key);
    if (existing && (existing.kind === 'pull' || existing.kind === 'demo')) {
      throw new InvalidStateError(`stream key ${entry.key} is already used by a pulled stream`);
    }
    this.#keys.set(entry.key, { key: entry.key, ...(entry.name !== undefined ? { name: entry.name } : {}) });
    if (entry.name !== undefined) existing?.rename(entry.name);
  }

  /** The key may no longer publish; a stream live with it is ended now. Returns false if it was not allowed. */
  revokeKey(key: string): boolean {
    const had = this.#keys.delete(key);
    const stream = this.#streams.get(key);
    if (stream && (stream.kind === 'rtmp' || stream.kind === 'whip')) stream.end('stream key revoked');
    return had;
  }

  isAllowed(key: string): boolean {
    return this.#keys.has(key);
  }

  publishKeys(): PublishKey[] {
    return [...this.#keys.values()].map((k) => ({ ...k }));
  }

  // ---- streams ----

  get(key: string): Stream | undefined {
    return this.#streams.get(key);
  }

  streams(): Stream[] {
    return [...this.#streams.values()];
  }

  list(): StreamStatus[] {
    return this.streams().map((s) => s.status());
  }

  /** Decoder options for a source with this manager's output size, rate and stall limit. */
  decoderOptions(source: SourceSpec, extra: Partial<DecoderOptions> = {}): DecoderOptions {
    return {
      ...this.output,
      source,
      ...(this.stallTimeoutMs !== undefined ? { stallTimeoutMs: this.stallTimeoutMs } : {}),
      ...(this.#opts.gstLaunch !== undefined ? { gstLaunch: this.#opts.gstLaunch } : {}),
      ...extra,
    };
  }

  /**
   * Starts pulling a URL or file into a new stream. Network sources reconnect with back-off
   * for ever; a file plays once at its own pace, or loops with `loop`. Throws TypeError for a
   * bad key or URL, InvalidStateError when the key is taken.
   */
  addPull(src: PullSource): Stream {
    this.#assertOpen();
    assertStreamKey(src.key);
    if (this.#streams.has(src.key) || this.#keys.has(src.key)) {
      throw new InvalidStateError(`stream key ${src.key} is already in use`);
    }
    const source = pullSourceSpec(src.url);
    if (src.loop && source.kind !== 'file') throw new TypeError(`loop is only for files, not ${src.url}`);
    const decoder = this.decoderOptions(source, source.kind === 'file'
      // Watching a file live means at its own pace: decoded flat out, the analysis would see
      // only the few frames it could catch (`deepwatch analyze` is the path for every frame).
      ? { realtime: true }
      : { restart: true, maxRestarts: Number.POSITIVE_INFINITY, backoffMs: this.#opts.pullBackoffMs ?? 1000, backoffMaxMs: this.#opts.pullBackoffMaxMs ?? 30_000 });
    buildPipeline(source, decoder); // bad URL schemes and options throw here, before the stream exists
    const stream = this.#add(src.key, src.name ?? src.key, src.kind ?? 'pull');
    stream.play({ decoder, loop: src.loop === true });
    return stream;
  }

  /**
   * For the RTMP and WHIP ingests: admits a publisher and starts its stream's decoder.
   * Throws PublishRefusedError (reported as 'publish:rejected') for an unknown or revoked
   * key or a key already live.
   */
  beginPublish(p: BeginPublish): Stream {
    const refuse = (code: RefusalCode, reason: string): never => {
      this.rejectPublish({ kind: p.kind, key: p.key, remote: p.remote, code, reason });
      throw new PublishRefusedError(code, reason);
    };
    if (this.closed) refuse('closed', 'the server is shutting down');
    const entry = this.#keys.get(p.key);
    if (!entry) refuse('unknown-key', `stream key ${JSON.stringify(p.key)} is not allowed to publish`);
    let stream = this.#streams.get(p.key);
    const busy = this.#busyReason(p.key);
    if (busy) refuse('busy', busy);
    if (stream?.busy) stream.end(`replaced by a new ${p.kind} publish`);
    if (!stream) stream = this.#add(p.key, entry!.name ?? p.key, p.kind);
    stream.play({ decoder: this.decoderOptions(p.source, p.decoder), session: p.session, ...p.hooks }, p.kind);
    this.log?.info({ stream: p.key, kind: p.kind, remote: p.remote, session: p.session.id }, 'publish accepted');
    return stream;
  }

  /**
   * Whether a publish with this key would be admitted now (null) or why not. A WHIP publisher
   * that went silent may be replaced: UDP gives no sign that it is gone, and a browser that
   * reloads comes back with the same key long before ICE consent expires (30 s).
   */
  publishRefusal(key: string): { code: RefusalCode; reason: string } | null {
    if (this.closed) return { code: 'closed', reason: 'the server is shutting down' };
    if (!this.#keys.has(key)) return { code: 'unknown-key', reason: `stream key ${JSON.stringify(key)} is not allowed to publish` };
    const busy = this.#busyReason(key);
    return busy ? { code: 'busy', reason: busy } : null;
  }

  #busyReason(key: string): string | null {
    const stream = this.#streams.get(key);
    if (!stream?.busy) return null;
    const silent = stream.state === 'stalled' || stream.state === 'reconnecting';
    if (stream.kind === 'whip' && silent) return null;
    return `stream ${key} already has a ${stream.kind} publisher`;
  }

  /** Reports a publisher turned away before beginPublish could see it (bad request, wrong app). */
  rejectPublish(r: PublishRejection): void {
    this.log?.warn({ stream: r.key, kind: r.kind, remote: r.remote, code: r.code }, `publish refused: ${r.reason}`);
    this.safeEmit('publish:rejected', r);
  }

  /** Closes a stream (and its publisher) and forgets it. Its key, if any, stays allowed. */
  async remove(key: string, reason = 'removed'): Promise<boolean> {
    const stream = this.#streams.get(key);
    if (!stream) return false;
    this.#streams.delete(key);
    await stream.close(reason);
    this.safeEmit('stream:removed', key);
    return true;
  }

  /** Ingest servers register here so that close() shuts them before the streams. */
  attachIngest(ingest: Ingest): void {
    this.#assertOpen();
    this.#ingests.add(ingest);
  }

  detachIngest(ingest: Ingest): void {
    this.#ingests.delete(ingest);
  }

  /** Closes ingests and streams; resolves when every decoder process has exited. Safe to call twice. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      await Promise.allSettled([...this.#ingests].map((i) => i.close()));
      this.#ingests.clear();
      await Promise.allSettled([...this.#streams.keys()].map((k) => this.remove(k, 'server closing')));
    })();
    return this.#closing;
  }

  #add(key: string, name: string, kind: StreamKind): Stream {
    const stream = new Stream(key, name, kind);
    stream.onListenerError = (event, error) => this.onListenerError(`stream ${key} ${event}`, error);
    stream.on('state', (s) => {
      this.log?.info({ stream: key, state: s.state, reason: s.reason }, 'stream state');
      this.safeEmit('stream:state', s);
    });
    stream.on('caps', (info) => this.safeEmit('caps', key, info));
    stream.on('frame', (frame) => this.safeEmit('frame', key, frame));
    this.#streams.set(key, stream);
    this.safeEmit('stream:added', stream.status());
    return stream;
  }

  #assertOpen(): void {
    if (this.closed) throw new InvalidStateError('the stream manager is closed');
  }
}

/** Turns a pull URL or path into a decoder source; throws TypeError naming what is wrong. */
export function pullSourceSpec(url: string): SourceSpec {
  if (typeof url !== 'string' || url.length === 0) throw new TypeError('pull url must be a non-empty string');
  if (url.startsWith('file://')) return { kind: 'file', path: fileURLToPath(url) };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return { kind: 'file', path: isAbsolute(url) ? url : resolve(url) };
  return { kind: 'url', url };
}
