import { describe, expect, it } from 'vitest';
import { AlertPolicy, RollingScore, type AlertPolicyOptions, type PolicyDecision } from '../../server/alerts/index.js';

const base: AlertPolicyOptions = {
  openThreshold: 0.5,
  closeThreshold: 0.4,
  minOpenSeconds: 1.0,
  minOpenClips: null,
  minCloseSeconds: 1.0,
  minCloseClips: null,
  updateIntervalSeconds: 1.0,
};

/** Feeds clips with given rolling scores (probability = rolling unless given), 0.32 s apart. */
function run(policy: AlertPolicy, rolling: number[], probs?: number[]): { decisions: (PolicyDecision & { index: number })[] } {
  const decisions: (PolicyDecision & { index: number })[] = [];
  rolling.forEach((r, i) => {
    const d = policy.step({ ptsStart: i * 0.32, ptsEnd: i * 0.32 + 1.28, rolling: r, probability: probs?.[i] ?? r, wallTime: 1000 + i * 320 });
    if (d) decisions.push({ ...d, index: i });
  });
  return { decisions };
}

describe('RollingScore', () => {
  it('mean over the last N clips, pending until verdictMinClips', () => {
    const r = new RollingScore({ clips: 4, method: 'mean', threshold: 0.5, verdictMinClips: 2 });
    expect(r.value).toBeNull();
    expect(r.verdict).toBe('pending');
    r.push(0.9);
    expect(r.verdict).toBe('pending');
    r.push(0.7);
    expect(r.value).toBeCloseTo(0.8);
    expect(r.verdict).toBe('fake');
    for (const p of [0.1, 0.1, 0.1]) r.push(p);
    // window is now [0.7, 0.1, 0.1, 0.1]
    expect(r.value).toBeCloseTo(0.25);
    expect(r.verdict).toBe('real');
  });

  it('trimmed-mean ignores one outlier; median takes the middle', () => {
    const t = new RollingScore({ clips: 4, method: 'trimmed-mean', threshold: 0.5, verdictMinClips: 1 });
    for (const p of [0.1, 0.1, 0.2, 0.99]) t.push(p);
    expect(t.value).toBeCloseTo(0.15);
    const m = new RollingScore({ clips: 3, method: 'median', threshold: 0.5, verdictMinClips: 1 });
    for (const p of [0.9, 0.1, 0.6]) m.push(p);
    expect(m.value).toBeCloseTo(0.6);
  });

  it('push() rejects a probability outside [0, 1] with a TypeError naming it', () => {
    const r = new RollingScore({ clips: 4, method: 'mean', threshold: 0.5, verdictMinClips: 1 });
    expect(() => r.push(1.5)).toThrow(/got 1.5/);
    expect(() => r.push(Number.NaN)).toThrow(TypeError);
  });
});

