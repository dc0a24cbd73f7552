import { z } from 'zod';
import { SESSION_COOKIE } from './access.js';
import { addPullBody } from './validation.js';

/**
 * OpenAPI 3.1 description of /api/v1. The wire types (wire.ts) are TypeScript interfaces,
 * so their schemas are written here by hand; test/api checks every route against this
 * document and the properties of real responses against these schemas. Request schemas
 * come from the zod validators, so they cannot drift.
 */

type Schema = Record<string, unknown>;

const num = (description?: string): Schema => ({ type: 'number', ...(description ? { description } : {}) });
const int = (description?: string): Schema => ({ type: 'integer', minimum: 0, ...(description ? { description } : {}) });
const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const nullable = (s: Schema): Schema => ({ ...s, type: [s.type, 'null'] });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, Schema>, description?: string): Schema => ({
  type: 'object', properties, required: Object.keys(properties), additionalProperties: false,
  ...(description ? { description } : {}),
});

const streamStates = ['waiting', 'live', 'stalled', 'reconnecting', 'ended', 'failed'];

export const schemas: Record<string, Schema> = {
  StreamStatus: obj({
    key: str('stream key'),
    name: str(),
    kind: { type: 'string', enum: ['rtmp', 'whip', 'pull', 'demo'] },
    state: { type: 'string', enum: streamStates },
    reason: nullable(str('why the stream is failed, stalled or ended')),
    width: nullable(int()),
    height: nullable(int()),
    fps: nullable(num()),
    framesDecoded: int(),
    framesAnalysed: int(),
    framesDropped: int('frames dropped before analysis'),
    clipsScored: int(),
    clipsSkipped: int('clips the scheduler skipped under load'),
    lagSeconds: nullable(num('median seconds from a frame\'s arrival to its clip\'s score')),
    activeTracks: int(),
    openAlerts: int(),
    since: num('Unix ms when the stream entered its current session'),
  }),
  Box: obj({ x: num(), y: num(), width: num(), height: num() }, 'pixels of the decoded frame'),
  TrackUpdate: obj({
    stream: str(),
    trackId: int(),
    box: ref('Box'),
    pts: num('stream time, seconds'),
    score: nullable(num('rolling score 0..1, null before the first clip')),
    verdict: { type: 'string', enum: ['fake', 'real', 'pending'] },
  }),
  AlertWire: obj({
    id: str(),
    stream: str(),
    trackId: int(),
    phase: { type: 'string', enum: ['open', 'update', 'close'] },
    ptsStart: num('stream time, seconds'),
    ptsEnd: num('stream time, seconds'),
    wallStart: num('Unix ms'),
    wallEnd: nullable(num('Unix ms; null while open')),
    peak: num(),
    mean: num(),
    model: str(),
    threshold: num(),
    evidenceUrl: nullable(str('URL of the evidence image')),
  }),
  Health: obj({
    status: { type: 'string', enum: ['ok', 'degraded'] },
    version: str(),
    uptimeSeconds: num(),
    model: {
      oneOf: [{
        ...obj({ name: str(), provider: str('cpu, cuda, ...'), threshold: num('decision threshold on the probability') }),
        required: ['name', 'provider'],
      }, { type: 'null' }],
    },
    streams: obj({ total: int(), ...Object.fromEntries(streamStates.map((s) => [s, int()])) }, 'stream counts by state'),
    openAlerts: int(),
    dashboardClients: int(),
    problems: { type: 'array', items: str() },
  }),
  Error: obj({
    error: obj({
      code: str('machine-readable: bad_request, invalid_json, not_found, conflict, unavailable, payload_too_large, internal'),
      message: str('what went wrong, in words'),
    }),
  }),
  AddPullRequest: z.toJSONSchema(addPullBody, { io: 'input' }) as Schema,
};

