import { decodeFrames } from '../media/frames.js';
import { Mp4Encoder } from '../media/encoder.js';
import type { MediaInfo } from '../media/discover.js';
import type { SourceSpec } from '../media/pipeline.js';
import { drawAnnotations, type Annotation } from './annotate.js';
import type { AnalysisReport } from './report.js';

/**
 * Second pass of `analyze`: decodes the input again at its own size, draws every face's box,
 * identity, score and verdict, and encodes H.264/MP4 with the same frame count and rate (and
 * the input's audio). Two passes keep memory flat: the first keeps only boxes and scores.
 */
export async function renderAnnotated(opts: {
  source: SourceSpec;
  out: string;
  report: AnalysisReport;
  media: MediaInfo;
  onProgress?: (frames: number) => void;
  signal?: AbortSignal;
}): Promise<{ frames: number }> {
  const { report } = opts;
  const byFrame = new Map<number, Annotation[]>();
  for (const t of report.tracks) {
    for (const f of t.perFrame) {
      const list = byFrame.get(f.frame) ?? [];
      list.push({ box: f.box, trackId: t.id, score: f.score, verdict: f.label });
      byFrame.set(f.frame, list);
    }
  }
  let encoder: Mp4Encoder | null = null;
  let frames = 0;
  try {
    for await (const frame of decodeFrames({ source: opts.source }, { signal: opts.signal })) {
      if (!encoder) {
        const rate = opts.media.frameRate ?? (report.video.fps ? `${Math.round(report.video.fps * 1000)}/1000` : '25/1');
        encoder = new Mp4Encoder({
          path: opts.out, width: frame.width, height: frame.height, frameRate: rate,
          audioFrom: opts.media.hasAudio && opts.source.kind === 'file' ? opts.source.path : undefined,
        });
      }
      const sx = frame.width / report.video.analysedAt.width;
      const sy = frame.height / report.video.analysedAt.height;
      const anns = byFrame.get(frame.index);
      if (anns) {
        drawAnnotations(frame, anns.map((a) => ({ ...a, box: { x: a.box.x * sx, y: a.box.y * sy, width: a.box.width * sx, height: a.box.height * sy } })));
      }
      await encoder.write(frame.data);
      frames++;
      opts.onProgress?.(frames);
    }
    if (!encoder) throw new Error('the input has no video frames');
    await encoder.finish();
    return { frames };
  } catch (e) {
    await encoder?.abort();
    throw e;
  }
}
