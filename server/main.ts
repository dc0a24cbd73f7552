/**
 * `npm start`: the monitor with its dashboard on http://localhost:8080 (or as configured).
 * Options: --config FILE, --port N (the same as `deepwatch serve`).
 */
import { parseArgs } from 'node:util';
import { runServer } from './monitor/run.js';

try {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, port: { type: 'string' } },
    allowPositionals: false,
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new Error(`--port must be an integer 0..65535, got ${values.port}`);
  }
  await runServer({ configPath: values.config ?? null, port });
} catch (err) {
  process.stderr.write(`deepwatch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
