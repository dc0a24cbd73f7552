/**
 * Types for the parts of node-media-server 4.4.3 (plain JavaScript) that the RTMP ingest
 * uses. The ingest runs its own TCP listener and drives the library's RTMP sessions, so only
 * these internals are touched; the version is pinned exactly in package.json.
 */

declare module 'node-media-server/src/core/context.js' {
  import type { EventEmitter } from 'node:events';
  const Context: {
    config: Record<string, unknown>;
    sessions: Map<string, unknown>;
    broadcasts: Map<string, unknown>;
    eventEmitter: EventEmitter;
  };
  export = Context;
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: {
    level: string;
    log(message: string, level?: string): void;
  };
  export = logger;
}

declare module 'node-media-server/src/session/rtmp_session.js' {
  import type { Socket } from 'node:net';

  /** A subscriber of a broadcast: it receives every FLV tag of the live stream. */
  interface FlvSubscriber {
    id: string;
    protocol: 'flv';
    ip: string;
    sendBuffer(buffer: Buffer): void;
  }

  class BroadcastServer {
    streamPath: string;
    publisher: unknown;
    subscribers: Map<string, FlvSubscriber | object>;
  }

  class RtmpSession {
    constructor(socket: Socket);
    readonly id: string;
    ip: string;
    socket: Socket;
    streamApp: string;
    streamName: string;
    streamPath: string;
    streamQuery: Record<string, unknown>;
    isPublisher: boolean;
    inBytes: number;
    broadcast: BroadcastServer;
    run(): void;
    close(): void;
  }
  export = RtmpSession;
}
