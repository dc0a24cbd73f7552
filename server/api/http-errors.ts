import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { MonitorError } from './monitor.js';

/** Every error response of the API: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** A failure with its HTTP status, thrown by route handlers and turned into the JSON error body. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const MONITOR_STATUS: Record<MonitorError['code'], [number, string]> = {
  not_found: [404, 'not_found'],
  conflict: [409, 'conflict'],
  invalid: [400, 'bad_request'],
  unavailable: [503, 'unavailable'],
};

export function sendError(res: Response, status: number, code: string, message: string): void {
  const body: ErrorBody = { error: { code, message } };
  res.status(status).json(body);
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `no route ${req.method} ${req.path}`);
};

/** The last middleware: known errors keep their status; anything else is a logged 500 without internals. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) return sendError(res, err.status, err.code, err.message);
    if (err instanceof MonitorError) {
      const [status, code] = MONITOR_STATUS[err.code];
      return sendError(res, status, code, err.message);
    }
    // body-parser errors carry their own status and a `type`.
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', `request body is not valid JSON: ${e.message ?? ''}`);
    if (e.type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', 'request body is too large');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, 'bad_request', e.message ?? 'bad request');
    }
    logger.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    sendError(res, 500, 'internal', 'internal error; see the server log');
  };
}
