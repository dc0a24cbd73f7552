import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlazeFaceDetector, detectionRegions } from '../../server/faces/blazeface.js';
import { applyAffine } from '../../server/faces/geometry.js';
import type { Affine, RgbImage } from '../../server/faces/types.js';
import { loadAstronaut, renderFrame, similarityAbout } from '../helpers/faces-fixtures.js';

const photo = loadAstronaut();
const FACE: [number, number] = [224, 125];
let det: BlazeFaceDetector;

beforeAll(async () => { det = await BlazeFaceDetector.create({ tiles: 'off' }); });
afterAll(async () => { await det.close(); });

function scene(width: number, height: number, m: Affine): RgbImage {
  return { data: renderFrame(photo, width, height, [{ m }]), width, height };
}

describe('BlazeFaceDetector', () => {
  it.each([
    ['wide', 1280, 400, similarityAbout(224, 125, 0.8, 0, 900, 200)],
    ['tall', 300, 900, similarityAbout(224, 125, 0.5, 0, 150, 700)],
    ['square, turned', 512, 512, similarityAbout(224, 125, 1, 0.3, 256, 256)],
  ] as const)('finds the face where it is in a %s frame (letterboxing keeps the geometry)', async (_, w, h, m) => {
    const faces = await det.detect(scene(w, h, m as Affine));
    expect(faces).toHaveLength(1);
    const [cx, cy] = applyAffine(m as Affine, FACE);
    const f = faces[0]!;
    expect(Math.hypot(f.box.x + f.box.width / 2 - cx, f.box.y + f.box.height / 2 - cy)).toBeLessThan(0.15 * f.box.width);
    // Keypoints 0 and 1 are the eyes, image-left first on an upright face.
    expect(f.keypoints[0]![0]).toBeLessThan(f.keypoints[1]![0]);
    expect(f.score).toBeGreaterThan(0.5);
  });

  it('drops faces below minFaceSize and below minScore', async () => {
    const img = scene(640, 360, similarityAbout(224, 125, 0.6, 0, 320, 180));
    expect(await det.detect(img)).toHaveLength(1);
    const big = await BlazeFaceDetector.create({ tiles: 'off', minFaceSize: 200 });
    const strict = await BlazeFaceDetector.create({ tiles: 'off', minScore: 0.999 });
    try {
      expect(await big.detect(img)).toEqual([]);
      expect(await strict.detect(img)).toEqual([]);
    } finally {
      await big.close();
      await strict.close();
    }
  });

  it('finds nothing in a plain grey frame', async () => {
    expect(await det.detect({ data: Buffer.alloc(320 * 240 * 3, 128), width: 320, height: 240 })).toEqual([]);
  });

  it('throws TypeError for options out of range', async () => {
    await expect(BlazeFaceDetector.create({ minScore: 2 })).rejects.toThrow(TypeError);
    await expect(BlazeFaceDetector.create({ maxFaces: 0 })).rejects.toThrow(TypeError);
  });
});

describe('detectionRegions()', () => {
  it('adds the two end squares only for wide (or tall) frames with a short side of at least 3x the input', () => {
    expect(detectionRegions(1920, 1080, 256, 'all')).toEqual([
      { x: 0, y: 0, width: 1920, height: 1080 }, { x: 0, y: 0, width: 1080, height: 1080 }, { x: 840, y: 0, width: 1080, height: 1080 },
    ]);
    expect(detectionRegions(1080, 1920, 256, 'auto')).toHaveLength(3);
    expect(detectionRegions(1280, 720, 256, 'all')).toHaveLength(1);
    expect(detectionRegions(640, 360, 256, 'auto')).toHaveLength(1);
    expect(detectionRegions(1000, 1000, 256, 'auto')).toHaveLength(1);
    expect(detectionRegions(1920, 1080, 256, 'off')).toHaveLength(1);
  });
});
