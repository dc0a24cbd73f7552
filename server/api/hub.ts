import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TypedEmitter, type EventMap } from '../shared/typed-emitter.js';
import { repoRoot } from '../shared/paths.js';
import { isOpen, pageAlerts } from './alert-page.js';
import {
  MonitorError,
  type AddPullRequest, type AlertPage, type AlertQuery, type Evidence, type HealthReport, type Monitor,
  type MonitorEvents, type ModelInfo, type ModelRun, type TelemetryEvents, type WebhookDelivery,
} from './monitor.js';
import type { AlertWire, ClipScore, PreviewFrame, StreamState, StreamStatus, TrackUpdate } from './wire.js';

/** An emitter whose owner may emit; consumers get it typed as `Subscribable`. */
class Bus<E extends EventMap> extends TypedEmitter<E> {
  emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return this.safeEmit(event, ...args);
  }
}

/** What only the stages can do; registered by the integrator with `hub.handle({...})`. */
export interface MonitorHandlers {
  /** Start pulling `url` as stream `key` (already checked to be free); resolves once the stream exists. */
  addPull?(req: Required<AddPullRequest>): Promise<StreamStatus>;
  /** Stop and forget a stream; reject with MonitorError('not_found') for an unknown key. */
  remove?(key: string): Promise<void>;
  /** Alerts from the store; without this handler the hub answers from the alerts published to it. */
  alerts?(query: AlertQuery): Promise<AlertPage>;
  alert?(id: string): Promise<AlertWire | undefined>;
  evidence?(id: string): Promise<Evidence | undefined>;
}

export interface MonitorHubOptions {
  /** Most previews per second per stream sent to dashboards (0 = none). */
  previewFps?: number;
  /** Least time between two `stream:state` events of one stream when only its counters changed. */
  stateIntervalMs?: number;
  /** Clip scores kept per stream for charts of late joiners. */
  scoresPerStream?: number;
  /** Alerts kept in memory (closed ones are forgotten first). */
  maxAlerts?: number;
}

const STATES: StreamState[] = ['waiting', 'live', 'stalled', 'reconnecting', 'ended', 'failed'];

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** A stream key from a display name: "Lobby Cam #2" -> "lobby-cam-2". */
function slug(name: string): string {
  const s = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48);
  return s || 'stream';
}

/**
 * The in-process Monitor. Stages publish what they see (stream states, tracks, scores,
 * alerts, previews) and the hub keeps the latest of each, so REST answers and dashboards
 * that join late get the current picture, and forwards it as wire events. It never blocks
 * a publisher: listeners run through safeEmit, counters-only state changes are coalesced,
 * previews are rate-limited per stream.
 */
export class MonitorHub implements Monitor {
  readonly events = new Bus<MonitorEvents>();
  readonly telemetry = new Bus<TelemetryEvents>();

  readonly #streams = new Map<string, StreamStatus>();
  readonly #tracks = new Map<string, Map<number, TrackUpdate>>();
  readonly #scores = new Map<string, ClipScore[]>();
  readonly #previews = new Map<string, PreviewFrame>();
  readonly #lastPreviewAt = new Map<string, number>();
  readonly #viewers = new Map<string, number>();
  readonly #alerts = new Map<string, AlertWire>();
  readonly #evidence = new Map<string, Evidence>();
  readonly #lastStateAt = new Map<string, number>();
  readonly #stateTimers = new Map<string, NodeJS.Timeout>();
  #handlers: MonitorHandlers = {};
  #model: ModelInfo | null = null;
  #dashboardClients = 0;
  readonly #startedAt = Date.now();
  readonly #version = packageVersion();
  readonly #previewIntervalMs: number;
  readonly #stateIntervalMs: number;
  readonly #scoresPerStream: number;
  readonly #maxAlerts: number;
  #closed = false;

