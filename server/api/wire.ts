/**
 * The wire contract between the server and the dashboard (Socket.IO events and the REST
 * payloads). Both `server/` and `client/` import this one file so they cannot drift.
 * Times: `pts*` are stream time in seconds; `wall*` are Unix epoch milliseconds.
 */

export type StreamKind = 'rtmp' | 'whip' | 'pull' | 'demo';
export type StreamState = 'waiting' | 'live' | 'stalled' | 'reconnecting' | 'ended' | 'failed';

export interface StreamStatus {
  key: string;
  name: string;
  kind: StreamKind;
  state: StreamState;
  /** Why the stream is failed/stalled/ended, in words. */
  reason: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  framesDecoded: number;
  framesAnalysed: number;
  /** Frames dropped before analysis (decoder or queue), counted. */
  framesDropped: number;
  clipsScored: number;
  clipsSkipped: number;
  /** Seconds between a frame's arrival and its clip's score, median of the recent ones. */
  lagSeconds: number | null;
  activeTracks: number;
  openAlerts: number;
  since: number;
}

export interface BoxWire { x: number; y: number; width: number; height: number }

export interface TrackUpdate {
  stream: string;
  trackId: number;
  box: BoxWire;
  pts: number;
  /** Rolling score over the last few clips, or null before the first clip. */
  score: number | null;
  verdict: 'fake' | 'real' | 'pending';
}

export interface ClipScore {
  stream: string;
  trackId: number;
  ptsStart: number;
  ptsEnd: number;
  probability: number;
  rolling: number;
  model: string;
  wallTime: number;
}

export type AlertPhase = 'open' | 'update' | 'close';

export interface AlertWire {
  id: string;
  stream: string;
  trackId: number;
  phase: AlertPhase;
  ptsStart: number;
  ptsEnd: number;
  wallStart: number;
  wallEnd: number | null;
  peak: number;
  mean: number;
  model: string;
  threshold: number;
  /** URL of the evidence image (aligned face strip), served by the REST API. */
  evidenceUrl: string | null;
}

export interface PreviewFrame {
  stream: string;
  pts: number;
  width: number;
  height: number;
  /** JPEG bytes. */
  jpeg: ArrayBuffer | Uint8Array;
  tracks: TrackUpdate[];
}

/** GET /api/v1/alerts */
export interface AlertPage {
  /** Newest first. */
  items: AlertWire[];
  /** Cursor of the next page, or null on the last one. */
  next: string | null;
}

export interface ModelInfo {
  name: string;
  /** Execution provider: 'cpu', 'cuda', ... */
  provider: string;
  /** Decision threshold on the probability (the dashboard draws it on the score charts). */
  threshold?: number;
}

/** GET /api/v1/health */
export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  model: ModelInfo | null;
  streams: { total: number } & Record<StreamState, number>;
  openAlerts: number;
  dashboardClients: number;
  /** Why the status is not ok, in words. */
  problems: string[];
}

/** GET /api/v1/session: whether the server has access tokens and whether this request carries one. */
export interface SessionState {
  required: boolean;
  authenticated: boolean;
}

/** Socket.IO connect_error message for a client without a valid access token (not retried by Socket.IO). */
export const UNAUTHORIZED = 'unauthorized';

export interface ServerToClientEvents {
  'stream:state': (s: StreamStatus) => void;
  'stream:removed': (key: string) => void;
  'track:update': (t: TrackUpdate) => void;
  'track:end': (e: { stream: string; trackId: number }) => void;
  'clip:score': (s: ClipScore) => void;
  'alert': (a: AlertWire) => void;
  'preview': (p: PreviewFrame) => void;
}

export interface ClientToServerEvents {
  /** Join a stream's room (its track, score, alert and preview events); '*' for all streams' states and alerts. */
  'subscribe': (stream: string, ack?: (ok: boolean, error?: string) => void) => void;
  'unsubscribe': (stream: string) => void;
}
