import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertWire, ClipScore, ClientToServerEvents, ServerToClientEvents, StreamStatus } from '../../server/api/wire.js';
import { configSchema } from '../../server/config/schema.js';
import { createLogger } from '../../server/config/logging.js';
import { serve, type RunningServer } from '../../server/monitor/serve.js';
import { gstQuote } from '../../server/media/pipeline.js';
import { repoRoot } from '../../server/shared/paths.js';
import { gstStart, stopChild, tempDir, until } from '../helpers/gst.js';
import { exited } from '../ingest/helpers.js';
import { WhipTestClient } from '../ingest/whip-client.js';

/*
 * The product's main job, end to end with real parts: GStreamer publishers, the embedded
 * RTMP server, a werift WHIP client, real decoders, face models and the shipped clip model,
 * alerts in SQLite, and a real Socket.IO client watching it all.
 */

const media = join(repoRoot, 'server', 'demo', 'media');
const GENUINE = join(media, 'genuine.mp4');
const MANIPULATED = join(media, 'manipulated.mp4');

async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A file decoded and pushed over RTMP in real time, over and over, as OBS would push a camera. */
function rtmpPublishFile(file: string, url: string): ChildProcess {
  return gstStart(`multifilesrc location=${gstQuote(file)} loop=true ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! ` +
    `video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 bframes=0 ! video/x-h264,profile=baseline ! ` +
    `flvmux streamable=true ! rtmp2sink location=${url}`);
}

const tmp = tempDir('deepwatch-live-');
let server: RunningServer;
let rtmpPort: number;
let client: Socket<ServerToClientEvents, ClientToServerEvents>;
const scores: ClipScore[] = [];
const alerts: AlertWire[] = [];
const states = new Map<string, StreamStatus>();
const children: ChildProcess[] = [];

beforeAll(async () => {
  rtmpPort = await freeTcpPort();
  const config = configSchema.parse({
    server: { port: 0, host: '127.0.0.1', previewFps: 0 },
    rtmp: { port: rtmpPort },
    demo: { enabled: false },
    streams: {
      publishKeys: [{ key: 'cam-fake', name: 'Manipulated over RTMP' }, { key: 'whip-cam', name: 'WHIP camera' }],
      pull: [{ key: 'genuine', name: 'Genuine pull', url: GENUINE, loop: true }],
    },
    analysis: { maxFps: 10 },
    storage: { dbPath: join(tmp.dir, 'deepwatch.db') },
    logging: { level: 'warn' },
  });
  server = await serve({ config, logger: createLogger(config.logging) });
  client = io(server.url, { transports: ['websocket'] });
  client.on('clip:score', (s) => scores.push(s));
  client.on('alert', (a) => alerts.push(a));
  client.on('stream:state', (s) => states.set(s.key, s));
  await new Promise<void>((r) => client.on('connect', () => r()));
  for (const room of ['*', 'cam-fake', 'genuine', 'whip-cam']) client.emit('subscribe', room);
}, 120_000);

afterAll(async () => {
  client?.close();
  await Promise.all(children.map(stopChild));
  await server?.close();
  tmp.cleanup();
}, 60_000);

describe('live monitoring', () => {
  it('raises an alert for the manipulated demo published over RTMP with a valid key', async () => {
    const pub = rtmpPublishFile(MANIPULATED, `rtmp://127.0.0.1:${rtmpPort}/live/cam-fake`);
    children.push(pub);
    await until(() => alerts.some((a) => a.stream === 'cam-fake' && a.phase === 'open'), 150_000, 'an alert on cam-fake');
    const a = alerts.find((x) => x.stream === 'cam-fake' && x.phase === 'open')!;
    expect(a.peak).toBeGreaterThanOrEqual(a.threshold);
    expect(a.ptsEnd).toBeGreaterThanOrEqual(a.ptsStart);
    expect(a.model).toBeTruthy();
    expect(a.evidenceUrl).toMatch(/\/api\/v1\/alerts\/.+\/evidence/);
    const res = await fetch(new URL(a.evidenceUrl!, server.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\//);
  }, 180_000);

  it('refuses a publish with a wrong key', async () => {
    const pub = rtmpPublishFile(GENUINE, `rtmp://127.0.0.1:${rtmpPort}/live/not-a-key`);
    children.push(pub);
    const code = await Promise.race([exited(pub), new Promise<string>((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(code).not.toBe('still running');
    expect(code).not.toBe(0);
    expect(server.hub.stream('not-a-key')).toBeUndefined();
  }, 60_000);

  it('scores a WHIP (WebRTC) publisher', async () => {
    const whip = new WhipTestClient('VP8');
    try {
      const res = await whip.publish(`${server.url}/whip/whip-cam`, 'whip-cam');
      expect(res.status).toBe(201);
      await whip.startVideo(`multifilesrc location=${gstQuote(GENUINE)} loop=true ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! video/x-raw,format=I420`);
      await until(() => scores.some((s) => s.stream === 'whip-cam'), 150_000, 'a clip score from the WHIP stream');
    } finally {
      await whip.stop();
    }
  }, 180_000);

  it('scores the genuine pull source without raising an alert', async () => {
    await until(() => scores.filter((s) => s.stream === 'genuine').length >= 10, 150_000, '10 clip scores of the genuine stream');
    expect(alerts.filter((a) => a.stream === 'genuine')).toEqual([]);
  }, 180_000);

  it('a killed publisher ends its stream while another keeps scoring', async () => {
    const pub = children[0]!;
    pub.kill('SIGKILL');
    await until(() => ['ended', 'stalled', 'failed'].includes(server.hub.stream('cam-fake')?.state ?? ''), 60_000, 'cam-fake to end');
    const before = scores.filter((s) => s.stream === 'genuine').length;
    await until(() => scores.filter((s) => s.stream === 'genuine').length > before + 3, 60_000, 'more genuine scores after the kill');
    expect(server.hub.stream('genuine')?.state).toBe('live');
  }, 150_000);
});
