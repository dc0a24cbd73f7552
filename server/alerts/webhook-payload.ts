import type { AlertPhase, AlertWire } from '../api/wire.js';
import type { CloseReason } from './alert-policy.js';

export type WebhookEventName = `alert.${AlertPhase}`;

/**
 * The JSON body of every webhook request. `eventId` is the same for every webhook that
 * receives the event; the per-webhook delivery id (stable across retries, usable for
 * de-duplication) is in the `X-Deepwatch-Delivery` header.
 */
export interface WebhookPayload {
  event: WebhookEventName;
  eventId: string;
  /** When the event happened (epoch ms), not when this attempt was sent. */
  createdAt: number;
  alert: AlertWire;
  /** On `alert.close`: why it closed. */
  closeReason: CloseReason | null;
}

export function webhookEventName(phase: AlertPhase): WebhookEventName {
  return `alert.${phase}`;
}
