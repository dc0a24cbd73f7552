import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { AlertPhase } from '../api/wire.js';
import { InvalidStateError } from '../shared/errors.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { DeliveryConfig, WebhookConfig } from './config.js';
import type { AlertDatabase } from './database.js';
import { noopLogger, type AlertLogger } from './logger.js';
import { webhookEventName } from './webhook-payload.js';
import { signWebhook } from './webhook-signature.js';

export type DeliveryState = 'pending' | 'delivered' | 'dead';

export interface DeliveryRecord {
  id: string;
  webhook: string;
  /** The webhook's URL, or null when it is no longer configured. */
  url: string | null;
  event: string;
  alertId: string | null;
  state: DeliveryState;
  attempts: number;
  /** Epoch ms of the next attempt (pending rows). */
  nextAttemptAt: number;
  createdAt: number;
  lastStatus: number | null;
  lastError: string | null;
  finishedAt: number | null;
}

export interface OutboxStats {
  /** Deliveries that succeeded, since this outbox started (a counter). */
  delivered: number;
  /** Attempts that failed, since start (a counter; one delivery may fail several times). */
  failed: number;
  /** Deliveries dead-lettered since start (a counter). */
  deadLettered: number;
  /** Deliveries waiting (rows, across restarts). */
  pending: number;
  /** Dead-lettered deliveries kept for inspection or retry (rows). */
  dead: number;
  inFlight: number;
}

export type OutboxEvents = {
  delivered: [DeliveryRecord];
  /** One attempt failed; the delivery is retried later unless `dead` follows. */
  failed: [DeliveryRecord];
  dead: [DeliveryRecord];
};

export interface WebhookOutboxOptions {
  webhooks: readonly WebhookConfig[];
  delivery: DeliveryConfig;
  logger?: AlertLogger;
  /** Sent as User-Agent. */
  userAgent?: string;
}

interface Hook {
  name: string;
  url: string;
  secret: string;
  events: ReadonlySet<AlertPhase>;
  inFlight: number;
}

interface DeliveryRow {
  id: string;
  webhook: string;
  event: string;
  alert_id: string | null;
  body: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  age_from: number;
  last_status: number | null;
  last_error: string | null;
  finished_at: number | null;
}

/** Longest sleep between scheduling passes; a safety net, wake-ups are normally exact. */
const MAX_SLEEP_MS = 60_000;
const PRUNE_EVERY_MS = 60_000;
/** How long a row stays leased past the request timeout; after a crash it is retried then. */
const LEASE_MARGIN_MS = 5_000;

/**
 * A durable webhook outbox in the alert database. `enqueue` writes one row per configured
 * webhook that wants the event; the caller does so inside the transaction that stores the
 * alert, so an alert is never recorded without its deliveries or the other way round.
 * Delivery runs in the background: rows are read from the database when due (nothing
 * per delivery stays in memory beyond the requests in flight), retried with exponential
 * back-off and jitter, and dead-lettered after `maxAttempts` attempts or `maxAgeMs`. Rows
 * that were pending when the process stopped are delivered after the next `start()`:
 * delivery is at least once, and the `X-Deepwatch-Delivery` id lets receivers de-duplicate.
 * Events of one alert reach one webhook in order: a later event waits while an earlier one
 * is pending.
 */
export class WebhookOutbox extends TypedEmitter<OutboxEvents> {
  readonly #db: AlertDatabase;
  readonly #cfg: DeliveryConfig;
  readonly #hooks = new Map<string, Hook>();
  readonly #log: AlertLogger;
  readonly #userAgent: string;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();
  readonly #counters = { delivered: 0, failed: 0, deadLettered: 0 };
  #timer: NodeJS.Timeout | null = null;
  #started = false;
  #closed = false;
  #lastPrune = 0;
  readonly #s: Record<
    'insert' | 'due' | 'nextDue' | 'lease' | 'unlease' | 'delivered' | 'retryLater' | 'dead' | 'orphans' | 'counts' | 'retryOne' | 'retryAll' | 'prune' | 'get',
    Statement
  >;

