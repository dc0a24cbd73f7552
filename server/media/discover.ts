import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { SourceSpec } from './pipeline.js';

const run = promisify(execFile);

export interface MediaInfo {
  /** Seconds, or null for live / unknown. */
  duration: number | null;
  width: number | null;
  height: number | null;
  /** Frame rate as a fraction string ("30000/1001") and as a number. */
  frameRate: string | null;
  fps: number | null;
  hasAudio: boolean;
  audioCodec: string | null;
}

/**
 * Asks gst-discoverer-1.0 what a file or URL holds: the offline path uses it for the
 * progress bar (duration), to encode the annotated copy at the same rate, and to carry
 * audio over. Returns what it could learn; never throws for a readable source.
 */
export async function discover(source: SourceSpec, timeoutSeconds = 10): Promise<MediaInfo> {
  const info: MediaInfo = { duration: null, width: null, height: null, frameRate: null, fps: null, hasAudio: false, audioCodec: null };
  let uri: string;
  if (source.kind === 'file') uri = pathToFileURL(source.path).href;
  else if (source.kind === 'url') uri = source.url;
  else return info;
  let out: string;
  try {
    out = (await run('gst-discoverer-1.0', ['-t', String(timeoutSeconds), uri], { timeout: (timeoutSeconds + 5) * 1000 })).stdout;
  } catch (e) {
    out = (e as { stdout?: string }).stdout ?? '';
  }
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(out);
  if (d) info.duration = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
  const video = out.split(/\n\s+(?=(?:video|audio|subtitles) #\d+:)/).find((s) => /^video #/.test(s)) ?? '';
  const w = /Width: (\d+)/.exec(video);
  const h = /Height: (\d+)/.exec(video);
  const r = /Frame rate: (\d+)\/(\d+)/.exec(video);
  if (w) info.width = Number(w[1]);
  if (h) info.height = Number(h[1]);
  if (r && Number(r[1]) > 0 && Number(r[2]) > 0) {
    info.frameRate = `${r[1]}/${r[2]}`;
    info.fps = Number(r[1]) / Number(r[2]);
  }
  const audio = /\n\s+audio #\d+: ([^\n]+)/.exec(out);
  if (audio) {
    info.hasAudio = true;
    info.audioCodec = audio[1]!.trim();
  }
  return info;
}
