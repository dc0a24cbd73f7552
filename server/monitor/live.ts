import type { Router } from 'express';
import type { Registry } from 'prom-client';
import type { MonitorHub } from '../api/hub.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../config/logging.js';
import { AlertService } from '../alerts/alert-service.js';
import type { DeliveryRecord } from '../alerts/webhook-outbox.js';
import { registerAlertMetrics } from '../alerts/metrics.js';
import { MonitorError } from '../api/monitor.js';
import { InvalidStateError } from '../shared/errors.js';
import { median } from '../shared/median.js';
import { ClipModel } from '../analysis/clip-model.js';
import { DEFAULT_CLIP_MODEL } from '../analysis/default-model.js';
import { evidenceStrip, previewJpeg } from '../analysis/evidence.js';
import { ClipScheduler } from '../analysis/scheduler.js';
import { StreamAnalyzer } from '../analysis/stream-analyzer.js';
import { FaceStage } from '../faces/face-stage.js';
import { NS_PER_SECOND, type Frame } from '../media/frame.js';
import { RtmpIngest } from '../ingest/rtmp-ingest.js';
import { StreamManager } from '../ingest/stream-manager.js';
import { WhipIngest } from '../ingest/whip.js';
import type { StreamStatus } from '../api/wire.js';
import { demoStreams } from './demo-streams.js';

interface StreamCounters {
  clipsScored: number;
  clipsSkipped: number;
  lags: number[];
}

const LAG_WINDOW = 32;
const STATUS_INTERVAL_MS = 1000;

function medianOrNull(xs: number[]): number | null {
  return xs.length === 0 ? null : median(xs);
}

/**
 * Wires the live data path: ingest (StreamManager with RTMP, WHIP, pull and demo sources)
 * -> one StreamAnalyzer (faces, windows) per stream -> the shared ClipScheduler and model
 * -> the AlertService (rolling scores, alerts, SQLite, webhooks) -> the hub (REST,
 * Socket.IO). Only this file knows all the stages; each talks to the next by its interface.
 */
