import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { analyzeVideo } from '../analysis/offline.js';
import { renderAnnotated } from '../analysis/render.js';
import { ClipModel } from '../analysis/clip-model.js';
import { reportToCsv } from '../analysis/report-csv.js';
import { FaceStage } from '../faces/face-stage.js';
import { discover } from '../media/discover.js';
import { DEFAULT_CLIP_MODEL } from '../analysis/default-model.js';
import { progressBar } from './progress.js';
import { sourceFromArg } from './source-arg.js';
import { modelArg } from './model-arg.js';

interface AnalyzeCliOptions {
  out?: string;
  report?: string;
  model: string;
  stride: number;
  threshold?: number;
  quiet?: boolean;
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
};

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('analyse a recorded video: per-face forgery scores, an annotated copy and a report')
    .argument('<file-or-url>', 'a video file or URL')
    .option('--out <file.mp4>', 'write an annotated copy (H.264 MP4, same size, rate and frame count; audio kept)')
    .option('--report <file.json|file.csv>', 'write the report: JSON (full, see server/analysis/report.schema.json) or CSV (per-frame rows)')
    .option('--model <name>', 'clip model: a name in models/ or a path to a model folder', DEFAULT_CLIP_MODEL)
    .option('--stride <n>', 'frames between clips of a track (1 = one clip per frame, as the reference)', positiveInt('--stride'), 1)
    .option('--threshold <p>', 'probability at or above which a face is called fake (default: the model\'s)', (v) => {
      const x = Number(v);
      if (!(x >= 0 && x <= 1)) throw new Error(`--threshold must be between 0 and 1, got ${v}`);
      return x;
    })
    .option('--quiet', 'no progress bar')
    .action(async (src: string, opts: AnalyzeCliOptions) => {
      const source = sourceFromArg(src);
      const media = await discover(source);
      const { name: modelName, root: modelsRoot } = modelArg(opts.model);
      const model = await ClipModel.load(modelName, { root: modelsRoot, log: (l) => { if (!opts.quiet) process.stderr.write(`${l}\n`); } });
      const faces = await FaceStage.create();
      const total = media.duration && media.fps ? Math.round(media.duration * media.fps) : null;
      const bar = progressBar('analysing', total, !opts.quiet && process.stderr.isTTY === true);
      let report;
      try {
        ({ report } = await analyzeVideo({
          source, sourceLabel: src, runner: model, faces, stride: opts.stride, threshold: opts.threshold,
          durationSeconds: media.duration, fps: media.fps,
          onProgress: (p) => bar.update(p.frames),
        }));
      } finally {
        bar.stop();
        await faces.close();
        await model.close();
      }
      if (opts.out) {
        const rbar = progressBar('rendering', report.video.frames, !opts.quiet && process.stderr.isTTY === true);
        try {
          await renderAnnotated({ source, out: opts.out, report, media, onProgress: (n) => rbar.update(n) });
        } finally {
          rbar.stop();
        }
      }
      if (opts.report) {
        writeFileSync(opts.report, opts.report.toLowerCase().endsWith('.csv') ? reportToCsv(report) : `${JSON.stringify(report, null, 2)}\n`);
      }
      const lines = report.tracks.map((t) =>
        `  face #${t.id}: ${t.verdict.toUpperCase()} (mean ${t.mean.toFixed(4)}, peak ${t.peak.toFixed(4)} at ${t.peakPts.toFixed(2)} s; ${t.frames} frames, ${t.clips.length} clips)`);
      process.stdout.write(
        `${src}: ${report.verdict.toUpperCase()} — ${report.tracks.length} face track(s), model ${report.model.name}, threshold ${report.model.threshold}\n` +
        `${lines.join('\n')}${lines.length ? '\n' : ''}` +
        `  ${report.video.frames} frames in ${report.timing.wallSeconds.toFixed(1)} s (${report.timing.framesPerSecond.toFixed(1)} frames/s, stride ${report.stride})\n`,
      );
    });
}
