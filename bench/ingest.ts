/**
 * bench/ingest: how fast the ingest paths start and recover, and what one stream's decoder
 * costs, medians of several runs:
 * - RTMP: publisher started -> first frame out of the StreamManager; a killed decoder -> the
 *   next frame; decoder CPU for a 1280x720 30 fps publish capped at 15 fps for analysis.
 * - WHIP: POST -> 201 (negotiation and ICE gathering), POST -> first frame. The sender is
 *   GStreamer behind a werift track: it cannot honour keyframe requests, so the first frame
 *   waits for its next regular keyframe (every 1 s here); a browser answers the PLI at once.
 * - Looping demo file: the wall-clock gap at the loop point.
 *   node dist/bench/ingest.js [--runs 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { MediaStreamTrack, RTCPeerConnection, useVP8 } from 'werift';
import { RtmpIngest } from '../server/ingest/rtmp-ingest.js';
import { StreamManager } from '../server/ingest/stream-manager.js';
import { WhipIngest } from '../server/ingest/whip.js';
import { gstQuote, toLaunchArgs } from '../server/media/pipeline.js';
import { machine, median, numArg, round } from './stats.js';

const arg = numArg;
const runs = arg('runs', 5);

function gst(desc: string): ChildProcess {
  return spawn('gst-launch-1.0', ['-q', ...toLaunchArgs(desc)], { stdio: 'ignore' });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('close', r));
  child.kill('SIGKILL');
  await done;
}

function nextFrame(manager: StreamManager, key: string, timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { manager.off('frame', on); reject(new Error(`no frame from ${key}`)); }, timeoutMs);
    const on = (k: string) => {
      if (k !== key) return;
      clearTimeout(t);
      manager.off('frame', on);
      resolve(performance.now());
    };
    manager.on('frame', on);
  });
}

async function idle(manager: StreamManager, key: string): Promise<void> {
  while (manager.get(key)?.busy) await new Promise((r) => setTimeout(r, 20));
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

function publisher(url: string, w = 320, h = 240, fps = 15): ChildProcess {
  return gst(`videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=${w},height=${h},framerate=${fps}/1 ! ` +
    `x264enc tune=zerolatency speed-preset=ultrafast key-int-max=${fps} bframes=0 ! flvmux streamable=true ! rtmp2sink location=${url}`);
}

async function benchRtmp(manager: StreamManager, rtmp: RtmpIngest) {
  const firstFrame: number[] = [];
  const recovery: number[] = [];
  for (let r = 0; r < runs; r++) {
    await idle(manager, 'bench');
    const t0 = performance.now();
    const first = nextFrame(manager, 'bench');
    const pub = publisher(rtmp.url('bench'));
    firstFrame.push((await first) - t0);
    await nextFrame(manager, 'bench');
    const t1 = performance.now();
    process.kill(manager.get('bench')!.decoder!.pid!, 'SIGKILL');
    // Frames already in the pipe still arrive: time the first one after the restart.
    await new Promise<void>((resolve) => {
      const on = (s: { key: string; state: string }) => {
        if (s.key === 'bench' && s.state === 'reconnecting') { manager.off('stream:state', on); resolve(); }
      };
      manager.on('stream:state', on);
    });
    recovery.push((await nextFrame(manager, 'bench', 30_000)) - t1);
    await kill(pub);
  }
  // Decoder cost of a 720p30 publish, analysis capped at 15 fps.
  await idle(manager, 'bench');
  const pub = publisher(rtmp.url('bench'), 1280, 720, 30);
  await nextFrame(manager, 'bench');
  await new Promise((r) => setTimeout(r, 2000));
  const pid = manager.get('bench')!.decoder!.pid!;
  const c0 = cpuSeconds(pid);
  const n0 = process.cpuUsage();
  const f0 = manager.get('bench')!.counters.framesDecoded;
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, 10_000));
  const seconds = (performance.now() - w0) / 1000;
  const cpu = (cpuSeconds(pid) - c0) / seconds;
  const n1 = process.cpuUsage(n0);
  const nodeCpu = (n1.user + n1.system) / 1e6 / seconds;
  const fps = (manager.get('bench')!.counters.framesDecoded - f0) / ((performance.now() - w0) / 1000);
  await kill(pub);
  return {
    firstFrameMs: round(median(firstFrame), 0), allFirstFrameMs: firstFrame.map((x) => round(x, 0)),
    decoderRestartToFrameMs: round(median(recovery), 0), allRestartMs: recovery.map((x) => round(x, 0)),
    // Test-pattern content (a moving ball) decodes cheaply: a lower bound for camera video.
    decoder720p30CpuCores: round(cpu, 3), nodeCpuCoresAt720p: round(nodeCpu, 3), delivered720pFps: round(fps, 1),
  };
}

async function benchWhip(manager: StreamManager, base: string) {
  const answer: number[] = [];
  const firstFrame: number[] = [];
  for (let r = 0; r < runs; r++) {
    await idle(manager, 'webrtc');
    const pc = new RTCPeerConnection({ iceServers: [], codecs: { video: [useVP8()] } });
    const track = new MediaStreamTrack({ kind: 'video' });
    pc.addTransceiver(track, { direction: 'sendonly' });
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    sock.on('message', (b) => track.writeRtp(b));
    const enc = gst(`videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=15/1 ! vp8enc deadline=1 keyframe-max-dist=15 ! rtpvp8pay pt=96 mtu=1200 ! udpsink host=127.0.0.1 port=${sock.address().port}`);
    await pc.setLocalDescription(await pc.createOffer());
    while (pc.iceGatheringState !== 'complete') await new Promise((res) => setTimeout(res, 10));
    const t0 = performance.now();
    const first = nextFrame(manager, 'webrtc');
    const res = await fetch(`${base}/webrtc`, { method: 'POST', headers: { 'Content-Type': 'application/sdp', Authorization: 'Bearer webrtc' }, body: pc.localDescription!.sdp });
    answer.push(performance.now() - t0);
    if (res.status !== 201) throw new Error(`WHIP POST answered ${res.status}`);
    const location = new URL(res.headers.get('location')!, base).toString();
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    firstFrame.push((await first) - t0);
    await fetch(location, { method: 'DELETE', headers: { Authorization: 'Bearer webrtc' } });
    await kill(enc);
    sock.close();
    await pc.close();
  }
  return {
    answerMs: round(median(answer), 0), allAnswerMs: answer.map((x) => round(x, 0)),
    firstFrameMs: round(median(firstFrame), 0), allFirstFrameMs: firstFrame.map((x) => round(x, 0)),
  };
}

async function benchLoop(manager: StreamManager, dir: string) {
  const file = join(dir, 'loop.mp4');
  const make = gst(`videotestsrc num-buffers=30 ! video/x-raw,format=I420,width=640,height=360,framerate=15/1 ! x264enc speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location=${gstQuote(file)}`);
  await new Promise((r) => make.once('close', r));
  const gaps: number[] = [];
  let last = 0;
  let lastLoops = 0;
  const stream = manager.addPull({ key: 'loop', url: file, loop: true });
  await new Promise<void>((resolve) => {
    manager.on('frame', (key) => {
      if (key !== 'loop') return;
      const now = performance.now();
      if (stream.counters.loops !== lastLoops) {
        lastLoops = stream.counters.loops;
        gaps.push(now - last);
        if (gaps.length >= runs) resolve();
      }
      last = now;
    });
  });
  await manager.remove('loop');
  return { loopGapMs: round(median(gaps), 0), nominalFrameMs: round(1000 / 15, 0), allGapsMs: gaps.map((x) => round(x, 0)) };
}

const dir = mkdtempSync(join(tmpdir(), 'deepwatch-bench-'));
const manager = new StreamManager({ keys: [{ key: 'bench' }, { key: 'webrtc' }], output: { maxFps: 15 } });
let server: Server | null = null;
try {
  const rtmp = await RtmpIngest.listen(manager, { port: 0, host: '127.0.0.1' });
  const whip = new WhipIngest(manager);
  const app = express();
  app.use('/whip', whip.router);
  server = await new Promise<Server>((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/whip`;
  const results = {
    rtmp: await benchRtmp(manager, rtmp),
    whip: await benchWhip(manager, base),
    loop: await benchLoop(manager, dir),
  };
  process.stdout.write(`${JSON.stringify({ bench: 'ingest', machine: machine(), runs, results }, null, 2)}\n`);
} finally {
  await manager.close();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
}
