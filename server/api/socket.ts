import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import { streamKeySchema } from '../config/schema.js';
import { AccessControl } from './access.js';
import type { Monitor, MonitorEvents } from './monitor.js';
import { UNAUTHORIZED, type ClientToServerEvents, type ServerToClientEvents } from './wire.js';

/**
 * Socket.IO fan-out of the monitor's events. Rooms: `all` ('*': every stream's state and
 * every alert) and one per stream (its tracks, scores, alerts, previews).
 *
 * A slow dashboard must never grow a queue in the server. Track boxes, the most frequent
 * event and each one replacing the last, skip any client that already has
 * SLOW_CLIENT_PACKETS packets waiting to be written; previews (at most a few a second) skip
 * such clients too. They are not volatile: a volatile emit is dropped whenever the
 * connection is mid-write, which at a low rate meant most previews never arrived.
 * Clip scores (a few per second per face: the charts' data), state changes, alerts and
 * track ends always go out; a client that stops reading altogether is dropped by the ping
 * timeout, which frees its queue.
 */

type Io = Server<ClientToServerEvents, ServerToClientEvents>;
type Client = Socket<ClientToServerEvents, ServerToClientEvents>;

export const ALL_ROOM = 'all';
export const streamRoom = (key: string): string => `stream:${key}`;
const MAX_SUBSCRIPTIONS = 256;
const SLOW_CLIENT_PACKETS = 128;

export interface SocketLayer {
  readonly io: Io;
  /** Disconnects every client and stops forwarding; the HTTP server is left to its owner. */
  close(): Promise<void>;
}

export function attachSocketIo(httpServer: HttpServer, monitor: Monitor, logger: Logger, access = new AccessControl([])): SocketLayer {
  const io: Io = new Server(httpServer, {
    serveClient: false,
    // Clients only send subscribe/unsubscribe: tiny messages.
    maxHttpBufferSize: 64 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
  });
  const log = logger.child({ stage: 'socket' });

  const refreshViewers = (room: string) => {
    if (!room.startsWith('stream:')) return;
    monitor.setViewers(room.slice('stream:'.length), io.sockets.adapter.rooms.get(room)?.size ?? 0);
  };

  /** Brings a late joiner up to date: current state, tracks, recent scores, latest preview. */
  const sendSnapshot = (socket: Client, key: string) => {
    const s = monitor.stream(key);
    if (s) socket.emit('stream:state', s);
    for (const t of monitor.tracks(key)) socket.emit('track:update', t);
    for (const sc of monitor.recentScores(key)) socket.emit('clip:score', sc);
    const p = monitor.latestPreview(key);
    if (p) socket.emit('preview', p);
  };

  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (access.allows(socket.request.headers, token)) return next();
    log.info({ address: socket.handshake.address }, 'dashboard connection refused: no valid access token');
    next(new Error(UNAUTHORIZED));
  });

  io.on('connection', (socket) => {
    monitor.setDashboardClients(io.engine.clientsCount);
    log.debug({ id: socket.id, address: socket.handshake.address }, 'dashboard connected');

    socket.on('subscribe', (stream, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      if (stream === '*') {
        void socket.join(ALL_ROOM);
        for (const s of monitor.streams()) socket.emit('stream:state', s);
        return reply(true);
      }
      if (typeof stream !== 'string' || !streamKeySchema.safeParse(stream).success) {
        return reply(false, `invalid stream key ${JSON.stringify(stream)}: use 1-64 characters of A-Z, a-z, 0-9, "_" or "-", or "*"`);
      }
      if (socket.rooms.size > MAX_SUBSCRIPTIONS) return reply(false, `too many subscriptions (at most ${MAX_SUBSCRIPTIONS})`);
      const room = streamRoom(stream);
      void socket.join(room);
      refreshViewers(room);
      sendSnapshot(socket, stream);
      reply(true);
    });

    socket.on('unsubscribe', (stream) => {
      if (typeof stream !== 'string') return;
      const room = stream === '*' ? ALL_ROOM : streamRoom(stream);
      void socket.leave(room);
      refreshViewers(room);
    });

    socket.on('disconnecting', () => {
      const rooms = [...socket.rooms];
      // The rooms are left right after this event; count once they are.
      setImmediate(() => {
        rooms.forEach(refreshViewers);
        monitor.setDashboardClients(io.engine.clientsCount);
      });
    });
  });

  /** The room's members minus the clients that are behind: the audience of a droppable event. */
  const keepingUp = (room: string) => {
    const slow: string[] = [];
    for (const id of io.sockets.adapter.rooms.get(room) ?? []) {
      const so = io.sockets.sockets.get(id);
      // engine.io keeps the packets it could not write yet in writeBuffer (untyped, but the
      // only measure of a client's backlog; a missing field counts as keeping up).
      const backlog = (so?.conn as unknown as { writeBuffer?: unknown[] } | undefined)?.writeBuffer?.length ?? 0;
      if (backlog >= SLOW_CLIENT_PACKETS) slow.push(id);
    }
    return slow.length > 0 ? io.to(room).except(slow) : io.to(room);
  };

  const forward: { [K in keyof MonitorEvents]: (...args: MonitorEvents[K]) => void } = {
    'stream:state': (s) => io.to(ALL_ROOM).to(streamRoom(s.key)).emit('stream:state', s),
    'stream:removed': (key) => io.to(ALL_ROOM).to(streamRoom(key)).emit('stream:removed', key),
    'track:update': (t) => keepingUp(streamRoom(t.stream)).emit('track:update', t),
    'track:end': (e) => io.to(streamRoom(e.stream)).emit('track:end', e),
    'clip:score': (s) => io.to(streamRoom(s.stream)).emit('clip:score', s),
    alert: (a) => io.to(ALL_ROOM).to(streamRoom(a.stream)).emit('alert', a),
    preview: (p) => keepingUp(streamRoom(p.stream)).emit('preview', p),
  };
  const names = Object.keys(forward) as (keyof MonitorEvents)[];
  for (const name of names) monitor.events.on(name, forward[name] as never);

  let closed = false;
  return {
    io,
    async close() {
      if (closed) return;
      closed = true;
      for (const name of names) monitor.events.off(name, forward[name] as never);
      io.disconnectSockets(true);
      // io.close() would also close the HTTP server, which belongs to the caller.
      io.engine.close();
      monitor.setDashboardClients(0);
    },
  };
}
