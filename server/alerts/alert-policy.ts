import type { AlertPhase, AlertWire } from '../api/wire.js';

/** Why an alert closed. Kept in the store and sent in webhook bodies. */
export type CloseReason = 'recovered' | 'track-end' | 'stream-end' | 'shutdown' | 'discontinuity' | 'restart';

export interface AlertPolicyOptions {
  openThreshold: number;
  closeThreshold: number;
  minOpenSeconds: number;
  minOpenClips: number | null;
  minCloseSeconds: number;
  minCloseClips: number | null;
  updateIntervalSeconds: number;
}

/** One scored clip as the policy sees it: stream times in seconds, wall time in epoch ms. */
export interface PolicyClip {
  ptsStart: number;
  ptsEnd: number;
  probability: number;
  rolling: number;
  wallTime: number;
  /** Renders the evidence image of this clip; called only if it becomes an emitted peak. */
  evidence?: () => Buffer;
}

/** The alert's time range and scores as they go on the wire (peak and mean of the incident's clips). */
export interface IncidentSnapshot extends Pick<AlertWire, 'ptsStart' | 'ptsEnd' | 'wallStart' | 'wallEnd' | 'peak' | 'mean'> {
  clips: number;
  /**
   * The peak clip's evidence renderer, present only when the peak clip changed since the
   * previous decision (so the evidence is rendered once per new peak, not per clip).
   */
  newPeakEvidence: (() => Buffer) | null;
}

export interface PolicyDecision {
  phase: AlertPhase;
  incident: IncidentSnapshot;
  reason: CloseReason | null;
}

/** Running statistics over a set of clips, remembering the peak clip's evidence renderer. */
class ClipStats {
  count = 0;
  sum = 0;
  peak = -1;
  peakEvidence: (() => Buffer) | null = null;
  /** Increases every time the peak clip changes, so a caller can tell "a new peak since I looked". */
  peakSerial = 0;

  add(c: PolicyClip): void {
    this.count++;
    this.sum += c.probability;
    if (c.probability > this.peak) {
      this.peak = c.probability;
      this.peakEvidence = c.evidence ?? null;
      this.peakSerial++;
    }
  }

  absorb(o: ClipStats): void {
    this.count += o.count;
    this.sum += o.sum;
    if (o.peak > this.peak) {
      this.peak = o.peak;
      this.peakEvidence = o.peakEvidence;
      this.peakSerial++;
    }
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }
}

/** A stretch of consecutive clips on one side of a threshold. */
interface Run {
  firstEnd: number;
  clips: number;
  stats: ClipStats;
}

interface Incident {
  ptsStart: number;
  wallStart: number;
  /** End of the last clip whose rolling score was at or above the close threshold. */
  activeEnd: number;
  stats: ClipStats;
  /** Clips below the close threshold since the last active one: the incident may be ending. */
  tail: Run | null;
  lastEventPts: number;
  emittedPeakSerial: number;
}

/**
 * Hysteresis for one track, as a pure state machine (no I/O, no clock): it is fed the
 * track's clips in stream order and answers with at most one decision per call.
 *
 * idle -> arming: the rolling score reaches the open threshold.
 * arming -> open: it stays there for `minOpenSeconds` of stream time (measured between the
 *   ends of the first and the current clip, so a single clip never suffices unless the
 *   minimum is 0) or for `minOpenClips` clips; dropping below it first returns to idle.
 * open: clips at or above the close threshold extend the incident; a higher peak gives an
 *   `update`, at most one per `updateIntervalSeconds` of stream time (a rise held back by
 *   the limit is sent with the next clip after it).
 * open -> idle: the rolling score stays below the close threshold for `minCloseSeconds`
 *   (or `minCloseClips`), or the track ends. The below-threshold tail is not part of the
 *   incident: `ptsEnd`, peak and mean cover the clips up to the last active one.
 */
export class AlertPolicy {
  readonly #o: AlertPolicyOptions;
  #arming: (Run & { ptsStart: number; wallStart: number }) | null = null;
  #incident: Incident | null = null;

