import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Monitor, ModelRun, WebhookDelivery } from './monitor.js';
import type { AlertWire, StreamState } from './wire.js';

/**
 * Prometheus metrics. Per-stream series are read from the monitor at scrape time (the
 * stages already count frames, clips and lag in their StreamStatus), so nothing on the hot
 * path touches prom-client; only events without a running total (model calls, alerts
 * opened, webhook deliveries) are counted here as they happen.
 */

export interface Metrics {
  readonly registry: Registry;
  /** Text exposition for GET /metrics. */
  render(): Promise<string>;
  readonly contentType: string;
  close(): void;
}

const STATES: StreamState[] = ['waiting', 'live', 'stalled', 'reconnecting', 'ended', 'failed'];

export function createMetrics(monitor: Monitor, opts: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'deepwatch_' });

  /** A counter whose value is the stream's own running total, reported as is at scrape time. */
  const streamCounter = (name: string, help: string, pick: (s: ReturnType<Monitor['streams']>[number]) => number) => new Counter({
    name, help, labelNames: ['stream'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const s of monitor.streams()) this.inc({ stream: s.key }, pick(s));
    },
  });
  const streamGauge = (name: string, help: string, pick: (s: ReturnType<Monitor['streams']>[number]) => number | null) => new Gauge({
    name, help, labelNames: ['stream'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const s of monitor.streams()) {
        const v = pick(s);
        if (v !== null) this.set({ stream: s.key }, v);
      }
    },
  });

  streamCounter('deepwatch_stream_frames_decoded_total', 'Frames decoded from the stream', (s) => s.framesDecoded);
  streamCounter('deepwatch_stream_frames_analysed_total', 'Frames that went through face detection', (s) => s.framesAnalysed);
  streamCounter('deepwatch_stream_frames_dropped_total', 'Frames dropped before analysis (decoder rate limit or full queue)', (s) => s.framesDropped);
  streamCounter('deepwatch_stream_clips_scored_total', 'Clips scored by the model', (s) => s.clipsScored);
  streamCounter('deepwatch_stream_clips_skipped_total', 'Clips the scheduler skipped under load', (s) => s.clipsSkipped);
  streamGauge('deepwatch_stream_lag_seconds', 'Median time from a frame\'s arrival to its clip\'s score', (s) => s.lagSeconds);
  streamGauge('deepwatch_stream_active_tracks', 'Faces tracked now', (s) => s.activeTracks);
  streamGauge('deepwatch_stream_open_alerts', 'Alerts open now', (s) => s.openAlerts);
  streamGauge('deepwatch_stream_fps', 'Decoded frames per second', (s) => s.fps);
  new Gauge({
    name: 'deepwatch_stream_state', help: '1 for the state the stream is in, 0 for the others',
    labelNames: ['stream', 'kind', 'state'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const s of monitor.streams()) for (const st of STATES) this.set({ stream: s.key, kind: s.kind, state: st }, s.state === st ? 1 : 0);
    },
  });
  new Gauge({
    name: 'deepwatch_dashboard_clients', help: 'Connected dashboard (Socket.IO) clients', registers: [registry],
    collect() {
      this.set(monitor.health().dashboardClients);
    },
  });

  const alertsOpened = new Counter({
    name: 'deepwatch_alerts_opened_total', help: 'Alerts opened', labelNames: ['stream'] as const, registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'deepwatch_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'] as const, registers: [registry],
  });
  const clipSeconds = new Histogram({
    name: 'deepwatch_model_seconds_per_clip', help: 'Model wall time per clip (a batched call divided by its clips)',
    labelNames: ['model', 'provider'] as const, registers: [registry],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
  });
  const batchClips = new Histogram({
    name: 'deepwatch_model_batch_clips', help: 'Clips per model call', labelNames: ['model'] as const, registers: [registry],
    buckets: [1, 2, 4, 8, 16, 32, 64],
  });

  const onAlert = (a: AlertWire) => {
    if (a.phase === 'open') alertsOpened.inc({ stream: a.stream });
  };
  const onRun = (r: ModelRun) => {
    if (r.clips <= 0) return;
    clipSeconds.observe({ model: r.model, provider: r.provider }, r.seconds / r.clips);
    batchClips.observe({ model: r.model }, r.clips);
  };
  const onDelivery = (d: WebhookDelivery) => webhookDeliveries.inc({ outcome: d.outcome });
  monitor.events.on('alert', onAlert);
  monitor.telemetry.on('model:run', onRun);
  monitor.telemetry.on('webhook:delivery', onDelivery);

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    close() {
      monitor.events.off('alert', onAlert);
      monitor.telemetry.off('model:run', onRun);
      monitor.telemetry.off('webhook:delivery', onDelivery);
      registry.clear();
    },
  };
}
