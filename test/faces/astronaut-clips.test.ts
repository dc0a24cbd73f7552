import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrames } from '../../server/media/frames.js';
import type { Frame } from '../../server/media/frame.js';
import { FaceStage } from '../../server/faces/face-stage.js';
import { mapLandmarks, templateFor, windowTransform } from '../../server/faces/align.js';
import { applyAffine } from '../../server/faces/geometry.js';
import type { Affine, FaceObservation, Landmarks5, Point } from '../../server/faces/types.js';
import { encodeRgbFrames, loadAstronaut, renderFrame, similarityAbout, type Layer } from '../helpers/faces-fixtures.js';
import { tempDir } from '../helpers/gst.js';

/*
 * End to end on real video: the astronaut photo animated (pan, zoom, small rotation) and
 * encoded with x264, then decoded by the real decoder and run through the real models.
 * Ground truth is the animation itself: every frame's transform of the photo is known.
 */

const W = 640, H = 360, FPS = 30, N = 60;
const FACE: Point = [224, 125]; // face centre in the photo
const photo = loadAstronaut();

/** Single face: pans across, zooms from 0.7x to 1.0x, rolls up to +-8 degrees. */
function singleMotion(i: number): Affine {
  const t = i / (N - 1);
  return similarityAbout(FACE[0], FACE[1], 0.7 + 0.3 * t, 0.14 * Math.sin(2 * Math.PI * t), 200 + 240 * t, 180 + 20 * Math.sin(3 * Math.PI * t));
}

/** Two faces, one per half: a mirrored copy on the right so they differ. */
function twoLayers(i: number): Layer[] {
  const t = i / (N - 1);
  return [
    { m: similarityAbout(FACE[0], FACE[1], 0.6 + 0.15 * t, 0.08 * Math.sin(2 * Math.PI * t), 160 + 25 * Math.sin(2 * Math.PI * t), 180), columns: [0, 320] },
    { m: similarityAbout(511 - FACE[0], FACE[1], 0.8, -0.1 * t, 480, 170 + 15 * Math.sin(2 * Math.PI * t)), mirror: true, columns: [320, 640] },
  ];
}

interface Run { frames: Frame[]; results: { faces: FaceObservation[]; endedTracks: number[]; sceneCut: boolean }[]; flushed: number[] }

async function runClip(path: string): Promise<Run> {
  const stage = await FaceStage.create();
  const run: Run = { frames: [], results: [], flushed: [] };
  try {
    for await (const f of decodeFrames({ source: { kind: 'file', path } })) {
      run.frames.push(f);
      run.results.push(await stage.process(f));
    }
    run.flushed = stage.flush();
  } finally {
    await stage.close();
  }
  return run;
}

const tmp = tempDir('deepwatch-faces-');
let single: Run;
let two: Run;
let still: Landmarks5;

beforeAll(async () => {
  const singlePath = join(tmp.dir, 'astronaut.mp4');
  const twoPath = join(tmp.dir, 'two-faces.mp4');
  await encodeRgbFrames(singlePath, W, H, FPS, (function* () {
    for (let i = 0; i < N; i++) yield renderFrame(photo, W, H, [{ m: singleMotion(i) }]);
  })());
  await encodeRgbFrames(twoPath, W, H, FPS, (function* () {
    for (let i = 0; i < N; i++) yield renderFrame(photo, W, H, twoLayers(i));
  })());
  single = await runClip(singlePath);
  two = await runClip(twoPath);
  // The landmarks of the still photo, in photo pixels: mapped through each frame's known transform they are that frame's truth.
  const stage = await FaceStage.create();
  try {
    const r = await stage.process({ pts: 0, duration: null, index: 0, format: 'RGB', ...photo });
    expect(r.faces).toHaveLength(1);
    still = r.faces[0]!.landmarks;
  } finally {
    await stage.close();
  }
}, 180_000);

afterAll(() => tmp.cleanup());

const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const EYE_MOUTH = [0, 1, 3, 4];

