import { createCanvas } from '@napi-rs/canvas';

/**
 * An evidence image for an alert: up to `count` aligned frames of the clip, evenly spaced,
 * side by side, as JPEG. What an operator looks at to judge the alert.
 */
export function evidenceStrip(frames: Buffer[], size: number, count = 8): Buffer {
  if (frames.length === 0) throw new RangeError('evidenceStrip needs at least one frame');
  const n = Math.min(count, frames.length);
  const picks = Array.from({ length: n }, (_, i) => frames[Math.round((i * (frames.length - 1)) / Math.max(1, n - 1))]!);
  const canvas = createCanvas(size * n, size);
  const g = canvas.getContext('2d');
  const img = g.createImageData(size * n, size);
  const stride = size * n * 4;
  picks.forEach((f, k) => {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const s = (y * size + x) * 3;
        const d = y * stride + (k * size + x) * 4;
        img.data[d] = f[s]!;
        img.data[d + 1] = f[s + 1]!;
        img.data[d + 2] = f[s + 2]!;
        img.data[d + 3] = 255;
      }
    }
  });
  g.putImageData(img, 0, 0);
  return canvas.toBuffer('image/jpeg', 85);
}

/** A JPEG of an RGB frame scaled to at most `maxWidth` wide, for dashboard previews. */
export function previewJpeg(frame: { data: Buffer; width: number; height: number }, maxWidth = 640, quality = 70): { jpeg: Buffer; width: number; height: number } {
  const src = createCanvas(frame.width, frame.height);
  const sg = src.getContext('2d');
  const img = sg.createImageData(frame.width, frame.height);
  const px = frame.width * frame.height;
  for (let i = 0; i < px; i++) {
    img.data[i * 4] = frame.data[i * 3]!;
    img.data[i * 4 + 1] = frame.data[i * 3 + 1]!;
    img.data[i * 4 + 2] = frame.data[i * 3 + 2]!;
    img.data[i * 4 + 3] = 255;
  }
  sg.putImageData(img, 0, 0);
  const scale = Math.min(1, maxWidth / frame.width);
  const width = Math.max(1, Math.round(frame.width * scale));
  const height = Math.max(1, Math.round(frame.height * scale));
  if (scale === 1) return { jpeg: src.toBuffer('image/jpeg', quality), width, height };
  const dst = createCanvas(width, height);
  dst.getContext('2d').drawImage(src, 0, 0, width, height);
  return { jpeg: dst.toBuffer('image/jpeg', quality), width, height };
}
