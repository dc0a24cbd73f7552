import { ApiServer } from '../api/http-server.js';
import { MonitorHub } from '../api/hub.js';
import type { Logger } from '../config/logging.js';
import type { Config } from '../config/schema.js';
import { startMonitor, type MonitorCloser } from './start.js';

export interface ServeOptions {
  config: Config;
  logger: Logger;
  /** Built dashboard; default dist/client. */
  clientDir?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly hub: MonitorHub;
  readonly api: ApiServer;
  /** Stops the stages, then the HTTP server; safe to call twice. */
  close(): Promise<void>;
}

/**
 * The whole server: hub, HTTP (dashboard, REST, Socket.IO, metrics), then the monitoring
 * stages, then listening. If the stages fail to start, what was started is closed again.
 */
export async function serve(opts: ServeOptions): Promise<RunningServer> {
  const { config, logger } = opts;
  const hub = new MonitorHub({ previewFps: config.server.previewFps });
  const api = new ApiServer({ monitor: hub, logger, clientDir: opts.clientDir, accessTokens: config.server.accessTokens });
  let closeMonitor: MonitorCloser;
  try {
    closeMonitor = await startMonitor(config, hub, api.extensions, logger, {
      metricsRegistry: api.metrics.registry,
    });
  } catch (err) {
    await api.close();
    hub.close();
    throw err;
  }
  let where: { port: number; url: string };
  try {
    where = await api.listen(config.server.port, config.server.host);
  } catch (err) {
    await closeMonitor();
    await api.close();
    hub.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    ...where,
    hub,
    api,
    close() {
      closing ??= (async () => {
        try {
          await closeMonitor();
        } finally {
          await api.close();
          hub.close();
        }
      })();
      return closing;
    },
  };
}
