import { pino } from 'pino';
import { ApiServer } from '../../server/api/http-server.js';
import { MonitorHub } from '../../server/api/hub.js';
import { ConfigError } from '../../server/config/load.js';
import type { AlertWire, ClipScore, StreamStatus, TrackUpdate } from '../../server/api/wire.js';

/** The issue lines of the ConfigError `fn` throws (fails the test if it throws none). */
export function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

export const quietLogger = pino({ level: 'silent' });

export function streamStatus(key: string, patch: Partial<StreamStatus> = {}): StreamStatus {
  return {
    key, name: `Camera ${key}`, kind: 'pull', state: 'live', reason: null, width: 1280, height: 720, fps: 25,
    framesDecoded: 250, framesAnalysed: 240, framesDropped: 10, clipsScored: 30, clipsSkipped: 2,
    lagSeconds: 0.4, activeTracks: 1, openAlerts: 0, since: 1_700_000_000_000, ...patch,
  };
}

export function track(stream: string, trackId: number, patch: Partial<TrackUpdate> = {}): TrackUpdate {
  return { stream, trackId, box: { x: 100, y: 80, width: 200, height: 240 }, pts: 10, score: 0.2, verdict: 'real', ...patch };
}

export function score(stream: string, trackId: number, ptsEnd: number, probability: number): ClipScore {
  return { stream, trackId, ptsStart: ptsEnd - 1.28, ptsEnd, probability, rolling: probability, model: 'demo', wallTime: Date.now() };
}

export function alert(id: string, stream: string, patch: Partial<AlertWire> = {}): AlertWire {
  return {
    id, stream, trackId: 1, phase: 'open', ptsStart: 12, ptsEnd: 14.5, wallStart: 1_700_000_100_000, wallEnd: null,
    peak: 0.93, mean: 0.88, model: 'demo', threshold: 0.6, evidenceUrl: `/api/v1/alerts/${id}/evidence`, ...patch,
  };
}

/** A real server on a free port, fed by the returned hub. */
export async function startTestServer(opts: { clientDir?: string; stateIntervalMs?: number; accessTokens?: string[] } = {}) {
  const hub = new MonitorHub({ previewFps: 1000, stateIntervalMs: opts.stateIntervalMs ?? 0 });
  const api = new ApiServer({ monitor: hub, logger: quietLogger, clientDir: opts.clientDir, processMetrics: true, accessTokens: opts.accessTokens });
  const { url, port } = await api.listen(0, '127.0.0.1');
  return {
    hub, api, url, port,
    async close() {
      await api.close();
      hub.close();
    },
  };
}
