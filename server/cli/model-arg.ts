import { basename, dirname, resolve } from 'node:path';

/**
 * `--model` takes an installed model's name (a folder in models/) or a path to any model
 * folder holding a manifest.json, so a converted model can be used where it was written.
 */
export function modelArg(arg: string): { name: string; root?: string } {
  if (!arg.includes('/')) return { name: arg };
  const dir = resolve(arg.replace(/\/+$/, ''));
  return { name: basename(dir), root: dirname(dir) };
}
