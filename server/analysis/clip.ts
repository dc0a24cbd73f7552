/** A clip of aligned face frames for one track, ready for the model. */
export interface ClipJob {
  stream: string;
  trackId: number;
  /** Stream time (ns) of the first and last frame in the clip. */
  ptsStart: number;
  ptsEnd: number;
  /** Decoder frame indices of the clip's frames, in order (repeats when mirror-padded). */
  frameIndices: number[];
  /** T aligned RGB frames, each size*size*3 bytes. */
  frames: Buffer[];
  /** The track's rolling score when submitted: low-risk clips are the first to be skipped. */
  risk: number;
  /** performance.now() when the newest frame of the clip arrived. */
  arrivedAt: number;
}

export interface ClipResult {
  job: ClipJob;
  probability: number;
  /** Model time for the batch this clip was in, divided by the batch size. */
  msPerClip: number;
  /** performance.now() when the score was ready. */
  scoredAt: number;
}