const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const keyParam = { name: 'key', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const list = (item: string, extra: Record<string, Schema> = {}) =>
  ({ type: 'object', properties: { items: { type: 'array', items: ref(item) }, ...extra }, required: ['items', ...Object.keys(extra)] });

export const paths: Record<string, Record<string, unknown>> = {
  '/health': {
    get: { operationId: 'getHealth', summary: 'Service status, uptime, model and stream counts', responses: { 200: json(ref('Health'), 'health report') } },
  },
  '/live': {
    get: {
      operationId: 'getLiveness', summary: 'Liveness for probes: only the status word, public even when access tokens are set', security: [],
      responses: { 200: json(obj({ status: { type: 'string', enum: ['ok', 'degraded'] } }), 'the service is up') },
    },
  },
  '/openapi.json': {
    get: { operationId: 'getOpenApi', summary: 'This document', security: [], responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1 document') } },
  },
  '/session': {
    get: {
      operationId: 'getSession', summary: 'Whether this server needs an access token, and whether this request carries a valid one',
      security: [],
      responses: { 200: json(obj({ required: { type: 'boolean' }, authenticated: { type: 'boolean' } }), 'session state') },
    },
    post: {
      operationId: 'createSession', summary: 'Trade an access token for the dashboard\'s HttpOnly session cookie',
      security: [],
      requestBody: { required: true, content: { 'application/json': { schema: obj({ token: str('one of server.accessTokens') }) } } },
      responses: { 204: { description: 'cookie set (nothing to set when no tokens are configured)' }, 400: error('no token in the body'), 401: error('not a valid token') },
    },
    delete: {
      operationId: 'deleteSession', summary: 'Forget the session cookie (log out)', security: [],
      responses: { 204: { description: 'cookie cleared' } },
    },
  },
  '/streams': {
    get: { operationId: 'listStreams', summary: 'Every stream with its state and counters', responses: { 200: json(list('StreamStatus'), 'streams') } },
    post: {
      operationId: 'addPullStream',
      summary: 'Add a pull source (the server pulls the URL and watches it)',
      requestBody: { required: true, content: { 'application/json': { schema: ref('AddPullRequest') } } },
      responses: {
        201: { ...json(ref('StreamStatus'), 'the new stream'), headers: { Location: { schema: { type: 'string' }, description: 'URL of the new stream' } } },
        400: error('invalid body'),
        409: error('a stream with this key exists'),
        503: error('ingest is not running'),
      },
    },
  },
  '/streams/{key}': {
    get: {
      operationId: 'getStream', summary: 'One stream', parameters: [keyParam],
      responses: { 200: json(ref('StreamStatus'), 'the stream'), 400: error('invalid key'), 404: error('no such stream') },
    },
    delete: {
      operationId: 'removeStream', summary: 'Stop watching a stream and forget it', parameters: [keyParam],
      responses: { 204: { description: 'removed' }, 400: error('invalid key'), 404: error('no such stream') },
    },
  },
  '/streams/{key}/tracks': {
    get: {
      operationId: 'listTracks', summary: 'Faces tracked now in a stream, with box and rolling score', parameters: [keyParam],
      responses: { 200: json(list('TrackUpdate'), 'tracks'), 404: error('no such stream') },
    },
  },
  '/alerts': {
    get: {
      operationId: 'listAlerts', summary: 'Alerts, newest first, one entry per incident in its latest phase',
      parameters: [
        { name: 'stream', in: 'query', schema: { type: 'string' }, description: 'only this stream\'s alerts' },
        { name: 'open', in: 'query', schema: { type: 'boolean' }, description: 'true: only open alerts; false: only closed ones' },
        { name: 'since', in: 'query', schema: { type: 'string' }, description: 'only alerts opened at or after this time: Unix ms or ISO 8601' },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' }, description: '`next` of the previous page' },
      ],
      responses: { 200: json(list('AlertWire', { next: nullable(str('cursor of the next page')) }), 'a page of alerts'), 400: error('invalid query') },
    },
  },
  '/alerts/{id}': {
    get: {
      operationId: 'getAlert', summary: 'One alert', parameters: [idParam],
      responses: { 200: json(ref('AlertWire'), 'the alert'), 404: error('no such alert') },
    },
  },
  '/alerts/{id}/evidence': {
    get: {
      operationId: 'getAlertEvidence', summary: 'Evidence image of an alert (strip of aligned face crops)', parameters: [idParam],
      responses: {
        200: { description: 'the image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } }, 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } },
        404: error('no such alert, or no evidence for it'),
      },
    },
  },
};

export function buildOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Deepwatch API',
      version: '1',
      description: 'Live deepfake monitor: streams, tracked faces, alerts and health. Live events (scores, tracks, alerts, previews) are on Socket.IO at /socket.io; see docs/api.md.',
    },
    servers: [{ url: '/api/v1' }],
    paths,
    // Only enforced when the server has access tokens (server.accessTokens); then every
    // operation without its own `security: []` answers 401 to a request without one.
    security: [{ bearer: [] }, { session: [] }],
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'one of server.accessTokens' },
        session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'set by POST /session (the dashboard)' },
      },
    },
  };
}
