/**
 * bench/faces: where the face stage's time goes, per frame and per face (medians over all
 * frames of several runs, the first frames of each run left out as warm-up), and end-to-end
 * frames/s of decode + faces on a 720p file. Without a path it makes its own 720p clip:
 * two copies of the astronaut photo, one drifting, with GStreamer.
 *   node dist/bench/faces.js [video] [--runs 3] [--frames 150]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFrames } from '../server/media/frames.js';
import { gstQuote, toLaunchArgs } from '../server/media/pipeline.js';
import { repoRoot } from '../server/shared/paths.js';
import { alignFrame, alignWindow, cropEnlarged } from '../server/faces/align.js';
import { FaceStage } from '../server/faces/face-stage.js';
import type { FaceObservation } from '../server/faces/types.js';
import type { Frame } from '../server/media/frame.js';
import { machine, median, numArg, round } from './stats.js';

const runs = numArg('runs', 3);
const frameCount = numArg('frames', 150);
const WARMUP = 5;
const given = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : null;

function makeClip(path: string): void {
  const png = gstQuote(join(repoRoot, 'test', 'fixtures', 'astronaut.png'));
  const face = (flip: string) => `filesrc location=${png} ! pngdec ! imagefreeze num-buffers=${frameCount} ! videoconvert ! ${flip}` +
    'videoscale ! video/x-raw,width=600,height=600,framerate=30/1';
  const desc = `compositor name=c background=black sink_0::xpos=20 sink_0::ypos=60 sink_1::xpos=660 sink_1::ypos=100 ! ` +
    `video/x-raw,width=1280,height=720,format=I420 ! x264enc bframes=0 speed-preset=veryfast bitrate=4000 ! h264parse ! mp4mux ! ` +
    `filesink location=${gstQuote(path)}  ${face('')} ! c.sink_0  ${face('videoflip method=horizontal-flip ! ')} ! c.sink_1`;
  const r = spawnSync('gst-launch-1.0', ['-q', ...toLaunchArgs(desc)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`making the bench clip failed: ${r.stderr}`);
}

const dir = mkdtempSync(join(tmpdir(), 'deepwatch-bench-'));
try {
  const file = given ?? join(dir, 'faces-720p.mp4');
  if (!given) makeClip(file);
  const load = loadavg()[0]!;
  const s = { detect: [] as number[], landmarks: [] as number[], track: [] as number[], total: [] as number[], faces: [] as number[], cpu: [] as number[] };
  const perFace = { detect: [] as number[], landmarks: [] as number[], track: [] as number[], total: [] as number[] };
  const alignWindowMs: number[] = [];
  const alignFrameMs: number[] = [];
  const e2eFps: number[] = [];
  let size = '';
  let framesSeen = 0;
  for (let run = 0; run < runs; run++) {
    const stage = await FaceStage.create();
    const window: { crop: ReturnType<typeof cropEnlarged>; face: FaceObservation }[] = [];
    let n = 0;
    const t0 = performance.now();
    try {
      for await (const frame of decodeFrames({ source: { kind: 'file', path: file } })) {
        size = `${frame.width}x${frame.height}`;
        const a = performance.now();
        const cpu0 = process.cpuUsage();
        const r = await stage.process(frame);
        const total = performance.now() - a;
        const cpu = process.cpuUsage(cpu0);
        const t = stage.lastTimings;
        if (n >= WARMUP) {
          s.detect.push(t.detectMs); s.landmarks.push(t.landmarksMs); s.track.push(t.trackMs); s.total.push(total); s.faces.push(r.faces.length);
          s.cpu.push((cpu.user + cpu.system) / 1000);
          if (r.faces.length > 0) {
            const k = r.faces.length;
            perFace.detect.push(t.detectMs / k); perFace.landmarks.push(t.landmarksMs / k); perFace.track.push(t.trackMs / k); perFace.total.push(total / k);
          }
        }
        // Alignment as the windows stage would do it, outside the end-to-end time below.
        const b = performance.now();
        const first = r.faces.find((f) => f.trackId === 1) ?? r.faces[0];
        if (first) window.push({ crop: cropEnlarged(frame as Frame, first.box), face: first });
        const keep = performance.now() - b;
        if (window.length === 32) {
          const c = performance.now();
          alignWindow(window.map((w) => w.crop), window.map((w) => w.face.landmarks), 224);
          alignWindowMs.push((performance.now() - c + keep) / 32);
          window.length = 0;
          const d = performance.now();
          alignFrame(frame, first!.landmarks, 224);
          alignFrameMs.push(performance.now() - d);
        }
        n++;
        if (n >= frameCount) break;
      }
    } finally {
      await stage.close();
    }
    e2eFps.push((n * 1000) / (performance.now() - t0));
    framesSeen = n;
  }
  const m = (xs: number[]) => (xs.length ? round(median(xs), 2) : null);
  process.stdout.write(`${JSON.stringify({
    bench: 'faces',
    machine: { ...machine(), loadAverageAtStart: round(load, 2) },
    input: { file: given ?? 'generated: two astronaut faces, 1280x720 H.264', size, framesPerRun: framesSeen, runs, medianFacesPerFrame: m(s.faces) },
    msPerFrame: { detection: m(s.detect), landmarks: m(s.landmarks), tracking: m(s.track), stageTotal: m(s.total), stageCpuMs: m(s.cpu) },
    msPerFace: { detection: m(perFace.detect), landmarks: m(perFace.landmarks), tracking: m(perFace.track), stageTotal: m(perFace.total) },
    alignmentMsPerFaceFrame: { window224: m(alignWindowMs), perFrame224: m(alignFrameMs) },
    endToEndFps: { decodePlusFaces: m(e2eFps), runs: e2eFps.map((x) => round(x, 1)) },
    notes: 'stageCpuMs is CPU time of all threads (ONNX Runtime uses 2), less disturbed by other load than wall time; tracking includes the appearance cues; landmarks include re-finding missed faces; window224 is one 32-frame joint alignment (crop + warp) divided by 32',
  }, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
