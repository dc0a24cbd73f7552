import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipModel } from '../../server/analysis/clip-model.js';
import { ConvertError, convertCheckpoint } from '../../server/analysis/convert-checkpoint.js';
import { packClips } from '../../server/analysis/pack-clips.js';
import { cudaUnavailableReason } from '../../server/analysis/providers.js';
import { loadClipModelManifest } from '../../server/shared/model-manifest.js';
import { framesOf, makeRandomCheckpoint, maxAbsDiff, readReference } from './helpers.js';

// One random-weight checkpoint per config, converted once: the FULL torch forward takes
// about 2 s a clip on two cores, so everything below shares these conversions.
const SLOW = 600_000;
const work = mkdtempSync(join(tmpdir(), 'deepwatch-ftcn-'));
const models = join(work, 'models');
const quiet = { log: () => undefined };

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('model convert (FULL, released shape, random weights)', () => {
  const ckpt = join(work, 'full.pth');
  const refDir = join(work, 'ref-full');
  const lines: string[] = [];

  beforeAll(async () => {
    // DataParallel-style keys: the loader must strip "module.".
    makeRandomCheckpoint(ckpt, '--config', 'full', '--module-prefix');
    await convertCheckpoint({ checkpoint: ckpt, name: 'ftcn_tt', modelsRoot: models, dumpReference: refDir, onLine: (l) => lines.push(l) });
  }, SLOW);

  it('reports progress step by step', () => {
    for (let i = 1; i <= 5; i++) expect(lines.some((l) => l.startsWith(`[${i}/5]`))).toBe(true);
    expect(lines.at(-1)).toMatch(/model "ftcn_tt" installed/);
  });

  it('writes a manifest the server accepts, with the reference threshold and input description', () => {
    const { manifest } = loadClipModelManifest('ftcn_tt', models);
    expect(manifest).toMatchObject({
      kind: 'clip-classifier', family: 'ftcn_tt', layout: 'BCTHW', clipLength: 32, height: 224, width: 224,
      output: 'probability', threshold: 0.002584857, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
    });
    expect(manifest.inputs[0]).toMatchObject({ name: 'clip', shape: ['batch', 3, 32, 224, 224] });
    // 66.63 GMAC per clip, the reference's own count.
    expect(manifest.gflopsPerClip).toBeCloseTo(133.26, 1);
    expect(manifest.provenance.source).toContain('full.pth');
  });

  it('ONNX Runtime from Node agrees with PyTorch within 1e-4 on 4 random clips, from raw frames', async () => {
    const ref = readReference(refDir);
    const [B, , T, H, W] = ref.shape;
    expect(B).toBe(4);
    // The outputs must differ from clip to clip, or agreement would prove little.
    expect(Math.max(...ref.torchProbs) - Math.min(...ref.torchProbs)).toBeGreaterThan(1e-2);
    const model = await ClipModel.load('ftcn_tt', { root: models, providers: ['cpu'] });
    try {
      const packed = packClips(framesOf(ref.pixels, B, T, H * W * 3), model.manifest);
      expect(maxAbsDiff(packed, ref.clips)).toBeLessThan(1e-5);
      const { probs, ms } = await model.run(packed, B);
      expect(probs).toHaveLength(B);
      expect(ms).toBeGreaterThan(0);
      expect(maxAbsDiff(probs, ref.torchProbs)).toBeLessThan(1e-4);
    } finally {
      await model.close();
    }
  }, SLOW);

  it('refuses a checkpoint with a renamed tensor, naming both names', async () => {
    const bad = join(work, 'renamed.pth');
    const name = 'resnet.s3.pathway0_res0.branch2.b_bn.0.running_var';
    makeRandomCheckpoint(bad, '--calibrate', '0', '--rename', `${name}=resnet.s3.pathway0_res0.branch2.b_bn.running_var`);
    const err = await convertCheckpoint({ checkpoint: bad, name: 'renamed', modelsRoot: models }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvertError);
    expect((err as ConvertError).code).toBe(2);
    expect((err as Error).message).toContain(`missing tensor ${name}`);
    expect((err as Error).message).toContain('unexpected tensor resnet.s3.pathway0_res0.branch2.b_bn.running_var');
    expect(existsSync(join(models, 'renamed', 'manifest.json'))).toBe(false);
  }, SLOW);

  it('refuses a checkpoint with a mis-shaped tensor, naming it and both shapes', async () => {
    const bad = join(work, 'misshaped.pth');
    makeRandomCheckpoint(bad, '--calibrate', '0', '--reshape', 'resnet.head.time_T.transformer.layers.0.0.fn.fn.to_qkv.weight');
    const err = await convertCheckpoint({ checkpoint: bad, name: 'misshaped', modelsRoot: models }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvertError);
    expect((err as Error).message).toContain(
      'mis-shaped tensor resnet.head.time_T.transformer.layers.0.0.fn.fn.to_qkv.weight: checkpoint has (3073, 1024), model needs (3072, 1024)');
    expect(existsSync(join(models, 'misshaped', 'manifest.json'))).toBe(false);
  }, SLOW);

  it('refuses a file that is not a checkpoint', async () => {
    const bad = join(work, 'not-a-checkpoint.pth');
    writeFileSync(bad, 'hello');
    await expect(convertCheckpoint({ checkpoint: bad, name: 'junk', modelsRoot: models })).rejects.toThrow(/cannot read .*not-a-checkpoint\.pth/);
  }, SLOW);
});

