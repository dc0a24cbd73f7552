import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { gstQuote, toLaunchArgs } from '../../server/media/pipeline.js';
import { repoRoot } from '../../server/shared/paths.js';
import { composeAffine, invertAffine } from '../../server/faces/geometry.js';
import type { Affine, RgbImage } from '../../server/faces/types.js';

/** The public-domain NASA astronaut portrait (test/fixtures/astronaut.png) as packed RGB. */
export function loadAstronaut(): RgbImage {
  const png = PNG.sync.read(readFileSync(join(repoRoot, 'test', 'fixtures', 'astronaut.png')));
  const n = png.width * png.height;
  const data = Buffer.allocUnsafe(n * 3);
  for (let i = 0; i < n; i++) {
    data[i * 3] = png.data[i * 4]!;
    data[i * 3 + 1] = png.data[i * 4 + 1]!;
    data[i * 3 + 2] = png.data[i * 4 + 2]!;
  }
  return { data, width: png.width, height: png.height };
}

/** Similarity about a centre point: scale s, rotation r (radians), then move that point to (x, y). */
export function similarityAbout(cx: number, cy: number, s: number, r: number, x: number, y: number): Affine {
  const c = Math.cos(r) * s, si = Math.sin(r) * s;
  return composeAffine([c, -si, x, si, c, y], [1, 0, -cx, 0, 1, -cy]);
}

/** One layer of a composed frame: the photo warped by `m`, visible where `region` says (default everywhere). */
export interface Layer {
  m: Affine;
  mirror?: boolean;
  /** Only this column range of the output comes from this layer. */
  columns?: [number, number];
  /** Only the photo within this many pixels of its face centre is pasted (a face card), in photo pixels. */
  window?: number;
}

const PHOTO_FACE: [number, number] = [224, 125];

/** Renders one frame: a grey background and the layers in order, each photo pasted (bilinear) where it lands. */
export function renderFrame(photo: RgbImage, width: number, height: number, layers: Layer[]): Buffer {
  const out = Buffer.alloc(width * height * 3, 60);
  const { data: s, width: pw, height: ph } = photo;
  for (const layer of layers) {
    let m = layer.m;
    if (layer.mirror) m = composeAffine(m, [-1, 0, pw - 1, 0, 1, 0]);
    const [a, b, tx, c, d, ty] = invertAffine(m);
    const [c0, c1] = layer.columns ?? [0, width];
    for (let y = 0; y < height; y++) {
      for (let x = c0; x < c1; x++) {
        const sx = a * x + b * y + tx, sy = c * x + d * y + ty;
        if (!(sx >= 0 && sy >= 0 && sx < pw - 1 && sy < ph - 1)) continue;
        if (layer.window !== undefined) {
          const fx = layer.mirror ? pw - 1 - PHOTO_FACE[0] : PHOTO_FACE[0];
          if (Math.abs(sx - fx) > layer.window || Math.abs(sy - PHOTO_FACE[1]) > layer.window * 1.2) continue;
        }
        const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
        const p = (y0 * pw + x0) * 3, q = p + pw * 3, o = (y * width + x) * 3;
        for (let k = 0; k < 3; k++) {
          out[o + k] = (s[p + k]! * (1 - fx) + s[p + 3 + k]! * fx) * (1 - fy) + (s[q + k]! * (1 - fx) + s[q + 3 + k]! * fx) * fy + 0.5;
        }
      }
    }
  }
  return out;
}

/**
 * Encodes raw RGB frames to an H.264 MP4 with GStreamer (x264, no B-frames), so the test
 * then decodes it with the real decoder like any other file.
 */
export async function encodeRgbFrames(path: string, width: number, height: number, fps: number, frames: Iterable<Buffer>): Promise<void> {
  const desc = `fdsrc fd=0 ! rawvideoparse format=rgb width=${width} height=${height} framerate=${fps}/1 ! videoconvert ! ` +
    `video/x-raw,format=I420 ! x264enc bframes=0 key-int-max=${fps} speed-preset=ultrafast tune=zerolatency quantizer=18 pass=quant ! ` +
    `h264parse ! mp4mux ! filesink location=${gstQuote(path)}`;
  const child = spawn('gst-launch-1.0', ['-q', '-e', ...toLaunchArgs(desc)], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`gst-launch exited ${code}: ${stderr}`))));
  });
  for (const f of frames) {
    if (f.length !== width * height * 3) throw new Error(`frame has ${f.length} bytes, expected ${width * height * 3}`);
    if (!child.stdin.write(f)) await new Promise<void>((r) => child.stdin.once('drain', () => r()));
  }
  child.stdin.end();
  await done;
}
