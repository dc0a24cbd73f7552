import { randomUUID } from 'node:crypto';

/** FLV file header for a video-only stream, followed by PreviousTagSize0. */
const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00]);

const TAG_AUDIO = 8;
const TAG_VIDEO = 9;
const TAG_SCRIPT = 18;
const CODEC_AVC = 7;

/** A restart that would replay more than this waits for the next keyframe instead. */
const MAX_GOP_BYTES = 16 * 1024 * 1024;

/**
 * Subscribes to one node-media-server broadcast like an HTTP-FLV player would, and passes
 * its FLV tags to a decoder's stdin (GStreamer's rtmp2src cannot read node-media-server 4).
 * Audio is dropped here: analysis needs none. It remembers the stream's metadata, the AVC
 * sequence header and the tags since the last keyframe, so a restarted decoder can be
 * primed (`preamble()`) and resume at once instead of waiting for the next keyframe.
 */
export class FlvRelay {
  readonly id = `deepwatch-relay-${randomUUID()}`;
  readonly protocol = 'flv' as const;
  /** Empty: marks an internal subscriber, which node-media-server leaves out of its play events. */
  readonly ip = '';
  #meta: Buffer | null = null;
  #sequenceHeader: Buffer | null = null;
  #gop: Buffer[] = [];
  #gopBytes = 0;
  #tags = 0;

  constructor(private readonly write: (tag: Buffer) => void) {}

  /** FLV tags seen so far (video and metadata). */
  get tags(): number { return this.#tags; }

  /** Called by the broadcast with one complete FLV tag (header, body, PreviousTagSize). */
  sendBuffer = (tag: Buffer): void => {
    const type = tag[0];
    if (type === TAG_AUDIO) return;
    if (type === TAG_SCRIPT) {
      this.#meta = tag;
    } else if (type === TAG_VIDEO && tag.length > 12) {
      const flags = tag[11]!;
      const keyframe = flags >> 4 === 1;
      if ((flags & 0x0f) === CODEC_AVC && tag[12] === 0) {
        this.#sequenceHeader = tag;
      } else if (keyframe) {
        this.#gop = [tag];
        this.#gopBytes = tag.length;
      } else if (this.#gop.length > 0) {
        this.#gop.push(tag);
        this.#gopBytes += tag.length;
        if (this.#gopBytes > MAX_GOP_BYTES) {
          this.#gop = [];
          this.#gopBytes = 0;
        }
      }
    }
    this.#tags++;
    this.write(tag);
  };

  /** What a (re)started decoder reads first: the FLV header, then whatever lets it decode the next tag. */
  preamble(): Buffer {
    const parts: Buffer[] = [FLV_HEADER];
    if (this.#meta) parts.push(this.#meta);
    if (this.#sequenceHeader) parts.push(this.#sequenceHeader);
    parts.push(...this.#gop);
    return Buffer.concat(parts);
  }
}
