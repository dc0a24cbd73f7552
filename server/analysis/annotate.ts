import { createCanvas } from '@napi-rs/canvas';
import type { Box, RgbImage } from '../faces/types.js';

export type Verdict = 'fake' | 'real' | 'pending';

export interface Annotation {
  box: Box;
  trackId: number;
  /** The face's score at this frame, or null when no clip covers it yet. */
  score: number | null;
  verdict: Verdict;
}

const COLOURS: Record<Verdict, [number, number, number]> = {
  fake: [230, 40, 40],
  real: [40, 200, 90],
  pending: [200, 200, 200],
};

interface Label { rgba: Uint8ClampedArray; width: number; height: number }
const labelCache = new Map<string, Label>();
const LABEL_CACHE_MAX = 512;

/** Renders a label once (text is drawn by Skia through @napi-rs/canvas) and caches its pixels. */
function label(text: string, colour: [number, number, number], fontPx: number): Label {
  const key = `${fontPx}|${colour.join(',')}|${text}`;
  const hit = labelCache.get(key);
  if (hit) return hit;
  const probe = createCanvas(1, 1).getContext('2d');
  probe.font = `bold ${fontPx}px sans-serif`;
  const width = Math.ceil(probe.measureText(text).width) + 8;
  const height = Math.ceil(fontPx * 1.35);
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = `rgb(${colour.join(',')})`;
  g.fillRect(0, 0, width, height);
  g.font = `bold ${fontPx}px sans-serif`;
  g.fillStyle = colour[0] + colour[1] + colour[2] > 450 ? '#000' : '#fff';
  g.textBaseline = 'middle';
  g.fillText(text, 4, height / 2);
  const out = { rgba: g.getImageData(0, 0, width, height).data, width, height };
  if (labelCache.size >= LABEL_CACHE_MAX) labelCache.delete(labelCache.keys().next().value!);
  labelCache.set(key, out);
  return out;
}

function fillRect(img: RgbImage, x0: number, y0: number, w: number, h: number, c: [number, number, number]): void {
  const xa = Math.max(0, Math.round(x0)), ya = Math.max(0, Math.round(y0));
  const xb = Math.min(img.width, Math.round(x0 + w)), yb = Math.min(img.height, Math.round(y0 + h));
  for (let y = ya; y < yb; y++) {
    let p = (y * img.width + xa) * 3;
    for (let x = xa; x < xb; x++, p += 3) { img.data[p] = c[0]; img.data[p + 1] = c[1]; img.data[p + 2] = c[2]; }
  }
}

function blit(img: RgbImage, l: Label, x0: number, y0: number): void {
  const xa = Math.max(0, Math.round(x0)), ya = Math.max(0, Math.round(y0));
  for (let y = ya; y < Math.min(img.height, ya + l.height); y++) {
    for (let x = xa; x < Math.min(img.width, xa + l.width); x++) {
      const s = ((y - ya) * l.width + (x - xa)) * 4;
      const a = l.rgba[s + 3]! / 255;
      const p = (y * img.width + x) * 3;
      for (let k = 0; k < 3; k++) img.data[p + k] = Math.round(l.rgba[s + k]! * a + img.data[p + k]! * (1 - a));
    }
  }
}

export function labelText(a: Annotation): string {
  const verdict = a.verdict === 'pending' ? '…' : a.verdict.toUpperCase();
  return `#${a.trackId} ${verdict}${a.score === null ? '' : ` ${a.score.toFixed(2)}`}`;
}

/** Draws each face's box, identity, score and verdict onto the RGB image, in place. */
export function drawAnnotations(img: RgbImage, annotations: Annotation[]): void {
  const thick = Math.max(2, Math.round(Math.min(img.width, img.height) / 240));
  const fontPx = Math.max(12, Math.round(Math.min(img.width, img.height) / 32));
  for (const a of annotations) {
    const c = COLOURS[a.verdict];
    const { x, y, width: w, height: h } = a.box;
    fillRect(img, x, y, w, thick, c);
    fillRect(img, x, y + h - thick, w, thick, c);
    fillRect(img, x, y, thick, h, c);
    fillRect(img, x + w - thick, y, thick, h, c);
    const l = label(labelText(a), c, fontPx);
    const ly = y - l.height >= 0 ? y - l.height : y + h;
    blit(img, l, Math.min(Math.max(0, x), img.width - l.width), ly);
  }
}
