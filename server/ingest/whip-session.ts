import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import {
  RTCPeerConnection, useH264, useOPUS, useVP8,
  type MediaStreamTrack, type RTCIceServer, type RTCRtpTransceiver, type RtpPacket,
} from 'werift';
import type { Stream, StreamSession } from './stream.js';

export type WhipCodec = 'VP8' | 'H264';

export interface PeerOptions {
  iceServers: RTCIceServer[];
  /** UDP ports ICE may use, inclusive. */
  udpPortRange?: [number, number];
  /** An address to offer as a host candidate besides the local ones (a server behind NAT). */
  announcedAddress?: string | null;
  /** ICE must connect within this long after the answer. */
  connectTimeoutMs: number;
  /** A connection that stays 'disconnected' this long is given up. */
  disconnectGraceMs: number;
}

/** The negotiated video: what the decoder's udpsrc must expect. */
export interface NegotiatedVideo {
  codec: WhipCodec;
  payloadType: number;
}

/** Between a keyframe request and the next: the publisher may have missed the first. */
const PLI_RETRY_MS = 1000;
const PLI_MAX_TRIES = 15;

/** A WHIP publisher sends video with one of these; H.264 of any profile (avdec_h264 decodes all). */
function peerCodecs() {
  return {
    video: [useVP8(), useH264({ parameters: 'packetization-mode=1;level-asymmetry-allowed=1' })],
    // Accepted so publishers that always send audio (OBS) connect; the packets are ignored.
    audio: [useOPUS()],
  };
}

function codecOf(mimeType: string): WhipCodec | null {
  const m = mimeType.toLowerCase();
  return m === 'video/vp8' ? 'VP8' : m === 'video/h264' ? 'H264' : null;
}

/**
 * One WHIP publish: a werift peer connection that only receives, and a relay that sends the
 * video's RTP packets to its stream's decoder on 127.0.0.1. It asks the publisher for a
 * keyframe (PLI) when the decoder starts, until the first frame arrives, and when the
 * decoder stalls. It ends on DELETE, on a failed or lost connection, or when its stream ends.
 */
export class WhipSession implements StreamSession {
  readonly id = randomUUID();
  readonly key: string;
  readonly pc: RTCPeerConnection;
  /** Called once when the session is over, whoever ended it. */
  onClosed: ((reason: string) => void) | null = null;
  #opts: PeerOptions;
  #log: Logger | undefined;
  #relay: Socket = createSocket('udp4');
  #video: NegotiatedVideo | null = null;
  #transceiver: RTCRtpTransceiver | null = null;
  #track: MediaStreamTrack | null = null;
  #decoderPort = 0;
  #stream: Stream | null = null;
  #ssrc: number | null = null;
  #pliWanted = false;
  #pliTimer: NodeJS.Timeout | null = null;
  #pliTries = 0;
  #connectTimer: NodeJS.Timeout | null = null;
  #disconnectTimer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly stats = { packetsIn: 0, bytesIn: 0, packetsDropped: 0, plisSent: 0 };

