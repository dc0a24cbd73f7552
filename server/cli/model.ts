import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { ClipModel } from '../analysis/clip-model.js';
import { convertCheckpoint } from '../analysis/convert-checkpoint.js';
import { packClips } from '../analysis/pack-clips.js';
import type { ExecutionProvider } from '../analysis/providers.js';
import { listModelNames, loadModelManifest, type ModelManifest } from '../shared/model-manifest.js';
import { modelsDir } from '../shared/paths.js';

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got ${v}`);
    return n;
  };
}

function parseProviders(v: string): ExecutionProvider[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) if (p !== 'cuda' && p !== 'cpu') throw new Error(`--providers takes cuda and/or cpu, got ${p}`);
  if (list.length === 0) throw new Error('--providers needs at least one of cuda, cpu');
  return list as ExecutionProvider[];
}

function summary(m: ModelManifest, path: string): string {
  const size = `${(statSync(path).size / 1e6).toFixed(1)} MB`;
  if (m.kind !== 'clip-classifier') return `${m.name}: ${m.kind}, ${m.file} (${size})`;
  return `${m.name}: clip classifier (${m.family}), input ${m.layout} T=${m.clipLength} ${m.width}x${m.height}, ${m.alignment} alignment, ` +
    `output ${m.output}, threshold ${m.threshold}, ${m.gflopsPerClip} GFLOPs/clip, ${m.file} (${size})`;
}

function firstClipModel(root: string): string {
  for (const name of listModelNames(root)) {
    try {
      if (loadModelManifest(name, root, false).manifest.kind === 'clip-classifier') return name;
    } catch { /* an invalid manifest is reported by `model info` */ }
  }
  throw new Error(`no clip model installed in ${root}; convert one with: npx deepwatch model convert path/to/ftcn_tt.pth`);
}

export function registerModel(program: Command): void {
  const model = program.command('model').description('install, describe and check the ONNX models in models/');

  model
    .command('convert')
    .description('convert an FTCN+TT checkpoint (e.g. the released ftcn_tt.pth) to ONNX, check it against PyTorch, and install it')
    .argument('<checkpoint>', 'a .pth file: a state dict (with or without "module." prefixes), or a dict holding one under state_dict/model')
    .option('--name <name>', 'model name: installed as models/<name>/', 'ftcn_tt')
    .option('--config <config>', 'full, fast, or a JSON file of FtcnConfig fields (default: saved in the checkpoint, else full)')
    .option('--threshold <p>', 'decision threshold on the probability (default: the reference 0.002584857 for the full model)', Number)
    .option('--clips <n>', 'random clips for the ONNX Runtime vs PyTorch check', positiveInt('--clips'), 4)
    .option('--models-dir <dir>', 'models root', modelsDir)
    .option('--allow-pickle', 'allow a checkpoint that holds pickled Python objects (only one you trust: loading it can run code)')
    .action(async (checkpoint: string, o: { name: string; config?: string; threshold?: number; clips: number; modelsDir: string; allowPickle?: boolean }) => {
      if (o.threshold !== undefined && !(o.threshold >= 0 && o.threshold <= 1)) throw new Error('--threshold must be a probability in [0, 1]');
      await convertCheckpoint({
        checkpoint, name: o.name, modelsRoot: o.modelsDir, config: o.config, threshold: o.threshold, clips: o.clips,
        allowPickle: o.allowPickle, onLine: out,
      });
      out(`check it with: npx deepwatch model check ${o.name}`);
    });

  model
    .command('info')
    .description('list the installed models, or describe one')
    .argument('[name]', 'model name (a folder of models/)')
    .option('--models-dir <dir>', 'models root', modelsDir)
    .option('--json', 'print the manifest as JSON')
    .action((name: string | undefined, o: { modelsDir: string; json?: boolean }) => {
      if (!name) {
        const names = listModelNames(o.modelsDir);
        if (o.json) return out(JSON.stringify(names));
        if (names.length === 0) return out(`no models installed in ${o.modelsDir}`);
        for (const n of names) {
          try {
            const r = loadModelManifest(n, o.modelsDir, false);
            out(summary(r.manifest, r.path));
          } catch (e) {
            out(`${n}: unusable: ${(e as Error).message}`);
          }
        }
        return;
      }
      const r = loadModelManifest(name, o.modelsDir, true);
      if (o.json) return out(JSON.stringify(r.manifest, null, 2));
      out(summary(r.manifest, r.path));
      out(`folder: ${r.dir}`);
      out(`sha256: ${r.manifest.sha256} (verified)`);
      out(`provenance: ${r.manifest.provenance.source}; licence: ${r.manifest.provenance.licence}`);
      if (r.manifest.provenance.notes) out(`notes: ${r.manifest.provenance.notes}`);
      if (r.manifest.kind === 'clip-classifier') {
        out(`normalisation: (x - mean*255) / (std*255), mean ${r.manifest.mean.join(', ')}, std ${r.manifest.std.join(', ')}`);
        out(`input ${r.manifest.inputs[0].name} [${r.manifest.inputs[0].shape.join(', ')}], output ${r.manifest.outputs[0].name} [${r.manifest.outputs[0].shape.join(', ')}], default stride ${r.manifest.defaultStride}`);
      }
      if (r.manifest.card) out(`card: ${r.dir}/${r.manifest.card}`);
    });

  model
    .command('check')
    .description('load a clip model, run one batch of random clips, and print the provider and time per clip')
    .argument('[name]', 'model name (default: the first installed clip model)')
    .option('--batch <n>', 'clips in the batch', positiveInt('--batch'), 2)
    .option('--providers <list>', 'execution providers to try, in order', parseProviders, ['cuda', 'cpu'] as ExecutionProvider[])
    .option('--threads <n>', 'CPU threads per operator', positiveInt('--threads'), 2)
    .option('--models-dir <dir>', 'models root', modelsDir)
    .option('--json', 'print JSON only')
    .action(async (name: string | undefined, o: { batch: number; providers: ExecutionProvider[]; threads: number; modelsDir: string; json?: boolean }) => {
      const modelName = name ?? firstClipModel(o.modelsDir);
      const t0 = performance.now();
      const m = await ClipModel.load(modelName, { root: o.modelsDir, providers: o.providers, intraOpNumThreads: o.threads, log: () => undefined });
      const loadMs = performance.now() - t0;
      try {
        const { clipLength: T, height: H, width: W } = m.manifest;
        const clips = Array.from({ length: o.batch }, () => Array.from({ length: T }, () => randomBytes(H * W * 3)));
        const p0 = performance.now();
        const input = packClips(clips, m.manifest);
        const packMs = performance.now() - p0;
        const first = await m.run(input, o.batch); // the first run also allocates and tunes: reported apart
        const timed = await m.run(input, o.batch);
        const r = {
          model: modelName, provider: m.provider, providerNote: m.providerNote, batch: o.batch,
          loadMs: Math.round(loadMs), packMsPerClip: +(packMs / o.batch).toFixed(2),
          firstRunMsPerClip: +(first.ms / o.batch).toFixed(1), msPerClip: +(timed.ms / o.batch).toFixed(1),
          clipsPerSecond: +((1000 * o.batch) / timed.ms).toFixed(2), probs: Array.from(timed.probs, (p) => +p.toFixed(6)),
        };
        if (o.json) return out(JSON.stringify(r));
        out(`${modelName}: provider ${m.provider}${m.providerNote ? ` (${m.providerNote})` : ''}`);
        out(`loaded in ${r.loadMs} ms; packing ${r.packMsPerClip} ms/clip; batch of ${o.batch}: ${r.msPerClip} ms/clip ` +
          `(${r.clipsPerSecond} clips/s; first run ${r.firstRunMsPerClip} ms/clip)`);
        out(`probabilities of fake on random noise: ${r.probs.join(', ')}`);
      } finally {
        await m.close();
      }
    });
}
