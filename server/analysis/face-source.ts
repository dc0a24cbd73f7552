import type { Frame } from '../media/frame.js';
import type { FaceStageResult } from '../faces/types.js';

/** What the analysis needs from the face stage: one result per frame, in order. */
export interface FaceSource {
  process(frame: Frame): Promise<FaceStageResult>;
  /** Ends every open track at end of stream; returns their ids. */
  flush(): number[];
}
