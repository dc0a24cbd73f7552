import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

export type AlertDatabase = Database.Database;

/**
 * Schema migrations, applied in order on open; `PRAGMA user_version` records how many ran.
 * Append new steps; never edit one that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE alerts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    stream       TEXT    NOT NULL,
    track_id     INTEGER NOT NULL,
    phase        TEXT    NOT NULL CHECK (phase IN ('open', 'update', 'close')),
    pts_start    REAL    NOT NULL,
    pts_end      REAL    NOT NULL,
    wall_start   INTEGER NOT NULL,
    wall_end     INTEGER,
    peak         REAL    NOT NULL,
    mean         REAL    NOT NULL,
    clips        INTEGER NOT NULL,
    model        TEXT    NOT NULL,
    threshold    REAL    NOT NULL,
    close_reason TEXT,
    updates      INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
  );
  CREATE INDEX alerts_by_stream ON alerts (stream, seq);
  CREATE INDEX alerts_by_wall ON alerts (wall_start);
  CREATE INDEX alerts_open ON alerts (seq) WHERE phase <> 'close';

  -- Every phase event of every alert, in order: the row in alerts is their fold.
  CREATE TABLE alert_events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id  TEXT    NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    phase     TEXT    NOT NULL,
    pts_end   REAL    NOT NULL,
    peak      REAL    NOT NULL,
    mean      REAL    NOT NULL,
    wall_time INTEGER NOT NULL
  );
  CREATE INDEX alert_events_by_alert ON alert_events (alert_id, seq);

  -- One image per alert (its current peak clip); oldest evicted past the size budget.
  CREATE TABLE evidence (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   TEXT    NOT NULL UNIQUE REFERENCES alerts (id) ON DELETE CASCADE,
    mime       TEXT    NOT NULL,
    bytes      INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
  );

  -- The webhook outbox: one row per (alert event, webhook), written in the same
  -- transaction as the alert, so an event is never stored without its deliveries.
  CREATE TABLE webhook_deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    webhook         TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    alert_id        TEXT,
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    age_from        INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    finished_at     INTEGER
  );
  CREATE INDEX deliveries_due ON webhook_deliveries (state, webhook, next_attempt_at);
  CREATE INDEX deliveries_by_alert ON webhook_deliveries (webhook, alert_id, state, seq);
  `,
  // Evidence is replaced when an alert's peak rises; its URL carries this version so a
  // cached image is never shown for a newer peak.
  `ALTER TABLE evidence ADD COLUMN version INTEGER NOT NULL DEFAULT 1;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating if needed) the Deepwatch database and brings its schema up to date.
 * `':memory:'` gives a private in-memory database.
 */
export function openAlertDatabase(path: string): AlertDatabase {
  const memory = path === ':memory:';
  let db: AlertDatabase;
  try {
    if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
    db = new Database(path);
  } catch (e) {
    throw new Error(`cannot open the alert database ${path}: ${(e as Error).message}`);
  }
  try {
    // WAL: readers (the REST API) never wait for the writer (the alert path), and a
    // commit costs one fsync of the log rather than of the database.
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, path);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

function migrate(db: AlertDatabase, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`${path} has schema version ${version}, newer than this Deepwatch knows (${MIGRATIONS.length}); upgrade Deepwatch or use another database file`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
