import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipelinesDir } from '../shared/paths.js';
import { UnsupportedError } from '../shared/errors.js';

/** Where a decoder gets its video from. */
export type SourceSpec =
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string }
  | { kind: 'flv-stdin' }
  | { kind: 'rtp'; codec: 'VP8' | 'H264'; port: number; payloadType: number; latencyMs?: number };

export interface OutputSpec {
  /** Output size; omit both to keep the source's size. Aspect ratio is kept with borders. */
  width?: number;
  height?: number;
  /**
   * Upper bounds on the output size, used where width/height are not fixed: a larger source
   * is scaled down (aspect kept), a smaller one passes at its own size (never upscaled).
   */
  maxWidth?: number;
  maxHeight?: number;
  /** Most frames per second to deliver; extra frames are dropped before colour conversion. */
  maxFps?: number;
  /** Pace output at the source's own rate (for files played as if live). */
  realtime?: boolean;
}

const templateCache = new Map<string, string>();

function template(name: string): string {
  let t = templateCache.get(name);
  if (t === undefined) {
    t = readFileSync(join(pipelinesDir, name), 'utf8').trim();
    templateCache.set(name, t);
  }
  return t;
}

/** Quotes a value for gst-launch's description parser. */
export function gstQuote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`pipeline template needs a value for ${key}`);
    return v;
  });
}

const URL_SCHEMES = new Set(['rtmp:', 'rtmps:', 'rtsp:', 'http:', 'https:', 'file:', 'srt:', 'udp:']);

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v <= 0)) throw new TypeError(`${name} must be a positive integer, got ${v}`);
}

/** Builds the gst-launch-1.0 description for a source and output. */
export function buildPipeline(source: SourceSpec, output: OutputSpec = {}): string {
  positiveInt('width', output.width);
  positiveInt('height', output.height);
  positiveInt('maxWidth', output.maxWidth);
  positiveInt('maxHeight', output.maxHeight);
  if (output.maxFps !== undefined && !(output.maxFps > 0)) throw new TypeError(`maxFps must be positive, got ${output.maxFps}`);
  let head: string;
  switch (source.kind) {
    case 'file':
      head = fill(template('source-file.gst'), { location: gstQuote(source.path) });
      break;
    case 'url': {
      let scheme: string;
      try {
        scheme = new URL(source.url).protocol;
      } catch {
        throw new TypeError(`not a URL: ${source.url}`);
      }
      if (!URL_SCHEMES.has(scheme)) throw new UnsupportedError(`URL scheme ${scheme} is not supported (use ${[...URL_SCHEMES].join(' ')})`);
      head = fill(template('source-url.gst'), { uri: gstQuote(source.url) });
      break;
    }
    case 'flv-stdin':
      head = template('source-flv-stdin.gst');
      break;
    case 'rtp':
      positiveInt('port', source.port);
      head = fill(template(source.codec === 'VP8' ? 'source-rtp-vp8.gst' : 'source-rtp-h264.gst'), {
        port: String(source.port), payload: String(source.payloadType), latency: String(source.latencyMs ?? 50),
      });
      break;
    default:
      throw new UnsupportedError(`unknown source kind ${(source as { kind: string }).kind}`);
  }
  let rate = '';
  if (output.maxFps !== undefined) {
    // Express the rate as a fraction with a 1001 or 1000 base so 29.97 stays exact.
    const den = Number.isInteger(output.maxFps) ? 1 : 1000;
    // RTP and RTSP decoders announce framerate 0/1 (variable), which a drop-only videorate
    // cannot turn into a fixed rate (not-negotiated). Claiming a high nominal input rate lets
    // it negotiate; it decides what to drop by timestamps either way. skip-to-first: a live
    // source's first PTS is seconds after zero, and videorate would pass every frame until
    // its output count had caught up with that offset.
    rate = 'capssetter caps="video/x-raw,framerate=(fraction)1000/1" ! ' +
      `videorate drop-only=true skip-to-first=true ! video/x-raw,framerate=${Math.round(output.maxFps * den)}/${den} ! `;
  }
  const dim = (name: string, exact?: number, max?: number) =>
    exact ? `,${name}=${exact}` : max ? `,${name}=(int)[1,${max}]` : '';
  const size = `${dim('width', output.width, output.maxWidth)}${dim('height', output.height, output.maxHeight)}`;
  const tail = fill(template('tail-frames.gst'), { rate, size, sync: output.realtime ? 'true' : 'false' });
  return `${head} ! ${tail}`;
}

/** True for sources that never end by themselves and should be restarted when they fail. */
export function isLiveSource(source: SourceSpec): boolean {
  if (source.kind === 'rtp' || source.kind === 'flv-stdin') return true;
  if (source.kind === 'url') return /^(rtmps?|rtsp|srt|udp):/i.test(source.url) || /\.m3u8(\?|$)/i.test(source.url);
  return false;
}

/**
 * Splits a description into gst-launch arguments. gst-launch re-escapes the spaces inside
 * each argument, so a quoted value (a path with spaces) must reach it as one bare argument.
 */
export function toLaunchArgs(description: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inQuote = false;
  let started = false;
  for (let i = 0; i < description.length; i++) {
    const c = description[i]!;
    if (inQuote && c === '\\' && i + 1 < description.length) {
      cur += description[++i];
    } else if (c === '"') {
      inQuote = !inQuote;
      started = true;
    } else if (!inQuote && /\s/.test(c)) {
      if (started) args.push(cur);
      cur = '';
      started = false;
    } else {
      cur += c;
      started = true;
    }
  }
  if (started) args.push(cur);
  return args;
}
