import { randomUUID } from 'node:crypto';
import type { AlertWire, ClipScore } from '../api/wire.js';
import { InvalidStateError } from '../shared/errors.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { InProcessAlertBus, type AlertBus } from './alert-bus.js';
import type { CloseReason, PolicyDecision } from './alert-policy.js';
import { AlertStore, evidenceUrlFor } from './alert-store.js';
import { parseAlertsConfig, resolveThresholds, type AlertsConfig, type AlertsConfigInput } from './config.js';
import { openAlertDatabase, type AlertDatabase } from './database.js';
import { noopLogger, type AlertLogger } from './logger.js';
import type { Verdict } from './rolling-score.js';
import { TrackAlertState } from './track-alert-state.js';
import { WebhookOutbox } from './webhook-outbox.js';
import { webhookEventName, type WebhookPayload } from './webhook-payload.js';

/** A clip score as the analysis stage hands it over; `rolling` is filled in here. */
export type ClipScoreInput = Omit<ClipScore, 'rolling'> & { rolling?: number };

export type AlertServiceEvents = {
  /** Every alert phase event, after it is stored and queued for the webhooks. */
  alert: [AlertWire];
  /** Every clip score, with this stage's rolling score for its track. */
  score: [ClipScore];
};

export interface AlertServiceOptions {
  /** Alert settings (validated here); defaults for everything left out. */
  config?: AlertsConfigInput;
  /** The clip model's decision threshold (from its manifest), used unless the config sets `policy.openThreshold`. */
  modelThreshold: number | ((model: string) => number);
  /** Where alert events go for the API layer; default: a new in-process bus, closed with the service. */
  bus?: AlertBus;
  logger?: AlertLogger;
  /** e.g. `https://deepwatch.example.org`: makes evidence URLs in webhook bodies absolute. */
  publicBaseUrl?: string;
}

/**
 * The alerts stage's one entry point. The analysis stage feeds it clip scores and track /
 * stream ends; it keeps a rolling score and an alert policy per track and, for every alert
 * phase event, stores the alert (one SQLite transaction together with its webhook
 * deliveries), publishes it on the alert bus and emits `alert`.
 *
 * All calls are synchronous and cheap (a few hundred microseconds with a write); webhook
 * delivery runs in the background and can never hold up scoring.
 */
export class AlertService extends TypedEmitter<AlertServiceEvents> {
  readonly config: AlertsConfig;
  readonly store: AlertStore;
  readonly outbox: WebhookOutbox;
  readonly bus: AlertBus;
  readonly #db: AlertDatabase;
  readonly #ownsBus: boolean;
  readonly #log: AlertLogger;
  readonly #modelThreshold: (model: string) => number;
  readonly #publicBaseUrl: string;
  /** stream -> track id -> state */
  readonly #streams = new Map<string, Map<number, TrackAlertState>>();
  #closing: Promise<void> | null = null;

  /** Opens the database (creating and migrating it), closes alerts left open by a previous run, and starts webhook delivery. */
  static open(options: AlertServiceOptions): AlertService {
    return new AlertService(options);
  }

