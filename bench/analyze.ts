/**
 * bench/analyze: frames/s of the offline path (decode -> faces -> windows -> model) on a
 * 1280x720 H.264 file with one face, at stride 1 and 8, with the shipped clip model; the
 * baseline in the same run is decoding alone. Median of several runs.
 *   node dist/bench/analyze.js [--runs 3] [--frames 150] [--model NAME] [--file path.mp4]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeVideo } from '../server/analysis/offline.js';
import { ClipModel } from '../server/analysis/clip-model.js';
import { DEFAULT_CLIP_MODEL } from '../server/analysis/default-model.js';
import { FaceStage } from '../server/faces/face-stage.js';
import { decodeFrames } from '../server/media/frames.js';
import { gstQuote, toLaunchArgs } from '../server/media/pipeline.js';
import { repoRoot } from '../server/shared/paths.js';
import { machine, median, round } from './stats.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('runs') ?? 3);
const frames = Number(arg('frames') ?? 150);
const modelName = arg('model') ?? DEFAULT_CLIP_MODEL;

const dir = mkdtempSync(join(tmpdir(), 'deepwatch-bench-'));
try {
  let file = arg('file');
  if (!file) {
    // The public-domain astronaut portrait, slowly zoomed, at 720p25.
    file = join(dir, 'face-720p.mp4');
    const desc = `filesrc location=${gstQuote(join(repoRoot, 'test', 'fixtures', 'astronaut.png'))} ! pngdec ! videoconvert ! imagefreeze num-buffers=${frames} ! video/x-raw,framerate=25/1 ! videoscale ! video/x-raw,width=720,height=720 ! videobox border-alpha=1 left=-280 right=-280 ! videoconvert ! video/x-raw,format=I420,width=1280,height=720 ! x264enc speed-preset=veryfast ! h264parse ! mp4mux ! filesink location=${gstQuote(file)}`;
    const r = spawnSync('gst-launch-1.0', ['-q', ...toLaunchArgs(desc)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const model = await ClipModel.load(modelName, { log: () => undefined });
  const decodeOnly: number[] = [];
  const byStride: Record<string, number[]> = { '1': [], '8': [] };
  let tracks = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    let n = 0;
    for await (const f of decodeFrames({ source: { kind: 'file', path: file }, maxWidth: 1280, maxHeight: 1280 })) n += f.index >= 0 ? 1 : 0;
    decodeOnly.push((n * 1000) / (performance.now() - t0));
    for (const stride of [1, 8]) {
      const stage = await FaceStage.create();
      const { report } = await analyzeVideo({ source: { kind: 'file', path: file }, runner: model, faces: stage, stride });
      await stage.close();
      tracks = report.tracks.length;
      byStride[String(stride)]!.push(report.timing.framesPerSecond);
    }
  }
  const out = {
    bench: 'analyze', machine: machine(), model: modelName, provider: model.provider, file: arg('file') ?? 'generated 1280x720 astronaut', frames, runs, tracks,
    decodeOnlyFps: round(median(decodeOnly), 1),
    stride1Fps: round(median(byStride['1']!), 2),
    stride8Fps: round(median(byStride['8']!), 2),
    stride1RatioToDecode: round(median(byStride['1']!) / median(decodeOnly), 4),
    stride8RatioToDecode: round(median(byStride['8']!) / median(decodeOnly), 4),
  };
  await model.close();
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
