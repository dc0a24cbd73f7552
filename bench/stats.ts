import { cpus } from 'node:os';

export { median } from '../server/shared/median.js';

/** `--name value` from the command line as a number, or `def`. Shared by the benches, which all print JSON. */
export function numArg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new TypeError(`--${name} needs a number, got ${process.argv[i + 1]}`);
  return v;
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function machine(): { node: string; cpus: number; cpuModel: string } {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' };
}
