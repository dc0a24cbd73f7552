"""The two built-in demo streams: the public-domain astronaut photo, animated.

  PYTHONPATH=models/toolkit /usr/bin/python3 -m demo.make_demo_streams --out server/demo/media

genuine.mp4:      the photo under a slow camera (pan, zoom, a little roll), a gently
                  talking mouth, light drift and sensor noise.
manipulated.mp4:  the same shot, frame for frame, with the face region replaced in every
                  frame by another face aligned per frame (family `identity_swap`, which
                  the shipped model never saw in training).

Full frames (not aligned crops), so the real face stage finds, tracks and aligns them.
Encoded with GStreamer's x264enc from raw frames.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import threading

import numpy as np
import torch
import torch.nn.functional as F

from .geometry import apply, compose, similarity
from .manipulations import Context, identity_swap
from .render import Shot, affine_points, blur, lighting, pixel_grid, random_face_motion, sensor_noise, to_tensor
from .sources import astronaut

WIDTH, HEIGHT, FPS, SECONDS = 480, 360, 25, 12
SEED = 20240607
SWAP_STRENGTH = 0.9


def camera_maps(n: int, face: np.ndarray) -> list:
    """Photo -> frame similarity per frame: slow zoom, pan and roll around the face."""
    maps = []
    for i in range(n):
        t = i / FPS
        zoom = 1.32 + 0.14 * (0.5 - 0.5 * np.cos(2 * np.pi * t / SECONDS))
        roll = np.deg2rad(2.5) * np.sin(2 * np.pi * t / 9.0)
        px = WIDTH / 2 + 28 * np.sin(2 * np.pi * t / 7.5)
        py = 150 + 6 * np.sin(2 * np.pi * t / 5.5 + 1.0)
        # rotate and zoom about the face centre, then put the face at (px, py)
        m = similarity(zoom, roll, px - face[0], py - face[1], centre=tuple(face))
        maps.append(m)
    return maps


def render(n: int) -> tuple:
    rng = np.random.default_rng(SEED)
    src = astronaut()
    face = src.landmarks.mean(0)
    motion = random_face_motion(src.landmarks, rng, n, FPS, lively=0.35)
    motion.blink[:] = 0.0
    motion.shape = (0.0, 0.0)
    maps = camera_maps(n, face)
    img = to_tensor(src.image)
    grid = pixel_grid(HEIGHT, WIDTH)
    frames, lms = [], []
    for t, m in enumerate(maps):
        inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
        p = affine_points(inv, grid)
        p = p + motion.field(p, t)
        g = torch.empty_like(p)
        g[..., 0] = p[..., 0] * (2.0 / (img.shape[3] - 1)) - 1
        g[..., 1] = p[..., 1] * (2.0 / (img.shape[2] - 1)) - 1
        # the photo's edge is replicated rather than black if a corner ever peeks out
        frames.append(F.grid_sample(img, g[None], mode='bilinear', padding_mode='border', align_corners=True))
        lms.append(apply(m, motion.moved_landmarks(t)))
    frames = torch.cat(frames)
    frames = lighting(frames, rng, FPS, strength=0.3)
    frames = blur(frames, 0.5)
    lm = np.stack(lms)
    eye = float(np.mean(np.linalg.norm(lm[:, 1] - lm[:, 0], axis=1)))
    return Shot(frames, lm, maps, eye), rng


def encode(frames: np.ndarray, path: str, quantizer: int = 21) -> None:
    n, h, w, _ = frames.shape
    cmd = ['gst-launch-1.0', '-q', 'fdsrc', 'fd=0', f'blocksize={h * w * 3}', '!',
           'rawvideoparse', 'format=rgb', f'width={w}', f'height={h}', f'framerate={FPS}/1', '!',
           'videoconvert', '!', 'video/x-raw,format=I420', '!',
           'x264enc', 'pass=qual', f'quantizer={quantizer}', 'speed-preset=medium', f'key-int-max={2 * FPS}', 'threads=1', '!',
           'video/x-h264,profile=high', '!', 'h264parse', '!', 'mp4mux', 'faststart=true', '!', 'filesink', f'location={path}']
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    t = threading.Thread(target=lambda: (proc.stdin.write(np.ascontiguousarray(frames).tobytes()), proc.stdin.close()))
    t.start()
    t.join()
    err = proc.stderr.read().decode(errors='replace')
    if proc.wait() != 0:
        raise RuntimeError(f'encoding {path} failed: {err.strip()[:400]}')


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return x.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='server/demo/media')
    p.add_argument('--landmarks', help='also write the true per-frame landmarks (.npy) here, for checks')
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    n = FPS * SECONDS
    shot, rng = render(n)
    noise_rng = np.random.default_rng(SEED + 1)
    genuine = sensor_noise(shot.frames, noise_rng, 1.5)
    encode(to_uint8(genuine), os.path.join(a.out, 'genuine.mp4'))
    del genuine
    fake = identity_swap(shot, shot.frames, SWAP_STRENGTH, Context(FPS, np.random.default_rng(SEED + 2)))
    fake = sensor_noise(fake, np.random.default_rng(SEED + 1), 1.5)
    encode(to_uint8(fake), os.path.join(a.out, 'manipulated.mp4'))
    if a.landmarks:
        np.save(a.landmarks, shot.landmarks)
    for name in ('genuine.mp4', 'manipulated.mp4'):
        path = os.path.join(a.out, name)
        print(f'{path}: {os.path.getsize(path) / 1e6:.2f} MB, {n} frames {WIDTH}x{HEIGHT} @ {FPS} fps')


if __name__ == '__main__':
    main()