  private constructor(options: AlertServiceOptions) {
    super();
    this.config = parseAlertsConfig(options.config ?? {});
    const mt = options.modelThreshold;
    if (typeof mt === 'number') resolveThresholds(this.config.policy, mt); // fail now, not on the first clip
    this.#modelThreshold = typeof mt === 'number' ? () => mt : mt;
    this.#log = options.logger ?? noopLogger;
    this.#publicBaseUrl = (options.publicBaseUrl ?? '').replace(/\/+$/, '');
    this.#db = openAlertDatabase(this.config.database);
    this.#ownsBus = options.bus === undefined;
    this.bus = options.bus ?? new InProcessAlertBus();
    try {
      this.store = new AlertStore(this.#db, { evidenceMaxBytes: Math.round(this.config.evidenceMaxMB * 1024 * 1024) });
      this.outbox = new WebhookOutbox(this.#db, { webhooks: this.config.webhooks, delivery: this.config.delivery, logger: this.#log });
      this.#closeLeftovers();
      this.outbox.start();
    } catch (e) {
      this.#db.close();
      throw e;
    }
  }

  /**
   * Takes one clip score: updates the track's rolling score, emits `score`, and runs the
   * alert policy (which may emit `alert`). `evidence` renders the clip's aligned face strip
   * as PNG or JPEG; it is called only if this clip becomes an alert's peak. Returns the
   * score with its rolling value.
   */
  onClipScore(input: ClipScoreInput, evidence?: () => Buffer): ClipScore {
    this.#assertOpen('onClipScore');
    checkScore(input);
    const tracks = this.#tracksOf(input.stream);
    let track = tracks.get(input.trackId);
    if (track && track.isDiscontinuity(input.ptsEnd)) {
      this.#apply(track, track.end('discontinuity', input.wallTime, track.lastPtsEnd));
      track.reset();
    }
    if (!track) {
      const thresholds = resolveThresholds(this.config.policy, this.#modelThreshold(input.model));
      track = new TrackAlertState(input.stream, input.trackId, input.model, thresholds, this.config.policy);
      tracks.set(input.trackId, track);
    }
    const { rolling, decision } = track.step({
      ptsStart: input.ptsStart,
      ptsEnd: input.ptsEnd,
      probability: input.probability,
      wallTime: input.wallTime,
      evidence,
    });
    const score: ClipScore = { ...input, rolling };
    this.safeEmit('score', score);
    this.#apply(track, decision);
    return score;
  }

  /** The track ended (lost, left the picture): its open alert closes. `pts`: last stream time it was seen. */
  onTrackEnd(stream: string, trackId: number, pts?: number): void {
    this.#assertOpen('onTrackEnd');
    const tracks = this.#streams.get(stream);
    const track = tracks?.get(trackId);
    if (!track) return;
    tracks!.delete(trackId);
    if (tracks!.size === 0) this.#streams.delete(stream);
    this.#apply(track, track.end('track-end', Date.now(), pts));
  }

  /** The stream ended or failed: every open alert of it closes. */
  onStreamEnd(stream: string, pts?: number): void {
    this.#assertOpen('onStreamEnd');
    this.#endStream(stream, 'stream-end', pts);
  }

  /** The rolling score and verdict of a track, for track updates on the dashboard. */
  trackScore(stream: string, trackId: number): { score: number | null; verdict: Verdict } {
    const t = this.#streams.get(stream)?.get(trackId);
    return t ? { score: t.rolling.value, verdict: t.verdict } : { score: null, verdict: 'pending' };
  }

  /** Alerts open now, of one stream or of all. */
  openAlertCount(stream?: string): number {
    let n = 0;
    for (const [key, tracks] of this.#streams) {
      if (stream !== undefined && key !== stream) continue;
      for (const t of tracks.values()) if (t.alertId !== null) n++;
    }
    return n;
  }

  /** Closes every open alert ('shutdown'), stops webhook delivery (pending deliveries stay for the next start) and closes the database. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== null;
  }

  async #close(): Promise<void> {
    for (const stream of [...this.#streams.keys()]) this.#endStream(stream, 'shutdown');
    await this.outbox.close(this.config.delivery.shutdownGraceMs);
    if (this.#ownsBus) await this.bus.close();
    this.#db.close();
  }

  #endStream(stream: string, reason: CloseReason, pts?: number): void {
    const tracks = this.#streams.get(stream);
    if (!tracks) return;
    this.#streams.delete(stream);
    const now = Date.now();
    for (const t of tracks.values()) this.#apply(t, t.end(reason, now, pts));
  }

  #apply(track: TrackAlertState, d: PolicyDecision | null): void {
    if (d === null) return;
    if (d.phase === 'open') {
      track.alertId = randomUUID();
      track.evidenceVersion = null;
    }
    const id = track.alertId;
    if (id === null) throw new Error(`internal: ${d.phase} for track ${track.stream}/${track.trackId} without an open alert`);
    const inc = d.incident;
    const image = d.incident.newPeakEvidence ? this.#render(d.incident.newPeakEvidence, id) : null;
    const alert: AlertWire = {
      id,
      stream: track.stream,
      trackId: track.trackId,
      phase: d.phase,
      ptsStart: inc.ptsStart,
      ptsEnd: inc.ptsEnd,
      wallStart: inc.wallStart,
      wallEnd: inc.wallEnd,
      peak: inc.peak,
      mean: inc.mean,
      model: track.model,
      threshold: track.threshold,
      evidenceUrl: null,
    };
    const at = d.phase === 'close' ? (inc.wallEnd ?? Date.now()) : Date.now();
    try {
      this.#db.transaction(() => {
        this.store.record(alert, inc.clips, d.reason, at);
        if (image) {
          const version = this.store.putEvidence(id, image, at);
          if (version !== null) track.evidenceVersion = version;
          else this.#log.warn({ alert: id, bytes: image.length }, 'evidence image is not a PNG/JPEG or is over the evidence budget; not stored');
        }
        alert.evidenceUrl = track.evidenceVersion !== null ? evidenceUrlFor(id, track.evidenceVersion) : null;
        this.outbox.enqueue(d.phase, id, JSON.stringify(this.#payload(alert, d.reason, at)), at);
      })();
      this.outbox.kick();
    } catch (e) {
      // A failing disk must not silence live alerts: they still reach the dashboard.
      alert.evidenceUrl = null;
      this.#log.error({ err: e, alert: id, phase: d.phase }, 'could not store the alert or queue its webhooks');
    }
    if (d.phase === 'close') track.alertId = null;
    this.bus.publish(alert);
    this.safeEmit('alert', alert);
  }

  #render(render: () => Buffer, id: string): Buffer | null {
    try {
      return render();
    } catch (e) {
      this.#log.warn({ err: e, alert: id }, 'evidence renderer threw; alert kept without evidence');
      return null;
    }
  }

  #payload(alert: AlertWire, reason: CloseReason | null, at: number): WebhookPayload {
    const evidenceUrl = alert.evidenceUrl && this.#publicBaseUrl ? this.#publicBaseUrl + alert.evidenceUrl : alert.evidenceUrl;
    return { event: webhookEventName(alert.phase), eventId: randomUUID(), createdAt: at, alert: { ...alert, evidenceUrl }, closeReason: reason };
  }

  /** Alerts a previous run left open (it crashed or was killed) are closed now, with their webhooks. */
  #closeLeftovers(): void {
    const leftovers = this.store.openAlerts();
    if (leftovers.length === 0) return;
    const now = Date.now();
    for (const r of leftovers) {
      const alert: AlertWire = { ...pickWire(r), phase: 'close', wallEnd: now };
      this.#db.transaction(() => {
        this.store.record(alert, r.clips, 'restart', now);
        this.outbox.enqueue('close', alert.id, JSON.stringify(this.#payload(alert, 'restart', now)), now);
      })();
      this.bus.publish(alert);
    }
    this.#log.warn({ count: leftovers.length }, 'alerts left open by the previous run were closed');
  }

  #tracksOf(stream: string): Map<number, TrackAlertState> {
    let m = this.#streams.get(stream);
    if (!m) this.#streams.set(stream, (m = new Map()));
    return m;
  }

  #assertOpen(what: string): void {
    if (this.#closing) throw new InvalidStateError(`AlertService.${what}(): the service is closed`);
  }
}

function pickWire(r: AlertWire): AlertWire {
  const { id, stream, trackId, phase, ptsStart, ptsEnd, wallStart, wallEnd, peak, mean, model, threshold, evidenceUrl } = r;
  return { id, stream, trackId, phase, ptsStart, ptsEnd, wallStart, wallEnd, peak, mean, model, threshold, evidenceUrl };
}

function checkScore(s: ClipScoreInput): void {
  const bad = (field: string, v: unknown, want: string): never => {
    throw new TypeError(`clip score ${field} must be ${want}, got ${JSON.stringify(v)}`);
  };
  if (typeof s.stream !== 'string' || s.stream === '') bad('stream', s.stream, 'a non-empty string');
  if (!Number.isInteger(s.trackId)) bad('trackId', s.trackId, 'an integer');
  if (!Number.isFinite(s.ptsStart)) bad('ptsStart', s.ptsStart, 'a finite number of seconds');
  if (!Number.isFinite(s.ptsEnd) || s.ptsEnd < s.ptsStart) bad('ptsEnd', s.ptsEnd, `a finite number >= ptsStart (${s.ptsStart})`);
  if (!(s.probability >= 0 && s.probability <= 1)) bad('probability', s.probability, 'in [0, 1]');
  if (typeof s.model !== 'string' || s.model === '') bad('model', s.model, 'a model name');
  if (!Number.isFinite(s.wallTime)) bad('wallTime', s.wallTime, 'epoch milliseconds');
}
