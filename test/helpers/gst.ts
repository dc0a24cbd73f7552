import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gstQuote, toLaunchArgs } from '../../server/media/pipeline.js';

/** Runs a gst-launch-1.0 pipeline to completion (for making test media); throws with its stderr. */
export function gstRun(description: string): void {
  const r = spawnSync('gst-launch-1.0', ['-q', ...toLaunchArgs(description)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`gst-launch failed (${r.status}): ${description}\n${r.stderr}`);
}

/** Starts a gst-launch-1.0 pipeline in the background (a live sender); the caller kills it. */
export function gstStart(description: string): ChildProcess {
  return spawn('gst-launch-1.0', ['-q', ...toLaunchArgs(description)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once('close', () => r()));
  child.kill('SIGKILL');
  await done;
}

/** A UDP port that was free a moment ago on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function tempDir(prefix = 'deepwatch-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A test-pattern H.264 file of exactly `frames` frames at `fps` (integer), no B-frames. */
export function makeH264File(path: string, opts: { frames: number; fps: number; width?: number; height?: number; container?: 'mp4' | 'flv' | 'mkv' }): void {
  const mux = { mp4: 'mp4mux', flv: 'flvmux', mkv: 'matroskamux' }[opts.container ?? 'mp4'];
  gstRun(`videotestsrc num-buffers=${opts.frames} pattern=ball ! video/x-raw,format=I420,width=${opts.width ?? 320},height=${opts.height ?? 240},framerate=${opts.fps}/1 ! x264enc bframes=0 key-int-max=${opts.fps} speed-preset=ultrafast ! h264parse ! ${mux} ! filesink location=${gstQuote(path)}`);
}

/** Resolves when `predicate` is true, polling; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
