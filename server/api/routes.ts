import express, { Router, type Request } from 'express';
import type { Logger } from 'pino';
import { AccessControl } from './access.js';
import { HttpError, errorHandler, notFoundHandler } from './http-errors.js';
import type { Monitor } from './monitor.js';
import { buildOpenApi } from './openapi.js';
import type { SessionState } from './wire.js';
import { parseAddPull, parseAlertQuery, parseStreamKey } from './validation.js';

/** Where an alert's evidence image is served; alert stages put this in `AlertWire.evidenceUrl`. */
export const API_PREFIX = '/api/v1';
export function evidenceUrl(alertId: string): string {
  return `${API_PREFIX}/alerts/${encodeURIComponent(alertId)}/evidence`;
}

/**
 * Whether the browser reached us over HTTPS, directly or through a TLS proxy. The forwarded
 * header is taken on trust: a client lying about it only gets a cookie it cannot send back.
 */
function overTls(req: Request): boolean {
  return req.secure || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
}

/**
 * The REST API, mounted at /api/v1. Every route is described in openapi.ts; a test checks
 * the two against each other. Handlers only talk to the Monitor interface. With access
 * tokens configured, everything past the session routes and the OpenAPI document needs one.
 */
export function apiRouter(monitor: Monitor, logger: Logger, access = new AccessControl([])): Router {
  const r = Router();
  r.use(express.json({ limit: '16kb' }));

  r.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApi());
  });

  // Load balancers and probes that cannot send a token still learn whether the server is
  // up; the status word is all they get (the problems can name streams).
  r.get('/live', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: monitor.health().status });
  });

  r.get('/session', (req, res) => {
    const state: SessionState = { required: access.enabled, authenticated: access.allows(req.headers) };
    res.set('Cache-Control', 'no-store').json(state);
  });

  r.post('/session', (req, res) => {
    const token = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0) throw new HttpError(400, 'bad_request', 'token: expected a string');
    if (access.enabled) {
      if (!access.isToken(token)) throw new HttpError(401, 'unauthorized', 'the access token is not valid');
      access.setSession(res, token, overTls(req));
    }
    res.status(204).end();
  });

  r.delete('/session', (req, res) => {
    access.clearSession(res, overTls(req));
    res.status(204).end();
  });

  r.use(access.guard());

  r.get('/health', (_req, res) => {
    res.json(monitor.health());
  });

  r.get('/streams', (_req, res) => {
    res.json({ items: monitor.streams() });
  });

  r.post('/streams', async (req, res) => {
    const body = parseAddPull(req.body);
    const status = await monitor.addPull(body);
    res.status(201).location(`${API_PREFIX}/streams/${encodeURIComponent(status.key)}`).json(status);
  });

  r.get('/streams/:key', (req, res) => {
    const key = parseStreamKey(req.params.key);
    const s = monitor.stream(key);
    if (!s) throw new HttpError(404, 'not_found', `no stream "${key}"`);
    res.json(s);
  });

  r.delete('/streams/:key', async (req, res) => {
    await monitor.remove(parseStreamKey(req.params.key));
    res.status(204).end();
  });

  r.get('/streams/:key/tracks', (req, res) => {
    const key = parseStreamKey(req.params.key);
    if (!monitor.stream(key)) throw new HttpError(404, 'not_found', `no stream "${key}"`);
    res.json({ items: monitor.tracks(key) });
  });

  r.get('/alerts', async (req, res) => {
    res.json(await monitor.alerts(parseAlertQuery(req.query)));
  });

  r.get('/alerts/:id', async (req, res) => {
    const a = await monitor.alert(req.params.id);
    if (!a) throw new HttpError(404, 'not_found', `no alert "${req.params.id}"`);
    res.json(a);
  });

  r.get('/alerts/:id/evidence', async (req, res) => {
    const ev = await monitor.evidence(req.params.id);
    if (!ev) throw new HttpError(404, 'not_found', `no evidence for alert "${req.params.id}"`);
    // Evidence never changes once written, so browsers may keep it.
    res.type(ev.contentType).set('Cache-Control', 'private, max-age=86400').send(ev.data);
  });

  r.use(notFoundHandler);
  r.use(errorHandler(logger));
  return r;
}
