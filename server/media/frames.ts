import { Decoder, type DecoderOptions } from './decoder.js';
import type { Frame, VideoInfo } from './frame.js';

/**
 * Decodes a finite source as an async iterable of frames, with back-pressure: when the
 * consumer falls `highWater` frames behind, the decoder is paused (GStreamer blocks on its
 * pipe) instead of frames being dropped. For offline work where every frame matters.
 */
export async function* decodeFrames(
  options: DecoderOptions,
  hooks: { onInfo?: (info: VideoInfo) => void; signal?: AbortSignal; highWater?: number } = {},
): AsyncGenerator<Frame, void, undefined> {
  const decoder = new Decoder({ restart: false, ...options });
  const highWater = hooks.highWater ?? 4;
  const queue: Frame[] = [];
  let done = false;
  let error: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => { const w = wake; wake = null; w?.(); };
  decoder.on('frame', (f) => {
    queue.push(f);
    if (queue.length >= highWater) decoder.pause();
    notify();
  });
  decoder.on('eos', () => { done = true; notify(); });
  decoder.on('failed', (e) => { error = e; done = true; notify(); });
  const onAbort = () => { error = new Error('aborted'); done = true; notify(); };
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const info = await decoder.start();
    hooks.onInfo?.(info);
    for (;;) {
      if (queue.length > 0) {
        const f = queue.shift()!;
        if (queue.length < highWater / 2) decoder.resume();
        yield f;
        continue;
      }
      if (error) throw error;
      if (done) return;
      await new Promise<void>((r) => { wake = r; });
    }
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    await decoder.close();
  }
}
