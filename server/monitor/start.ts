import type { Router } from 'express';
import type { MonitorHub } from '../api/hub.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../config/logging.js';

/** Stops what startMonitor started; the server awaits it on shutdown. */
export type MonitorCloser = () => Promise<void>;

/**
 * INTEGRATION POINT: starts the monitoring stages and plugs them into the hub.
 *
 * Called once by serve() after the HTTP server is built and before it listens. This is the
 * only place that knows every stage; fill it in like this:
 *   - ingest: a StreamManager with config.streams.publishKeys, config.rtmp, config.whip;
 *     `app.use('/whip', whipRouter)`; forward its stream states with
 *     `hub.publishStreamState(s)` / `hub.removeStream(key)`, and register
 *     `hub.handle({ addPull, remove })`; start config.streams.pull and, when
 *     config.demo.enabled, the two demo streams.
 *   - analysis: faces -> tracks -> windows -> scheduler -> model; `hub.setModel({name, provider})`,
 *     `hub.publishTrack / endTrack / publishScore`, `hub.updateStream(key, {framesAnalysed,
 *     clipsScored, clipsSkipped, lagSeconds, activeTracks})`, `hub.publishModelRun(...)`,
 *     and previews: `if (hub.previewWanted(key)) hub.publishPreview({...jpeg})`.
 *   - alerts: `hub.publishAlert(a)` for each open/update/close, `hub.handle({ alerts, alert,
 *     evidence })` backed by the store, webhook outcomes via `hub.publishWebhookDelivery(...)`;
 *     stage metrics can register on the registry passed in `extras.metricsRegistry`.
 * Close order on shutdown: ingest (no new frames), analysis (drain), alerts (close open
 * incidents, flush the outbox).
 *
 * Until then it only says what it would do, so `npm start` serves the dashboard and API.
 */
export async function startMonitor(
  config: Config,
  hub: MonitorHub,
  app: Router,
  logger: Logger,
  extras: { metricsRegistry?: import('prom-client').Registry } = {},
): Promise<MonitorCloser> {
  void app;
  void hub;
  void extras;
  logger.warn({
    demo: config.demo.enabled,
    rtmp: config.rtmp.enabled ? config.rtmp.port : false,
    whip: config.whip.enabled,
    pull: config.streams.pull.length,
  }, 'monitoring stages are not wired in yet (server/monitor/start.ts): serving the dashboard and API only');
  return async () => undefined;
}
