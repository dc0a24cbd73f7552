import { z } from 'zod';

/**
 * The whole configuration of a Deepwatch server, one YAML file. Every field has a default,
 * a description and bounds, and unknown keys are rejected (a misspelt option must fail
 * loudly instead of silently keeping its default). deepwatch.example.yaml is generated
 * from this schema, so the descriptions here are the documentation.
 */

const port = (value: number, description: string) =>
  z.number().int().min(1).max(65535).default(value).describe(description);

/** Stream keys appear in URLs (rtmp://host/live/<key>, /whip/<key>, /api/v1/streams/<key>). */
export const streamKeySchema = z.string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');

export const streamNameSchema = z.string().trim().min(1).max(120);

/** Where a pull source reads from; GStreamer's uridecodebin handles each of these. */
export const pullUrlSchema = z.string().trim().refine((u) => /^(rtmps?|rtsp|https?|file):\/\//i.test(u) || u.startsWith('/'), {
  message: 'must be an rtmp://, rtmps://, rtsp://, http(s):// or file:// URL, or an absolute file path',
});

export const accessTokenSchema = z.string().min(16, 'must be at least 16 characters').regex(/^\S+$/, 'must not contain spaces');

const server = z.strictObject({
  host: z.string().min(1).default('0.0.0.0').describe('address the HTTP server (dashboard, REST, Socket.IO, WHIP) listens on'),
  port: z.number().int().min(0).max(65535).default(8080)
    .describe('HTTP port (0 = any free port); also set by DEEPWATCH_PORT or --port'),
  publicUrl: z.url().nullable().default(null)
    .describe('URL operators reach this server at (used in webhook payload links); null = http://<host>:<port>'),
  previewFps: z.number().min(0).max(10).default(2)
    .describe('at most this many preview JPEGs per second per stream go to dashboards (0 = none)'),
  accessTokens: z.array(accessTokenSchema).max(32).default([])
    .describe('tokens that open the dashboard, REST API, Socket.IO and /metrics (Authorization: Bearer <token>); '
      + 'also DEEPWATCH_ACCESS_TOKEN; none = no authentication, for a trusted network only (WHIP publishers always use their stream key)'),
}).describe('HTTP server: dashboard, REST API, Socket.IO and WHIP');

const rtmp = z.strictObject({
  enabled: z.boolean().default(true).describe('accept RTMP publishers at rtmp://<host>:<port>/live/<stream-key>'),
  port: port(1935, 'RTMP port'),
}).describe('embedded RTMP server for OBS / ffmpeg publishers');

const iceServer = z.strictObject({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('stun: or turn: URL(s)'),
  username: z.string().optional().describe('TURN user name'),
  credential: z.string().optional().describe('TURN password'),
});

const whip = z.strictObject({
  enabled: z.boolean().default(true).describe('accept WebRTC publishers with WHIP at POST /whip/<stream-key>'),
  udpPortMin: port(40000, 'lowest UDP port for WebRTC media'),
  udpPortMax: port(40100, 'highest UDP port for WebRTC media'),
  announcedAddress: z.string().min(1).nullable().default(null)
    .describe('IP address put in ICE candidates, for a server behind NAT; null = the local addresses'),
  iceServers: z.array(iceServer).max(16).default([])
    .describe('STUN/TURN servers; none by default, so nothing is contacted outside this network'),
}).describe('WebRTC ingest (WHIP, RFC 9725)').superRefine((w, ctx) => {
  if (w.udpPortMin > w.udpPortMax) {
    ctx.addIssue({ code: 'custom', path: ['udpPortMax'], message: `must be >= udpPortMin (${w.udpPortMin})` });
  }
});

const publishKey = z.strictObject({
  key: streamKeySchema.describe('the stream key publishers use (RTMP path, WHIP URL and bearer token)'),
  name: streamNameSchema.describe('name shown on the dashboard'),
});

const pullSource = z.strictObject({
  key: streamKeySchema.describe('stream key, unique among all streams'),
  name: streamNameSchema.describe('name shown on the dashboard'),
  url: pullUrlSchema.describe('where to pull from: rtmp://, rtsp://, http(s):// (HLS too) or a file'),
  loop: z.boolean().default(false).describe('files only: play over and over (stream time keeps rising), like a camera that never stops'),
});

