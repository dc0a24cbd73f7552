/**
 * bench/decode: frames/s of H.264 -> RGB through the Decoder (GStreamer child + GDP pipe +
 * frame objects in Node), for 640x480 and 1280x720, median of several runs. The baseline in
 * the same run is gst-launch decoding and converting the same file into fakesink, so the
 * ratio shows what the pipe and Node add.
 *   node dist/bench/decode.js [--runs 5] [--frames 300]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFrames } from '../server/media/frames.js';
import { gstQuote, toLaunchArgs } from '../server/media/pipeline.js';
import { machine, median, numArg, round } from './stats.js';

const arg = numArg;
const runs = arg('runs', 5);
const frames = arg('frames', 300);

function gst(desc: string): number {
  const t0 = performance.now();
  const r = spawnSync('gst-launch-1.0', ['-q', ...toLaunchArgs(desc)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return performance.now() - t0;
}

const dir = mkdtempSync(join(tmpdir(), 'deepwatch-bench-'));
const results: Record<string, unknown>[] = [];
try {
  for (const [w, h] of [[640, 480], [1280, 720]] as const) {
    const file = join(dir, `${w}x${h}.mp4`);
    gst(`videotestsrc num-buffers=${frames} pattern=smpte ! video/x-raw,format=I420,width=${w},height=${h},framerate=30/1 ! x264enc speed-preset=veryfast bitrate=4000 ! h264parse ! mp4mux ! filesink location=${gstQuote(file)}`);
    const node: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      let n = 0;
      for await (const f of decodeFrames({ source: { kind: 'file', path: file } })) n += f.data.length > 0 ? 1 : 0;
      const ms = performance.now() - t0;
      if (n !== frames) throw new Error(`decoded ${n} of ${frames} frames`);
      node.push((n * 1000) / ms);
      const gms = gst(`filesrc location=${gstQuote(file)} ! decodebin ! videoconvertscale ! video/x-raw,format=RGB ! fakesink sync=false`);
      base.push((frames * 1000) / gms);
    }
    results.push({
      size: `${w}x${h}`, frames, runs,
      decoderFps: round(median(node), 1),
      gstOnlyFps: round(median(base), 1),
      ratioToGstOnly: round(median(node) / median(base), 3),
      allDecoderFps: node.map((x) => round(x, 1)),
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ bench: 'decode', machine: machine(), results }, null, 2)}\n`);
