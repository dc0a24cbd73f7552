import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertWire } from '../../server/api/wire.js';
import { AlertStore, SCHEMA_VERSION, openAlertDatabase, type AlertDatabase } from '../../server/alerts/index.js';
import { pngImage, tempDir } from './helpers.js';

function wire(i: number, over: Partial<AlertWire> = {}): AlertWire {
  return {
    id: `alert-${i}`,
    stream: i % 2 === 0 ? 'cam-even' : 'cam-odd',
    trackId: i,
    phase: 'open',
    ptsStart: i,
    ptsEnd: i + 2,
    wallStart: 1_000_000 + i * 10_000,
    wallEnd: null,
    peak: 0.7,
    mean: 0.6,
    model: 'demo',
    threshold: 0.5,
    evidenceUrl: null,
    ...over,
  };
}

describe('AlertStore', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: AlertDatabase | null = null;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => {
    if (db?.open) db.close();
    db = null;
    tmp.cleanup();
  });

  it('persists alerts, their history and evidence across reopening the database file', () => {
    const path = join(tmp.dir, 'nested', 'deepwatch.db');
    db = openAlertDatabase(path);
    let store = new AlertStore(db, { evidenceMaxBytes: 1 << 20 });
    const img = pngImage(8, 4, [200, 10, 10]);
    store.record(wire(1), 3, null, 1_010_000);
    expect(store.putEvidence('alert-1', img, 1_010_000)).toBe(1);
    store.record(wire(1, { phase: 'update', peak: 0.9, ptsEnd: 5 }), 6, null, 1_011_000);
    store.record(wire(1, { phase: 'close', peak: 0.9, mean: 0.75, ptsEnd: 6, wallEnd: 1_012_000 }), 8, 'recovered', 1_012_000);
    store.record(wire(2), 2, null, 1_020_000);
    db.close();

    db = openAlertDatabase(path);
    store = new AlertStore(db, { evidenceMaxBytes: 1 << 20 });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const a = store.get('alert-1')!;
    expect(a).toMatchObject({
      phase: 'close',
      stream: 'cam-odd',
      trackId: 1,
      ptsStart: 1,
      ptsEnd: 6,
      wallEnd: 1_012_000,
      peak: 0.9,
      mean: 0.75,
      clips: 8,
      updates: 1,
      closeReason: 'recovered',
      evidenceUrl: '/api/v1/alerts/alert-1/evidence?v=1',
    });
    expect(store.events('alert-1').map((e) => e.phase)).toEqual(['open', 'update', 'close']);
    const ev = store.evidence('alert-1')!;
    expect(ev.contentType).toBe('image/png');
    expect(ev.data.equals(img)).toBe(true);
    expect(store.evidenceBytes).toBe(img.length);
    expect(store.openAlerts().map((r) => r.id)).toEqual(['alert-2']);
    expect(store.get('alert-2')!.evidenceUrl).toBeNull();
  });

  it('list() pages newest first with a cursor, and filters by stream, open state and time', () => {
    db = openAlertDatabase(':memory:');
    const store = new AlertStore(db, { evidenceMaxBytes: 0 });
    for (let i = 1; i <= 7; i++) store.record(wire(i), 1, null, 0);
    for (const i of [1, 2, 3]) store.record(wire(i, { phase: 'close', wallEnd: 1_000_000 + i * 10_000 + 5_000 }), 1, 'recovered', 0);

    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const page = store.list({ limit: 3, cursor });
      sizes.push(page.items.length);
      seen.push(...page.items.map((a) => a.id));
      cursor = page.next;
    } while (cursor);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1].map((i) => `alert-${i}`));

    expect(store.list({ stream: 'cam-even' }).items.map((a) => a.trackId)).toEqual([6, 4, 2]);
    expect(store.list({ open: true }).items.map((a) => a.trackId)).toEqual([7, 6, 5, 4]);
    expect(store.list({ open: false, stream: 'cam-odd' }).items.map((a) => a.trackId)).toEqual([3, 1]);
    expect(store.list({ since: 1_050_000 }).items.map((a) => a.trackId)).toEqual([7, 6, 5]);
    // Active at some time in [1_025_000, 1_041_000): alert 2 ended at 1_025_000, 3 at 1_035_000, 4 is open.
    expect(store.list({ from: 1_025_000, to: 1_041_000 }).items.map((a) => a.trackId)).toEqual([4, 3, 2]);
  });

  it('list() rejects a bad limit or a cursor it did not make', () => {
    db = openAlertDatabase(':memory:');
    const store = new AlertStore(db, { evidenceMaxBytes: 0 });
    expect(() => store.list({ limit: 0 })).toThrow(/limit must be an integer in 1\.\.500, got 0/);
    expect(() => store.list({ cursor: 'DROP TABLE' })).toThrow(/cursor "DROP TABLE" is not one this API returned/);
  });

  it('keeps evidence within its byte budget, evicting the oldest, and refuses what is not PNG/JPEG', () => {
    db = openAlertDatabase(':memory:');
    const store = new AlertStore(db, { evidenceMaxBytes: 2_000 });
    const imgs = [1, 2, 3].map((i) => pngImage(16, 16, [i * 40, 0, 0], true));
    expect(imgs[0].length).toBeGreaterThan(700); // so that three do not fit in 2000 bytes
    for (let i = 1; i <= 3; i++) {
      store.record(wire(i), 1, null, i);
      expect(store.putEvidence(`alert-${i}`, imgs[i - 1], i)).toBe(1);
    }
    expect(store.evidenceBytes).toBeLessThanOrEqual(2_000);
    expect(store.evidence('alert-1')).toBeNull();
    expect(store.get('alert-1')!.evidenceUrl).toBeNull();
    expect(store.evidence('alert-3')!.data.equals(imgs[2])).toBe(true);

    store.record(wire(4), 1, null, 4);
    expect(store.putEvidence('alert-4', Buffer.from('GIF89a not a png'), 4)).toBeNull();
    const jpegLike = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
    expect(store.putEvidence('alert-4', jpegLike, 4)).toBe(1);
    expect(store.evidence('alert-4')!.contentType).toBe('image/jpeg');
    // A higher peak replaces the image under a new URL, so a cached older one is never shown.
    expect(store.putEvidence('alert-4', imgs[0].subarray(0, 100), 5)).toBe(2);
    expect(store.evidence('alert-4')!.contentType).toBe('image/png');
    expect(store.get('alert-4')!.evidenceUrl).toBe('/api/v1/alerts/alert-4/evidence?v=2');
  });

  it('refuses to record an update for an alert that is not open', () => {
    db = openAlertDatabase(':memory:');
    const store = new AlertStore(db, { evidenceMaxBytes: 0 });
    expect(() => store.record(wire(9, { phase: 'update' }), 1, null, 0)).toThrow(/alert alert-9: cannot record "update": no open alert/);
  });

  it('openAlertDatabase() refuses a database from a newer Deepwatch', () => {
    const path = join(tmp.dir, 'future.db');
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openAlertDatabase(path)).toThrow(/schema version \d+, newer than this Deepwatch knows/);
  });
});

describe('openAlertDatabase()', () => {
  it('names the file when it cannot be opened', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'plain-file');
      writeFileSync(file, 'x');
      const path = join(file, 'sub', 'alerts.db');
      expect(() => openAlertDatabase(path)).toThrow(`cannot open the alert database ${path}: `);
    } finally {
      tmp.cleanup();
    }
  });
});
