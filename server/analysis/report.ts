/** The offline analysis report (`deepwatch analyze --report`); its JSON Schema is report.schema.json beside this file. */
export const REPORT_SCHEMA_ID = 'https://deepwatch.dev/schemas/analysis-report-1.json';

export interface ClipScoreRecord {
  /** Stream time in seconds of the clip's first and last frame. */
  ptsStart: number;
  ptsEnd: number;
  firstFrame: number;
  lastFrame: number;
  probability: number;
  /** True when the track was shorter than a clip and its frames were mirror-padded. */
  padded: boolean;
}

export interface FrameScoreRecord {
  frame: number;
  pts: number;
  /** Mean of the probabilities of every clip that covers this frame. */
  score: number;
  label: 'fake' | 'real';
  box: { x: number; y: number; width: number; height: number };
}

export interface TrackReport {
  id: number;
  firstPts: number;
  lastPts: number;
  frames: number;
  clips: ClipScoreRecord[];
  perFrame: FrameScoreRecord[];
  /** Mean of the track's clip probabilities; the verdict compares it with the threshold. */
  mean: number;
  peak: number;
  peakPts: number;
  verdict: 'fake' | 'real';
}

export interface AnalysisReport {
  $schema: typeof REPORT_SCHEMA_ID;
  source: string;
  createdAt: string;
  model: { name: string; threshold: number; clipLength: number; size: number };
  stride: number;
  video: { width: number; height: number; fps: number | null; frames: number; durationSeconds: number | null; analysedAt: { width: number; height: number } };
  /** 'fake' when any track is fake; 'no-faces' when no face was found. */
  verdict: 'fake' | 'real' | 'no-faces';
  fakeTracks: number[];
  tracks: TrackReport[];
  timing: { wallSeconds: number; framesPerSecond: number; clips: number; msPerClip: number | null };
}