  constructor(key: string, opts: PeerOptions, log?: Logger) {
    this.key = key;
    this.#opts = opts;
    this.#log = log?.child({ whip: this.id });
    this.pc = new RTCPeerConnection({
      iceServers: opts.iceServers,
      codecs: peerCodecs(),
      bundlePolicy: 'max-bundle',
      ...(opts.udpPortRange ? { icePortRange: opts.udpPortRange } : {}),
      ...(opts.announcedAddress ? { iceAdditionalHostAddresses: [opts.announcedAddress] } : {}),
    });
    this.#relay.on('error', (e) => this.#log?.warn({ err: e }, 'RTP relay socket error'));
    this.pc.onTrack.subscribe((track) => this.#onTrack(track));
    this.pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
  }

  get video(): NegotiatedVideo | null { return this.#video; }
  get closed(): boolean { return this.#closed; }

  /**
   * Applies the publisher's offer and returns the answer with all our ICE candidates (WHIP
   * has no trickle here). Throws a TypeError naming what is wrong with the offer.
   */
  async answer(offerSdp: string): Promise<string> {
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    } catch (e) {
      throw new TypeError(`the SDP offer could not be used: ${(e as Error).message}`);
    }
    for (const t of this.pc.getTransceivers()) t.setDirection('recvonly');
    const video = this.pc.getTransceivers().find((t) => t.kind === 'video' && t.codecs.some((c) => codecOf(c.mimeType)));
    const first = video?.codecs.find((c) => codecOf(c.mimeType));
    if (!video || !first) throw new TypeError('the offer has no video in VP8 or H.264 (packetization-mode=1)');
    this.#transceiver = video;
    // The publisher sends with the first codec of the answer, which is this one.
    this.#video = { codec: codecOf(first.mimeType)!, payloadType: first.payloadType };
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.#gathered();
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new Error('werift produced no local description');
    return sdp;
  }

  /** Starts relaying into the stream's decoder, which listens on `port`. */
  attach(stream: Stream, port: number): void {
    this.#stream = stream;
    this.#decoderPort = port;
    this.#connectTimer = setTimeout(() => {
      if (this.pc.connectionState !== 'connected') this.#end(`WebRTC did not connect within ${this.#opts.connectTimeoutMs / 1000} s`);
    }, this.#opts.connectTimeoutMs);
    this.#connectTimer.unref?.();
  }

  /** The decoder started (or restarted): ask for a keyframe until a frame comes out. */
  requestKeyframes(): void {
    this.#pliTries = 0;
    this.#pliWanted = true;
    this.#sendPli();
  }

  /** The decoder delivered a frame: no more keyframe requests needed. */
  gotFrame(): void {
    if (!this.#pliWanted) return;
    this.#pliWanted = false;
    if (this.#pliTimer) clearTimeout(this.#pliTimer);
    this.#pliTimer = null;
  }

  /** The publisher asked to end (DELETE), or the connection is gone. */
  end(reason: string): void {
    this.#end(reason);
  }

  /** Called by the stream when it ends or closes: hangs up. Safe to call twice. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [this.#pliTimer, this.#connectTimer, this.#disconnectTimer]) if (t) clearTimeout(t);
    this.#relay.close();
    void this.pc.close().catch(() => { /* already closed */ });
    this.#log?.info({ reason, ...this.stats }, 'WHIP session closed');
    const cb = this.onClosed;
    this.onClosed = null;
    cb?.(reason);
  }

  #end(reason: string): void {
    if (this.#closed) return;
    if (this.#stream) this.#stream.endSession(this, reason, false);
    // Without a stream (or if the stream had moved on) nobody else closes us.
    this.close(reason);
  }

  #onTrack(track: MediaStreamTrack): void {
    if (track.kind !== 'video' || this.#track) return; // audio is accepted and ignored
    this.#track = track;
    track.onReceiveRtp.subscribe((rtp) => this.#forward(rtp));
  }

  #forward(rtp: RtpPacket): void {
    if (this.#closed) return;
    const buf = rtp.serialize();
    this.stats.packetsIn++;
    this.stats.bytesIn += buf.length;
    if (!this.#video || !this.#decoderPort || rtp.header.payloadType !== this.#video.payloadType) {
      this.stats.packetsDropped++;
      this.#stream?.countDroppedInput(buf.length);
      return;
    }
    if (this.#ssrc === null) {
      this.#ssrc = rtp.header.ssrc;
      if (this.#pliWanted) this.#sendPli(); // the first request had no SSRC to name
    }
    this.#relay.send(buf, this.#decoderPort, '127.0.0.1');
  }

  #sendPli(): void {
    if (this.#pliTimer) clearTimeout(this.#pliTimer);
    this.#pliTimer = null;
    if (this.#closed || !this.#pliWanted) return;
    const ssrc = this.#ssrc ?? this.#track?.ssrc ?? null;
    if (ssrc !== null && this.#transceiver) {
      this.stats.plisSent++;
      void this.#transceiver.receiver.sendRtcpPLI(ssrc).catch(() => { /* not connected yet: retried */ });
    }
    if (++this.#pliTries < PLI_MAX_TRIES) {
      this.#pliTimer = setTimeout(() => this.#sendPli(), PLI_RETRY_MS);
      this.#pliTimer.unref?.();
    }
  }

  #onConnectionState(state: RTCPeerConnection['connectionState']): void {
    this.#log?.debug({ state }, 'WebRTC connection state');
    if (state === 'connected') {
      if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = null;
    } else if (state === 'disconnected' && !this.#disconnectTimer) {
      this.#disconnectTimer = setTimeout(() => this.#end('WebRTC connection lost'), this.#opts.disconnectGraceMs);
      this.#disconnectTimer.unref?.();
    } else if (state === 'failed') {
      this.#end('WebRTC connection failed');
    } else if (state === 'closed') {
      this.#end('WebRTC connection closed by the publisher');
    }
  }

  async #gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 5000);
      const sub = this.pc.iceGatheringStateChange.subscribe((s) => { if (s === 'complete') done(); });
      function done() {
        clearTimeout(timer);
        sub.unSubscribe();
        resolve();
      }
    });
  }
}
