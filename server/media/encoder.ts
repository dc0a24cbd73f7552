import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipelinesDir } from '../shared/paths.js';
import { InvalidStateError } from '../shared/errors.js';
import { registerChild } from './child-registry.js';
import { gstQuote, toLaunchArgs } from './pipeline.js';
import { classifyStderr } from './decoder-error.js';

export interface EncoderOptions {
  path: string;
  width: number;
  height: number;
  /** "num/den", e.g. "30000/1001": the output keeps the input's exact rate. */
  frameRate: string;
  /** Carry this file's audio over into the output. */
  audioFrom?: string;
  bitrateKbps?: number;
  preset?: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';
}

function template(name: string): string {
  return readFileSync(join(pipelinesDir, name), 'utf8').trim();
}

/**
 * Writes packed RGB frames to an H.264 MP4 through a gst-launch child (`-e`, so closing
 * stdin finalises the file). Every frame written becomes exactly one output frame.
 */
export class Mp4Encoder {
  readonly #child: ChildProcess;
  readonly #frameBytes: number;
  #stderr = '';
  #finished = false;
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly options: EncoderOptions) {
    if (!/^\d+\/\d+$/.test(options.frameRate)) throw new TypeError(`frameRate must be "num/den", got ${options.frameRate}`);
    this.#frameBytes = options.width * options.height * 3;
    let desc = template('encode-mp4.gst')
      .replace('{{frameBytes}}', String(this.#frameBytes))
      .replace('{{width}}', String(options.width))
      .replace('{{height}}', String(options.height))
      .replace('{{framerate}}', options.frameRate)
      .replace('{{preset}}', options.preset ?? 'veryfast')
      .replace('{{bitrateKbps}}', String(options.bitrateKbps ?? Math.max(800, Math.round((options.width * options.height) / 400))))
      .replace('{{location}}', gstQuote(options.path));
    if (options.audioFrom) desc += ` ${template('encode-audio-branch.gst').replace('{{source}}', gstQuote(options.audioFrom))}`;
    this.#child = spawn('gst-launch-1.0', ['-q', '-e', ...toLaunchArgs(desc)], { stdio: ['pipe', 'ignore', 'pipe'] });
    registerChild(this.#child);
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (s: string) => { this.#stderr = (this.#stderr + s).slice(-4096); });
    this.#child.stdin!.on('error', () => { /* reported by finish() through the exit status */ });
    this.#exit = new Promise((resolve) => this.#child.once('close', (code, signal) => resolve({ code, signal })));
  }

  /** Writes one frame; resolves when the pipe can take more (back-pressure). */
  async write(rgb: Buffer): Promise<void> {
    if (this.#finished) throw new InvalidStateError('encoder already finished');
    if (rgb.length !== this.#frameBytes) throw new TypeError(`frame has ${rgb.length} bytes, expected ${this.#frameBytes}`);
    const stdin = this.#child.stdin!;
    if (stdin.destroyed) throw this.#error('encoder stopped early');
    if (!stdin.write(rgb)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => { stdin.off('close', onClose); resolve(); };
        const onClose = () => { stdin.off('drain', onDrain); reject(this.#error('encoder stopped early')); };
        stdin.once('drain', onDrain);
        stdin.once('close', onClose);
      });
    }
  }

  /** Closes the input and waits until the MP4 is complete. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#child.stdin!.end();
    const { code, signal } = await this.#exit;
    if (code !== 0) throw this.#error(`encoder exited with ${signal ?? code}`);
  }

  /** Stops without finalising (on error or abort). */
  async abort(): Promise<void> {
    this.#finished = true;
    this.#child.kill('SIGKILL');
    await this.#exit;
  }

  #error(prefix: string): Error {
    const c = classifyStderr(this.#stderr);
    return new Error(`${prefix}: ${c?.message ?? (this.#stderr.trim().split('\n').pop() || 'no message')}`);
  }
}
