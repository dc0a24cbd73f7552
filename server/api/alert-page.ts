import type { AlertPage, AlertQuery } from './monitor.js';
import type { AlertWire } from './wire.js';

/**
 * Filtering and cursor paging over alerts held in memory (the hub's fallback when no alert
 * store is registered). Order: newest first by wallStart, then by id, so a cursor made of
 * the last item's (wallStart, id) resumes exactly where a page ended even while new alerts
 * arrive at the top.
 */

export function encodeCursor(a: Pick<AlertWire, 'wallStart' | 'id'>): string {
  return Buffer.from(JSON.stringify([a.wallStart, a.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { wallStart: number; id: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string') {
      return { wallStart: v[0], id: v[1] };
    }
  } catch {
    // fall through: a cursor that does not decode is reported by the caller
  }
  return null;
}

function newerFirst(a: AlertWire, b: AlertWire): number {
  return b.wallStart - a.wallStart || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export function isOpen(a: AlertWire): boolean {
  return a.phase !== 'close';
}

export function pageAlerts(all: Iterable<AlertWire>, q: AlertQuery): AlertPage {
  const after = q.cursor ? decodeCursor(q.cursor) : null;
  const items = [...all]
    .filter((a) => (q.stream === undefined || a.stream === q.stream)
      && (q.open === undefined || isOpen(a) === q.open)
      && (q.since === undefined || a.wallStart >= q.since))
    .sort(newerFirst)
    .filter((a) => !after || newerFirst(a, { wallStart: after.wallStart, id: after.id } as AlertWire) > 0);
  const page = items.slice(0, q.limit);
  const last = page[page.length - 1];
  return { items: page, next: items.length > q.limit && last ? encodeCursor(last) : null };
}