const streams = z.strictObject({
  publishKeys: z.array(publishKey).max(1000).default([])
    .describe('stream keys allowed to publish over RTMP or WHIP; a publish with any other key is refused'),
  pull: z.array(pullSource).max(1000).default([])
    .describe('sources the server pulls and watches from start-up (more can be added from the dashboard or REST)'),
  stallTimeoutSeconds: z.number().min(1).max(600).default(10)
    .describe('a stream with no frame for this long counts as stalled and its decoder is restarted'),
}).describe('which streams exist').superRefine((s, ctx) => {
  const seen = new Map<string, string>();
  const check = (key: string, list: string, i: number) => {
    const first = seen.get(key);
    if (first) ctx.addIssue({ code: 'custom', path: [list, i, 'key'], message: `duplicate stream key "${key}" (also streams -> ${first})` });
    else seen.set(key, `${list}[${i}]`);
  };
  s.publishKeys.forEach((p, i) => check(p.key, 'publishKeys', i));
  s.pull.forEach((p, i) => check(p.key, 'pull', i));
});

const demo = z.strictObject({
  enabled: z.boolean().default(true)
    .describe('watch the two built-in demo streams (one genuine, one manipulated, looping) so a new install shows something'),
}).describe('built-in demo streams');

const analysis = z.strictObject({
  model: z.string().regex(/^[a-z0-9_-]+$/).nullable().default(null)
    .describe('clip model folder under models/; null = the shipped model'),
  stride: z.number().int().min(1).max(256).nullable().default(null)
    .describe('frames between two scored clips of one track; null = the model manifest\'s defaultStride'),
  maxFps: z.number().min(1).max(60).default(15)
    .describe('frames per second decoded for analysis (extra frames are dropped before colour conversion)'),
  maxQueuedClips: z.number().int().min(1).max(1024).default(32)
    .describe('clips waiting for the model at most; past that the scheduler widens strides of low-risk tracks and counts skips'),
  batchSize: z.number().int().min(1).max(64).default(8)
    .describe('most clips in one model call'),
}).describe('face windows, scheduler and model');

const unit = z.number().min(0).max(1);

const alerts = z.strictObject({
  rollingClips: z.number().int().min(1).max(64).default(4)
    .describe('a track\'s rolling score is the mean over its last this many clip scores'),
  openThreshold: z.number().gt(0).lte(1).nullable().default(null)
    .describe('rolling score at or above which an alert opens; null = the model manifest\'s threshold'),
  closeThreshold: z.number().gte(0).lt(1).nullable().default(null)
    .describe('rolling score below which an open alert closes (hysteresis); null = closeRatio x openThreshold'),
  closeRatio: z.number().gt(0).lte(1).default(0.8)
    .describe('close threshold as a fraction of the open threshold, when closeThreshold is null'),
  minOpenSeconds: z.number().min(0).max(600).default(1)
    .describe('the rolling score must stay at or above openThreshold this long (stream time) before an alert opens'),
  minCloseSeconds: z.number().min(0).max(600).default(1)
    .describe('the rolling score must stay below closeThreshold this long before the alert closes'),
}).describe('rolling scores and the alert policy (hysteresis, one alert per incident)').superRefine((a, ctx) => {
  if (a.openThreshold !== null && a.closeThreshold !== null && a.closeThreshold > a.openThreshold) {
    ctx.addIssue({ code: 'custom', path: ['closeThreshold'], message: `must be <= openThreshold (${a.openThreshold})` });
  }
});

/** Alert phases a webhook can subscribe to (the `phase` of AlertWire). */
export const webhookEvents = ['open', 'update', 'close'] as const;

const webhook = z.strictObject({
  name: z.string().min(1).max(120).optional()
    .describe('a stable name for this webhook; its deliveries are kept under it (default: the URL)'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).describe('http(s) URL that receives a JSON POST per alert event'),
  secret: z.string().min(16).max(256)
    .describe('shared secret: each delivery carries an HMAC-SHA256 signature of its body made with it'),
  events: z.array(z.enum(webhookEvents)).min(1).default([...webhookEvents])
    .describe('which alert phases to deliver'),
});

const storage = z.strictObject({
  dbPath: z.string().min(1).default('.deepwatch/deepwatch.db')
    .describe('SQLite file for alerts, evidence and the webhook outbox (relative paths are from the working directory; ":memory:" keeps nothing)'),
  evidenceMaxMB: z.number().min(0).max(1_000_000).default(64)
    .describe('evidence images kept, newest first, up to this many MB'),
}).describe('where state is kept');

const logging = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('least severe level written (JSON lines on stdout); also set by DEEPWATCH_LOG_LEVEL'),
}).describe('structured logs (pino)');

export const configSchema = z.strictObject({
  server: server.prefault({}),
  rtmp: rtmp.prefault({}),
  whip: whip.prefault({}),
  streams: streams.prefault({}),
  demo: demo.prefault({}),
  analysis: analysis.prefault({}),
  alerts: alerts.prefault({}),
  webhooks: z.array(webhook).max(32).default([]).describe('operators\' endpoints that receive alert events'),
  storage: storage.prefault({}),
  logging: logging.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
/** What a config file may contain: every field optional. */
export type ConfigInput = z.input<typeof configSchema>;
export type WebhookEvent = (typeof webhookEvents)[number];
