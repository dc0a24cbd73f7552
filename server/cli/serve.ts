import type { Command } from 'commander';
import { runServer } from '../monitor/run.js';

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer 0..65535, got ${v}`);
  return n;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the monitor: ingest, analysis, alerts, and the dashboard (what `npm start` runs)')
    .option('-c, --config <file>', 'YAML configuration (default: $DEEPWATCH_CONFIG, else ./deepwatch.yaml if present, else defaults)')
    .option('-p, --port <n>', 'HTTP port for the dashboard, API and WHIP (overrides the config and $DEEPWATCH_PORT)', parsePort)
    .action(async (opts: { config?: string; port?: number }) => {
      await runServer({ configPath: opts.config ?? null, port: opts.port });
    });
}
