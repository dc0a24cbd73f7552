import { z } from 'zod';

/**
 * Settings of the alerts stage. The schema is strict (an unknown key is an error, so a
 * typo never silently falls back to a default) and every field has a default, so
 * `alertsConfigSchema.parse({})` is a working configuration. `server/config/` embeds it
 * under `alerts:`.
 */

const phase = z.enum(['open', 'update', 'close']);

export const webhookConfigSchema = z.strictObject({
  name: z.string().min(1).optional().describe('a stable name for this webhook; its deliveries are kept under it (default: the URL)'),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .describe('where alert events are POSTed as JSON'),
  secret: z.string().min(16, 'must be at least 16 characters').describe('HMAC-SHA256 key for X-Deepwatch-Signature'),
  events: z.array(phase).min(1).optional().describe('which alert phases to send (default: all)'),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export const deliveryConfigSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(64).default(4).describe('requests in flight at once per webhook'),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe('one request gives up after this long'),
  maxAttempts: z.number().int().min(1).max(100).default(10).describe('attempts before a delivery is dead-lettered'),
  maxAgeMs: z.number().int().min(1).default(24 * 3600_000).describe('a delivery still failing this long after it was queued is dead-lettered'),
  baseDelayMs: z.number().int().min(1).default(1_000).describe('back-off before the 2nd attempt; doubles each time'),
  maxDelayMs: z.number().int().min(1).default(5 * 60_000).describe('cap on the back-off between attempts'),
  keepDeliveredMs: z.number().int().min(0).default(24 * 3600_000).describe('delivered rows are pruned after this long'),
  shutdownGraceMs: z.number().int().min(0).default(2_000).describe('on shutdown, requests in flight get this long before they are aborted (and stay pending)'),
});
export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;

export const policyConfigSchema = z
  .strictObject({
    rollingClips: z.number().int().min(1).max(64).default(4).describe('clips in the rolling score'),
    rollingMethod: z.enum(['mean', 'trimmed-mean', 'median']).default('mean').describe('how the rolling score combines its clips'),
    openThreshold: z.number().gt(0).lte(1).nullable().default(null).describe("rolling score that opens an alert (null: the model's threshold)"),
    closeThreshold: z.number().gte(0).lt(1).nullable().default(null).describe('rolling score below which an alert closes (null: closeRatio x open threshold)'),
    closeRatio: z.number().gt(0).lte(1).default(0.8).describe('close threshold as a fraction of the open threshold, when closeThreshold is null'),
    minOpenSeconds: z.number().min(0).default(1.0).describe('stream time the rolling score must stay at or above the open threshold before an alert opens'),
    minOpenClips: z.number().int().min(1).nullable().default(null).describe('alternatively, open after this many consecutive clips at or above it (null: off)'),
    minCloseSeconds: z.number().min(0).default(1.0).describe('stream time the rolling score must stay below the close threshold before the alert closes'),
    minCloseClips: z.number().int().min(1).nullable().default(null).describe('alternatively, close after this many consecutive clips below it (null: off)'),
    updateIntervalSeconds: z.number().min(0).default(1.0).describe('at most one update per this much stream time while the peak rises'),
    verdictMinClips: z.number().int().min(1).default(2).describe("a track's verdict stays 'pending' until it has this many clips"),
  })
  .refine((p) => p.openThreshold === null || p.closeThreshold === null || p.closeThreshold <= p.openThreshold, {
    message: 'closeThreshold must not be above openThreshold',
    path: ['closeThreshold'],
  });
export type PolicyConfig = z.infer<typeof policyConfigSchema>;

export const alertsConfigSchema = z.strictObject({
  database: z.string().min(1).default('.deepwatch/deepwatch.db').describe("SQLite file for alerts, evidence and the webhook outbox (':memory:' for none)"),
  evidenceMaxMB: z.number().min(0).default(64).describe('evidence images kept, newest first, up to this many MB'),
  policy: policyConfigSchema.prefault({}),
  webhooks: z.array(webhookConfigSchema).default([]),
  delivery: deliveryConfigSchema.prefault({}),
});
export type AlertsConfig = z.infer<typeof alertsConfigSchema>;
/** What callers may pass: every field optional. */
export type AlertsConfigInput = z.input<typeof alertsConfigSchema>;

/** Parses alert settings, throwing a TypeError that names each bad field by its path. */
export function parseAlertsConfig(input: unknown, where = 'alerts'): AlertsConfig {
  const r = alertsConfigSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${[where, ...i.path.map(String)].join(' -> ')}: ${i.message}`);
  throw new TypeError(`invalid alert settings: ${lines.join('; ')}`);
}

/** Open/close thresholds once the model's own threshold is known. */
export function resolveThresholds(policy: PolicyConfig, modelThreshold: number): { open: number; close: number } {
  const open = policy.openThreshold ?? modelThreshold;
  if (!(open > 0 && open <= 1)) throw new TypeError(`alert open threshold must be in (0, 1], got ${open}`);
  const close = policy.closeThreshold ?? open * policy.closeRatio;
  if (close > open) throw new TypeError(`alert close threshold ${close} is above the open threshold ${open}`);
  return { open, close };
}
