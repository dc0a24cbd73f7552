import { readdirSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { StreamState, StreamStatus } from '../../server/api/wire.js';
import type { Frame } from '../../server/media/frame.js';
import type { StreamManager } from '../../server/ingest/stream-manager.js';
import { gstStart } from '../helpers/gst.js';

/** A live H.264 test pattern pushed over RTMP the way OBS would (FLV over rtmp2sink). */
export function rtmpPublisher(url: string, opts: { width?: number; height?: number; fps?: number; keyframeEvery?: number } = {}): ChildProcess {
  const { width = 320, height = 240, fps = 15, keyframeEvery = fps } = opts;
  return gstStart(`videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=${width},height=${height},framerate=${fps}/1 ! ` +
    `x264enc tune=zerolatency speed-preset=ultrafast key-int-max=${keyframeEvery} bframes=0 ! video/x-h264,profile=baseline ! flvmux streamable=true ! rtmp2sink location=${url}`);
}

/** Resolves with the exit code of a child process. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('close', (code) => r(code)));
}

/** Collects the frames the manager hands on, per stream key. */
export function collectFrames(manager: StreamManager): Map<string, Frame[]> {
  const byKey = new Map<string, Frame[]>();
  manager.on('frame', (key, f) => {
    let list = byKey.get(key);
    if (!list) byKey.set(key, list = []);
    // Keep the numbers only: the pixels would pile up over a long test.
    list.push({ ...f, data: f.data.subarray(0, 0) });
  });
  return byKey;
}

/** Resolves with the first state event of `key` in one of `states`; rejects after `timeoutMs`. */
export function nextState(manager: StreamManager, key: string, states: StreamState[], timeoutMs = 30_000): Promise<StreamStatus> {
  const now = manager.get(key)?.status();
  if (now && states.includes(now.state)) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const onState = (s: StreamStatus) => {
      if (s.key !== key || !states.includes(s.state)) return;
      clearTimeout(timer);
      manager.off('stream:state', onState);
      resolve(s);
    };
    const timer = setTimeout(() => {
      manager.off('stream:state', onState);
      reject(new Error(`stream ${key} did not reach ${states.join('/')} within ${timeoutMs} ms (now ${manager.get(key)?.state ?? 'absent'})`));
    }, timeoutMs);
    manager.on('stream:state', onState);
  });
}

/** Child processes of this process (zombies included), read from /proc. */
export function childProcesses(): { pid: number; state: string; command: string }[] {
  const out: { pid: number; state: string; command: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) === process.pid) out.push({ pid: Number(name), state: state!, command: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return out;
}