  constructor(db: AlertDatabase, options: WebhookOutboxOptions) {
    super();
    this.#db = db;
    this.#cfg = options.delivery;
    this.#log = options.logger ?? noopLogger;
    this.#userAgent = options.userAgent ?? 'Deepwatch-Webhook/1';
    for (const w of options.webhooks) {
      const name = w.name ?? w.url;
      if (this.#hooks.has(name)) throw new TypeError(`webhook "${name}" is configured twice; give each a distinct name`);
      this.#hooks.set(name, { name, url: w.url, secret: w.secret, events: new Set(w.events ?? ['open', 'update', 'close']), inFlight: 0 });
    }
    this.#s = {
      insert: db.prepare(
        `INSERT INTO webhook_deliveries (id, webhook, event, alert_id, body, state, next_attempt_at, created_at, age_from)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
      ),
      // Due rows that are the oldest pending event of their alert for this webhook.
      due: db.prepare(
        `SELECT * FROM webhook_deliveries d
         WHERE d.state = 'pending' AND d.webhook = ? AND d.next_attempt_at <= ?
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                           WHERE e.webhook = d.webhook AND e.alert_id = d.alert_id AND e.state = 'pending' AND e.seq < d.seq)
         ORDER BY d.seq LIMIT ?`,
      ),
      nextDue: db.prepare(`SELECT MIN(next_attempt_at) AS t FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at > ?`),
      lease: db.prepare(`UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`),
      unlease: db.prepare(`UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND state = 'pending'`),
      delivered: db.prepare(
        `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, finished_at = ? WHERE id = ?`,
      ),
      retryLater: db.prepare(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?`,
      ),
      dead: db.prepare(
        `UPDATE webhook_deliveries SET state = 'dead', attempts = attempts + ?, last_status = COALESCE(?, last_status), last_error = ?, finished_at = ? WHERE id = ?`,
      ),
      orphans: db.prepare(`SELECT id FROM webhook_deliveries WHERE state = 'pending' AND webhook NOT IN (SELECT value FROM json_each(?))`),
      counts: db.prepare(`SELECT state, COUNT(*) AS n FROM webhook_deliveries WHERE state <> 'delivered' GROUP BY state`),
      retryOne: db.prepare(
        `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = @now, age_from = @now, finished_at = NULL WHERE id = @id AND state = 'dead'`,
      ),
      retryAll: db.prepare(
        `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = @now, age_from = @now, finished_at = NULL
         WHERE state = 'dead' AND (@webhook IS NULL OR webhook = @webhook) AND webhook IN (SELECT value FROM json_each(@known))`,
      ),
      prune: db.prepare(`DELETE FROM webhook_deliveries WHERE state = 'delivered' AND finished_at < ?`),
      get: db.prepare(`SELECT * FROM webhook_deliveries WHERE id = ?`),
    };
  }

  /** Names of the configured webhooks. */
  get webhooks(): string[] {
    return [...this.#hooks.keys()];
  }

  /**
   * Queues the event for every webhook that wants its phase; returns how many deliveries
   * were queued. Run it inside the transaction that stores the alert; delivery starts
   * after `kick()`.
   */
  enqueue(phase: AlertPhase, alertId: string, body: string, now = Date.now()): number {
    if (this.#closed) throw new InvalidStateError('webhook outbox is closed');
    let n = 0;
    for (const hook of this.#hooks.values()) {
      if (!hook.events.has(phase)) continue;
      this.#s.insert.run(randomUUID(), hook.name, webhookEventName(phase), alertId, body, now, now, now);
      n++;
    }
    return n;
  }

  /** Starts delivering, beginning with whatever was left pending by an earlier run. */
  start(): void {
    if (this.#closed) throw new InvalidStateError('webhook outbox is closed');
    if (this.#started) return;
    this.#started = true;
    const now = Date.now();
    // Rows for a webhook removed from the configuration can never be delivered: say so.
    const orphans = this.#s.orphans.all(JSON.stringify(this.webhooks)) as { id: string }[];
    for (const { id } of orphans) {
      this.#s.dead.run(0, null, 'webhook no longer configured', now, id);
    }
    if (orphans.length) this.#log.warn({ count: orphans.length }, 'webhook deliveries for webhooks no longer configured were dead-lettered');
    this.#schedule();
  }

  /** Looks for due deliveries now (after an enqueue). */
  kick(): void {
    if (this.#started && !this.#closed) this.#schedule();
  }

  stats(): OutboxStats {
    let pending = 0;
    let dead = 0;
    if (this.#db.open) {
      for (const r of this.#s.counts.all() as { state: DeliveryState; n: number }[]) {
        if (r.state === 'pending') pending = r.n;
        else if (r.state === 'dead') dead = r.n;
      }
    }
    return { ...this.#counters, pending, dead, inFlight: this.#inFlight.size };
  }

  get(id: string): DeliveryRecord | null {
    const row = this.#s.get.get(id) as DeliveryRow | undefined;
    return row ? this.#toRecord(row) : null;
  }

  /** Deliveries, newest first, optionally of one state / webhook / alert. */
  list(q: { state?: DeliveryState; webhook?: string; alertId?: string; limit?: number } = {}): DeliveryRecord[] {
    const limit = q.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TypeError(`limit must be an integer in 1..1000, got ${q.limit}`);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.state) (where.push('state = ?'), args.push(q.state));
    if (q.webhook) (where.push('webhook = ?'), args.push(q.webhook));
    if (q.alertId) (where.push('alert_id = ?'), args.push(q.alertId));
    const sql = `SELECT * FROM webhook_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...args, limit) as DeliveryRow[]).map((r) => this.#toRecord(r));
  }

  /**
   * Puts dead-lettered deliveries back in the queue with a fresh attempt budget: one by
   * id, or all (of one webhook). Returns how many.
   */
  retryDead(target: { id: string } | { webhook?: string } = {}): number {
    if (this.#closed) throw new InvalidStateError('webhook outbox is closed');
    const now = Date.now();
    const n =
      'id' in target
        ? this.#s.retryOne.run({ id: target.id, now }).changes
        : this.#s.retryAll.run({ webhook: target.webhook ?? null, now, known: JSON.stringify(this.webhooks) }).changes;
    this.kick();
    return n;
  }

  /**
   * Stops delivering. Requests in flight get `graceMs` to finish, then are aborted and stay
   * pending (with no attempt counted) for the next start.
   */
  async close(graceMs = 2_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const all = Promise.allSettled([...this.#inFlight.values()]);
    let grace: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((r) => (grace = setTimeout(r, graceMs)));
    await Promise.race([all, timedOut]);
    clearTimeout(grace);
    this.#abort.abort(new Error('webhook outbox closed'));
    await all;
  }

  #toRecord(r: DeliveryRow): DeliveryRecord {
    return toRecord(r, this.#hooks.get(r.webhook)?.url ?? null);
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed || !this.#db.open) return;
    const now = Date.now();
    if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
      this.#lastPrune = now;
      this.#s.prune.run(now - this.#cfg.keepDeliveredMs);
    }
    for (const hook of this.#hooks.values()) {
      const free = this.#cfg.concurrency - hook.inFlight;
      if (free <= 0) continue;
      const rows = (this.#s.due.all(hook.name, now, free + hook.inFlight) as DeliveryRow[]).filter((r) => !this.#inFlight.has(r.id)).slice(0, free);
      for (const row of rows) this.#launch(hook, row, now);
    }
    const next = (this.#s.nextDue.get(now) as { t: number | null }).t;
    if (next !== null) {
      this.#timer = setTimeout(() => this.#schedule(), Math.min(MAX_SLEEP_MS, Math.max(0, next - now)));
      // An outbox waiting to retry must not keep a finished process alive.
      this.#timer.unref();
    }
  }

  #launch(hook: Hook, row: DeliveryRow, now: number): void {
    // The lease keeps the row out of the due query while in flight; after a crash the row
    // simply becomes due again when it expires.
    this.#s.lease.run(now + this.#cfg.timeoutMs + LEASE_MARGIN_MS, row.id);
    hook.inFlight++;
    const p = this.#attempt(hook, row)
      .catch((e: unknown) => this.#log.error({ err: e, delivery: row.id }, 'webhook delivery bookkeeping failed'))
      .finally(() => {
        hook.inFlight--;
        this.#inFlight.delete(row.id);
        this.kick();
      });
    this.#inFlight.set(row.id, p);
  }

  async #attempt(hook: Hook, row: DeliveryRow): Promise<void> {
    const sentAt = Date.now();
    const timestamp = String(Math.floor(sentAt / 1000));
    let status: number | null = null;
    let error: string;
    let retryAfterMs = 0;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        body: row.body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.#cfg.timeoutMs), this.#abort.signal]),
        headers: {
          'content-type': 'application/json',
          'user-agent': this.#userAgent,
          'x-deepwatch-event': row.event,
          'x-deepwatch-delivery': row.id,
          'x-deepwatch-timestamp': timestamp,
          'x-deepwatch-signature': signWebhook(hook.secret, timestamp, row.body),
        },
      });
      status = res.status;
      const text = await readSome(res, 512);
      if (res.ok) {
        if (!this.#db.open) return;
        this.#s.delivered.run(status, Date.now(), row.id);
        this.#counters.delivered++;
        this.safeEmit('delivered', this.get(row.id)!);
        return;
      }
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
      error = `HTTP ${status}${text ? `: ${text.replace(/\s+/g, ' ').trim()}` : ''}`;
    } catch (e) {
      if (this.#abort.signal.aborted) {
        // Shut down mid-request: not the receiver's fault, so no attempt is counted.
        if (this.#db.open) this.#s.unlease.run(Date.now(), row.id);
        return;
      }
      error = describeFetchError(e, this.#cfg.timeoutMs);
    }
    if (!this.#db.open) return;
    this.#counters.failed++;
    const now = Date.now();
    const attempts = row.attempts + 1;
    if (attempts >= this.#cfg.maxAttempts || now - row.age_from >= this.#cfg.maxAgeMs) {
      this.#s.dead.run(1, status, error, now, row.id);
      this.#counters.deadLettered++;
      const rec = this.get(row.id)!;
      this.#log.warn({ delivery: row.id, webhook: hook.name, attempts, error }, 'webhook delivery dead-lettered');
      this.safeEmit('failed', rec);
      this.safeEmit('dead', rec);
      return;
    }
    const delay = Math.min(this.#cfg.maxDelayMs, Math.max(retryAfterMs, backoff(attempts, this.#cfg)));
    this.#s.retryLater.run(status, error, now + delay, row.id);
    this.#log.debug?.({ delivery: row.id, webhook: hook.name, attempts, error, retryInMs: delay }, 'webhook delivery failed; will retry');
    this.safeEmit('failed', this.get(row.id)!);
  }
}

/** Exponential back-off with "equal jitter": half fixed, half random, so retries spread out. */
export function backoff(attempts: number, cfg: Pick<DeliveryConfig, 'baseDelayMs' | 'maxDelayMs'>, random = Math.random): number {
  const d = Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(d / 2 + (random() * d) / 2);
}

function parseRetryAfter(value: string | null, now: number): number {
  if (!value) return 0;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.max(0, t - now) : 0;
}

async function readSome(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.length;
    }
  } finally {
    // Do not download a large error page; release the connection.
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError') return `no response within ${timeoutMs} ms`;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
    return e.message;
  }
  return String(e);
}

function toRecord(r: DeliveryRow, url: string | null): DeliveryRecord {
  return {
    id: r.id,
    webhook: r.webhook,
    url,
    event: r.event,
    alertId: r.alert_id,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    finishedAt: r.finished_at,
  };
}
