import { describe, expect, it } from 'vitest';
import { FaceTracker, type TrackInput } from '../../server/faces/tracker.js';
import type { Landmarks5 } from '../../server/faces/types.js';

const FRAME_NS = 33_366_667; // 29.97 fps

function face(cx: number, cy: number, size = 80): TrackInput {
  const x = cx - size / 2, y = cy - size / 2, s = size / 224;
  const lm = [[75, 75], [148, 74], [112, 120], [79, 153], [146, 152]].map(([a, b]) => [x + a! * s, y + b! * s]) as Landmarks5;
  return { box: { x, y, width: size, height: size }, score: 0.9, landmarks: lm };
}

/** Feeds frames (a list of faces each) and returns the id given to each face, frame by frame, and every ended id. */
function run(tracker: FaceTracker, frames: TrackInput[][]): { ids: number[][]; ended: number[][] } {
  const ids: number[][] = [], ended: number[][] = [];
  frames.forEach((faces, i) => {
    const r = tracker.update(faces, i * FRAME_NS, i);
    ids.push(r.ids);
    ended.push(r.ended);
  });
  return { ids, ended };
}

describe('FaceTracker', () => {
  it('keeps one identity per face for several faces moving at once', () => {
    const frames = Array.from({ length: 60 }, (_, i) => [face(100 + 2 * i, 200), face(400, 150 + i), face(600 - 3 * i, 300, 60)]);
    const { ids } = run(new FaceTracker(), frames);
    expect(ids[0]).toEqual([1, 2, 3]);
    for (const frameIds of ids) expect(frameIds).toEqual([1, 2, 3]);
  });

  it('keeps the identity through missed detections (a 10-frame gap) when the face comes back where it should be', () => {
    const frames = Array.from({ length: 40 }, (_, i) => {
      const a = face(100 + 3 * i, 200);
      return i >= 15 && i < 25 ? [face(500, 200)] : [a, face(500, 200)];
    });
    const { ids, ended } = run(new FaceTracker(), frames);
    expect(ids[14]).toEqual([1, 2]);
    expect(ids[16]).toEqual([2]);
    expect(ids[25]).toEqual([1, 2]);
    expect(ids[39]).toEqual([1, 2]);
    expect(ended.flat()).toEqual([]);
  });

  it('ends a track that stays missing longer than maxMissedMs, at the frame that crosses it; a later face gets a new id', () => {
    const tracker = new FaceTracker({ maxMissedMs: 500, maxMissedFrames: 1000 });
    const frames = Array.from({ length: 50 }, (_, i) => (i < 10 || i >= 40 ? [face(200, 200)] : []));
    const { ids, ended } = run(tracker, frames);
    const endFrame = ended.findIndex((e) => e.length > 0);
    // Last seen at frame 9; frame 24 is 15 frames (500.5 ms) on, the first past 500 ms.
    expect(endFrame).toBe(24);
    expect(ended[endFrame]).toEqual([1]);
    expect(ids[40]).toEqual([2]);
  });

  it('ends a track after maxMissedFrames frames without its face', () => {
    const { ended } = run(new FaceTracker({ maxMissedFrames: 3 }), [[face(200, 200)], [], [], [], []]);
    expect(ended.map((e) => e.length)).toEqual([0, 0, 0, 0, 1]);
  });

  it('keeps both identities when two faces cross and the one behind is hidden while they overlap', () => {
    const frames = Array.from({ length: 80 }, (_, i) => {
      const a = face(100 + 5 * i, 200, 90); // in front, moving right
      const b = face(500 - 5 * i, 210, 80); // behind, moving left
      const hidden = Math.abs(a.box.x - b.box.x) < 70;
      return hidden ? [a] : [a, b];
    });
    expect(frames.some((f) => f.length === 1)).toBe(true);
    const { ids } = run(new FaceTracker(), frames);
    for (let i = 0; i < frames.length; i++) {
      expect(ids[i]![0], `frame ${i}`).toBe(1);
      if (frames[i]!.length === 2) expect(ids[i]![1], `frame ${i}`).toBe(2);
    }
  });

  it('does not hand a track to a face of a very different size at the same place', () => {
    const { ids } = run(new FaceTracker(), [[face(200, 200, 80)], [face(200, 200, 200)]]);
    expect(ids).toEqual([[1], [2]]);
  });

  it('refuses a match whose colour histogram is too unlike the track (someone else in the same place)', () => {
    const tint = (f: TrackInput, c: number[]): TrackInput => ({ ...f, colour: Float32Array.from(c.map(Math.sqrt)) });
    const t = new FaceTracker();
    t.update([tint(face(200, 200), [0.5, 0.5, 0, 0])], 0, 0);
    expect(t.update([tint(face(205, 200), [0.45, 0.55, 0, 0])], FRAME_NS, 1).ids).toEqual([1]);
    expect(t.update([tint(face(210, 200), [0, 0, 0.5, 0.5])], 2 * FRAME_NS, 2).ids).toEqual([2]);
  });

  it('does not take a face back after a miss when its appearance pattern is unlike the track', () => {
    const look = (f: TrackInput, v: number[]): TrackInput => {
      const a = Float32Array.from(v);
      const n = Math.hypot(...v);
      return { ...f, appearance: a.map((x) => x / n) };
    };
    const t = new FaceTracker();
    t.update([look(face(200, 200), [1, 0, 0])], 0, 0);
    t.update([], FRAME_NS, 1);
    // Back where it was, but a different pattern (orthogonal): a new person, a new track.
    expect(t.update([look(face(204, 200), [0, 1, 0])], 2 * FRAME_NS, 2).ids).toEqual([2]);
    // Without a miss in between, the same change is taken as the same face turning.
    const u = new FaceTracker();
    u.update([look(face(200, 200), [1, 0, 0])], 0, 0);
    expect(u.update([look(face(204, 200), [0, 1, 0])], FRAME_NS, 1).ids).toEqual([1]);
  });

  it('ends a track soon once it is predicted outside the frame', () => {
    const t = new FaceTracker({ maxMissedFrames: 30 });
    const frame = { width: 640, height: 360 };
    const ended: number[][] = [];
    for (let i = 0; i < 12; i++) {
      const faces = i < 8 ? [face(420 + 30 * i, 180)] : [];
      ended.push(t.update(faces, i * FRAME_NS, i, frame).ended);
    }
    // Moving 30 px a frame, last seen at x=630 (frame 7): predicted outside from frame 8, ended at the second miss.
    expect(ended.findIndex((e) => e.length > 0)).toBe(9);
  });

  it('endAll() ends every open track (a scene cut) and later faces start new tracks', () => {
    const t = new FaceTracker();
    t.update([face(100, 100), face(300, 100)], 0, 0);
    expect(t.endAll()).toEqual([1, 2]);
    expect(t.tracks).toEqual([]);
    expect(t.update([face(100, 100)], FRAME_NS, 1).ids).toEqual([3]);
  });

  it('throws TypeError for options out of range', () => {
    expect(() => new FaceTracker({ maxMissedFrames: -1 })).toThrow(TypeError);
    expect(() => new FaceTracker({ maxShift: 0 })).toThrow(TypeError);
    expect(() => new FaceTracker({ maxSizeRatio: 0.5 })).toThrow(TypeError);
  });
});
