import { describe, expect, it } from 'vitest';
import { FlvRelay } from '../../server/ingest/flv-relay.js';

/** An FLV tag as node-media-server hands it on: 11-byte header, body, PreviousTagSize. */
function tag(type: number, body: number[], dts = 0): Buffer {
  const b = Buffer.alloc(11 + body.length + 4);
  b[0] = type;
  b.writeUIntBE(body.length, 1, 3);
  b.writeUIntBE(dts & 0xffffff, 4, 3);
  Buffer.from(body).copy(b, 11);
  b.writeUInt32BE(11 + body.length, 11 + body.length);
  return b;
}

const meta = tag(18, [2, 0, 10]);
const avcHeader = tag(9, [0x17, 0, 0, 0, 0, 1, 2, 3]);
const key = (dts: number) => tag(9, [0x17, 1, 0, 0, 0, 9, 9], dts);
const inter = (dts: number) => tag(9, [0x27, 1, 0, 0, 0, 8], dts);
const audio = tag(8, [0xaf, 1, 5, 5]);

describe('FlvRelay', () => {
  it('passes video and metadata tags on and drops audio', () => {
    const out: Buffer[] = [];
    const relay = new FlvRelay((t) => out.push(t));
    for (const t of [meta, avcHeader, audio, key(0), audio, inter(40)]) relay.sendBuffer(t);
    expect(out).toEqual([meta, avcHeader, key(0), inter(40)]);
    expect(relay.tags).toBe(4);
  });

  it('preamble() is a video-only FLV header, then metadata, sequence header and the tags since the last keyframe', () => {
    const relay = new FlvRelay(() => {});
    expect(relay.preamble()).toEqual(Buffer.from('464c560101000000090000000000', 'hex').subarray(0, 13));
    for (const t of [meta, avcHeader, key(0), inter(40), key(80), inter(120), inter(160)]) relay.sendBuffer(t);
    const p = relay.preamble();
    expect(p.subarray(0, 3).toString()).toBe('FLV');
    expect(p[4]).toBe(0x01); // video only
    expect(p.subarray(13)).toEqual(Buffer.concat([meta, avcHeader, key(80), inter(120), inter(160)]));
  });

  it('forgets inter frames that arrive before any keyframe', () => {
    const relay = new FlvRelay(() => {});
    for (const t of [avcHeader, inter(0), inter(40)]) relay.sendBuffer(t);
    expect(relay.preamble().subarray(13)).toEqual(avcHeader);
  });
});
