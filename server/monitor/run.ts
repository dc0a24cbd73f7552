import { createLogger, type Logger } from '../config/logging.js';
import { ConfigError, loadConfig, type LoadOptions } from '../config/load.js';
import { serve, type RunningServer } from './serve.js';

const SHUTDOWN_GRACE_MS = 15_000;

/**
 * `npm start` and `deepwatch serve`: load and check the configuration, serve, and shut down
 * cleanly on SIGINT/SIGTERM (exit 0). A bad configuration exits 2 with one line per problem;
 * a server that cannot start (port taken, model missing) exits 1. The signal handlers are
 * in place before anything starts: a Ctrl-C while the model loads or the demo streams come
 * up still closes what was started (no decoder process left behind).
 */
export async function runServer(opts: { configPath?: string | null; port?: number } = {}): Promise<RunningServer | null> {
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

  const shutdown = new Shutdown(logger);
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
  const { host, accessTokens } = loaded.config.server;
  if (accessTokens.length === 0 && !/^(127\.|::1$|localhost$)/.test(host)) {
    logger.warn({ host }, 'no access tokens: anyone who can reach this address can use the dashboard and the API '
      + '(set server.accessTokens or DEEPWATCH_ACCESS_TOKEN, or listen on 127.0.0.1)');
  } else if (accessTokens.length > 0) {
    logger.info({ tokens: accessTokens.length }, 'dashboard, API and /metrics need an access token');
  }
  shutdown.attach(server);
  return server;
}

/** SIGINT/SIGTERM handling that works from the first moment: before the server exists it waits for it. */
class Shutdown {
  #server: RunningServer | null = null;
  #requested: NodeJS.Signals | null = null;

  constructor(private readonly logger: Logger) {
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  attach(server: RunningServer): void {
    this.#server = server;
    if (this.#requested) this.#stop(this.#requested);
  }

  #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#requested) {
      this.logger.warn({ signal }, 'second signal: exiting without waiting');
      this.logger.flush();
      process.exit(1);
    }
    this.#requested = signal;
    if (this.#server) this.#stop(signal);
    else this.logger.info({ signal }, 'shutting down once start-up has finished');
  };

  #stop(signal: NodeJS.Signals): void {
    const server = this.#server!;
    this.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      this.logger.error(`shutdown took longer than ${SHUTDOWN_GRACE_MS / 1000} s: exiting anyway`);
      this.logger.flush();
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close().then(() => {
      this.logger.info('stopped');
      this.logger.flush();
      process.exit(0);
    }, (err: unknown) => {
      this.logger.error({ err }, 'error while shutting down');
      this.logger.flush();
      process.exit(1);
    });
  }
}
