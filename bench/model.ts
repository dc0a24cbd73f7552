/**
 * FTCN+TT speed on this machine: ONNX Runtime from Node (the server's path) beside PyTorch
 * on the same clips in the same run, for the full model and the fast member, both with
 * random weights in their real shapes. Prints one JSON object.
 *
 *   node dist/bench/model.js [--only full|fast] [--runs N] [--threads N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClipModel } from '../server/analysis/clip-model.js';
import { convertCheckpoint, toolkitDir, toolkitPython } from '../server/analysis/convert-checkpoint.js';
import { packClips } from '../server/analysis/pack-clips.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
  },
});
const runs = Number(args.runs);
const threads = Number(args.threads);
if (!(runs >= 1) || !(threads >= 1)) throw new Error('--runs and --threads must be positive integers');

interface Plan { config: 'full' | 'fast'; batches: number[] }
const plans: Plan[] = [
  { config: 'full', batches: [1, 4] },
  { config: 'fast', batches: [1, 8] },
].filter((p) => !args.only || p.config === args.only) as Plan[];
if (plans.length === 0) throw new Error('--only takes full or fast');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, d = 1): number => +x.toFixed(d);
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function py(script: string, scriptArgs: string[]): string {
  const r = spawnSync(toolkitPython, [join(toolkitDir, script), ...scriptArgs], { encoding: 'utf8', timeout: 1_800_000 });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return r.stdout;
}

async function benchOne(plan: Plan, work: string): Promise<Record<string, unknown>> {
  const name = `bench_${plan.config}`;
  const ckpt = join(work, `${plan.config}.pth`);
  const refDir = join(work, `ref-${plan.config}`);
  const maxBatch = Math.max(...plan.batches);
  log(`${plan.config}: random checkpoint, conversion and check on ${maxBatch} clips`);
  py('make_random_checkpoint.py', ['--out', ckpt, '--config', plan.config, '--calibrate', '0']);
  await convertCheckpoint({ checkpoint: ckpt, name, modelsRoot: join(work, 'models'), clips: maxBatch, dumpReference: refDir, onLine: log });
  const f = readFileSync(join(refDir, 'clips.f32'));
  const clips = new Float32Array(f.buffer, f.byteOffset, f.byteLength / 4);
  const pixels = readFileSync(join(refDir, 'pixels.u8'));

  const model = await ClipModel.load(name, { root: join(work, 'models'), providers: ['cpu'], intraOpNumThreads: threads, log });
  const perClip = clips.length / maxBatch;
  const { clipLength: T, height: H, width: W } = model.manifest;
  const frameBytes = H * W * 3;
  const frames = Array.from({ length: maxBatch }, (_, b) => Array.from({ length: T }, (_, t) =>
    pixels.subarray((b * T + t) * frameBytes, (b * T + t + 1) * frameBytes)));
  const packOut = new Float32Array(clips.length);
  const packMs: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    packClips(frames, model.manifest, packOut);
    if (i > 0) packMs.push((performance.now() - t0) / maxBatch);
  }

  // Wall time and CPU time (all threads of this process): on a shared machine the CPU time
  // per clip is the steadier number; wall time on idle cores is about CPU time / threads.
  const ort: Record<number, { wall: number; cpu: number }> = {};
  for (const b of plan.batches) {
    log(`${plan.config}: ONNX Runtime batch ${b}`);
    const input = clips.subarray(0, b * perClip);
    await model.run(input, b); // warm-up
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      wall.push((await model.run(input, b)).ms / b);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000 / b);
    }
    ort[b] = { wall: median(wall), cpu: median(cpu) };
  }
  await model.close();

  log(`${plan.config}: PyTorch on the same clips`);
  const torch = JSON.parse(py('bench_torch.py', [ckpt, '--clips', join(refDir, 'clips.f32'), '--batches', plan.batches.join(','),
    '--runs', String(runs), '--threads', String(threads)])) as { torch: string; batches: { batch: number; medianMsPerClip: number; medianCpuMsPerClip: number }[] };
  const ref = JSON.parse(readFileSync(join(refDir, 'reference.json'), 'utf8')) as { maxAbsDiff: number };

  return {
    model: plan.config,
    gflopsPerClip: model.manifest.gflopsPerClip,
    input: `${T}x${H}x${W}`,
    maxAbsDiffOrtVsTorch: ref.maxAbsDiff,
    packMsPerClip: round(median(packMs), 2),
    batches: plan.batches.map((b) => {
      const t = torch.batches.find((x) => x.batch === b)!;
      return {
        batch: b,
        ortMsPerClip: round(ort[b].wall), ortClipsPerSec: round(1000 / ort[b].wall, 2), ortCpuMsPerClip: round(ort[b].cpu),
        torchMsPerClip: round(t.medianMsPerClip), torchClipsPerSec: round(1000 / t.medianMsPerClip, 2),
        torchCpuMsPerClip: round(t.medianCpuMsPerClip),
        torchOverOrt: round(t.medianMsPerClip / ort[b].wall, 2),
        torchOverOrtCpu: round(t.medianCpuMsPerClip / ort[b].cpu, 2),
      };
    }),
    torch: torch.torch,
  };
}

const work = mkdtempSync(join(tmpdir(), 'deepwatch-bench-model-'));
try {
  const load0 = loadavg()[0];
  const results = [];
  for (const plan of plans) results.push(await benchOne(plan, work));
  const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  process.stdout.write(`${JSON.stringify({
    bench: 'model',
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageBefore: round(load0, 2), loadAverageAfter: round(loadavg()[0], 2) },
    node: process.version, onnxruntime: ortVersion, provider: 'cpu', threads, runs, statistic: 'median over runs (one warm-up run first) of wall ms per clip and CPU ms per clip (all threads)',
    results,
  }, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
