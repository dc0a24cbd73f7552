import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolkitDir, toolkitPython } from '../../server/analysis/convert-checkpoint.js';

/** Runs a toolkit script (or `-c` code) under the Debian python; throws with its stderr. */
export function python(args: string[], timeoutMs = 300_000): string {
  const r = spawnSync(toolkitPython, args, {
    encoding: 'utf8', timeout: timeoutMs, cwd: toolkitDir, env: { ...process.env, PYTHONPATH: toolkitDir },
  });
  if (r.status !== 0) throw new Error(`python ${args.slice(0, 2).join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
}

export function makeRandomCheckpoint(out: string, ...extra: string[]): void {
  python([join(toolkitDir, 'make_random_checkpoint.py'), '--out', out, ...extra]);
}

export interface Reference {
  shape: number[];
  torchProbs: number[];
  ortProbs: number[];
  maxAbsDiff: number;
  /** Frames as they arrive (B x T x H x W x 3 bytes) and their normalised input (B x 3 x T x H x W). */
  pixels: Uint8Array;
  clips: Float32Array;
}

/** What convert.py --dump-reference wrote. */
export function readReference(dir: string): Reference {
  const meta = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Omit<Reference, 'pixels' | 'clips'>;
  const f = readFileSync(join(dir, 'clips.f32'));
  const clips = new Float32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));
  return { ...meta, pixels: new Uint8Array(readFileSync(join(dir, 'pixels.u8'))), clips };
}

/** Splits B x T x H x W x 3 bytes into per-clip lists of frames (views, no copies). */
export function framesOf(pixels: Uint8Array, clips: number, T: number, frameBytes: number): Buffer[][] {
  return Array.from({ length: clips }, (_, b) =>
    Array.from({ length: T }, (_, t) => Buffer.from(pixels.buffer, pixels.byteOffset + (b * T + t) * frameBytes, frameBytes)));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
