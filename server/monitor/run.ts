import { createLogger, type Logger } from '../config/logging.js';
import { ConfigError, loadConfig, type LoadOptions } from '../config/load.js';
import { serve, type RunningServer } from './serve.js';

const SHUTDOWN_GRACE_MS = 15_000;

/**
 * `npm start` and `deepwatch serve`: load and check the configuration, serve, and shut down
 * cleanly on SIGINT/SIGTERM (exit 0). A bad configuration exits 2 with one line per problem;
 * a server that cannot start (port taken, model missing) exits 1.
 */
export async function runServer(opts: { configPath?: string | null; port?: number } = {}): Promise<RunningServer> {
  let loaded;
  try {
    const load: LoadOptions = { path: opts.configPath ?? null, overrides: opts.port !== undefined ? { port: opts.port } : {} };
    loaded = loadConfig(load);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`deepwatch: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(loaded.config.logging);
  logger.info({ configFile: loaded.file ?? '(none: defaults)' }, 'configuration loaded');

  let server: RunningServer;
  try {
    server = await serve({ config: loaded.config, logger });
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    logger.flush();
    process.stderr.write(`deepwatch: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  logger.info({ url: server.url }, `dashboard on ${server.url}`);
  installShutdown(server, logger);
  return server;
}

function installShutdown(server: RunningServer, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_GRACE_MS / 1000} s: exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close().then(() => {
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    }, (err: unknown) => {
      logger.error({ err }, 'error while shutting down');
      logger.flush();
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