describe('AlertPolicy', () => {
  it('a brief crossing (shorter than minOpenSeconds) does not open', () => {
    const p = new AlertPolicy(base);
    // Above the open threshold for 3 clips = 0.64 s between first and last clip end.
    const { decisions } = run(p, [0.1, 0.2, 0.9, 0.95, 0.9, 0.3, 0.1, 0.6, 0.1]);
    expect(decisions).toEqual([]);
    expect(p.isOpen).toBe(false);
  });

  it('a crossing that dips below the open threshold before minOpenSeconds starts over', () => {
    const p = new AlertPolicy(base);
    // 0.64 s above, one dip (0.45: above close but below open), 0.64 s above again.
    const { decisions } = run(p, [0.9, 0.9, 0.9, 0.45, 0.9, 0.9, 0.9, 0.2]);
    expect(decisions).toEqual([]);
  });

  it('a sustained rise gives one open, updates only on a higher peak, and one close with peak/mean/pts range', () => {
    const p = new AlertPolicy(base);
    const rolling = [0.1, 0.2, 0.6, 0.7, 0.7, 0.7, 0.75, 0.8, 0.8, 0.79, 0.7, 0.9, 0.9, 0.9, 0.92, 0.6, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1];
    const { decisions } = run(p, rolling);
    const phases = decisions.map((d) => d.phase);
    expect(phases[0]).toBe('open');
    expect(phases.filter((x) => x === 'open')).toHaveLength(1);
    expect(phases.filter((x) => x === 'close')).toHaveLength(1);
    expect(phases.at(-1)).toBe('close');
    // Opens once 1.0 s of stream time has passed since the first clip at/above 0.5 (index 2):
    // index 2 + ceil(1.0 / 0.32) = index 6.
    expect(decisions[0].index).toBe(6);
    expect(decisions[0].incident.ptsStart).toBeCloseTo(2 * 0.32);
    expect(decisions[0].incident.peak).toBeCloseTo(0.75);

    let lastPeak = decisions[0].incident.peak;
    let lastPts = decisions[0].incident.ptsEnd;
    for (const u of decisions.filter((d) => d.phase === 'update')) {
      expect(u.incident.peak).toBeGreaterThan(lastPeak);
      expect(u.incident.ptsEnd - lastPts).toBeGreaterThanOrEqual(1.0 - 1e-9);
      lastPeak = u.incident.peak;
      lastPts = u.incident.ptsEnd;
    }
    expect(phases.filter((x) => x === 'update').length).toBeGreaterThanOrEqual(1);

    // Active (>= close threshold 0.4) clips are indices 2..15; 16.. are the recovering tail.
    const close = decisions.at(-1)!;
    const active = rolling.slice(2, 16);
    expect(close.reason).toBe('recovered');
    expect(close.incident.ptsStart).toBeCloseTo(2 * 0.32);
    expect(close.incident.ptsEnd).toBeCloseTo(15 * 0.32 + 1.28);
    expect(close.incident.peak).toBeCloseTo(0.92);
    expect(close.incident.mean).toBeCloseTo(active.reduce((a, b) => a + b, 0) / active.length);
    expect(close.incident.clips).toBe(active.length);
    expect(close.incident.wallEnd).not.toBeNull();
    // Closes once 1.0 s below 0.4 has passed since the first clip below it (index 16).
    expect(close.index).toBe(16 + Math.ceil(1.0 / 0.32));
  });

  it('a dip below close that recovers before minCloseSeconds keeps the alert open, and the dip counts in the mean', () => {
    const p = new AlertPolicy({ ...base, minOpenSeconds: 0 });
    const { decisions } = run(p, [0.9, 0.3, 0.3, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1]);
    expect(decisions.map((d) => d.phase)).toEqual(['open', 'close']);
    const close = decisions[1];
    expect(close.incident.clips).toBe(4);
    expect(close.incident.mean).toBeCloseTo((0.9 + 0.3 + 0.3 + 0.8) / 4);
  });

  it('a peak rise held back by the rate limit is sent with the next clip after the interval', () => {
    const p = new AlertPolicy({ ...base, minOpenSeconds: 0, updateIntervalSeconds: 1.0 });
    // Opens at index 0 (peak 0.6); higher peaks at 1 and 2 are within 1 s; index 4 is 1.28 s later.
    const { decisions } = run(p, [0.6, 0.7, 0.8, 0.7, 0.7, 0.7]);
    expect(decisions.map((d) => [d.phase, d.index])).toEqual([
      ['open', 0],
      ['update', 4],
    ]);
    expect(decisions[1].incident.peak).toBeCloseTo(0.8);
  });

  it('minOpenClips opens after that many clips even before minOpenSeconds', () => {
    const p = new AlertPolicy({ ...base, minOpenSeconds: 10, minOpenClips: 2 });
    const { decisions } = run(p, [0.9, 0.9, 0.9]);
    expect(decisions.map((d) => [d.phase, d.index])).toEqual([['open', 1]]);
  });

  it('end() closes an open incident at the last time the track was seen', () => {
    const p = new AlertPolicy({ ...base, minOpenSeconds: 0 });
    run(p, [0.9, 0.9]);
    const d = p.end('track-end', 5000, 3.5);
    expect(d?.phase).toBe('close');
    expect(d?.reason).toBe('track-end');
    expect(d?.incident.ptsEnd).toBe(3.5);
    expect(d?.incident.wallEnd).toBe(5000);
    expect(p.isOpen).toBe(false);
    expect(p.end('track-end', 6000, 4)).toBeNull();
  });

  it('asks for evidence only when the peak clip changed since the last decision', () => {
    const p = new AlertPolicy({ ...base, minOpenSeconds: 0, updateIntervalSeconds: 0 });
    const rendered: number[] = [];
    const decisions: PolicyDecision[] = [];
    [0.6, 0.9, 0.8, 0.95].forEach((r, i) => {
      const d = p.step({ ptsStart: i, ptsEnd: i + 1, rolling: r, probability: r, wallTime: i, evidence: () => Buffer.from([i]) });
      if (d) decisions.push(d);
    });
    decisions.push(p.end('shutdown', 99)!);
    for (const d of decisions) if (d.incident.newPeakEvidence) rendered.push(d.incident.newPeakEvidence()[0]);
    // open (peak clip 0), update (clip 1), update (clip 3); the close has no new peak.
    expect(decisions.map((d) => d.phase)).toEqual(['open', 'update', 'update', 'close']);
    expect(rendered).toEqual([0, 1, 3]);
  });

  it('rejects a close threshold above the open threshold', () => {
    expect(() => new AlertPolicy({ ...base, closeThreshold: 0.6 })).toThrow(/closeThreshold/);
  });
});
