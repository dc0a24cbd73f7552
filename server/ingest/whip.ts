import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { RTCIceServer } from 'werift';
import { InvalidStateError } from '../shared/errors.js';
import { STREAM_KEY_PATTERN } from './keys.js';
import { pickLocalUdpPort } from './udp-port.js';
import { PublishRefusedError, type Ingest, type RefusalCode, type StreamManager } from './stream-manager.js';
import { WhipSession, type PeerOptions } from './whip-session.js';

export interface WhipOptions {
  /** STUN/TURN servers; none by default, so nothing outside this network is contacted. */
  iceServers?: RTCIceServer[];
  /** UDP ports WebRTC media may use, inclusive; default any. */
  udpPortRange?: [number, number];
  /** An IP address to offer in ICE candidates besides the local ones (server behind NAT). */
  announcedAddress?: string | null;
  connectTimeoutMs?: number;
  disconnectGraceMs?: number;
  /** Answer CORS preflights and expose Location, so browser pages elsewhere can publish. Default true. */
  cors?: boolean;
}

const STATUS: Record<RefusalCode, number> = { 'unknown-key': 403, busy: 409, closed: 503, 'bad-request': 400 };

function bearer(req: Request): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return m ? m[1]! : null;
}

function fail(res: Response, status: number, message: string): void {
  if (status === 401) res.set('WWW-Authenticate', 'Bearer realm="whip"');
  res.status(status).type('text/plain').send(`${message}\n`);
}

/**
 * WebRTC-HTTP Ingestion (RFC 9725) for the stream manager. `router` is an express Router to
 * mount at `/whip`: `POST /whip/<key>` with an SDP offer (`Content-Type: application/sdp`,
 * `Authorization: Bearer <key>`) answers `201 Created` with the SDP answer and a `Location`
 * for the session; `DELETE` on that location ends it. No trickle ICE: the answer carries
 * every candidate, and PATCH is answered 405 as the RFC allows.
 */
export class WhipIngest implements Ingest {
  readonly router: Router;
  readonly #manager: StreamManager;
  readonly #peer: PeerOptions;
  readonly #sessions = new Map<string, WhipSession>();
  readonly #log: Logger | undefined;
  #closed = false;

