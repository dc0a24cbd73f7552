import { describe, expect, it } from 'vitest';
import { mirrorIndices } from '../../server/analysis/mirror-pad.js';
import { ClipScheduler } from '../../server/analysis/scheduler.js';
import type { ClipRunner } from '../../server/analysis/clip-runner.js';
import type { ClipJob } from '../../server/analysis/clip.js';

describe('mirrorIndices', () => {
  it('pads by ping-pong reflection, every index in range', () => {
    expect(mirrorIndices(3, 9)).toEqual([0, 1, 2, 1, 0, 1, 2, 1, 0]);
    expect(mirrorIndices(1, 4)).toEqual([0, 0, 0, 0]);
    expect(mirrorIndices(5, 5)).toEqual([0, 1, 2, 3, 4]);
    for (let n = 1; n < 20; n++) {
      const idx = mirrorIndices(n, 32);
      expect(idx).toHaveLength(32);
      expect(Math.max(...idx)).toBe(n - 1);
      expect(Math.min(...idx)).toBe(0);
    }
  });

  it('rejects an empty track', () => {
    expect(() => mirrorIndices(0, 8)).toThrow(RangeError);
  });
});

/** A model stand-in that returns each clip's first pixel / 255; the real model is tested elsewhere. */
function echoRunner(maxBatch: number, delayMs = 5): ClipRunner & { batches: number[] } {
  const batches: number[] = [];
  return {
    name: 'echo', clipLength: 2, size: 1, threshold: 0.5, alignment: 'joint', maxBatch, batches,
    async score(clips) {
      batches.push(clips.length);
      await new Promise((r) => setTimeout(r, delayMs));
      return { probs: Float32Array.from(clips.map((c) => c[0]![0]! / 255)), ms: delayMs };
    },
  };
}

function job(trackId: number, value: number, risk = 0): ClipJob {
  const f = Buffer.from([value, 0, 0]);
  return { stream: 's', trackId, ptsStart: 0, ptsEnd: 1, frameIndices: [0, 1], frames: [f, f], risk, arrivedAt: performance.now() };
}

describe('ClipScheduler', () => {
  it('batches queued clips up to the runner limit and returns each clip its own score', async () => {
    const runner = echoRunner(4);
    const s = new ClipScheduler(runner, { maxQueue: 100 });
    const got = new Map<number, number>();
    s.on('result', (r) => got.set(r.job.trackId, r.probability));
    for (let i = 0; i < 10; i++) s.submit(job(i, i * 10));
    await s.drain();
    expect(runner.batches).toEqual([1, 4, 4, 1]);
    for (let i = 0; i < 10; i++) expect(got.get(i)).toBeCloseTo((i * 10) / 255, 6);
    expect(s.stats).toMatchObject({ submitted: 10, scored: 10, skipped: 0, queued: 0 });
    await s.close();
  });

  it('when full, skips the least risky clip and counts it', async () => {
    const s = new ClipScheduler(echoRunner(1, 20), { maxQueue: 2 });
    const skipped: number[] = [];
    s.on('skipped', (j) => skipped.push(j.trackId));
    s.submit(job(1, 0, 0.5)); // goes straight to the model
    s.submit(job(2, 0, 0.1));
    s.submit(job(3, 0, 0.9));
    expect(s.submit(job(4, 0, 0.05))).toBe(false); // least risky of all: refused
    s.submit(job(5, 0, 0.7)); // pushes out track 2
    await s.drain();
    expect(skipped).toEqual([4, 2]);
    expect(s.stats.skipped).toBe(2);
    await s.close();
  });

  it('rejects a clip of the wrong length with a TypeError naming the track', () => {
    const s = new ClipScheduler(echoRunner(1));
    const bad = job(7, 0);
    bad.frames = [bad.frames[0]!];
    expect(() => s.submit(bad)).toThrow(/track 7 has 1 frames, the model takes 2/);
  });

  it('reports a failing model as an error event and keeps going', async () => {
    let calls = 0;
    const runner: ClipRunner = { ...echoRunner(1), async score(clips) { calls++; if (calls === 1) throw new Error('boom'); return { probs: new Float32Array(clips.length), ms: 1 }; } };
    const s = new ClipScheduler(runner);
    const errors: string[] = [];
    let results = 0;
    s.on('error', (e) => errors.push(e.message));
    s.on('result', () => results++);
    s.submit(job(1, 0));
    s.submit(job(2, 0));
    await s.drain();
    expect(errors).toEqual(['boom']);
    expect(results).toBe(1);
    expect(s.stats.failed).toBe(1);
  });
});
