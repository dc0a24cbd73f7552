import { iou } from './geometry.js';
import type { Box, Point } from './types.js';

/** A raw detector candidate: box and keypoints in frame pixels. */
export interface Candidate {
  box: Box;
  score: number;
  keypoints: Point[];
}

/**
 * Non-maximum suppression. 'weighted' (MediaPipe's blending) replaces each kept box and
 * its keypoints by the score-weighted mean of the candidates it suppresses: the anchors
 * around one face vote, which steadies the box from frame to frame. 'hard' keeps the best
 * candidate as it is.
 */
export function nms(cands: Candidate[], iouThreshold: number, mode: 'weighted' | 'hard', maxOut: number): Candidate[] {
  const sorted = [...cands].sort((a, b) => b.score - a.score);
  const used = new Uint8Array(sorted.length);
  const out: Candidate[] = [];
  for (let i = 0; i < sorted.length && out.length < maxOut; i++) {
    if (used[i]) continue;
    const top = sorted[i]!;
    used[i] = 1;
    const group: Candidate[] = [top];
    for (let j = i + 1; j < sorted.length; j++) {
      if (!used[j] && iou(top.box, sorted[j]!.box) > iouThreshold) {
        used[j] = 1;
        group.push(sorted[j]!);
      }
    }
    if (mode === 'hard' || group.length === 1) {
      out.push(top);
      continue;
    }
    let wsum = 0, x = 0, y = 0, w = 0, h = 0;
    const kps: Point[] = top.keypoints.map(() => [0, 0]);
    for (const c of group) {
      wsum += c.score;
      x += c.box.x * c.score; y += c.box.y * c.score; w += c.box.width * c.score; h += c.box.height * c.score;
      c.keypoints.forEach((p, k) => { kps[k]![0] += p[0] * c.score; kps[k]![1] += p[1] * c.score; });
    }
    out.push({
      box: { x: x / wsum, y: y / wsum, width: w / wsum, height: h / wsum },
      score: top.score,
      keypoints: kps.map(([px, py]) => [px / wsum, py / wsum]),
    });
  }
  return out;
}
