import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Router } from 'express';
import { apiRouter } from '../../server/api/routes.js';
import { MonitorHub } from '../../server/api/hub.js';
import { alert, quietLogger, startTestServer, streamStatus, track } from './fixtures.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** Method + path of every route the real router has, in OpenAPI's {param} form. */
function routesOf(router: Router): string[] {
  const out: string[] = [];
  for (const layer of router.stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${path}`);
  }
  return out.sort();
}

describe('OpenAPI description', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s.close());

  it('is served at /api/v1/openapi.json and documents exactly the routes the router has', async () => {
    const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const actual = routesOf(apiRouter(new MonitorHub(), quietLogger));
    expect(actual.length).toBeGreaterThanOrEqual(10);
    expect(documented).toEqual(actual);
    // Every $ref points at a schema that exists.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]);
    for (const r of refs) expect(doc.components.schemas, r).toHaveProperty(r!);
  });

  it('describes the properties real responses carry, no more and no fewer', async () => {
    s.hub.setModel({ name: 'demo', provider: 'cpu' });
    s.hub.publishStreamState(streamStatus('cam1'));
    s.hub.publishTrack(track('cam1', 1));
    s.hub.publishAlert(alert('x1', 'cam1'));
    const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json();
    const keysOf = (name: string) => Object.keys(doc.components.schemas[name].properties).sort();
    const get = async (p: string) => (await fetch(`${s.url}/api/v1${p}`)).json();
    expect(Object.keys(await get('/streams/cam1')).sort()).toEqual(keysOf('StreamStatus'));
    expect(Object.keys((await get('/streams/cam1/tracks')).items[0]).sort()).toEqual(keysOf('TrackUpdate'));
    expect(Object.keys(await get('/alerts/x1')).sort()).toEqual(keysOf('AlertWire'));
    expect(Object.keys(await get('/health')).sort()).toEqual(keysOf('Health'));
    expect(Object.keys(await get('/streams/none')).sort()).toEqual(keysOf('Error'));
  });
});

describe('/metrics', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s.close());

  it('exposes per-stream series read from the monitor, model timing, alerts, webhooks and process metrics', async () => {
    s.hub.publishStreamState(streamStatus('cam1', { framesDecoded: 1234, framesDropped: 7, clipsSkipped: 3, lagSeconds: 0.75, activeTracks: 2 }));
    s.hub.publishStreamState(streamStatus('cam2', { state: 'stalled', kind: 'rtmp', lagSeconds: null }));
    s.hub.publishModelRun({ model: 'demo', provider: 'cpu', clips: 4, seconds: 0.2 });
    s.hub.publishAlert(alert('m1', 'cam1'));
    s.hub.publishAlert(alert('m1', 'cam1', { phase: 'update' }));
    s.hub.publishWebhookDelivery({ url: 'https://x', event: 'open', outcome: 'delivered', status: 200 });
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const lines = text.split('\n');
    expect(lines).toContain('deepwatch_stream_frames_decoded_total{stream="cam1"} 1234');
    expect(lines).toContain('deepwatch_stream_frames_dropped_total{stream="cam1"} 7');
    expect(lines).toContain('deepwatch_stream_clips_skipped_total{stream="cam1"} 3');
    expect(lines).toContain('deepwatch_stream_lag_seconds{stream="cam1"} 0.75');
    expect(lines).toContain('deepwatch_stream_active_tracks{stream="cam1"} 2');
    expect(lines).toContain('deepwatch_stream_frames_analysed_total{stream="cam2"} 240');
    expect(lines).toContain('deepwatch_stream_state{stream="cam2",kind="rtmp",state="stalled"} 1');
    expect(lines).toContain('deepwatch_stream_state{stream="cam2",kind="rtmp",state="live"} 0');
    expect(text).not.toContain('deepwatch_stream_lag_seconds{stream="cam2"}');
    expect(lines).toContain('deepwatch_alerts_opened_total{stream="cam1"} 1');
    expect(lines).toContain('deepwatch_webhook_deliveries_total{outcome="delivered"} 1');
    expect(lines).toContain('deepwatch_model_seconds_per_clip_count{model="demo",provider="cpu"} 1');
    expect(lines).toContain('deepwatch_model_seconds_per_clip_bucket{le="0.05",model="demo",provider="cpu"} 1');
    expect(lines).toContain('deepwatch_model_seconds_per_clip_bucket{le="0.02",model="demo",provider="cpu"} 0');
    expect(text).toMatch(/^deepwatch_process_resident_memory_bytes \d+/m);

    s.hub.removeStream('cam2');
    expect(await (await fetch(`${s.url}/metrics`)).text()).not.toContain('stream="cam2"');
  });
});
