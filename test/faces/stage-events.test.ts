import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrames } from '../../server/media/frames.js';
import { FaceStage } from '../../server/faces/face-stage.js';
import type { FaceStageResult } from '../../server/faces/types.js';
import { encodeRgbFrames, loadAstronaut, renderFrame, similarityAbout } from '../helpers/faces-fixtures.js';
import { tempDir } from '../helpers/gst.js';

/*
 * One real clip with the events a tracker must survive or obey: the face is covered for
 * 8 frames (it must keep its identity), then a hard cut to another shot (every track ends,
 * the new face gets a new identity).
 */

const W = 480, H = 270, FPS = 25;
const SHOT_A = 40, SHOT_B = 25;
const HIDDEN = [15, 23]; // frames [15, 23) have the face covered
const photo = loadAstronaut();

function frame(i: number): Buffer {
  if (i < SHOT_A) {
    const t = i / SHOT_A;
    const f = renderFrame(photo, W, H, [{ m: similarityAbout(224, 125, 0.6, 0.05, 200 + 80 * t, 140) }]);
    if (i >= HIDDEN[0]! && i < HIDDEN[1]!) {
      // A grey card in front of the face (something passing in front of the camera).
      for (let y = 60; y < 230; y++) f.fill(128, (y * W + 120) * 3, (y * W + 360) * 3);
    }
    return f;
  }
  const out = renderFrame(photo, W, H, [{ m: similarityAbout(287, 125, 0.45, 0, 330, 120), mirror: true }]);
  // The second shot is lit differently: a warm tint across the picture.
  for (let p = 0; p < out.length; p += 3) { out[p] = Math.min(255, out[p]! + 70); out[p + 2] = out[p + 2]! >> 1; }
  return out;
}

const tmp = tempDir('deepwatch-faces-');
const results: FaceStageResult[] = [];
let flushed: number[] = [];

beforeAll(async () => {
  const path = join(tmp.dir, 'events.mp4');
  await encodeRgbFrames(path, W, H, FPS, (function* () { for (let i = 0; i < SHOT_A + SHOT_B; i++) yield frame(i); })());
  const stage = await FaceStage.create();
  try {
    for await (const f of decodeFrames({ source: { kind: 'file', path } })) results.push(await stage.process(f));
    flushed = stage.flush();
  } finally {
    await stage.close();
  }
}, 120_000);

afterAll(() => tmp.cleanup());

describe('FaceStage events on a real clip', () => {
  it('sees no face while it is covered, and the face on both sides of the cover', () => {
    expect(results).toHaveLength(SHOT_A + SHOT_B);
    for (let i = HIDDEN[0]! + 1; i < HIDDEN[1]!; i++) expect(results[i]!.faces, `frame ${i}`).toEqual([]);
    expect(results[HIDDEN[0]! - 1]!.faces).toHaveLength(1);
    expect(results[HIDDEN[1]! + 1]!.faces).toHaveLength(1);
  });

  it('keeps the identity through the 8 covered frames', () => {
    const ids = new Set(results.slice(0, SHOT_A).flatMap((r) => r.faces.map((f) => f.trackId)));
    expect([...ids]).toEqual([1]);
    expect(results.slice(0, SHOT_A).flatMap((r) => r.endedTracks)).toEqual([]);
  });

  it('reports the cut at the first frame of the new shot only, ends the old track there and starts a new one', () => {
    const cuts = results.map((r, i) => (r.sceneCut ? i : -1)).filter((i) => i >= 0);
    expect(cuts).toEqual([SHOT_A]);
    expect(results[SHOT_A]!.endedTracks).toEqual([1]);
    const after = new Set(results.slice(SHOT_A).flatMap((r) => r.faces.map((f) => f.trackId)));
    expect([...after]).toEqual([2]);
    expect(flushed).toEqual([2]);
  });
});
