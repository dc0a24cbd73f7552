import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFaces } from '../../server/cli/faces.js';
import type { FacesReport } from '../../server/faces/run-faces.js';
import { encodeRgbFrames, loadAstronaut, renderFrame, similarityAbout } from '../helpers/faces-fixtures.js';
import { tempDir } from '../helpers/gst.js';

const tmp = tempDir('deepwatch-faces-cli-');
const clip = join(tmp.dir, 'two.mp4');
const N = 40;

beforeAll(async () => {
  const photo = loadAstronaut();
  await encodeRgbFrames(clip, 480, 270, 25, (function* () {
    for (let i = 0; i < N; i++) {
      yield renderFrame(photo, 480, 270, [
        { m: similarityAbout(224, 125, 0.45, 0, 120 + i, 135), columns: [0, 240] },
        { m: similarityAbout(287, 125, 0.5, 0, 360, 130), mirror: true, columns: [240, 480] },
      ]);
    }
  })());
}, 60_000);

afterAll(() => tmp.cleanup());

/** Runs `deepwatch faces ...` through the real command definition and returns what it printed. */
async function deepwatch(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerFaces(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => { out += chunk.toString(); return true; }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'deepwatch', 'faces', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('deepwatch faces', () => {
  it('--json prints each track with its span, frame count and mean size, and the totals', async () => {
    const crops = join(tmp.dir, 'crops');
    const report = JSON.parse(await deepwatch(clip, '--json', '--crops', crops)) as FacesReport;
    expect(report.width).toBe(480);
    expect(report.totals).toMatchObject({ tracks: 2, frames: N, sceneCuts: 0 });
    expect(report.totals.framesWithFaces).toBeGreaterThanOrEqual(N - 1);
    expect(report.tracks).toHaveLength(2);
    for (const t of report.tracks) {
      expect(Object.keys(t)).toEqual(expect.arrayContaining(['id', 'firstPts', 'lastPts', 'frames', 'meanSize']));
      expect(t.frames).toBeGreaterThanOrEqual(N - 1);
      expect(t.lastPts - t.firstPts).toBeGreaterThan(1.5e9);
      expect(t.meanSize).toBeGreaterThan(30);
      expect(t.meanSize).toBeLessThan(90);
    }
    // --crops: one PNG strip per track, a 112-pixel row per 32-frame window, 4 tiles a row.
    expect(readdirSync(crops).sort()).toEqual(['track-1.png', 'track-2.png']);
    const png = PNG.sync.read(readFileSync(join(crops, 'track-1.png')));
    expect([png.width, png.height]).toEqual([4 * 112, 2 * 112]);
    // Aligned faces, not black: the middle of the first tile is skin, bright.
    const mid = ((56 * png.width) + 56) * 4;
    expect(png.data[mid]! + png.data[mid + 1]! + png.data[mid + 2]!).toBeGreaterThan(300);
  });

  it('prints a readable summary without --json', async () => {
    const text = await deepwatch(clip, '--frames', '10');
    expect(text).toMatch(/two\.mp4: 480x270, 10 frames at [\d.]+ frames\/s, 2 tracks, faces in 10\/10 frames, 0 scene cuts/);
    expect(text).toMatch(/track 1: 0\.0\d\.\.0\.\d\d s, 10 frames \(coverage 100\.0%\)/);
  });

  it('rejects a bad option value with a message that names it', async () => {
    await expect(deepwatch(clip, '--min-score', '2')).rejects.toThrow(/--min-score must be a number within 0\.\.1, got 2/);
  });
});
