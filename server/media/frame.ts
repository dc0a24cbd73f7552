/** Pixel layouts the decoder can deliver. Everything downstream works on packed RGB. */
export type PixelFormat = 'RGB';

/**
 * One decoded video frame. Times are the stream's own clock in nanoseconds (GStreamer's
 * unit, kept as integers so a PTS sequence can be compared exactly); never wall time.
 */
export interface Frame {
  /** Presentation time in ns from the start of the stream. */
  pts: number;
  /** Frame duration in ns, or null when the source does not say. */
  duration: number | null;
  width: number;
  height: number;
  format: PixelFormat;
  /** Packed pixels, row after row, `width * 3` bytes a row, no padding. */
  data: Buffer;
  /** 0-based index of this frame among those the decoder delivered. */
  index: number;
}

/** What the decoder learned from the caps GStreamer negotiated. */
export interface VideoInfo {
  width: number;
  height: number;
  format: string;
  /** Frames per second as negotiated, or null for a variable/unknown rate. */
  fps: number | null;
}

export const NS_PER_SECOND = 1_000_000_000;
