/**
 * Stream keys name a stream everywhere: in the RTMP path, the WHIP URL and bearer token, and
 * the REST API. The rule matches node-media-server's own check on RTMP paths and the
 * config schema, so a key accepted here can always be published.
 */
export const STREAM_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A key allowed to publish, with the name the dashboard shows. */
export interface PublishKey {
  key: string;
  name?: string;
}

/** Throws a TypeError naming the bad key. */
export function assertStreamKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || !STREAM_KEY_PATTERN.test(key)) {
    throw new TypeError(`stream key must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-", got ${JSON.stringify(key)}`);
  }
}
