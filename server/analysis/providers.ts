import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ExecutionProvider = 'cuda' | 'cpu';

/** Folder of the onnxruntime-node native libraries for this platform. */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  // The package's main file lives in dist/; walk up to the folder holding package.json.
  let dir = dirname(require.resolve('onnxruntime-node'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'bin', 'napi-v6', process.platform, process.arch);
}

function cudaProviderLibrary(): string {
  return join(ortBinaryDir(), process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so');
}

function hasNvidiaDriver(): boolean {
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && /GPU \d+/.test(r.stdout);
}

/**
 * Why CUDA cannot be tried here, or null when it can (a driver and the provider library
 * are both present; creating the session may still fail, which the caller reports).
 */
export function cudaUnavailableReason(): string | null {
  if (process.env.DEEPWATCH_NO_CUDA) return 'DEEPWATCH_NO_CUDA is set';
  if (!hasNvidiaDriver()) return 'no NVIDIA GPU (nvidia-smi is missing or lists no GPU)';
  const lib = cudaProviderLibrary();
  if (!existsSync(lib)) {
    return `this onnxruntime-node has no CUDA provider (${lib} is missing; scripts/setup.mjs fetches it when an NVIDIA driver is present)`;
  }
  return null;
}