  constructor(opts: MonitorHubOptions = {}) {
    const fps = opts.previewFps ?? 2;
    this.#previewIntervalMs = fps > 0 ? 1000 / fps : Infinity;
    this.#stateIntervalMs = opts.stateIntervalMs ?? 250;
    this.#scoresPerStream = opts.scoresPerStream ?? 240;
    this.#maxAlerts = opts.maxAlerts ?? 1000;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---- registration (integrator) ----

  /** Registers the stages' handlers; returns a function that unregisters exactly these. */
  handle(handlers: MonitorHandlers): () => void {
    this.#handlers = { ...this.#handlers, ...handlers };
    return () => {
      for (const k of Object.keys(handlers) as (keyof MonitorHandlers)[]) {
        if (this.#handlers[k] === handlers[k]) delete this.#handlers[k];
      }
    };
  }

  setModel(info: ModelInfo | null): void {
    this.#model = info;
  }

  // ---- feeding side (stages) ----

  /**
   * The whole status of a stream. A change of state, reason, name or kind goes out at once;
   * counter-only changes are coalesced to one event per `stateIntervalMs`.
   */
  publishStreamState(s: StreamStatus): void {
    if (this.#closed) return;
    const prev = this.#streams.get(s.key);
    const next = { ...s };
    this.#streams.set(s.key, next);
    const significant = !prev || prev.state !== s.state || prev.reason !== s.reason || prev.name !== s.name || prev.kind !== s.kind;
    const since = Date.now() - (this.#lastStateAt.get(s.key) ?? 0);
    if (significant || since >= this.#stateIntervalMs) {
      this.#emitState(s.key);
    } else if (!this.#stateTimers.has(s.key)) {
      const t = setTimeout(() => this.#emitState(s.key), this.#stateIntervalMs - since);
      t.unref();
      this.#stateTimers.set(s.key, t);
    }
  }

  /** Merges `patch` into a known stream's status (ingest and analysis each own some fields). */
  updateStream(key: string, patch: Partial<Omit<StreamStatus, 'key'>>): StreamStatus {
    const cur = this.#streams.get(key);
    if (!cur) throw new MonitorError('not_found', `updateStream(): no stream "${key}"; publishStreamState() it first`);
    const next = { ...cur, ...patch, key };
    this.publishStreamState(next);
    return next;
  }

  removeStream(key: string): void {
    if (!this.#streams.delete(key)) return;
    this.#cancelStateTimer(key);
    this.#lastStateAt.delete(key);
    this.#tracks.delete(key);
    this.#scores.delete(key);
    this.#previews.delete(key);
    this.#lastPreviewAt.delete(key);
    if (!this.#closed) this.events.emit('stream:removed', key);
  }

  publishTrack(t: TrackUpdate): void {
    if (this.#closed) return;
    let m = this.#tracks.get(t.stream);
    if (!m) this.#tracks.set(t.stream, (m = new Map()));
    m.set(t.trackId, t);
    this.events.emit('track:update', t);
  }

  endTrack(stream: string, trackId: number): void {
    if (this.#closed) return;
    if (this.#tracks.get(stream)?.delete(trackId)) this.events.emit('track:end', { stream, trackId });
  }

  publishScore(s: ClipScore): void {
    if (this.#closed) return;
    let list = this.#scores.get(s.stream);
    if (!list) this.#scores.set(s.stream, (list = []));
    list.push(s);
    if (list.length > this.#scoresPerStream) list.splice(0, list.length - this.#scoresPerStream);
    this.events.emit('clip:score', s);
  }

  /** An alert's open, update or close; the latest phase of each alert is kept. */
  publishAlert(a: AlertWire): void {
    if (this.#closed) return;
    this.#alerts.delete(a.id); // re-insert so Map order is "least recently touched first"
    this.#alerts.set(a.id, a);
    if (this.#alerts.size > this.#maxAlerts) this.#forgetOldAlerts();
    this.events.emit('alert', a);
  }

  /** Evidence image of an alert, for servers running without an alert store. */
  publishEvidence(alertId: string, evidence: Evidence): void {
    this.#evidence.set(alertId, evidence);
    if (this.#evidence.size > this.#maxAlerts) {
      const oldest = this.#evidence.keys().next().value;
      if (oldest !== undefined) this.#evidence.delete(oldest);
    }
  }

  /**
   * True when a preview of `stream` would be sent now: someone watches it and the rate limit
   * allows. Producers ask first, so no JPEG is encoded for nobody.
   */
  previewWanted(stream: string): boolean {
    return (this.#viewers.get(stream) ?? 0) > 0 && Date.now() - (this.#lastPreviewAt.get(stream) ?? 0) >= this.#previewIntervalMs;
  }

  /** Returns false when the preview was dropped by the rate limit. */
  publishPreview(p: PreviewFrame): boolean {
    if (this.#closed) return false;
    const now = Date.now();
    if (now - (this.#lastPreviewAt.get(p.stream) ?? 0) < this.#previewIntervalMs) return false;
    this.#lastPreviewAt.set(p.stream, now);
    this.#previews.set(p.stream, p);
    this.events.emit('preview', p);
    return true;
  }

  publishModelRun(r: ModelRun): void {
    this.telemetry.emit('model:run', r);
  }

  publishWebhookDelivery(d: WebhookDelivery): void {
    this.telemetry.emit('webhook:delivery', d);
  }

  // ---- Monitor (read side) ----

  streams(): StreamStatus[] {
    return [...this.#streams.values()].sort((a, b) => a.since - b.since || a.key.localeCompare(b.key));
  }

  stream(key: string): StreamStatus | undefined {
    return this.#streams.get(key);
  }

  tracks(key: string): TrackUpdate[] {
    return [...(this.#tracks.get(key)?.values() ?? [])].sort((a, b) => a.trackId - b.trackId);
  }

  recentScores(key: string): ClipScore[] {
    return [...(this.#scores.get(key) ?? [])];
  }

  latestPreview(key: string): PreviewFrame | undefined {
    return this.#previews.get(key);
  }

  async addPull(req: AddPullRequest): Promise<StreamStatus> {
    const handler = this.#handlers.addPull;
    if (!handler) throw new MonitorError('unavailable', 'pull sources cannot be added: the ingest stage is not running in this server');
    const key = req.key ?? this.#freeKey(slug(req.name));
    if (this.#streams.has(key)) throw new MonitorError('conflict', `a stream with key "${key}" already exists`);
    const status = await handler({ key, name: req.name, url: req.url });
    if (!this.#streams.has(status.key)) this.publishStreamState(status);
    return this.#streams.get(status.key) ?? status;
  }

  async remove(key: string): Promise<void> {
    const handler = this.#handlers.remove;
    if (handler) await handler(key);
    else if (!this.#streams.has(key)) throw new MonitorError('not_found', `no stream "${key}"`);
    this.removeStream(key);
  }

  async alerts(query: AlertQuery): Promise<AlertPage> {
    return this.#handlers.alerts ? this.#handlers.alerts(query) : pageAlerts(this.#alerts.values(), query);
  }

  async alert(id: string): Promise<AlertWire | undefined> {
    return this.#handlers.alert ? this.#handlers.alert(id) : this.#alerts.get(id);
  }

  async evidence(id: string): Promise<Evidence | undefined> {
    return this.#handlers.evidence ? this.#handlers.evidence(id) : this.#evidence.get(id);
  }

  health(): HealthReport {
    const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<StreamState, number>;
    for (const s of this.#streams.values()) counts[s.state] += 1;
    const problems: string[] = [];
    if (!this.#model) problems.push('no model loaded');
    for (const s of this.#streams.values()) {
      if (s.state === 'failed') problems.push(`stream ${s.key} failed: ${s.reason ?? 'no reason given'}`);
    }
    let openAlerts = 0;
    for (const a of this.#alerts.values()) if (isOpen(a)) openAlerts += 1;
    return {
      status: problems.length === 0 ? 'ok' : 'degraded',
      version: this.#version,
      uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 100) / 10,
      model: this.#model,
      streams: { total: this.#streams.size, ...counts },
      openAlerts,
      dashboardClients: this.#dashboardClients,
      problems,
    };
  }

  setViewers(stream: string, count: number): void {
    if (count > 0) this.#viewers.set(stream, count);
    else this.#viewers.delete(stream);
  }

  setDashboardClients(count: number): void {
    this.#dashboardClients = count;
  }

  /** Stops emitting and drops listeners; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#stateTimers.values()) clearTimeout(t);
    this.#stateTimers.clear();
    this.events.removeAllListeners();
    this.telemetry.removeAllListeners();
  }

  #emitState(key: string): void {
    this.#cancelStateTimer(key);
    const s = this.#streams.get(key);
    if (!s || this.#closed) return;
    this.#lastStateAt.set(key, Date.now());
    this.events.emit('stream:state', s);
  }

  #cancelStateTimer(key: string): void {
    const t = this.#stateTimers.get(key);
    if (t) clearTimeout(t);
    this.#stateTimers.delete(key);
  }

  #freeKey(base: string): string {
    if (!this.#streams.has(base)) return base;
    for (let i = 2; ; i++) if (!this.#streams.has(`${base}-${i}`)) return `${base}-${i}`;
  }

  #forgetOldAlerts(): void {
    for (const [id, a] of this.#alerts) {
      if (this.#alerts.size <= this.#maxAlerts) return;
      if (!isOpen(a)) this.#alerts.delete(id);
    }
    // Only open alerts left and still too many: drop the least recently touched.
    while (this.#alerts.size > this.#maxAlerts) {
      const oldest = this.#alerts.keys().next().value;
      if (oldest === undefined) return;
      this.#alerts.delete(oldest);
    }
  }
}
