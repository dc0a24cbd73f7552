import type { TypedEmitter } from '../shared/typed-emitter.js';
import type {
  AlertPage, AlertWire, ClipScore, HealthReport, PreviewFrame, ServerToClientEvents, StreamStatus, TrackUpdate,
} from './wire.js';

export type { AlertPage, HealthReport, ModelInfo } from './wire.js';

/**
 * What the HTTP API, the Socket.IO layer and the metrics see of the running monitor. Nothing
 * here knows about GStreamer, ONNX or SQLite: the stages feed a `MonitorHub` (hub.ts), which
 * implements this interface, and register handlers for what only they can do (start a
 * pull, query stored alerts).
 */

/** The wire events as an emitter map, so the Socket.IO layer forwards them as they are. */
export type MonitorEvents = { [K in keyof ServerToClientEvents]: Parameters<ServerToClientEvents[K]> };

/** One model call, reported by the scheduler: feeds the per-clip latency histogram. */
export interface ModelRun {
  model: string;
  /** 'cpu', 'cuda', ... */
  provider: string;
  clips: number;
  /** Wall time of the whole call. */
  seconds: number;
}

/** One webhook delivery attempt, reported by the outbox. */
export interface WebhookDelivery {
  url: string;
  event: string;
  outcome: 'delivered' | 'failed' | 'retrying';
  /** HTTP status, or null when no response came. */
  status: number | null;
}

/** Process-internal measurements; kept apart from the wire events, which go to dashboards. */
export type TelemetryEvents = {
  'model:run': [ModelRun];
  'webhook:delivery': [WebhookDelivery];
};

/** The listening half of an emitter: consumers subscribe, only the hub emits. */
export type Subscribable<E extends { [event: string]: unknown[] }> = Pick<TypedEmitter<E>, 'on' | 'off' | 'once'>;

export interface AddPullRequest {
  /** Stream key; derived from the name when absent. */
  key?: string;
  name: string;
  url: string;
}

export interface AlertQuery {
  stream?: string;
  /** true: only alerts not yet closed; false: only closed ones. */
  open?: boolean;
  /** Only alerts opened at or after this time (Unix ms). */
  since?: number;
  limit: number;
  /** Opaque `next` of a previous page. */
  cursor?: string;
}

export interface Evidence {
  contentType: string;
  data: Buffer;
}

/** A request the monitor cannot carry out; the API turns `code` into the HTTP status. */
export class MonitorError extends Error {
  override name = 'MonitorError';
  constructor(readonly code: 'not_found' | 'conflict' | 'invalid' | 'unavailable', message: string) {
    super(message);
  }
}

export interface Monitor {
  streams(): StreamStatus[];
  stream(key: string): StreamStatus | undefined;
  /** Current tracks of a stream (latest update of each). */
  tracks(key: string): TrackUpdate[];
  /** The stream's most recent clip scores, oldest first, for late-joining charts. */
  recentScores(key: string): ClipScore[];
  latestPreview(key: string): PreviewFrame | undefined;
  addPull(req: AddPullRequest): Promise<StreamStatus>;
  remove(key: string): Promise<void>;
  alerts(query: AlertQuery): Promise<AlertPage>;
  alert(id: string): Promise<AlertWire | undefined>;
  evidence(id: string): Promise<Evidence | undefined>;
  health(): HealthReport;
  /** The Socket.IO layer says how many dashboards watch a stream, so previews are made only when someone looks. */
  setViewers(stream: string, count: number): void;
  setDashboardClients(count: number): void;
  readonly events: Subscribable<MonitorEvents>;
  readonly telemetry: Subscribable<TelemetryEvents>;
}
