import type { Router } from 'express';
import type { MonitorHub } from '../api/hub.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../config/logging.js';
import { startLive } from './live.js';

/** Stops what startMonitor started; the server awaits it on shutdown. */
export type MonitorCloser = () => Promise<void>;

/**
 * Starts the monitoring stages and plugs them into the hub: ingest (RTMP, WHIP, pull, the
 * demo streams), analysis (faces, windows, scheduler, model) and alerts (rolling scores,
 * alert policy, SQLite, webhooks). The wiring itself is in live.ts. Close order on
 * shutdown: ingest (no new frames), analysis (drain), alerts (close open incidents).
 */
export async function startMonitor(
  config: Config,
  hub: MonitorHub,
  app: Router,
  logger: Logger,
  extras: { metricsRegistry?: import('prom-client').Registry } = {},
): Promise<MonitorCloser> {
  return startLive(config, hub, app, logger, extras);
}
