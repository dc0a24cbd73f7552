import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { ClipScoreInput } from '../../server/alerts/index.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'deepwatch-alerts-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Clips as the scheduler makes them: 32 frames at 25 fps (1.28 s), one every 8 frames (0.32 s). */
export const CLIP_SECONDS = 1.28;
export const STRIDE_SECONDS = 0.32;

export function clips(probabilities: readonly number[], opts: { stream?: string; trackId?: number; firstIndex?: number; model?: string } = {}): ClipScoreInput[] {
  const first = opts.firstIndex ?? 0;
  return probabilities.map((probability, k) => {
    const i = first + k;
    // Stream times come from integer nanosecond PTS, as the decoder gives them.
    const ptsStart = Math.round(i * STRIDE_SECONDS * 1e9) / 1e9;
    return {
      stream: opts.stream ?? 'cam1',
      trackId: opts.trackId ?? 1,
      ptsStart,
      ptsEnd: Math.round((ptsStart + CLIP_SECONDS) * 1e9) / 1e9,
      probability,
      model: opts.model ?? 'demo',
      wallTime: 1_700_000_000_000 + Math.round(ptsStart * 1000),
    };
  });
}

/**
 * A real, decodable RGB PNG, as the analysis stage would render a face strip: a solid
 * colour, or with `noise` pseudo-random pixels (which do not compress, for size tests).
 */
export function pngImage(width: number, height: number, rgb: [number, number, number], noise = false): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let seed = rgb[0] * 65536 + rgb[1] * 256 + rgb[2] + 1;
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      if (!noise) raw.set(rgb, row + 1 + x * 3);
      else
        for (let c = 0; c < 3; c++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          raw[row + 1 + x * 3 + c] = seed >>> 24;
        }
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    td.copy(out, 4);
    out.writeUInt32BE(crc32(td), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What the receiver answers to the n-th request (0-based): a status, or 'hang' to never answer. */
export type Responder = (req: ReceivedRequest, n: number) => number | 'hang';

/** A real HTTP webhook receiver on 127.0.0.1, port 0, that records every request. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  respond: Responder;
  readonly #server: Server;
  #waiters: { n: number; resolve: () => void }[] = [];

  private constructor(respond: Responder) {
    this.respond = respond;
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        const n = this.requests.length;
        this.requests.push(r);
        this.#waiters = this.#waiters.filter((w) => (this.requests.length >= w.n ? (w.resolve(), false) : true));
        const status = this.respond(r, n);
        if (status === 'hang') return;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'receiver says no');
      });
    });
  }

  static async start(respond: Responder = () => 200, port = 0): Promise<Receiver> {
    const r = new Receiver(respond);
    await new Promise<void>((resolve, reject) => {
      r.#server.once('error', reject);
      r.#server.listen(port, '127.0.0.1', () => resolve());
    });
    return r;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Resolves once `n` requests have arrived in all. */
  waitForRequests(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return withTimeout(new Promise<void>((resolve) => this.#waiters.push({ n, resolve })), timeoutMs, `${n} webhook requests (got ${this.requests.length})`);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** A TCP port on 127.0.0.1 with nothing listening (it was free a moment ago). */
export async function deadPort(): Promise<number> {
  const r = await Receiver.start();
  const port = r.port;
  await r.close();
  return port;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

/** Resolves with the first emitted value that satisfies `pred`. */
export function nextEvent<T>(on: (listener: (v: T) => void) => () => void, pred: (v: T) => boolean = () => true, ms = 10_000, what = 'an event'): Promise<T> {
  let off: () => void = () => undefined;
  return withTimeout(
    new Promise<T>((resolve) => {
      off = on((v) => {
        if (pred(v)) resolve(v);
      });
    }),
    ms,
    what,
  ).finally(() => off());
}

/** Polls `cond` every 10 ms until it holds. */
export async function waitUntil(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
