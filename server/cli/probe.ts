import type { Command } from 'commander';
import { probe } from '../media/probe.js';
import { sourceFromArg } from './source-arg.js';

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('decode a file or URL and describe its video: the first check that Deepwatch can read a source')
    .argument('<file-or-url>', 'a video file, or rtmp://, rtsp://, http(s):// (HLS too) URL')
    .option('--frames <n>', 'stop after this many frames', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`--frames must be a positive integer, got ${v}`);
      return n;
    })
    .option('--json', 'print JSON only')
    .action(async (src: string, opts: { frames?: number; json?: boolean }) => {
      const r = await probe(sourceFromArg(src), opts.frames);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
      } else {
        process.stdout.write(`${src}: ${r.width}x${r.height}, ${r.fps?.toFixed(3) ?? '?'} fps, ${r.frames} frames ` +
          `(PTS ${r.firstPts?.toFixed(3)} s .. ${r.lastPts?.toFixed(3)} s), decoded at ${r.decodeFps.toFixed(1)} frames/s\n`);
      }
    });
}