  constructor(manager: StreamManager, options: WhipOptions = {}) {
    if (manager.closed) throw new InvalidStateError('the stream manager is closed');
    const range = options.udpPortRange;
    if (range && !(Number.isInteger(range[0]) && Number.isInteger(range[1]) && range[0] >= 1 && range[0] <= range[1] && range[1] <= 65535)) {
      throw new TypeError(`udpPortRange must be [min, max] with 1 <= min <= max <= 65535, got ${JSON.stringify(range)}`);
    }
    this.#manager = manager;
    this.#log = manager.log?.child({ component: 'whip' });
    this.#peer = {
      iceServers: options.iceServers ?? [],
      ...(range ? { udpPortRange: range } : {}),
      announcedAddress: options.announcedAddress ?? null,
      connectTimeoutMs: options.connectTimeoutMs ?? 20_000,
      disconnectGraceMs: options.disconnectGraceMs ?? 10_000,
    };
    this.router = this.#makeRouter(options.cors ?? true);
    manager.attachIngest(this);
  }

  /** WHIP sessions open right now. */
  get sessions(): WhipSession[] {
    return [...this.#sessions.values()];
  }

  /** Ends every session. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#manager.detachIngest(this);
    for (const s of [...this.#sessions.values()]) s.end('server closing');
  }

  #makeRouter(cors: boolean): Router {
    const router = express.Router();
    if (cors) {
      router.use((req, res, next) => {
        res.set('Access-Control-Allow-Origin', '*');
        res.set('Access-Control-Expose-Headers', 'Location, Accept-Post');
        next();
      });
    }
    router.options('/:key', (_req, res) => {
      res.set('Accept-Post', 'application/sdp');
      if (cors) {
        res.set('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      }
      res.status(204).end();
    });
    router.options('/:key/:session', (_req, res) => {
      if (cors) {
        res.set('Access-Control-Allow-Methods', 'DELETE, OPTIONS');
        res.set('Access-Control-Allow-Headers', 'Authorization');
      }
      res.status(204).end();
    });
    router.post('/:key', express.text({ type: 'application/sdp', limit: '128kb' }), (req, res) => {
      void this.#post(req, res).catch((e: unknown) => {
        this.#log?.error({ err: e }, 'WHIP POST failed');
        if (!res.headersSent) fail(res, 500, 'internal error');
      });
    });
    router.delete('/:key/:session', (req, res) => this.#delete(req, res));
    router.patch('/:key/:session', (_req, res) => {
      res.set('Allow', 'DELETE');
      fail(res, 405, 'trickle ICE is not supported: send all candidates in the offer');
    });
    return router;
  }

  async #post(req: Request, res: Response): Promise<void> {
    const key = String(req.params.key);
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const refuse = (status: number, code: RefusalCode, reason: string) => {
      this.#manager.rejectPublish({ kind: 'whip', key, remote, code, reason });
      fail(res, status, reason);
    };
    if (!req.is('application/sdp')) {
      refuse(415, 'bad-request', 'Content-Type must be application/sdp');
      return;
    }
    const token = bearer(req);
    if (token === null) {
      refuse(401, 'unknown-key', 'send the stream key as Authorization: Bearer <stream key>');
      return;
    }
    if (token !== key || !STREAM_KEY_PATTERN.test(key) || !this.#manager.isAllowed(key)) {
      refuse(403, 'unknown-key', 'this stream key is not allowed to publish');
      return;
    }
    if (this.#closed) {
      refuse(503, 'closed', 'the server is shutting down');
      return;
    }
    const refusal = this.#manager.publishRefusal(key);
    if (refusal) {
      refuse(STATUS[refusal.code], refusal.code, refusal.reason);
      return;
    }
    if (typeof req.body !== 'string' || !req.body.startsWith('v=')) {
      refuse(400, 'bad-request', 'the body must be an SDP offer');
      return;
    }

    const session = new WhipSession(key, this.#peer, this.#log);
    let answer: string;
    try {
      answer = await session.answer(req.body);
    } catch (e) {
      session.close('bad offer');
      refuse(400, 'bad-request', (e as Error).message);
      return;
    }
    const video = session.video!;
    const port = await pickLocalUdpPort();
    let stream;
    try {
      stream = this.#manager.beginPublish({
        key, kind: 'whip', remote, session,
        source: { kind: 'rtp', codec: video.codec, port, payloadType: video.payloadType },
        hooks: {
          onSpawned: () => session.requestKeyframes(),
          onStalled: () => session.requestKeyframes(),
          onFrame: () => session.gotFrame(),
        },
      });
    } catch (e) {
      session.close('refused');
      if (e instanceof PublishRefusedError) {
        fail(res, STATUS[e.code], e.message); // already reported by the manager
        return;
      }
      throw e;
    }
    this.#sessions.set(session.id, session);
    session.onClosed = () => this.#sessions.delete(session.id);
    session.attach(stream, port);
    this.#log?.info({ stream: key, remote, codec: video.codec, payloadType: video.payloadType, decoderPort: port }, 'WHIP session started');
    res.status(201)
      .set('Location', `${req.baseUrl}/${encodeURIComponent(key)}/${session.id}`)
      .type('application/sdp')
      .send(answer);
  }

  #delete(req: Request, res: Response): void {
    const session = this.#sessions.get(String(req.params.session));
    if (!session || session.key !== req.params.key) {
      fail(res, 404, 'no such WHIP session');
      return;
    }
    const token = bearer(req);
    if (token === null) {
      fail(res, 401, 'send the stream key as Authorization: Bearer <stream key>');
      return;
    }
    if (token !== session.key) {
      fail(res, 403, 'wrong stream key for this session');
      return;
    }
    session.end('publisher ended the session');
    res.status(200).end();
  }
}
