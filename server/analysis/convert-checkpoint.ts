import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { modelsDir, repoRoot } from '../shared/paths.js';

/** The Debian Python that has python3-torch and python3-onnx (not a pyenv python on PATH). */
export const toolkitPython = process.env.DEEPWATCH_PYTHON ?? '/usr/bin/python3';
export const toolkitDir = join(repoRoot, 'models', 'toolkit');

const PY_MODULES: Record<string, string> = { torch: 'python3-torch', onnx: 'python3-onnx', numpy: 'python3-numpy' };

export class ConvertError extends Error {
  override name = 'ConvertError';
  /** Converter exit status: 2 the checkpoint does not fit, 3 ONNX Runtime disagrees with PyTorch. */
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

/** Debian packages the toolkit needs that are missing here (empty when all are importable). */
export function missingToolkitPackages(): string[] {
  if (!existsSync(toolkitPython)) return ['python3', ...Object.values(PY_MODULES)];
  const probe = `import importlib.util as u; print(','.join(m for m in ${JSON.stringify(Object.keys(PY_MODULES))} if u.find_spec(m) is None))`;
  const r = spawnSync(toolkitPython, ['-c', probe], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return ['python3', ...Object.values(PY_MODULES)];
  return r.stdout.trim().split(',').filter(Boolean).map((m) => PY_MODULES[m]);
}

function aptInstall(packages: string[], say: (line: string) => void): boolean {
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
    stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  }).status === 0;
  say(`installing ${packages.join(' ')} with apt-get`);
  if (install()) return true;
  say('apt-get install failed; refreshing the package lists and trying once more');
  return spawnSync('apt-get', ['update'], { stdio: ['ignore', 'inherit', 'inherit'] }).status === 0 && install();
}

/**
 * Makes sure the Python toolkit can run: installs the missing Debian packages when running
 * as root, else fails with the exact command to run.
 */
export function ensureToolkitPython(say: (line: string) => void): void {
  const missing = missingToolkitPackages();
  if (missing.length === 0) return;
  const command = `sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new ConvertError(`the model toolkit needs ${missing.join(', ')}; install them with:\n  ${command}`, 1);
  }
  if (!aptInstall(missing, say) || missingToolkitPackages().length > 0) {
    throw new ConvertError(`could not install ${missing.join(', ')}; try:\n  ${command}`, 1);
  }
}

export interface ConvertOptions {
  checkpoint: string;
  /** Installed as <modelsRoot>/<name>/ (default ftcn_tt). */
  name?: string;
  modelsRoot?: string;
  /** full, fast, or a JSON file of FtcnConfig fields (default: saved in the checkpoint, else full). */
  config?: string;
  threshold?: number;
  /** Random clips for the ONNX Runtime vs PyTorch check (default 4). */
  clips?: number;
  allowPickle?: boolean;
  /** Also write the check clips and both runtimes' outputs here. */
  dumpReference?: string;
  /** Each progress line of the converter, as it comes. */
  onLine?: (line: string) => void;
}

/**
 * Runs models/toolkit/convert.py: checkpoint -> ONNX -> check against PyTorch -> manifest.
 * Resolves when the model is installed; rejects with a ConvertError that carries the
 * converter's own explanation (which tensors are missing or mis-shaped, and so on).
 */
export async function convertCheckpoint(opts: ConvertOptions): Promise<void> {
  const say = opts.onLine ?? (() => undefined);
  if (!existsSync(opts.checkpoint)) throw new ConvertError(`no such checkpoint file: ${opts.checkpoint}`, 1);
  ensureToolkitPython(say);
  const args = [join(toolkitDir, 'convert.py'), opts.checkpoint, '--name', opts.name ?? 'ftcn_tt', '--models-dir', opts.modelsRoot ?? modelsDir];
  if (opts.config) args.push('--config', opts.config);
  if (opts.threshold !== undefined) args.push('--threshold', String(opts.threshold));
  if (opts.clips !== undefined) args.push('--clips', String(opts.clips));
  if (opts.allowPickle) args.push('--allow-pickle');
  if (opts.dumpReference) args.push('--dump-reference', opts.dumpReference);

  // The converter checks the export with onnxruntime-node: the same node binary as ours.
  const child = spawn(toolkitPython, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEEPWATCH_NODE: process.execPath, PYTHONUNBUFFERED: '1' },
  });
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', say);
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  if (code !== 0) {
    const text = stderr.join('\n').replace(/^error: /m, '').trim();
    // A Python traceback is not an explanation: keep its last line, which is.
    const explanation = text.includes('Traceback (most recent call last)') ? `converter crashed: ${stderr.filter(Boolean).at(-1)}` : text;
    throw new ConvertError(explanation || `converter exited with status ${code}`, code);
  }
}
