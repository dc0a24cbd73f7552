import type { Statement } from 'better-sqlite3';
import type { AlertPhase, AlertWire } from '../api/wire.js';
import type { CloseReason } from './alert-policy.js';
import type { AlertDatabase } from './database.js';
import { imageMime, type EvidenceMime } from './evidence-image.js';

/** An alert as stored: the wire form plus what only the store keeps. */
export interface AlertRecord extends AlertWire {
  clips: number;
  closeReason: CloseReason | null;
  /** How many `update` events it had. */
  updates: number;
  /** Wall time (epoch ms) of its latest event. */
  updatedAt: number;
}

export interface AlertEventRecord {
  phase: AlertPhase;
  ptsEnd: number;
  peak: number;
  mean: number;
  wallTime: number;
}

export interface AlertQuery {
  stream?: string;
  /** true: only alerts not yet closed; false: only closed ones. */
  open?: boolean;
  /** Only alerts opened at or after this time (epoch ms). */
  since?: number;
  /** Only alerts active at some time in [from, to) (wall clock, epoch ms). */
  from?: number;
  to?: number;
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** `next` of the previous page. */
  cursor?: string | null;
}

export interface AlertPage {
  /** Newest first. */
  items: AlertRecord[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next: string | null;
}

export interface Evidence {
  contentType: EvidenceMime;
  data: Buffer;
}

export interface AlertStoreOptions {
  /** Evidence images are evicted, oldest first, past this many bytes in total. */
  evidenceMaxBytes: number;
}

/**
 * The evidence image's URL. `version` changes whenever the image is replaced (a higher
 * peak), so the URL of one image can be cached for good.
 */
export function evidenceUrlFor(id: string, version: number): string {
  return `/api/v1/alerts/${encodeURIComponent(id)}/evidence?v=${version}`;
}

interface AlertRow {
  seq: number;
  id: string;
  stream: string;
  track_id: number;
  phase: AlertPhase;
  pts_start: number;
  pts_end: number;
  wall_start: number;
  wall_end: number | null;
  peak: number;
  mean: number;
  clips: number;
  model: string;
  threshold: number;
  close_reason: CloseReason | null;
  updates: number;
  updated_at: number;
  evidence_version: number | null;
}

const SELECT_ALERT = `SELECT a.*, (SELECT e.version FROM evidence e WHERE e.alert_id = a.id) AS evidence_version FROM alerts a`;

/**
 * Alerts, their event history and their evidence images, in SQLite. One row per alert:
 * each phase event folds into it (and is also appended to `alert_events`). Writes are
 * synchronous and small; `AlertService` wraps each with the outbox enqueue in one
 * transaction.
 */
export class AlertStore {
  readonly #db: AlertDatabase;
  readonly #evidenceMaxBytes: number;
  #evidenceBytes: number;
  readonly #s: {
    insert: Statement;
    update: Statement;
    event: Statement;
    get: Statement;
    events: Statement;
    open: Statement;
    putEvidence: Statement;
    getEvidence: Statement;
    evidenceSize: Statement;
    evidenceBytesOf: Statement;
    oldestEvidence: Statement;
    dropEvidence: Statement;
  };

