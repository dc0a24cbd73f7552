import { AlertPolicy, type CloseReason, type PolicyDecision } from './alert-policy.js';
import type { PolicyConfig } from './config.js';
import { RollingScore, type Verdict } from './rolling-score.js';

/** The alerts stage's memory of one track: its rolling score, its policy, its open alert. */
export class TrackAlertState {
  readonly stream: string;
  readonly trackId: number;
  readonly model: string;
  readonly threshold: number;
  readonly rolling: RollingScore;
  readonly #policyConfig: PolicyConfig;
  readonly #thresholds: { open: number; close: number };
  #policy: AlertPolicy;
  #lastPtsEnd = -Infinity;
  /** Id of the alert open for this track, if any. */
  alertId: string | null = null;
  /** Version of the open alert's stored evidence image, or null when it has none. */
  evidenceVersion: number | null = null;

  constructor(stream: string, trackId: number, model: string, thresholds: { open: number; close: number }, policy: PolicyConfig) {
    this.stream = stream;
    this.trackId = trackId;
    this.model = model;
    this.threshold = thresholds.open;
    this.#thresholds = thresholds;
    this.#policyConfig = policy;
    this.rolling = new RollingScore({ clips: policy.rollingClips, method: policy.rollingMethod, threshold: thresholds.open, verdictMinClips: policy.verdictMinClips });
    this.#policy = this.#newPolicy();
  }

  get verdict(): Verdict {
    return this.rolling.verdict;
  }

  get lastPtsEnd(): number {
    return this.#lastPtsEnd;
  }

  /**
   * True when a clip ends before the previous one did: the stream's clock restarted (a
   * publisher reconnected) or clips were reordered. The caller ends the incident first.
   */
  isDiscontinuity(ptsEnd: number): boolean {
    return ptsEnd < this.#lastPtsEnd - 1e-6;
  }

  /** Starts afresh after a discontinuity: empty window, idle policy. */
  reset(): void {
    this.rolling.reset();
    this.#policy = this.#newPolicy();
    this.#lastPtsEnd = -Infinity;
  }

  step(clip: { ptsStart: number; ptsEnd: number; probability: number; wallTime: number; evidence?: () => Buffer }): { rolling: number; decision: PolicyDecision | null } {
    const rolling = this.rolling.push(clip.probability);
    this.#lastPtsEnd = Math.max(this.#lastPtsEnd, clip.ptsEnd);
    return { rolling, decision: this.#policy.step({ ...clip, rolling }) };
  }

  end(reason: CloseReason, wallTime: number, pts?: number): PolicyDecision | null {
    return this.#policy.end(reason, wallTime, pts);
  }

  #newPolicy(): AlertPolicy {
    const p = this.#policyConfig;
    return new AlertPolicy({
      openThreshold: this.#thresholds.open,
      closeThreshold: this.#thresholds.close,
      minOpenSeconds: p.minOpenSeconds,
      minOpenClips: p.minOpenClips,
      minCloseSeconds: p.minCloseSeconds,
      minCloseClips: p.minCloseClips,
      updateIntervalSeconds: p.updateIntervalSeconds,
    });
  }
}
