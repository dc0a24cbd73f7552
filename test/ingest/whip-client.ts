import { createSocket, type Socket } from 'node:dgram';
import type { ChildProcess } from 'node:child_process';
import { MediaStreamTrack, RTCPeerConnection, useH264, useOPUS, useVP8, type RTCRtpTransceiver } from 'werift';
import { gstStart } from '../helpers/gst.js';

/**
 * A WHIP publisher for tests: a werift peer connection whose video track is fed with RTP
 * that GStreamer encodes (videotestsrc ! vp8enc/x264enc ! rtp*pay ! udpsink), the way a
 * browser or OBS would send it.
 */
export class WhipTestClient {
  readonly pc: RTCPeerConnection;
  readonly track = new MediaStreamTrack({ kind: 'video' });
  readonly transceiver: RTCRtpTransceiver;
  plisReceived = 0;
  location: string | null = null;
  #socket: Socket | null = null;
  #encoder: ChildProcess | null = null;
  #token: string | null = null;

  constructor(readonly codec: 'VP8' | 'H264', opts: { audio?: boolean } = {}) {
    this.pc = new RTCPeerConnection({
      iceServers: [],
      codecs: { video: [codec === 'VP8' ? useVP8() : useH264()], audio: [useOPUS()] },
    });
    this.transceiver = this.pc.addTransceiver(this.track, { direction: 'sendonly' });
    if (opts.audio) this.pc.addTransceiver('audio', { direction: 'sendonly' });
    this.transceiver.sender.onPictureLossIndication.subscribe(() => { this.plisReceived++; });
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const sub = this.pc.iceGatheringStateChange.subscribe((s) => {
          if (s === 'complete') { sub.unSubscribe(); resolve(); }
        });
      });
    }
    return this.pc.localDescription!.sdp;
  }

  /** POSTs the offer; on 201 applies the answer. Returns the response. */
  async publish(endpoint: string, token: string | null, contentType = 'application/sdp'): Promise<Response> {
    const headers: Record<string, string> = { 'Content-Type': contentType };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(endpoint, { method: 'POST', headers, body: await this.offer() });
    this.#token = token;
    if (res.status === 201) {
      this.location = new URL(res.headers.get('location')!, endpoint).toString();
      await this.pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    }
    return res;
  }

  /**
   * Starts GStreamer encoding a live test pattern (or `source`, a gst-launch fragment that
   * ends in raw video, e.g. a file decoded and paced in real time); its RTP goes into the track.
   */
  async startVideo(source?: string): Promise<void> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    socket.on('message', (buf) => this.track.writeRtp(buf));
    this.#socket = socket;
    const enc = this.codec === 'VP8'
      ? 'vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 mtu=1200'
      : 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! video/x-h264,profile=constrained-baseline ! rtph264pay pt=96 mtu=1200 config-interval=-1';
    const raw = source ?? 'videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=15/1';
    this.#encoder = gstStart(`${raw} ! ${enc} ! udpsink host=127.0.0.1 port=${socket.address().port}`);
  }

  get encoder(): ChildProcess | null { return this.#encoder; }

  /** Ends the session politely (DELETE on its resource), as a publisher should. */
  async delete(): Promise<number> {
    const location = this.location;
    if (!location) return 0;
    this.location = null;
    const res = await fetch(location, { method: 'DELETE', headers: { Authorization: `Bearer ${this.#token}` } });
    return res.status;
  }

  /** Stops sending; with `polite` (default) DELETEs the session first. */
  async stop(polite = true): Promise<void> {
    if (polite) await this.delete().catch(() => 0);
    const enc = this.#encoder;
    if (enc && enc.exitCode === null && enc.signalCode === null) {
      const done = new Promise<void>((r) => enc.once('close', () => r()));
      enc.kill('SIGKILL');
      await done;
    }
    this.#socket?.close();
    this.#socket = null;
    await this.pc.close().catch(() => {});
  }
}
