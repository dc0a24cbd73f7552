/** Display helpers: numbers, stream times and wall times as operators read them. */

const int = new Intl.NumberFormat('en-US');

export function count(n: number): string {
  return int.format(n);
}

/** Stream time in seconds as m:ss.s (h:mm:ss.s past an hour). */
export function pts(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = (s % 60).toFixed(1).padStart(4, '0');
  return h > 0 ? `${sign}${h}:${String(m).padStart(2, '0')}:${rest}` : `${sign}${m}:${rest}`;
}

export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export function score(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : v.toFixed(2);
}

export function seconds(v: number | null): string {
  if (v === null) return '–';
  return v < 10 ? `${v.toFixed(2)} s` : `${v.toFixed(1)} s`;
}

export function uptime(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
