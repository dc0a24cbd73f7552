/** Public types of the face stage: what the stages after it (windows, analysis) see. */

export type Point = [number, number];

/**
 * The five alignment points, in frame pixels, in the order of the FTCN template:
 * the eye and mouth corner on the image-left of an upright face first (the subject's
 * right eye and mouth corner), then the nose tip between them.
 * [left eye centre, right eye centre, nose tip, left mouth corner, right mouth corner].
 */
export type Landmarks5 = [Point, Point, Point, Point, Point];

/** Axis-aligned box in frame pixels (x, y = top-left corner). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One face in one frame, with the identity the tracker gave it. */
export interface FaceObservation {
  trackId: number;
  /** The frame's PTS in ns. */
  pts: number;
  frameIndex: number;
  box: Box;
  /** Detector confidence, 0..1. */
  score: number;
  landmarks: Landmarks5;
}

export interface FaceStageResult {
  faces: FaceObservation[];
  /** Tracks that ended at (or just before) this frame: lost for too long, or cut away. */
  endedTracks: number[];
  /** This frame starts a new shot; every track open before it was ended. */
  sceneCut: boolean;
}

/** A 2x3 affine matrix [a, b, tx, c, d, ty]: x' = a*x + b*y + tx, y' = c*x + d*y + ty. */
export type Affine = [number, number, number, number, number, number];

/** Packed RGB pixels, `width * 3` bytes a row. A Frame is one. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}
