import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipModel } from '../../server/analysis/clip-model.js';
import { DEFAULT_CLIP_MODEL } from '../../server/analysis/default-model.js';
import { analyzeVideo } from '../../server/analysis/offline.js';
import type { AnalysisReport } from '../../server/analysis/report.js';
import { FaceStage } from '../../server/faces/face-stage.js';
import { repoRoot } from '../../server/shared/paths.js';

// The shipped demo model on the two built-in demo streams, through the real pipeline:
// GStreamer decoder -> face stage (BlazeFace, FaceMesh, tracker) -> alignWindow per
// window -> ONNX Runtime. Stride 4, as the live path scores by default.
const SLOW = 600_000;
const media = join(repoRoot, 'server', 'demo', 'media');
let model: ClipModel;
const reports: Record<string, AnalysisReport> = {};

async function analyse(file: string): Promise<AnalysisReport> {
  const faces = await FaceStage.create();
  try {
    const { report } = await analyzeVideo({ source: { kind: 'file', path: join(media, file) }, runner: model, faces, stride: 4 });
    return report;
  } finally {
    await faces.close();
  }
}

function clipProbabilities(r: AnalysisReport): number[] {
  return r.tracks.flatMap((t) => t.clips.map((c) => c.probability));
}

beforeAll(async () => {
  model = await ClipModel.load(DEFAULT_CLIP_MODEL, { providers: ['cpu'], log: () => undefined });
  reports.genuine = await analyse('genuine.mp4');
  reports.manipulated = await analyse('manipulated.mp4');
}, SLOW);

afterAll(async () => {
  await model?.close();
});

describe('demo model ftcn_tt_fast_demo', () => {
  it('is the default clip model, a small FTCN+TT member trained by the project', () => {
    const m = model.manifest;
    expect(DEFAULT_CLIP_MODEL).toBe('ftcn_tt_fast_demo');
    expect(m).toMatchObject({ kind: 'clip-classifier', family: 'ftcn_tt', layout: 'BCTHW', output: 'probability' });
    expect(m.gflopsPerClip).toBeLessThanOrEqual(10);
    expect(m.threshold).toBeGreaterThan(0);
    expect(m.threshold).toBeLessThan(1);
    expect(m.provenance.source).toMatch(/models\/toolkit\/demo/);
  });

  it('ships small H.264 demo streams', () => {
    for (const f of ['genuine.mp4', 'manipulated.mp4']) {
      const size = statSync(join(media, f)).size;
      expect(size).toBeGreaterThan(50_000);
      expect(size).toBeLessThan(5_000_000);
    }
  });

  it('follows the one face of each stream through the whole video', () => {
    for (const r of Object.values(reports)) {
      expect(r.tracks).toHaveLength(1);
      expect(r.tracks[0]!.frames).toBeGreaterThan(0.95 * r.video.frames);
      expect(r.tracks[0]!.clips.length).toBeGreaterThan(50);
    }
  });

  it('scores every clip of the genuine stream below the threshold', () => {
    const p = clipProbabilities(reports.genuine!);
    const above = p.filter((x) => x >= model.threshold);
    expect(above, `genuine clips at or above ${model.threshold}: ${above.map((x) => x.toFixed(4)).join(', ')}`).toHaveLength(0);
  });

  it('scores most clips of the manipulated stream at or above the threshold', () => {
    const p = clipProbabilities(reports.manipulated!);
    const flagged = p.filter((x) => x >= model.threshold).length / p.length;
    expect(flagged).toBeGreaterThanOrEqual(0.8);
    expect(reports.manipulated!.tracks[0]!.verdict).toBe('fake');
    expect(reports.genuine!.tracks[0]!.verdict).toBe('real');
  });
});
