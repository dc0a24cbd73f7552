/**
 * Indices 0..n-1 extended to `length` by mirror ("ping-pong") reflection: 0 1 2 1 0 1 2 ...
 * The reference computes the period from the already-padded list (an off-by-one); this
 * uses the track's real length, so every index stays in range and the pattern is exact.
 */
export function mirrorIndices(n: number, length: number): number[] {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`mirrorIndices needs n >= 1, got ${n}`);
  if (n === 1) return new Array<number>(length).fill(0);
  const period = 2 * (n - 1);
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const r = i % period;
    out.push(r < n ? r : period - r);
  }
  return out;
}