export async function startLive(
  config: Config,
  hub: MonitorHub,
  app: Router,
  logger: Logger,
  extras: { metricsRegistry?: Registry } = {},
): Promise<() => Promise<void>> {
  const log = logger.child({ stage: 'monitor' });
  const modelName = config.analysis.model ?? DEFAULT_CLIP_MODEL;
  const model = await ClipModel.load(modelName, { maxBatch: config.analysis.batchSize, log: (line) => log.info(line) });
  const threshold = model.manifest.threshold;
  const stride = config.analysis.stride ?? model.manifest.defaultStride;
  hub.setModel({ name: modelName, provider: model.provider, threshold });
  log.info({ model: modelName, provider: model.provider, note: model.providerNote, stride }, 'clip model ready');

  const scheduler = new ClipScheduler(model, { maxQueue: config.analysis.maxQueuedClips });
  const alerts = AlertService.open({
    config: {
      database: config.storage.dbPath,
      evidenceMaxMB: config.storage.evidenceMaxMB,
      policy: {
        rollingClips: config.alerts.rollingClips,
        openThreshold: config.alerts.openThreshold,
        closeThreshold: config.alerts.closeThreshold,
        closeRatio: config.alerts.closeRatio,
        minOpenSeconds: config.alerts.minOpenSeconds,
        minCloseSeconds: config.alerts.minCloseSeconds,
      },
      webhooks: config.webhooks,
    },
    modelThreshold: threshold,
    logger: log,
    publicBaseUrl: config.server.publicUrl ?? undefined,
  });
  alerts.on('alert', (a) => hub.publishAlert(a));
  alerts.on('score', (s) => hub.publishScore(s));
  const tell = (d: DeliveryRecord) => hub.publishWebhookDelivery({
    url: d.url ?? d.webhook, event: d.event, status: d.lastStatus,
    outcome: d.state === 'delivered' ? 'delivered' : d.state === 'dead' ? 'failed' : 'retrying',
  });
  alerts.outbox.on('delivered', tell).on('failed', tell);
  if (extras.metricsRegistry) registerAlertMetrics(extras.metricsRegistry, alerts);
  hub.handle({
    alerts: async (q) => alerts.store.list(q),
    alert: async (id) => alerts.store.get(id) ?? undefined,
    evidence: async (id) => alerts.store.evidence(id) ?? undefined,
  });

  const manager = new StreamManager({
    keys: config.streams.publishKeys,
    output: { maxWidth: 1280, maxHeight: 720, maxFps: config.analysis.maxFps },
    stallTimeoutMs: config.streams.stallTimeoutSeconds * 1000,
    logger: log,
  });
  const analyzers = new Map<string, Promise<StreamAnalyzer | null>>();
  const counters = new Map<string, StreamCounters>();
  const countersFor = (key: string): StreamCounters => {
    let c = counters.get(key);
    if (!c) counters.set(key, (c = { clipsScored: 0, clipsSkipped: 0, lags: [] }));
    return c;
  };
  const lastPts = new Map<string, number>();

  const analyzerFor = (key: string): Promise<StreamAnalyzer | null> => {
    let p = analyzers.get(key);
    if (p) return p;
    p = FaceStage.create().then((faces) => {
      const a = new StreamAnalyzer({
        stream: key, faces, scheduler, stride, threshold,
        risk: (trackId) => alerts.trackScore(key, trackId).score ?? 0,
      });
      a.on('faces', (frame, faces) => {
        const tracks = faces.map((f) => {
          const s = alerts.trackScore(key, f.trackId);
          return { stream: key, trackId: f.trackId, box: f.box, pts: frame.pts / NS_PER_SECOND, score: s.score, verdict: s.verdict };
        });
        for (const t of tracks) hub.publishTrack(t);
        if (hub.previewWanted(key)) {
          const p = previewJpeg(frame, 640);
          const sx = p.width / frame.width;
          hub.publishPreview({
            stream: key, pts: frame.pts / NS_PER_SECOND, width: p.width, height: p.height, jpeg: p.jpeg,
            tracks: tracks.map((t) => ({ ...t, box: { x: t.box.x * sx, y: t.box.y * sx, width: t.box.width * sx, height: t.box.height * sx } })),
          });
        }
      });
      a.on('track:end', (trackId, pts) => {
        alerts.onTrackEnd(key, trackId, pts / NS_PER_SECOND);
        hub.endTrack(key, trackId);
      });
      a.on('error', (err) => log.error({ stream: key, err }, 'face analysis failed on a frame'));
      return a;
    }, (err: unknown) => {
      log.error({ stream: key, err }, 'cannot start face analysis for this stream');
      return null;
    });
    analyzers.set(key, p);
    return p;
  };

  const dropAnalyzer = async (key: string, reason: string): Promise<void> => {
    const p = analyzers.get(key);
    if (!p) return;
    analyzers.delete(key);
    const a = await p;
    if (!a) return;
    a.endAll(lastPts.get(key) ?? 0);
    alerts.onStreamEnd(key, (lastPts.get(key) ?? 0) / NS_PER_SECOND);
    await a.close();
    log.info({ stream: key, reason }, 'analysis of the stream stopped');
  };

  scheduler.on('result', (r) => {
    const c = countersFor(r.job.stream);
    c.clipsScored++;
    c.lags.push((r.scoredAt - r.job.arrivedAt) / 1000);
    if (c.lags.length > LAG_WINDOW) c.lags.shift();
    if (!analyzers.has(r.job.stream)) return; // the stream went away while its clip was scored
    const frames = r.job.frames;
    alerts.onClipScore({
      stream: r.job.stream, trackId: r.job.trackId, ptsStart: r.job.ptsStart / NS_PER_SECOND, ptsEnd: r.job.ptsEnd / NS_PER_SECOND,
      probability: r.probability, model: modelName, wallTime: Date.now(),
    }, () => evidenceStrip(frames, model.size));
    hub.publishModelRun({ model: modelName, provider: model.provider, clips: 1, seconds: r.msPerClip / 1000 });
  });
  scheduler.on('skipped', (job) => { countersFor(job.stream).clipsSkipped++; });
  scheduler.on('error', (err, jobs) => log.error({ err, clips: jobs.length }, 'the model failed on a batch'));

  const withAnalysis = (s: StreamStatus): StreamStatus => {
    const c = countersFor(s.key);
    return { ...s, clipsScored: c.clipsScored, clipsSkipped: c.clipsSkipped, lagSeconds: medianOrNull(c.lags), openAlerts: alerts.openAlertCount(s.key) };
  };
  manager.on('stream:added', (s) => hub.publishStreamState(withAnalysis(s)));
  manager.on('stream:state', (s) => {
    hub.publishStreamState(withAnalysis(s));
    if (s.state === 'ended' || s.state === 'failed') void dropAnalyzer(s.key, s.state);
  });
  manager.on('stream:removed', (key) => {
    void dropAnalyzer(key, 'removed');
    counters.delete(key);
    hub.removeStream(key);
  });
  manager.on('publish:rejected', (r) => log.warn({ kind: r.kind, key: r.key, remote: r.remote, code: r.code }, `publish refused: ${r.reason}`));
  manager.on('frame', (key: string, frame: Frame) => {
    lastPts.set(key, frame.pts);
    void analyzerFor(key).then((a) => a?.push(frame));
  });

  const statusTimer = setInterval(() => {
    for (const [key, p] of analyzers) {
      void p.then((a) => {
        if (!a || !hub.stream(key)) return;
        const c = countersFor(key);
        const ingest = manager.get(key)?.status();
        hub.updateStream(key, {
          framesDecoded: ingest?.framesDecoded ?? 0,
          framesAnalysed: a.stats.framesAnalysed,
          // Dropped in the decoder (ingest's count) plus dropped before face analysis.
          framesDropped: (ingest?.framesDropped ?? 0) + a.stats.framesDropped,
          clipsScored: c.clipsScored, clipsSkipped: c.clipsSkipped + a.stats.clipsDeferred,
          lagSeconds: medianOrNull(c.lags), activeTracks: a.stats.activeTracks, openAlerts: alerts.openAlertCount(key),
        });
      });
    }
  }, STATUS_INTERVAL_MS);
  statusTimer.unref();

  let rtmp: RtmpIngest | null = null;
  if (config.rtmp.enabled) {
    rtmp = await RtmpIngest.listen(manager, { port: config.rtmp.port });
    log.info({ port: rtmp.port }, `RTMP ingest on rtmp://<host>:${rtmp.port}/live/<stream-key>`);
  }
  if (config.whip.enabled) {
    const whip = new WhipIngest(manager, {
      iceServers: config.whip.iceServers,
      udpPortRange: [config.whip.udpPortMin, config.whip.udpPortMax],
      announcedAddress: config.whip.announcedAddress,
    });
    app.use('/whip', whip.router);
  }
  hub.handle({
    addPull: async (req) => {
      try {
        return manager.addPull({ key: req.key, name: req.name, url: req.url }).status();
      } catch (e) {
        // The manager's refusals are the caller's mistakes: 409 for a taken key, 400 otherwise.
        if (e instanceof InvalidStateError) throw new MonitorError('conflict', e.message);
        if (e instanceof TypeError || (e instanceof Error && e.name === 'UnsupportedError')) throw new MonitorError('invalid', e.message);
        throw e;
      }
    },
    remove: async (key) => {
      if (!(await manager.remove(key))) throw new MonitorError('not_found', `no stream "${key}"`);
    },
  });
  for (const p of config.streams.pull) manager.addPull(p);
  if (config.demo.enabled) {
    const demos = demoStreams();
    if (demos.length === 0) log.warn('demo streams are enabled but server/demo/media/ has no videos');
    for (const d of demos) manager.addPull(d);
  }

  return async () => {
    clearInterval(statusTimer);
    await manager.close();
    for (const key of [...analyzers.keys()]) await dropAnalyzer(key, 'shutdown');
    await scheduler.close();
    await alerts.close();
    await model.close();
  };
}
