import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrames } from '../../server/media/frames.js';
import { FaceStage } from '../../server/faces/face-stage.js';
import { applyAffine } from '../../server/faces/geometry.js';
import type { Affine, FaceStageResult } from '../../server/faces/types.js';
import { encodeRgbFrames, loadAstronaut, renderFrame, similarityAbout, type Layer } from '../helpers/faces-fixtures.js';
import { tempDir } from '../helpers/gst.js';

/*
 * Two faces cross on a real clip: a nearer (larger) face moves right in front of a farther
 * one moving left, hiding it for a few frames. Each must keep its own identity after.
 */

const W = 640, H = 300, FPS = 25, N = 60;
const photo = loadAstronaut();

function layers(i: number): Layer[] {
  const t = i / (N - 1);
  // Only the face and a little around it of each copy is pasted, so the two cards can pass.
  return [
    { m: similarityAbout(287, 125, 0.55, 0, 560 - 480 * t, 140), mirror: true },
    { m: similarityAbout(224, 125, 0.75, 0, 80 + 480 * t, 160) },
  ];
}
const centre = (m: Affine, mirrored: boolean) => applyAffine(m, mirrored ? [287, 125] : [224, 125]);

const tmp = tempDir('deepwatch-faces-');
const results: FaceStageResult[] = [];

beforeAll(async () => {
  const path = join(tmp.dir, 'crossing.mp4');
  await encodeRgbFrames(path, W, H, FPS, (function* () {
    for (let i = 0; i < N; i++) yield renderFrame(photo, W, H, layers(i).map((l) => ({ ...l, window: 70 })));
  })());
  const stage = await FaceStage.create();
  try {
    for await (const f of decodeFrames({ source: { kind: 'file', path } })) results.push(await stage.process(f));
  } finally {
    await stage.close();
  }
}, 120_000);

afterAll(() => tmp.cleanup());

describe('two faces crossing', () => {
  it('keeps each identity on its own face before and after they pass', () => {
    const owner = new Map<number, Set<number>>(); // track id -> which face (0 far, 1 near) it was on
    for (let i = 0; i < N; i++) {
      const ls = layers(i);
      for (const f of results[i]!.faces) {
        const c: [number, number] = [f.box.x + f.box.width / 2, f.box.y + f.box.height / 2];
        const d = ls.map((l, k) => Math.hypot(c[0] - centre(l.m, k === 0)[0], c[1] - centre(l.m, k === 0)[1]));
        const k = d[0]! < d[1]! ? 0 : 1;
        if (d[k]! > 0.3 * f.box.width) continue;
        if (!owner.has(f.trackId)) owner.set(f.trackId, new Set());
        owner.get(f.trackId)!.add(k);
      }
    }
    // The far face really was hidden for a while, so this is a crossing with an occlusion.
    expect(results.some((r) => r.faces.length === 1)).toBe(true);
    for (const faces of owner.values()) expect(faces.size).toBe(1);
    expect(owner.size).toBe(2);
  });
});
