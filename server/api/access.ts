import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler, Response } from 'express';
import { sendError } from './http-errors.js';

/**
 * Who may use the dashboard, the REST API, Socket.IO and /metrics: holders of one of the
 * configured access tokens. Tools send `Authorization: Bearer <token>` (Socket.IO clients may
 * put it in the handshake's `auth.token` instead); the dashboard trades the token once for an
 * HttpOnly session cookie, because an <img> (evidence) or a WebSocket cannot carry a header.
 * With no tokens configured everything is open, as on a trusted network.
 */

export const SESSION_COOKIE = 'deepwatch_session';
/** How long a dashboard session lasts in a browser before the token is asked for again. */
export const SESSION_MAX_AGE_S = 30 * 24 * 3600;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
// The cookie is derived from the token rather than being it, so a cookie read from a browser
// profile cannot be used as a bearer token in the API or the config.
const sessionValue = (token: string): string => createHmac('sha256', token).update('deepwatch dashboard session').digest('base64url');

/** Constant-time membership: every candidate is compared, all of equal (digest) length. */
function oneOf(candidate: string, digests: Buffer[]): boolean {
  const d = digest(candidate);
  let found = false;
  for (const x of digests) found = timingSafeEqual(d, x) || found;
  return found;
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export class AccessControl {
  readonly #tokens: Buffer[];
  readonly #sessions: Buffer[];

  constructor(tokens: readonly string[]) {
    this.#tokens = tokens.map(digest);
    this.#sessions = tokens.map((t) => digest(sessionValue(t)));
  }

  /** False when no token is configured: nothing is checked. */
  get enabled(): boolean {
    return this.#tokens.length > 0;
  }

  isToken(token: string): boolean {
    return this.enabled && oneOf(token, this.#tokens);
  }

  /** A request (or WebSocket handshake) carrying a valid bearer token, session cookie or `auth.token`. */
  allows(headers: IncomingHttpHeaders, handshakeToken?: unknown): boolean {
    if (!this.enabled) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    if (m && this.isToken(m[1] as string)) return true;
    if (typeof handshakeToken === 'string' && this.isToken(handshakeToken)) return true;
    const cookie = cookieValue(headers.cookie, SESSION_COOKIE);
    return cookie !== null && oneOf(cookie, this.#sessions);
  }

  /** Express middleware: 401 JSON (with a WWW-Authenticate challenge) unless `allows`. */
  guard(): RequestHandler {
    return (req, res, next) => {
      if (this.allows(req.headers)) return next();
      res.set('WWW-Authenticate', 'Bearer realm="deepwatch"');
      sendError(res, 401, 'unauthorized', req.headers.authorization || cookieValue(req.headers.cookie, SESSION_COOKIE)
        ? 'the access token is not valid'
        : 'an access token is required: send "Authorization: Bearer <token>" (server.accessTokens)');
    };
  }

  /** Sets the dashboard's session cookie for a token already checked with `isToken`. */
  setSession(res: Response, token: string, secure: boolean): void {
    res.cookie(SESSION_COOKIE, sessionValue(token), {
      httpOnly: true, sameSite: 'strict', path: '/', secure, maxAge: SESSION_MAX_AGE_S * 1000,
    });
  }

  clearSession(res: Response, secure: boolean): void {
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/', secure });
  }
}
