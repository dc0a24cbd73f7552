import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import Context from 'node-media-server/src/core/context.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import RtmpSession from 'node-media-server/src/session/rtmp_session.js';
import type { Decoder } from '../media/decoder.js';
import { InvalidStateError } from '../shared/errors.js';
import { FlvRelay } from './flv-relay.js';
import { PublishRefusedError, type Ingest, type StreamManager } from './stream-manager.js';
import type { Stream, StreamSession } from './stream.js';

export interface RtmpIngestOptions {
  /** TCP port; default 1935; 0 picks a free one (read it back from `port`). */
  port?: number;
  /** Listen address; default all interfaces. */
  host?: string;
  /** The application name in rtmp://host:port/<app>/<stream-key>; default 'live'. */
  app?: string;
}

type Session = InstanceType<typeof RtmpSession>;

/** One accepted RTMP publish: the library's session, the relay into the decoder, the stream. */
class RtmpPublish implements StreamSession {
  #closed = false;
  constructor(readonly session: Session, readonly relay: FlvRelay) {}

  get id(): string { return this.session.id; }

  /** Stops relaying and hangs up on the publisher. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.session.broadcast.subscribers.delete(this.relay.id);
    this.session.socket.destroy();
  }
}

let loggerRouted = false;

/**
 * node-media-server logs to the console at debug level from a module-wide logger; send its
 * lines to our structured log instead (its errors are mostly publishers hanging up: warn).
 */
function routeLibraryLog(log: Logger | undefined): void {
  if (loggerRouted && !log) return;
  loggerRouted = true;
  const child = log?.child({ component: 'node-media-server' });
  nmsLogger.log = (message: string, level = 'info') => {
    if (!child) return;
    if (level === 'error' || level === 'warn') child.warn(message);
    else child.debug(message);
  };
}

/**
 * The embedded RTMP server: publishers push to rtmp://HOST:PORT/live/<stream-key>. It runs
 * its own TCP listener and uses node-media-server only for the RTMP protocol sessions, which
 * avoids the library's traps: its server exits the process when the port is taken, cannot
 * listen on port 0, writes a ./data store, and sends its end-of-publish event 30 s late.
 * A publish with an unknown, revoked or already live key is refused at publish time (the
 * library still fires postPublish for it: the refusal is tracked here). An accepted publish
 * feeds its FLV tags to its stream's decoder; when the publisher's connection closes the
 * decoder drains and the stream ends. Playing streams back is not offered.
 */
export class RtmpIngest implements Ingest {
  readonly app: string;
  readonly #manager: StreamManager;
  readonly #server: Server;
  readonly #sessions = new Map<string, Session>();
  readonly #publishes = new Map<string, RtmpPublish>();
  readonly #log: Logger | undefined;
  #closing: Promise<void> | null = null;

  private constructor(manager: StreamManager, server: Server, app: string) {
    this.#manager = manager;
    this.#server = server;
    this.app = app;
    this.#log = manager.log?.child({ component: 'rtmp' });
  }

  /** Starts listening; rejects (without exiting the process) when the port is taken. */
  static async listen(manager: StreamManager, options: RtmpIngestOptions = {}): Promise<RtmpIngest> {
    if (manager.closed) throw new InvalidStateError('the stream manager is closed');
    const port = options.port ?? 1935;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`RTMP port must be 0-65535, got ${port}`);
    const app = options.app ?? 'live';
    if (!/^[A-Za-z0-9_-]+$/.test(app)) throw new TypeError(`RTMP app name must be letters, digits, "_" or "-", got ${JSON.stringify(app)}`);
    routeLibraryLog(manager.log);
    const server = createServer();
    const ingest = new RtmpIngest(manager, server, app);
    server.on('connection', (socket) => ingest.#onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => ingest.#log?.error({ err: e }, 'RTMP listener error'));
    Context.eventEmitter.on('prePublish', ingest.#onPrePublish);
    Context.eventEmitter.on('prePlay', ingest.#onPrePlay);
    manager.attachIngest(ingest);
    ingest.#log?.info({ port: ingest.port, app }, 'RTMP ingest listening');
    return ingest;
  }

  /** The port actually listened on. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The URL a publisher uses for a key. */
  url(key: string, host = '127.0.0.1'): string {
    return `rtmp://${host}:${this.port}/${this.app}/${key}`;
  }

  /** Publishers connected and accepted right now. */
  get publishing(): number {
    return this.#publishes.size;
  }

  /** Stops listening and hangs up on every publisher (their streams end). Safe to call twice. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    Context.eventEmitter.off('prePublish', this.#onPrePublish);
    Context.eventEmitter.off('prePlay', this.#onPrePlay);
    this.#manager.detachIngest(this);
    this.#closing = new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sessions.values()) s.socket.destroy();
    });
    return this.#closing;
  }

  #onConnection(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const session = new RtmpSession(socket);
    this.#sessions.set(session.id, session);
    Context.sessions.set(session.id, session);
    socket.once('close', () => {
      this.#sessions.delete(session.id);
      const publish = this.#publishes.get(session.id);
      if (!publish) return;
      this.#publishes.delete(session.id);
      this.#manager.get(session.streamName)?.endSession(publish, 'publisher disconnected', true);
      publish.close();
    });
    session.run();
  }

  #refuse(session: Session, error: PublishRefusedError | { code: 'bad-request'; message: string }): void {
    if (!(error instanceof PublishRefusedError)) {
      this.#manager.rejectPublish({ kind: 'rtmp', key: session.streamName, remote: session.ip, code: error.code, reason: error.message });
    }
    // The library goes on to call postPublish for this session: without its socket the
    // publisher gets nothing, and it is not in #publishes, so nothing reaches a decoder.
    session.socket.destroy();
  }

  #onPrePublish = (session: Session): void => {
    if (this.#sessions.get(session.id) !== session) return; // another RtmpIngest's session
    if (session.streamApp !== this.app) {
      this.#refuse(session, { code: 'bad-request', message: `publish to rtmp://HOST:${this.port}/${this.app}/<stream-key>, not /${session.streamApp}/` });
      return;
    }
    let decoder: Decoder | null = null;
    const relay = new FlvRelay((tag) => { decoder?.write(tag); });
    const publish = new RtmpPublish(session, relay);
    let stream: Stream;
    try {
      stream = this.#manager.beginPublish({
        key: session.streamName,
        kind: 'rtmp',
        remote: session.ip,
        source: { kind: 'flv-stdin' },
        session: publish,
        decoder: { stdinPreamble: () => relay.preamble() },
      });
    } catch (e) {
      // Thrown from here it would unwind through the library's socket handler: refuse instead.
      if (!(e instanceof PublishRefusedError)) this.#log?.error({ err: e, stream: session.streamName }, 'RTMP publish could not start');
      this.#refuse(session, e instanceof PublishRefusedError ? e : { code: 'bad-request', message: (e as Error).message });
      return;
    }
    decoder = stream.decoder;
    this.#publishes.set(session.id, publish);
    // Joins the broadcast directly (not through postPlay, which would replay the previous
    // publish's cached tags): from here on every tag of this publish reaches the relay.
    session.broadcast.subscribers.set(relay.id, relay);
  };

  #onPrePlay = (session: Session): void => {
    if (this.#sessions.get(session.id) !== session) return;
    this.#log?.warn({ remote: session.ip, path: session.streamPath }, 'RTMP play refused: this server only ingests');
    session.socket.destroy();
  };
}
