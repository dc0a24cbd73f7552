import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signing. The signed message is `<timestamp>.<body>` where the timestamp is the
 * `X-Deepwatch-Timestamp` header (Unix seconds) and the body is the exact request body;
 * binding the time into the MAC lets a receiver refuse replays of old deliveries.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface VerifyWebhookInput {
  secret: string;
  /** The raw request body, exactly as received. */
  body: string;
  /** `X-Deepwatch-Timestamp`. */
  timestamp: string | undefined;
  /** `X-Deepwatch-Signature`. */
  signature: string | undefined;
  /** Reject timestamps further than this from `now` (default 300 s). */
  toleranceSeconds?: number;
  /** Epoch ms (default Date.now()). */
  now?: number;
}

/** What a receiver runs: true only for a correct signature over a recent timestamp. */
export function verifyWebhook(input: VerifyWebhookInput): boolean {
  const { secret, body, timestamp, signature } = input;
  if (timestamp === undefined || signature === undefined || !/^[0-9]{1,12}$/.test(timestamp)) return false;
  const skew = Math.abs((input.now ?? Date.now()) / 1000 - Number(timestamp));
  if (skew > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
