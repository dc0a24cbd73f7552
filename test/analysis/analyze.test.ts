import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeVideo } from '../../server/analysis/offline.js';
import { ClipModel } from '../../server/analysis/clip-model.js';
import { DEFAULT_CLIP_MODEL } from '../../server/analysis/default-model.js';
import type { AnalysisReport } from '../../server/analysis/report.js';
import { FaceStage } from '../../server/faces/face-stage.js';
import { probe } from '../../server/media/probe.js';
import { repoRoot } from '../../server/shared/paths.js';
import { encodeRgbFrames, loadAstronaut, renderFrame, similarityAbout, type Layer } from '../helpers/faces-fixtures.js';
import { tempDir } from '../helpers/gst.js';

const run = promisify(execFile);
const tmp = tempDir('deepwatch-analyze-');
const photo = loadAstronaut();
const FACE: [number, number] = [224, 125];
const W = 480, H = 270, FPS = 25;

/** Two astronaut faces side by side (one mirrored), drifting gently. */
function twoFaces(i: number): Layer[] {
  return [
    { m: similarityAbout(FACE[0], FACE[1], 0.45, 0.05 * Math.sin(i / 9), 120 + 10 * Math.sin(i / 7), 135), columns: [0, 240] },
    { m: similarityAbout(511 - FACE[0], FACE[1], 0.5, -0.04 * Math.sin(i / 11), 360, 130 + 8 * Math.sin(i / 5)), mirror: true, columns: [240, 480] },
  ];
}

let model: ClipModel;
const twoPath = join(tmp.dir, 'two faces.mp4');
const blinkPath = join(tmp.dir, 'five-frames.mp4');

async function analyse(path: string, stride: number): Promise<AnalysisReport> {
  const faces = await FaceStage.create();
  try {
    return (await analyzeVideo({ source: { kind: 'file', path }, runner: model, faces, stride })).report;
  } finally {
    await faces.close();
  }
}

beforeAll(async () => {
  model = await ClipModel.load(DEFAULT_CLIP_MODEL, { log: () => undefined });
  await encodeRgbFrames(twoPath, W, H, FPS, Array.from({ length: 40 }, (_, i) => renderFrame(photo, W, H, twoFaces(i))));
  // A face on screen for 5 frames only, in the middle of 30 empty ones.
  const empty = Buffer.alloc(W * H * 3, 60);
  await encodeRgbFrames(blinkPath, W, H, FPS, Array.from({ length: 30 }, (_, i) =>
    (i >= 12 && i < 17 ? renderFrame(photo, W, H, [{ m: similarityAbout(FACE[0], FACE[1], 0.6, 0, 240, 135) }]) : empty)));
}, 120_000);

afterAll(async () => {
  await model?.close();
  tmp.cleanup();
});

describe('deepwatch analyze', () => {
  it('writes an annotated copy with the input\'s frame count, size and rate, and a report that validates', async () => {
    const out = join(tmp.dir, 'annotated.mp4');
    const json = join(tmp.dir, 'report.json');
    const csv = join(tmp.dir, 'report.csv');
    const bin = join(repoRoot, 'bin', 'deepwatch.js');
    const { stdout } = await run(process.execPath, [bin, 'analyze', twoPath, '--out', out, '--report', json, '--stride', '4'], { timeout: 240_000 });
    expect(stdout).toMatch(/2 face track\(s\)/);
    const input = await probe({ kind: 'file', path: twoPath });
    const output = await probe({ kind: 'file', path: out });
    expect(output.frames).toBe(input.frames);
    expect([output.width, output.height]).toEqual([input.width, input.height]);
    expect(output.fps).toBeCloseTo(input.fps!, 6);

    const report = JSON.parse(readFileSync(json, 'utf8')) as AnalysisReport;
    const ajv = new Ajv2020({ allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'server', 'analysis', 'report.schema.json'), 'utf8')));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.video.frames).toBe(40);

    // Two faces, two tracks, each with its own clips and verdict.
    expect(report.tracks).toHaveLength(2);
    for (const t of report.tracks) {
      expect(t.clips.length).toBeGreaterThan(0);
      expect(t.perFrame.length).toBeGreaterThanOrEqual(38);
      expect(['fake', 'real']).toContain(t.verdict);
    }
    const [a, b] = report.tracks;
    expect(Math.abs(a!.perFrame[0]!.box.x - b!.perFrame[0]!.box.x)).toBeGreaterThan(100);

    await run(process.execPath, [bin, 'analyze', twoPath, '--report', csv, '--stride', '8', '--quiet'], { timeout: 240_000 });
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('frame,pts,track,score,label,x,y,width,height');
    expect(rows.length - 1).toBeGreaterThanOrEqual(76);
  });

  it('at stride 1 scores one clip per frame and each frame\'s score is the mean of the clips covering it', async () => {
    const report = await analyse(twoPath, 1);
    expect(report.tracks).toHaveLength(2);
    for (const t of report.tracks) {
      const T = report.model.clipLength;
      expect(t.clips.length).toBe(t.frames - T + 1);
      for (const f of t.perFrame) {
        const covering = t.clips.filter((c) => c.firstFrame <= f.frame && f.frame <= c.lastFrame);
        expect(covering.length).toBeGreaterThan(0);
        const mean = covering.reduce((s, c) => s + c.probability, 0) / covering.length;
        expect(f.score).toBeCloseTo(mean, 9);
        expect(f.label).toBe(f.score >= report.model.threshold ? 'fake' : 'real');
      }
    }
  });

  it('scores a 5-frame track with one mirror-padded clip instead of crashing', async () => {
    const report = await analyse(blinkPath, 1);
    expect(report.tracks.length).toBeGreaterThanOrEqual(1);
    const t = report.tracks[0]!;
    expect(t.frames).toBeLessThanOrEqual(5);
    expect(t.clips).toHaveLength(1);
    expect(t.clips[0]!.padded).toBe(true);
    expect(t.perFrame.every((f) => f.score === t.clips[0]!.probability)).toBe(true);
  });

  // The demo fixtures' verdicts (manipulated: fake, genuine: real) are checked in
  // test/demo-model/demo-streams.test.ts through this same analyzeVideo path.
});