describe('face stage on the animated astronaut', () => {
  it('decodes every frame of the clip', () => {
    expect(single.frames).toHaveLength(N);
  });

  it('finds the face in at least 98% of frames, where it is', () => {
    let hits = 0;
    single.results.forEach((r, i) => {
      const truth = applyAffine(singleMotion(i), FACE);
      if (r.faces.some((f) => dist([f.box.x + f.box.width / 2, f.box.y + f.box.height / 2], truth) < 0.3 * f.box.width)) hits++;
    });
    expect(hits / N).toBeGreaterThanOrEqual(0.98);
  });

  it('keeps exactly one track for the whole clip', () => {
    const ids = new Set(single.results.flatMap((r) => r.faces.map((f) => f.trackId)));
    expect([...ids]).toHaveLength(1);
    expect(single.results.some((r) => r.sceneCut)).toBe(false);
    expect(single.results.flatMap((r) => r.endedTracks)).toEqual([]);
    expect(single.flushed).toEqual([...ids]);
  });

  it('puts the landmarks where the animation moved them (mean error under 2.5 frame pixels)', () => {
    const errs: number[] = [];
    single.results.forEach((r, i) => {
      const f = r.faces[0];
      if (!f) return;
      const truth = mapLandmarks(singleMotion(i), still);
      for (let k = 0; k < 5; k++) errs.push(dist(f.landmarks[k]!, truth[k]!));
    });
    const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
    expect(mean).toBeLessThan(2.5);
  });

  it('aligns eyes and mouth corners within 3 px of where this face meets the template, per window and per frame', () => {
    // Where the still photo's points land under its own alignment: the template plus this
    // face's fixed deviation from it (a smiling face is not the template's average face).
    const tpl = templateFor(224);
    const stillAligned = mapLandmarks(windowTransform([still], 224), still);
    const shapeGap = EYE_MOUTH.map((k) => dist(stillAligned[k]!, tpl[k]!));
    // A similarity cannot remove shape differences; this records how far this face is from the template at all.
    expect(Math.max(...shapeGap)).toBeLessThan(15);

    const obs = single.results.map((r) => r.faces[0]!).filter(Boolean);
    const perFrame: number[] = [];
    const joint: number[] = [];
    for (let w = 0; w + 32 <= obs.length; w += 32) {
      const win = obs.slice(w, w + 32);
      const m = windowTransform(win.map((f) => f.landmarks), 224);
      // The ideal joint transform: the same fit on the true landmarks of those frames.
      const ideal = windowTransform(win.map((f) => mapLandmarks(singleMotion(f.frameIndex), still)), 224);
      for (const f of win) {
        const truth = mapLandmarks(singleMotion(f.frameIndex), still);
        const got = mapLandmarks(m, truth);
        const want = mapLandmarks(ideal, truth);
        for (const k of EYE_MOUTH) joint.push(dist(got[k]!, want[k]!));
        const own = mapLandmarks(windowTransform([f.landmarks], 224), f.landmarks);
        for (const k of EYE_MOUTH) perFrame.push(dist(own[k]!, stillAligned[k]!));
      }
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(joint.length).toBeGreaterThan(0);
    expect(mean(joint)).toBeLessThan(3);
    expect(mean(perFrame)).toBeLessThan(3);
  });
});

describe('face stage on two faces at once', () => {
  it('finds both faces in at least 98% of frames and keeps one track each for the whole clip', () => {
    const tracks = new Map<number, number>();
    let bothFound = 0;
    two.results.forEach((r, i) => {
      const truths = twoLayers(i).map((l, j) => applyAffine(l.m, j === 0 ? FACE : [511 - FACE[0], FACE[1]]));
      const found = truths.filter((t) => r.faces.some((f) => dist([f.box.x + f.box.width / 2, f.box.y + f.box.height / 2], t) < 0.3 * f.box.width));
      if (found.length === 2) bothFound++;
      for (const f of r.faces) tracks.set(f.trackId, (tracks.get(f.trackId) ?? 0) + 1);
    });
    expect(bothFound / N).toBeGreaterThanOrEqual(0.98);
    expect(tracks.size).toBe(2);
    for (const n of tracks.values()) expect(n / N).toBeGreaterThanOrEqual(0.98);
    // The left face stays left and the right face right: identities did not swap.
    const sides = new Map<number, Set<boolean>>();
    for (const r of two.results) for (const f of r.faces) {
      if (!sides.has(f.trackId)) sides.set(f.trackId, new Set());
      sides.get(f.trackId)!.add(f.box.x + f.box.width / 2 < W / 2);
    }
    for (const s of sides.values()) expect(s.size).toBe(1);
  });

  it('orders the five points as the template does: image-left eye and mouth corner first', () => {
    for (const r of two.results) for (const f of r.faces) {
      const [le, re, nose, lm, rm] = f.landmarks;
      expect(le[0]).toBeLessThan(re[0]);
      expect(lm[0]).toBeLessThan(rm[0]);
      expect(nose[1]).toBeGreaterThan((le[1] + re[1]) / 2);
      expect(lm[1]).toBeGreaterThan(nose[1]);
    }
  });
});
