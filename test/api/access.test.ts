import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../server/config/load.js';
import { alert, issuesOf, startTestServer, streamStatus } from './fixtures.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const TOKEN_A = 'token-a-0123456789abcdef';
const TOKEN_B = 'token-b-fedcba9876543210';

/** Connects a real Socket.IO client; resolves 'connected' or the connect_error message. */
function tryConnect(url: string, opts: { token?: string; cookie?: string } = {}): Promise<string> {
  const socket = connect(url, {
    transports: ['websocket'], forceNew: true, reconnection: false,
    ...(opts.token ? { auth: { token: opts.token } } : {}),
    ...(opts.cookie ? { extraHeaders: { cookie: opts.cookie } } : {}),
  });
  return new Promise((resolve) => {
    socket.once('connect', () => { socket.disconnect(); resolve('connected'); });
    socket.once('connect_error', (err) => { socket.disconnect(); resolve(err.message); });
  });
}

describe('access tokens (server.accessTokens)', () => {
  let s: Server;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${s.url}${path}`, { headers });
  const login = (token: unknown, headers: Record<string, string> = {}) => fetch(`${s.url}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ token }),
  });

  beforeAll(async () => {
    s = await startTestServer({ clientDir: '/nonexistent-dashboard', accessTokens: [TOKEN_A, TOKEN_B] });
    s.hub.publishStreamState(streamStatus('cam1'));
    s.hub.publishAlert(alert('a1', 'cam1'));
  });
  afterAll(async () => s.close());

  it('REST and /metrics answer 401 with a challenge without a token, or with a wrong one', async () => {
    for (const path of ['/api/v1/streams', '/api/v1/health', '/api/v1/alerts/a1', '/api/v1/alerts/a1/evidence', '/metrics']) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="deepwatch"');
      expect((await res.json()).error).toEqual({
        code: 'unauthorized', message: 'an access token is required: send "Authorization: Bearer <token>" (server.accessTokens)',
      });
    }
    const wrong = await get('/api/v1/streams', { authorization: `Bearer ${TOKEN_A}x` });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.message).toBe('the access token is not valid');
    expect((await get('/api/v1/streams', { authorization: TOKEN_A })).status).toBe(401); // no "Bearer"
  });

  it('any configured token opens REST and /metrics', async () => {
    for (const t of [TOKEN_A, TOKEN_B]) {
      const res = await get('/api/v1/streams', { authorization: `Bearer ${t}` });
      expect(res.status).toBe(200);
      expect((await res.json()).items.map((x: { key: string }) => x.key)).toEqual(['cam1']);
    }
    const m = await get('/metrics', { authorization: `bearer ${TOKEN_B}` });
    expect(m.status).toBe(200);
    expect(await m.text()).toContain('deepwatch_stream_frames_decoded_total{stream="cam1"}');
  });

  it('the OpenAPI document, the liveness word and the session state stay public', async () => {
    expect((await get('/api/v1/openapi.json')).status).toBe(200);
    const live = await get('/api/v1/live');
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'degraded' }); // no model loaded yet, and no word on why
    s.hub.setModel({ name: 'demo', provider: 'cpu' });
    expect(await (await get('/api/v1/live')).json()).toEqual({ status: 'ok' });
    expect(await (await get('/api/v1/session')).json()).toEqual({ required: true, authenticated: false });
    expect(await (await get('/api/v1/session', { authorization: `Bearer ${TOKEN_A}` })).json()).toEqual({ required: true, authenticated: true });
  });

  it('POST /session trades a valid token for an HttpOnly, SameSite=Strict cookie that is not the token', async () => {
    const bad = await login('not-the-token-at-all');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    expect((await login(42)).status).toBe(400);

    const ok = await login(TOKEN_A);
    expect(ok.status).toBe(204);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^deepwatch_session=[A-Za-z0-9_-]{43}; Max-Age=2592000; Path=\/; Expires=.+; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0] as string;
    expect(cookie).not.toContain(TOKEN_A);

    expect((await get('/api/v1/streams', { cookie })).status).toBe(200);
    expect((await get('/api/v1/alerts/a1', { cookie })).status).toBe(200);
    expect(await (await get('/api/v1/session', { cookie })).json()).toEqual({ required: true, authenticated: true });
    // the cookie is not a bearer token, and a tampered cookie opens nothing
    expect((await get('/api/v1/streams', { authorization: `Bearer ${cookie.split('=')[1]}` })).status).toBe(401);
    expect((await get('/api/v1/streams', { cookie: `${cookie.slice(0, -1)}x` })).status).toBe(401);

    // behind a TLS proxy the cookie is only sent back over HTTPS
    const proxied = await login(TOKEN_A, { 'x-forwarded-proto': 'https' });
    expect(proxied.headers.get('set-cookie')).toMatch(/; HttpOnly; Secure; SameSite=Strict$/);

    const out = await fetch(`${s.url}/api/v1/session`, { method: 'DELETE', headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^deepwatch_session=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$/);
  });

  it('Socket.IO refuses a client without a token and admits one with a token or the session cookie', async () => {
    expect(await tryConnect(s.url)).toBe('unauthorized');
    expect(await tryConnect(s.url, { token: 'wrong-token-wrong-token' })).toBe('unauthorized');
    expect(await tryConnect(s.url, { token: TOKEN_B })).toBe('connected');
    const cookie = ((await login(TOKEN_B)).headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(await tryConnect(s.url, { cookie })).toBe('connected');
  });
});

describe('access tokens off (the default)', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startTestServer({ clientDir: '/nonexistent-dashboard' });
  });
  afterAll(async () => s.close());

  it('everything is open and the session says no token is needed', async () => {
    expect(await (await fetch(`${s.url}/api/v1/session`)).json()).toEqual({ required: false, authenticated: true });
    expect((await fetch(`${s.url}/api/v1/streams`)).status).toBe(200);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
    expect(await tryConnect(s.url)).toBe('connected');
  });
});

describe('access token configuration', () => {
  it('DEEPWATCH_ACCESS_TOKEN adds to the file\'s tokens; short or spaced tokens are refused', () => {
    expect(loadConfig({ env: { DEEPWATCH_ACCESS_TOKEN: TOKEN_A }, cwd: '/nonexistent' }).config.server.accessTokens).toEqual([TOKEN_A]);
    expect(loadConfig({ env: {}, cwd: '/nonexistent' }).config.server.accessTokens).toEqual([]);
    const file = join(mkdtempSync(join(tmpdir(), 'dw-tokens-')), 'deepwatch.yaml');
    writeFileSync(file, `server:\n  accessTokens: [${TOKEN_B}]\n`);
    expect(loadConfig({ path: file, env: { DEEPWATCH_ACCESS_TOKEN: TOKEN_A } }).config.server.accessTokens).toEqual([TOKEN_B, TOKEN_A]);
    expect(issuesOf(() => loadConfig({ env: { DEEPWATCH_ACCESS_TOKEN: 'short' }, cwd: '/nonexistent' })))
      .toEqual(['DEEPWATCH_ACCESS_TOKEN: must be at least 16 characters']);
    expect(issuesOf(() => loadConfig({ env: { DEEPWATCH_ACCESS_TOKEN: 'has a space in the middle' }, cwd: '/nonexistent' })))
      .toEqual(['DEEPWATCH_ACCESS_TOKEN: must not contain spaces']);
    expect(issuesOf(() => parseConfig({ server: { accessTokens: [TOKEN_A, 'tiny'] } })))
      .toEqual(['server -> accessTokens[1]: must be at least 16 characters']);
  });
});
