import { describe, expect, it } from 'vitest';
import { GdpReader, parseVideoCaps } from '../../server/media/gdp.js';
import { buildPipeline, gstQuote, isLiveSource, toLaunchArgs } from '../../server/media/pipeline.js';
import { classifyStderr } from '../../server/media/decoder-error.js';

function packet(type: number, pts: bigint, payload: Buffer): Buffer {
  const h = Buffer.alloc(62);
  h.writeUInt16BE(type, 4);
  h.writeUInt32BE(payload.length, 6);
  h.writeBigUInt64BE(pts, 10);
  h.writeBigUInt64BE(0xffffffffffffffffn, 18);
  return Buffer.concat([h, payload]);
}

describe('GdpReader', () => {
  it('reassembles packets split at any byte and reads PTS, with "none" as null', () => {
    const stream = Buffer.concat([
      packet(2, 0n, Buffer.from('video/x-raw, format=(string)RGB, width=(int)2, height=(int)1, framerate=(fraction)30000/1001\0')),
      packet(1, 123456789n, Buffer.from([1, 2, 3, 4, 5, 6])),
      packet(1, 0xffffffffffffffffn, Buffer.alloc(0)),
    ]);
    for (const step of [1, 7, 61, 62, 1000]) {
      const r = new GdpReader();
      const out = [];
      for (let i = 0; i < stream.length; i += step) out.push(...r.push(stream.subarray(i, i + step)));
      expect(out.map((p) => p.type)).toEqual([2, 1, 1]);
      expect(out[1]!.pts).toBe(123456789);
      expect(out[1]!.duration).toBeNull();
      expect([...out[1]!.payload]).toEqual([1, 2, 3, 4, 5, 6]);
      expect(out[2]!.pts).toBeNull();
      expect(parseVideoCaps(out[0]!.payload)).toEqual({ width: 2, height: 1, format: 'RGB', fps: 30000 / 1001 });
    }
  });

  it('refuses a packet length that cannot be real', () => {
    const h = Buffer.alloc(62);
    h.writeUInt32BE(0xfffffff0, 6);
    expect(() => new GdpReader().push(h)).toThrow(/corrupt/);
  });
});

describe('buildPipeline', () => {
  it('quotes paths so spaces and quotes survive gst-launch argument splitting', () => {
    const d = buildPipeline({ kind: 'file', path: '/tmp/a "b" c.mp4' });
    expect(d).toContain(`location=${gstQuote('/tmp/a "b" c.mp4')}`);
    expect(toLaunchArgs(d)).toContain('location=/tmp/a "b" c.mp4');
  });

  it('drops frames before colour conversion when a rate is set', () => {
    const d = buildPipeline({ kind: 'file', path: 'x.mp4' }, { maxFps: 12.5, width: 640 });
    expect(d.indexOf('videorate')).toBeLessThan(d.indexOf('videoconvertscale'));
    expect(d).toContain('framerate=12500/1000');
    expect(d).toContain('width=640');
  });

  it('rejects bad arguments with TypeError and unknown URL schemes clearly', () => {
    expect(() => buildPipeline({ kind: 'file', path: 'x' }, { width: -3 })).toThrow(TypeError);
    expect(() => buildPipeline({ kind: 'url', url: 'gopher://x' })).toThrow(/scheme gopher: is not supported/);
    expect(() => buildPipeline({ kind: 'url', url: 'not a url' })).toThrow(TypeError);
  });

  it('knows which sources are live', () => {
    expect(isLiveSource({ kind: 'url', url: 'rtmp://h/live/k' })).toBe(true);
    expect(isLiveSource({ kind: 'url', url: 'https://h/x.m3u8' })).toBe(true);
    expect(isLiveSource({ kind: 'url', url: 'https://h/x.mp4' })).toBe(false);
    expect(isLiveSource({ kind: 'file', path: 'x.mp4' })).toBe(false);
  });
});

describe('classifyStderr', () => {
  it('names a missing decoder as unsupported', () => {
    const r = classifyStderr('ERROR: from element /GstPipeline:pipeline0/GstDecodeBin:decodebin0: Your GStreamer installation is missing a plug-in.\nMissing decoder: HEVC (video/x-h265)');
    expect(r).toEqual({ failure: 'unsupported', message: 'no GStreamer decoder for HEVC' });
  });
});