describe('model convert (FAST member)', () => {
  const ckpt = join(work, 'fast.pth');
  const refDir = join(work, 'ref-fast');

  beforeAll(async () => {
    // The FAST checkpoint carries its config, so convert needs no --config.
    makeRandomCheckpoint(ckpt, '--config', 'fast', '--seed', '3');
    await convertCheckpoint({ checkpoint: ckpt, name: 'ftcn_fast', modelsRoot: models, clips: 6, dumpReference: refDir });
  }, SLOW);

  it('is at most 10 GFLOPs per clip and runs in ONNX Runtime, agreeing with PyTorch', async () => {
    const { manifest } = loadClipModelManifest('ftcn_fast', models);
    expect(manifest.gflopsPerClip).toBeLessThanOrEqual(10);
    expect(manifest.clipLength).toBe(16);
    expect(manifest.threshold).toBe(0.5);
    const ref = readReference(refDir);
    const [B, , T, H, W] = ref.shape;
    const model = await ClipModel.load('ftcn_fast', { root: models, providers: ['cpu'] });
    try {
      expect(model.clipLength).toBe(16);
      expect(model.size).toBe(112);
      // ClipRunner.score(): frames in, probabilities out.
      const { probs } = await model.score(framesOf(ref.pixels, B, T, H * W * 3));
      expect(maxAbsDiff(probs, ref.torchProbs)).toBeLessThan(1e-4);
      // Batch 1 gives the same numbers as part of a bigger batch.
      const one = await model.run(ref.clips.subarray(0, ref.clips.length / B), 1);
      expect(Math.abs(one.probs[0] - probs[0])).toBeLessThan(1e-5);
    } finally {
      await model.close();
    }
  }, SLOW);

  it('applies the sigmoid when the manifest says the output is a logit', async () => {
    // Same graph, manifest declaring "logit": the model's probability p becomes sigmoid(p).
    const dir = join(work, 'logit-models');
    cpSync(join(models, 'ftcn_fast'), join(dir, 'ftcn_fast_logit'), { recursive: true });
    const mf = join(dir, 'ftcn_fast_logit', 'manifest.json');
    writeFileSync(mf, JSON.stringify({ ...JSON.parse(readFileSync(mf, 'utf8')), name: 'ftcn_fast_logit', output: 'logit' }));
    const ref = readReference(refDir);
    const model = await ClipModel.load('ftcn_fast_logit', { root: dir, providers: ['cpu'] });
    try {
      const { probs } = await model.run(ref.clips, ref.shape[0]);
      expect(maxAbsDiff(probs, ref.torchProbs.map((p) => 1 / (1 + Math.exp(-p))))).toBeLessThan(1e-4);
    } finally {
      await model.close();
    }
  }, SLOW);

  it('rejects a wrongly sized input and a run after close()', async () => {
    const model = await ClipModel.load('ftcn_fast', { root: models, providers: ['cpu'] });
    await expect(model.run(new Float32Array(10), 1)).rejects.toThrow(/holds 10 floats/);
    await model.close();
    await model.close();
    await expect(model.run(new Float32Array(3 * 16 * 112 * 112), 1)).rejects.toThrow(/closed/);
  }, SLOW);

  it('falls back to the CPU with the reason when CUDA cannot be used', async () => {
    const why = cudaUnavailableReason();
    const logged: string[] = [];
    const model = await ClipModel.load('ftcn_fast', { root: models, log: (l) => logged.push(l) });
    try {
      if (why === null) {
        // A machine with a GPU and the CUDA provider: it must have been used, or said why not.
        expect(model.provider === 'cuda' || /CUDA session failed/.test(model.providerNote)).toBe(true);
      } else {
        expect(model.provider).toBe('cpu');
        expect(model.providerNote).toContain(why);
        expect(logged.join('\n')).toContain(why);
        await expect(ClipModel.load('ftcn_fast', { root: models, providers: ['cuda'], ...quiet })).rejects.toThrow(why);
      }
    } finally {
      await model.close();
    }
  }, SLOW);
});