  constructor(options: AlertPolicyOptions) {
    const { openThreshold: open, closeThreshold: close } = options;
    if (!(open > 0 && open <= 1)) throw new TypeError(`openThreshold must be in (0, 1], got ${open}`);
    if (!(close >= 0 && close <= open)) throw new TypeError(`closeThreshold must be in [0, openThreshold=${open}], got ${close}`);
    this.#o = options;
  }

  get isOpen(): boolean {
    return this.#incident !== null;
  }

  step(clip: PolicyClip): PolicyDecision | null {
    const o = this.#o;
    const inc = this.#incident;
    if (inc === null) {
      if (clip.rolling < o.openThreshold) {
        this.#arming = null;
        return null;
      }
      const run = (this.#arming ??= { firstEnd: clip.ptsEnd, clips: 0, stats: new ClipStats(), ptsStart: clip.ptsStart, wallStart: clip.wallTime });
      run.clips++;
      run.stats.add(clip);
      if (!sustained(run, clip, o.minOpenSeconds, o.minOpenClips)) return null;
      this.#arming = null;
      const opened: Incident = {
        ptsStart: run.ptsStart,
        wallStart: run.wallStart,
        activeEnd: clip.ptsEnd,
        stats: run.stats,
        tail: null,
        lastEventPts: clip.ptsEnd,
        emittedPeakSerial: 0,
      };
      this.#incident = opened;
      return this.#decide('open', opened, null, null);
    }

    if (clip.rolling >= o.closeThreshold) {
      if (inc.tail) inc.stats.absorb(inc.tail.stats);
      inc.tail = null;
      inc.stats.add(clip);
      inc.activeEnd = clip.ptsEnd;
      const risen = inc.stats.peakSerial !== inc.emittedPeakSerial;
      if (risen && clip.ptsEnd - inc.lastEventPts >= o.updateIntervalSeconds - 1e-9) {
        inc.lastEventPts = clip.ptsEnd;
        return this.#decide('update', inc, null, null);
      }
      return null;
    }

    const tail = (inc.tail ??= { firstEnd: clip.ptsEnd, clips: 0, stats: new ClipStats() });
    tail.clips++;
    tail.stats.add(clip);
    if (!sustained(tail, clip, o.minCloseSeconds, o.minCloseClips)) return null;
    this.#incident = null;
    return this.#decide('close', inc, 'recovered', clip.wallTime);
  }

  /**
   * Ends the track's incident, if one is open (track or stream ended, shutdown). `pts` is
   * the last stream time the track was seen: when the incident was still active (no
   * recovering tail), it extends to there.
   */
  end(reason: CloseReason, wallTime: number, pts?: number): PolicyDecision | null {
    this.#arming = null;
    const inc = this.#incident;
    if (inc === null) return null;
    this.#incident = null;
    if (inc.tail === null && pts !== undefined && Number.isFinite(pts) && pts > inc.activeEnd) inc.activeEnd = pts;
    return this.#decide('close', inc, reason, wallTime);
  }

  #decide(phase: AlertPhase, inc: Incident, reason: CloseReason | null, wallEnd: number | null): PolicyDecision {
    const s = inc.stats;
    const fresh = s.peakSerial !== inc.emittedPeakSerial;
    inc.emittedPeakSerial = s.peakSerial;
    const newPeakEvidence = fresh ? s.peakEvidence : null;
    // Once handed out, the renderer (which may hold a clip's frames) is not kept alive here.
    if (fresh) s.peakEvidence = null;
    return {
      phase,
      reason,
      incident: {
        ptsStart: inc.ptsStart,
        ptsEnd: inc.activeEnd,
        wallStart: inc.wallStart,
        wallEnd,
        peak: s.peak,
        mean: s.mean,
        clips: s.count,
        newPeakEvidence,
      },
    };
  }
}

function sustained(run: Run, clip: PolicyClip, minSeconds: number, minClips: number | null): boolean {
  if (minClips !== null && run.clips >= minClips) return true;
  // PTS arrive as integer nanoseconds turned into seconds: allow for the rounding.
  return clip.ptsEnd - run.firstEnd >= minSeconds - 1e-9;
}
