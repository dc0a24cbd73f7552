import { Option, type Command } from 'commander';
import { WINDOW_ALIGNMENTS, type WindowAlignment } from '../faces/align.js';
import { describeReport, runFaces } from '../faces/run-faces.js';
import { sourceFromArg } from './source-arg.js';

function num(name: string, lo: number, hi: number, integer = false) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
      throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} within ${lo}..${hi}, got ${v}`);
    }
    return n;
  };
}

export function registerFaces(program: Command): void {
  program
    .command('faces')
    .description('find, track and align every face of a video: tracks with their time span and size, and optionally aligned face strips')
    .argument('<file-or-url>', 'a video file, or rtmp://, rtsp://, http(s):// URL')
    .option('--json', 'print JSON only')
    .option('--crops <dir>', 'write aligned face strips (one PNG per track: a row per 32-frame window) into this folder')
    .addOption(new Option('--alignment <mode>', 'how the strips\' windows are aligned').choices(WINDOW_ALIGNMENTS).default('joint'))
    .option('--frames <n>', 'stop after this many frames', num('--frames', 1, Number.MAX_SAFE_INTEGER, true))
    .option('--fps <n>', 'analyse at most this many frames per second', num('--fps', 0.1, 240))
    .option('--min-score <p>', 'lowest detector score kept (default 0.5)', num('--min-score', 0, 1))
    .option('--min-face-size <px>', 'smallest face kept, box side in pixels (default 24)', num('--min-face-size', 0, 10000))
    .option('--max-faces <n>', 'most faces per frame (default 10)', num('--max-faces', 1, 100, true))
    .action(async (src: string, opts: { json?: boolean; crops?: string; alignment: WindowAlignment; frames?: number; fps?: number; minScore?: number; minFaceSize?: number; maxFaces?: number }) => {
      const report = await runFaces(sourceFromArg(src), {
        cropsDir: opts.crops, alignment: opts.alignment, maxFrames: opts.frames, maxFps: opts.fps,
        stage: { minScore: opts.minScore, minFaceSize: opts.minFaceSize, maxFaces: opts.maxFaces },
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${describeReport(src, report)}\n`);
    });
}
