import type { ChildProcess } from 'node:child_process';

/**
 * Every child process Deepwatch starts is listed here so that none outlives the server:
 * on exit (normal, signal or crash) each is killed synchronously.
 */
const children = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try { c.kill('SIGKILL'); } catch { /* already gone */ }
    }
  }
}

export function registerChild(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', killAll);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        killAll();
        // Re-raise so the default behaviour (exit with the signal) still happens when
        // nobody else handles it.
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    }
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function liveChildCount(): number {
  return children.size;
}
