import { createSocket } from 'node:dgram';

/**
 * A UDP port on 127.0.0.1 that was free a moment ago, for a decoder's udpsrc. GStreamer
 * cannot report a port it picked itself, so the port is chosen here and handed to it; the
 * short window in which another process could take it is accepted (the decoder would fail
 * to bind and the stream would show the error).
 */
export async function pickLocalUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return socket.address().port;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
