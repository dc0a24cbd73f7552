import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../shared/paths.js';
import type { PullSource } from '../ingest/stream-manager.js';

/**
 * The two built-in demo streams `npm start` watches: generated from a public-domain photo
 * (server/demo/media/README.md), one genuine and one with a face manipulation, each played
 * in real time, looping.
 */
export function demoStreams(): PullSource[] {
  const dir = join(repoRoot, 'server', 'demo', 'media');
  return [
    { key: 'demo-genuine', name: 'Demo: genuine', url: join(dir, 'genuine.mp4'), loop: true, kind: 'demo' as const },
    { key: 'demo-manipulated', name: 'Demo: manipulated', url: join(dir, 'manipulated.mp4'), loop: true, kind: 'demo' as const },
  ].filter((s) => existsSync(s.url));
}
