import { z } from 'zod';
import { describeIssues } from '../config/load.js';
import { pullUrlSchema, streamKeySchema, streamNameSchema } from '../config/schema.js';
import { decodeCursor } from './alert-page.js';
import { HttpError } from './http-errors.js';
import type { AddPullRequest, AlertQuery } from './monitor.js';

/** Request shapes of the REST API; the OpenAPI description is generated from these too. */

export const addPullBody = z.strictObject({
  key: streamKeySchema.optional().describe('stream key; derived from the name when absent'),
  name: streamNameSchema.describe('name shown on the dashboard'),
  url: pullUrlSchema.describe('rtmp://, rtsp://, http(s):// (HLS too) or file:// URL to pull'),
});

const boolParam = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Unix milliseconds, or an ISO 8601 date. */
const timeParam = z.string().transform((v, ctx) => {
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: 'custom', message: `must be Unix milliseconds or an ISO 8601 date, got "${v}"` });
    return z.NEVER;
  }
  return t;
});

export const alertQueryParams = z.strictObject({
  stream: streamKeySchema.optional(),
  open: boolParam.optional(),
  since: timeParam.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).refine((c) => decodeCursor(c) !== null, 'is not a cursor from a previous page').optional(),
});

function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const msg = describeIssues(r.error).map((m) => (m.startsWith('(top level)') ? `${what}${m.slice('(top level)'.length)}` : `${what} -> ${m}`));
  throw new HttpError(400, 'bad_request', msg.join('; '));
}

export function parseAddPull(body: unknown): AddPullRequest {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'bad_request', 'body must be a JSON object {name, url, key?} sent with Content-Type: application/json');
  }
  return parseOr400(addPullBody, body, 'body');
}

export function parseAlertQuery(query: unknown): AlertQuery {
  return parseOr400(alertQueryParams, query, 'query');
}

export function parseStreamKey(key: string): string {
  return parseOr400(streamKeySchema, key, 'stream key');
}
