/** The ingest stage: streams, their publish keys, and the RTMP, WHIP and pull sources feeding them. */
export { StreamManager, DEFAULT_OUTPUT, PublishRefusedError, pullSourceSpec } from './stream-manager.js';
export type { StreamManagerOptions, StreamManagerEvents, PullSource, PublishRejection, RefusalCode, PushKind, Ingest } from './stream-manager.js';
export { Stream } from './stream.js';
export type { StreamCounters, StreamEvents, StreamSession } from './stream.js';
export { RtmpIngest } from './rtmp-ingest.js';
export type { RtmpIngestOptions } from './rtmp-ingest.js';
export { WhipIngest } from './whip.js';
export type { WhipOptions } from './whip.js';
export { STREAM_KEY_PATTERN, assertStreamKey } from './keys.js';
export type { PublishKey } from './keys.js';
