import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  // Sources run from server/ (tests) and from dist/server/ (built): walk up to package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'pipelines'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the Deepwatch installation root (package.json beside pipelines/)');
    dir = up;
  }
}

/** The repository / installed package root. */
export const repoRoot = findRoot();
export const pipelinesDir = join(repoRoot, 'pipelines');
export const modelsDir = join(repoRoot, 'models');
