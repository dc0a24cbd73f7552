import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress bar with ETA on a terminal (stderr), silent when stderr is not a TTY so logs
 * and pipes stay clean.
 */
export function progressBar(label: string, total: number | null, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label.padEnd(10)} [{bar}] {percentage}% | {value}/{total} frames | {fps} fps | ETA {eta_formatted}`,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    hideCursor: true,
    etaBuffer: 50,
    fps: 5,
  });
  bar.start(total ?? 0, 0, { fps: '0' });
  const started = performance.now();
  return {
    update(value, payload = {}) {
      if (total === null || value > total) bar.setTotal(value);
      bar.update(value, { fps: (value / Math.max(1e-3, (performance.now() - started) / 1000)).toFixed(1), ...payload });
    },
    stop() { bar.stop(); },
  };
}
