"""A real H.264 round trip through GStreamer's x264enc and avdec_h264.

Live video is H.264 almost always, and its artefacts are temporal (motion-compensated
prediction, keyframe pulses, quantiser changes), so the genuine clips must carry real ones
or the model would learn that any codec flicker means "fake". Frames are streamed through
one gst-launch process per call; both classes go through identical settings.
"""
from __future__ import annotations

import subprocess
import threading

import numpy as np


def h264_roundtrip(frames: np.ndarray, quantizer: int, keyint: int, preset: str = 'veryfast', fps: int = 25) -> np.ndarray:
    """frames (N,H,W,3) uint8 -> the same frames after encode + decode (N,H,W,3) uint8."""
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(f'expected (N,H,W,3) uint8 frames, got {frames.shape} {frames.dtype}')
    n, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f'H.264 4:2:0 needs even frame sizes, got {w}x{h}')
    cmd = [
        'gst-launch-1.0', '-q',
        'fdsrc', 'fd=0', 'blocksize=%d' % (h * w * 3), '!',
        'rawvideoparse', 'format=rgb', f'width={w}', f'height={h}', f'framerate={fps}/1', '!',
        'videoconvert', '!', 'video/x-raw,format=I420', '!',
        'x264enc', 'pass=qual', f'quantizer={quantizer}', f'speed-preset={preset}',
        f'key-int-max={keyint}', 'bframes=0', 'threads=1', '!',
        'h264parse', '!', 'avdec_h264', '!',
        'videoconvert', '!', 'video/x-raw,format=RGB', '!',
        'fdsink', 'fd=1', 'sync=false',
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    data = np.ascontiguousarray(frames).tobytes()
    err: list = []

    def feed() -> None:
        try:
            proc.stdin.write(data)
            proc.stdin.close()
        except BrokenPipeError as e:  # the reader reports the failure
            err.append(e)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    out = proc.stdout.read(len(data))
    proc.stdout.close()
    writer.join()
    stderr = proc.stderr.read().decode(errors='replace')
    rc = proc.wait()
    if rc != 0 or len(out) != len(data):
        raise RuntimeError(f'H.264 round trip failed (rc {rc}, {len(out)} of {len(data)} bytes): {stderr.strip()[:500]}')
    return np.frombuffer(out, np.uint8).reshape(n, h, w, 3).copy()


def decode_file(path: str, width: int, height: int) -> np.ndarray:
    """All frames of a video file as (N,H,W,3) uint8 RGB (scaled to width x height)."""
    cmd = ['gst-launch-1.0', '-q', 'filesrc', f'location={path}', '!', 'decodebin', '!', 'videoconvertscale', '!',
           f'video/x-raw,format=RGB,width={width},height={height}', '!', 'fdsink', 'fd=1', 'sync=false']
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f'decoding {path} failed: {r.stderr.decode(errors="replace").strip()[:400]}')
    frame = width * height * 3
    if len(r.stdout) % frame:
        raise RuntimeError(f'decoding {path}: {len(r.stdout)} bytes is not a whole number of {width}x{height} frames')
    return np.frombuffer(r.stdout, np.uint8).reshape(-1, height, width, 3).copy()
