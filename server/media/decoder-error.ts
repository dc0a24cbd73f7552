/** Why a decoder stopped or failed, as a closed set a caller can switch on. */
export type DecoderFailure =
  | 'not-found' // the file or URL does not exist / cannot be reached
  | 'unsupported' // GStreamer has no decoder for it
  | 'bad-input' // the bytes are not a stream GStreamer can read
  | 'crashed' // the process died without a GStreamer error message
  | 'stalled' // no frame for too long
  | 'start-timeout' // no video appeared in time
  | 'failed'; // GStreamer reported some other error

export class DecoderError extends Error {
  override name = 'DecoderError';
  constructor(
    readonly failure: DecoderFailure,
    message: string,
    /** The last lines GStreamer wrote to stderr, for the log and the dashboard. */
    readonly stderrTail: string = '',
  ) {
    super(message);
  }
}

/** Reads GStreamer's stderr and names what went wrong in words a user can act on. */
export function classifyStderr(stderr: string): { failure: DecoderFailure; message: string } | null {
  const m = /ERROR: from element (\S+): ([^\n]+)/.exec(stderr);
  const firstError = m?.[2]?.trim();
  // A network source that fails before any data says only "Internal data stream error".
  const fromSource = /:source$|src\d*$/i.test(m?.[1] ?? '') && !/typefind|demux/i.test(m?.[1] ?? '');
  const missing = /Missing decoder: ([^(\n]+)/.exec(stderr)?.[1]?.trim();
  if (missing || /missing a plug-in/i.test(stderr)) {
    return { failure: 'unsupported', message: `no GStreamer decoder for ${missing ?? 'this stream'}` };
  }
  if (/Resource not found|No such file|Could not open (resource|file)|Not Found|Connection refused|Could not resolve/i.test(stderr)) {
    return { failure: 'not-found', message: firstError ?? 'source not found' };
  }
  if (fromSource && /Internal data stream error/.test(firstError ?? '')) {
    return { failure: 'not-found', message: 'could not read from the source (unreachable, refused, or not a stream)' };
  }
  if (/Could not determine type of stream|not a valid|demux|Internal data stream error|stream-format/i.test(stderr) && firstError) {
    return { failure: 'bad-input', message: `cannot read the input as video: ${firstError}` };
  }
  if (firstError) return { failure: 'failed', message: firstError };
  if (/^(WARNING: )?erroneous pipeline: (.+)$/m.test(stderr)) {
    return { failure: 'failed', message: /erroneous pipeline: (.+)/.exec(stderr)![1]! };
  }
  return null;
}
