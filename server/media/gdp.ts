/**
 * A streaming reader of GStreamer's GDP framing (what `gdppay` writes). Each packet has a
 * 62-byte big-endian header; buffers carry PTS and duration, so frames reach Node with
 * their exact timestamps rather than a guessed frame counter.
 */
export const GDP_HEADER_SIZE = 62;
const CLOCK_TIME_NONE = 0xffffffffffffffffn;

export const enum GdpType {
  Buffer = 1,
  Caps = 2,
}

export interface GdpPacket {
  type: number;
  /** ns, or null when the buffer carries none. */
  pts: number | null;
  duration: number | null;
  payload: Buffer;
}

function clockTime(header: Buffer, offset: number): number | null {
  const v = header.readBigUInt64BE(offset);
  return v === CLOCK_TIME_NONE ? null : Number(v);
}

export class GdpReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #header: Buffer | null = null;
  /** Largest payload accepted: a corrupt length must not make us buffer gigabytes. */
  readonly maxPayload: number;

  constructor(maxPayload = 64 * 1024 * 1024) {
    this.maxPayload = maxPayload;
  }

  /** Feeds bytes; returns every packet completed by them. Throws on corrupt framing. */
  push(chunk: Buffer): GdpPacket[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: GdpPacket[] = [];
    for (;;) {
      if (!this.#header) {
        if (this.#buffered < GDP_HEADER_SIZE) break;
        this.#header = this.#take(GDP_HEADER_SIZE);
      }
      const length = this.#header.readUInt32BE(6);
      if (length > this.maxPayload) throw new Error(`GDP packet claims ${length} bytes: framing is corrupt`);
      if (this.#buffered < length) break;
      const h = this.#header;
      this.#header = null;
      out.push({ type: h.readUInt16BE(4), pts: clockTime(h, 10), duration: clockTime(h, 18), payload: this.#take(length) });
    }
    return out;
  }

  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      // Slicing the common case avoids a copy; the chunk buffer is not reused by Node.
      const part = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return part;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#buffered -= n;
    return out;
  }
}

/** Parses the caps string of a GDP caps packet (`video/x-raw, width=(int)640, ...`). */
export function parseVideoCaps(payload: Buffer): { width: number; height: number; format: string; fps: number | null } {
  const text = payload.toString('utf8').replace(/\0+$/, '');
  const field = (name: string): string | undefined => new RegExp(`${name}=\\([a-z]+\\)([^,;]+)`).exec(text)?.[1]?.trim();
  const width = Number(field('width'));
  const height = Number(field('height'));
  if (!Number.isInteger(width) || !Number.isInteger(height)) throw new Error(`caps without a size: ${text}`);
  const rate = field('framerate');
  let fps: number | null = null;
  if (rate) {
    const [n, d] = rate.split('/').map(Number);
    if (n && d) fps = n / d;
  }
  return { width, height, format: field('format') ?? 'unknown', fps };
}
