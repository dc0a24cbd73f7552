import { io, type Socket } from 'socket.io-client';
import {
  UNAUTHORIZED,
  type AlertWire, type ClientToServerEvents, type ClipScore, type HealthReport, type PreviewFrame, type ServerToClientEvents,
  type SessionState, type StreamStatus, type TrackUpdate,
} from '../../server/api/wire.js';

/**
 * Everything the dashboard shows, kept current from REST (first load) and Socket.IO (live).
 * Components read it and re-render on 'change', which fires at most once per animation
 * frame however many events arrive: a stream of track updates costs one render.
 */

export type Connection = 'connecting' | 'connected' | 'disconnected';

export interface Preview {
  image: ImageBitmap;
  width: number;
  height: number;
  pts: number;
  tracks: TrackUpdate[];
}

/** Clip scores kept per track for its chart. */
const SCORES_PER_TRACK = 150;
/** Closed alerts kept in the list. */
const MAX_ALERTS = 200;

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export class DashboardStore extends EventTarget {
  readonly streams = new Map<string, StreamStatus>();
  readonly tracks = new Map<string, Map<number, TrackUpdate>>();
  readonly scores = new Map<string, Map<number, ClipScore[]>>();
  readonly previews = new Map<string, Preview>();
  readonly alerts = new Map<string, AlertWire>();
  health: HealthReport | null = null;
  connection: Connection = 'connecting';
  /** Last failure to reach the server, in words. */
  error: string | null = null;
  /** Ids of alerts opened since the page loaded, for a brief highlight. */
  readonly fresh = new Set<string>();
  /** The server has access tokens (server.accessTokens): a sign-out button makes sense. */
  authRequired = false;
  /** The server wants a token this browser has not given (or its session ended): show the sign-in form. */
  needsToken = false;

  #socket: Client | null = null;
  #frame = 0;
  #healthTimer = 0;

  constructor(readonly base = '') {
    super();
  }

  /** Asks whether a token is needed first, so a locked server shows the sign-in form, not errors. */
  start(): void {
    this.#healthTimer = window.setInterval(() => void this.#loadHealth(), 5000);
    void (async () => {
      try {
        const res = await fetch(`${this.base}/api/v1/session`);
        if (res.ok) {
          const s = (await res.json()) as SessionState;
          this.authRequired = s.required;
          this.needsToken = s.required && !s.authenticated;
        }
      } catch {
        // unreachable: the socket's connect_error says so
      }
      this.changed();
      this.#connect();
    })();
  }

  #connect(): void {
    const socket: Client = io(this.base || undefined, { transports: ['websocket', 'polling'], autoConnect: !this.needsToken });
    this.#socket = socket;
    socket.on('connect', () => {
      this.connection = 'connected';
      this.error = null;
      // Rooms do not survive a reconnect: join them again; the server sends a fresh snapshot.
      socket.emit('subscribe', '*');
      for (const key of this.streams.keys()) this.#join(key);
      void this.refresh();
      this.changed();
    });
    socket.on('disconnect', () => {
      this.connection = 'disconnected';
      this.changed();
    });
    socket.on('connect_error', (err) => {
      this.connection = 'disconnected';
      // A refused token is not retried by Socket.IO: it waits for signIn().
      if (err.message === UNAUTHORIZED) {
        this.authRequired = true;
        this.needsToken = true;
        this.error = null;
      } else {
        this.error = `cannot reach the server: ${err.message}`;
      }
      this.changed();
    });
    socket.on('stream:state', (s) => {
      if (!this.streams.has(s.key)) this.#join(s.key);
      this.streams.set(s.key, s);
      this.changed();
    });
    socket.on('stream:removed', (key) => this.#forget(key));
    socket.on('track:update', (t) => {
      let m = this.tracks.get(t.stream);
      if (!m) this.tracks.set(t.stream, (m = new Map()));
      m.set(t.trackId, t);
      this.changed();
    });
    socket.on('track:end', ({ stream, trackId }) => {
      this.tracks.get(stream)?.delete(trackId);
      this.scores.get(stream)?.delete(trackId);
      this.changed();
    });
    socket.on('clip:score', (s) => this.#addScore(s));
    socket.on('alert', (a) => {
      if (a.phase === 'open' && !this.alerts.has(a.id)) {
        this.fresh.add(a.id);
        setTimeout(() => { this.fresh.delete(a.id); this.changed(); }, 6000);
      }
      this.alerts.set(a.id, a);
      this.#trimAlerts();
      this.changed();
    });
    socket.on('preview', (p) => void this.#addPreview(p));
  }

  /** Trades the token for the server's session cookie; resolves with the error message, or null. */
  async signIn(token: string): Promise<string | null> {
    const res = await fetch(`${this.base}/api/v1/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }),
    });
    if (!res.ok) return errorMessage(res);
    this.needsToken = false;
    this.error = null;
    this.changed();
    // The socket is re-opened so its handshake carries the new cookie.
    this.#socket?.disconnect().connect();
    return null;
  }

  async signOut(): Promise<void> {
    await fetch(`${this.base}/api/v1/session`, { method: 'DELETE' });
    // Leave the rooms while still connected: emits on a closed socket are buffered for the next session.
    for (const key of [...this.streams.keys()]) this.#forget(key);
    this.#socket?.disconnect();
    this.alerts.clear();
    this.health = null;
    this.needsToken = true;
    this.changed();
  }

  stop(): void {
    this.#socket?.disconnect();
    clearInterval(this.#healthTimer);
  }

  /** Re-reads what REST knows (streams, recent alerts, health): after a (re)connect. */
  async refresh(): Promise<void> {
    try {
      const [streams, alerts] = await Promise.all([
        this.#get<{ items: StreamStatus[] }>('/api/v1/streams'),
        this.#get<{ items: AlertWire[] }>('/api/v1/alerts?limit=100'),
        this.#loadHealth(),
      ]);
      for (const s of streams.items) {
        if (!this.streams.has(s.key)) this.#join(s.key);
        this.streams.set(s.key, s);
      }
      for (const a of alerts.items) this.alerts.set(a.id, a);
      this.#trimAlerts();
    } catch (err) {
      // Without a token the sign-in form says what is wrong, not an error line.
      if (!this.needsToken) this.error = (err as Error).message;
    }
    this.changed();
  }

  /** POST /streams; resolves with the error message, or null on success. */
  async addPull(body: { name: string; url: string; key?: string }): Promise<string | null> {
    const res = await fetch(`${this.base}/api/v1/streams`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (res.ok) {
      const s = (await res.json()) as StreamStatus;
      if (!this.streams.has(s.key)) this.#join(s.key);
      this.streams.set(s.key, s);
      this.changed();
      return null;
    }
    return errorMessage(res);
  }

  async remove(key: string): Promise<string | null> {
    const res = await fetch(`${this.base}/api/v1/streams/${encodeURIComponent(key)}`, { method: 'DELETE' });
    if (res.ok) {
      this.#forget(key);
      return null;
    }
    return errorMessage(res);
  }

  /** Coalesces change notifications to one per animation frame. */
  changed(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.dispatchEvent(new Event('change'));
    });
  }

  sortedStreams(): StreamStatus[] {
    return [...this.streams.values()].sort((a, b) => a.since - b.since || a.key.localeCompare(b.key));
  }

  /** Open alerts first, then newest first. */
  sortedAlerts(): AlertWire[] {
    return [...this.alerts.values()].sort((a, b) => Number(b.phase !== 'close') - Number(a.phase !== 'close') || b.wallStart - a.wallStart);
  }

  openAlertCount(): number {
    let n = 0;
    for (const a of this.alerts.values()) if (a.phase !== 'close') n++;
    return n;
  }

  #join(key: string): void {
    this.#socket?.emit('subscribe', key);
  }

  #forget(key: string): void {
    this.#socket?.emit('unsubscribe', key);
    this.streams.delete(key);
    this.tracks.delete(key);
    this.scores.delete(key);
    this.previews.get(key)?.image.close();
    this.previews.delete(key);
    this.changed();
  }

  #addScore(s: ClipScore): void {
    let byTrack = this.scores.get(s.stream);
    if (!byTrack) this.scores.set(s.stream, (byTrack = new Map()));
    let list = byTrack.get(s.trackId);
    if (!list) byTrack.set(s.trackId, (list = []));
    // A reconnect replays recent scores: keep each clip once.
    const last = list[list.length - 1];
    if (last && s.ptsEnd <= last.ptsEnd) return;
    list.push(s);
    if (list.length > SCORES_PER_TRACK) list.splice(0, list.length - SCORES_PER_TRACK);
    this.changed();
  }

  async #addPreview(p: PreviewFrame): Promise<void> {
    try {
      const image = await createImageBitmap(new Blob([p.jpeg as BlobPart], { type: 'image/jpeg' }));
      if (!this.streams.has(p.stream)) return image.close();
      this.previews.get(p.stream)?.image.close();
      this.previews.set(p.stream, { image, width: p.width, height: p.height, pts: p.pts, tracks: p.tracks });
      this.changed();
    } catch {
      // A preview that does not decode is skipped; the next one replaces it.
    }
  }

  async #loadHealth(): Promise<void> {
    try {
      this.health = await this.#get<HealthReport>('/api/v1/health');
      this.changed();
    } catch {
      // The socket's state already says the server is unreachable.
    }
  }

  async #get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.base}${path}`);
    if (res.status === 401) {
      this.authRequired = true;
      this.needsToken = true;
    }
    if (!res.ok) throw new Error(await errorMessage(res));
    return (await res.json()) as T;
  }

  #trimAlerts(): void {
    if (this.alerts.size <= MAX_ALERTS) return;
    const closed = [...this.alerts.values()].filter((a) => a.phase === 'close').sort((a, b) => a.wallStart - b.wallStart);
    for (const a of closed.slice(0, this.alerts.size - MAX_ALERTS)) this.alerts.delete(a.id);
  }
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) return body.error.message;
  } catch {
    // not JSON: fall back to the status line
  }
  return `${res.status} ${res.statusText}`;
}