  constructor(db: AlertDatabase, options: AlertStoreOptions) {
    if (!(options.evidenceMaxBytes >= 0)) throw new TypeError(`evidenceMaxBytes must be >= 0, got ${options.evidenceMaxBytes}`);
    this.#db = db;
    this.#evidenceMaxBytes = options.evidenceMaxBytes;
    this.#s = {
      insert: db.prepare(
        `INSERT INTO alerts (id, stream, track_id, phase, pts_start, pts_end, wall_start, wall_end, peak, mean, clips, model, threshold, close_reason, updated_at)
         VALUES (@id, @stream, @trackId, @phase, @ptsStart, @ptsEnd, @wallStart, @wallEnd, @peak, @mean, @clips, @model, @threshold, @closeReason, @at)`,
      ),
      update: db.prepare(
        `UPDATE alerts SET phase = @phase, pts_end = @ptsEnd, wall_end = @wallEnd, peak = @peak, mean = @mean, clips = @clips,
           close_reason = @closeReason, updates = updates + (@phase = 'update'), updated_at = @at
         WHERE id = @id AND phase <> 'close'`,
      ),
      event: db.prepare(`INSERT INTO alert_events (alert_id, phase, pts_end, peak, mean, wall_time) VALUES (?, ?, ?, ?, ?, ?)`),
      get: db.prepare(`${SELECT_ALERT} WHERE a.id = ?`),
      events: db.prepare(`SELECT phase, pts_end AS ptsEnd, peak, mean, wall_time AS wallTime FROM alert_events WHERE alert_id = ? ORDER BY seq`),
      open: db.prepare(`${SELECT_ALERT} WHERE a.phase <> 'close' ORDER BY a.seq`),
      putEvidence: db.prepare(
        `INSERT INTO evidence (alert_id, mime, bytes, data, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (alert_id) DO UPDATE SET mime = excluded.mime, bytes = excluded.bytes, data = excluded.data, created_at = excluded.created_at,
           version = evidence.version + 1
         RETURNING version`,
      ),
      getEvidence: db.prepare(`SELECT mime, data FROM evidence WHERE alert_id = ?`),
      evidenceSize: db.prepare(`SELECT COALESCE(SUM(bytes), 0) AS n FROM evidence`),
      evidenceBytesOf: db.prepare(`SELECT bytes FROM evidence WHERE alert_id = ?`),
      oldestEvidence: db.prepare(`SELECT alert_id AS id, bytes FROM evidence WHERE alert_id <> ? ORDER BY created_at, seq LIMIT 16`),
      dropEvidence: db.prepare(`DELETE FROM evidence WHERE alert_id = ?`),
    };
    this.#evidenceBytes = (this.#s.evidenceSize.get() as { n: number }).n;
  }

  /** Folds one phase event into its alert's row (inserting it on `open`). */
  record(alert: AlertWire, clips: number, closeReason: CloseReason | null, at: number): void {
    const p = { ...alert, clips, closeReason, at };
    if (alert.phase === 'open') {
      this.#s.insert.run(p);
    } else if (this.#s.update.run(p).changes !== 1) {
      throw new Error(`alert ${alert.id}: cannot record "${alert.phase}": no open alert with that id`);
    }
    this.#s.event.run(alert.id, alert.phase, alert.ptsEnd, alert.peak, alert.mean, at);
  }

  /**
   * Stores (or replaces) an alert's evidence image, then evicts the oldest others past the
   * size budget. Returns the image's version (1 for the first, then 2, ...), or null,
   * storing nothing, when the image is not a PNG or JPEG or is larger than the whole budget.
   */
  putEvidence(alertId: string, image: Buffer, at: number): number | null {
    const mime = imageMime(image);
    if (mime === null || image.length > this.#evidenceMaxBytes) return null;
    const before = this.#s.evidenceBytesOf.get(alertId) as { bytes: number } | undefined;
    const { version } = this.#s.putEvidence.get(alertId, mime, image.length, image, at) as { version: number };
    this.#evidenceBytes += image.length - (before?.bytes ?? 0);
    while (this.#evidenceBytes > this.#evidenceMaxBytes) {
      const victims = this.#s.oldestEvidence.all(alertId) as { id: string; bytes: number }[];
      if (victims.length === 0) break;
      for (const v of victims) {
        this.#s.dropEvidence.run(v.id);
        this.#evidenceBytes -= v.bytes;
        if (this.#evidenceBytes <= this.#evidenceMaxBytes) break;
      }
    }
    return version;
  }

  evidence(alertId: string): Evidence | null {
    const row = this.#s.getEvidence.get(alertId) as { mime: EvidenceMime; data: Buffer } | undefined;
    return row ? { contentType: row.mime, data: row.data } : null;
  }

  /** Total bytes of stored evidence images. */
  get evidenceBytes(): number {
    return this.#evidenceBytes;
  }

  get(id: string): AlertRecord | null {
    const row = this.#s.get.get(id) as AlertRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** The alert's phase events, oldest first. */
  events(id: string): AlertEventRecord[] {
    return this.#s.events.all(id) as AlertEventRecord[];
  }

  /** Alerts not yet closed, oldest first. */
  openAlerts(): AlertRecord[] {
    return (this.#s.open.all() as AlertRow[]).map(toRecord);
  }

  list(q: AlertQuery = {}): AlertPage {
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new TypeError(`limit must be an integer in 1..500, got ${q.limit}`);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.cursor != null) {
      if (!/^[1-9][0-9]{0,15}$/.test(q.cursor)) throw new TypeError(`cursor ${JSON.stringify(q.cursor)} is not one this API returned`);
      where.push('a.seq < ?');
      args.push(Number(q.cursor));
    }
    if (q.stream !== undefined) {
      where.push('a.stream = ?');
      args.push(q.stream);
    }
    if (q.open !== undefined) where.push(q.open ? `a.phase <> 'close'` : `a.phase = 'close'`);
    if (q.since !== undefined) {
      if (!Number.isFinite(q.since)) throw new TypeError(`since must be a time in epoch ms, got ${q.since}`);
      where.push('a.wall_start >= ?');
      args.push(q.since);
    }
    if (q.to !== undefined) {
      if (!Number.isFinite(q.to)) throw new TypeError(`to must be a time in epoch ms, got ${q.to}`);
      where.push('a.wall_start < ?');
      args.push(q.to);
    }
    if (q.from !== undefined) {
      if (!Number.isFinite(q.from)) throw new TypeError(`from must be a time in epoch ms, got ${q.from}`);
      where.push('(a.wall_end IS NULL OR a.wall_end >= ?)');
      args.push(q.from);
    }
    const sql = `${SELECT_ALERT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.seq DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, limit + 1) as AlertRow[];
    const more = rows.length > limit;
    if (more) rows.length = limit;
    return { items: rows.map(toRecord), next: more ? String(rows[rows.length - 1].seq) : null };
  }
}

function toRecord(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    stream: r.stream,
    trackId: r.track_id,
    phase: r.phase,
    ptsStart: r.pts_start,
    ptsEnd: r.pts_end,
    wallStart: r.wall_start,
    wallEnd: r.wall_end,
    peak: r.peak,
    mean: r.mean,
    model: r.model,
    threshold: r.threshold,
    evidenceUrl: r.evidence_version !== null ? evidenceUrlFor(r.id, r.evidence_version) : null,
    clips: r.clips,
    closeReason: r.close_reason,
    updates: r.updates,
    updatedAt: r.updated_at,
  };
}
