"""Synthetic aligned clips, genuine and manipulated, written to .npy (uint8).

One clip is made the way the runtime sees a face:
  render T full frames of a moving, talking, re-lit face (or a non-face scene with a
  virtual face layout) -> camera optics and sensor noise -> [manipulation] -> H.264 round
  trip through x264 -> per-frame landmarks with detector noise -> the runtime's window
  alignment onto the FTCN template (trajectory: per-frame similarities on a quadratic in
  time) -> bilinear warp to size x size.

Splits keep manipulation families and strengths apart:
  train, val: genuine + TRAIN_FAMILIES at TRAIN_STRENGTHS (different seeds)
  test, test2: genuine + HELD_OUT_FAMILIES at every strength + TRAIN_FAMILIES at TEST_STRENGTHS

  /usr/bin/python3 -m demo.synth --split train --count 4000 --out models/toolkit/demo/data
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib
from dataclasses import dataclass, asdict
from multiprocessing import get_context

import numpy as np
import torch

from .compress import h264_roundtrip
from .geometry import eye_distance, invert, window_similarities
from .manipulations import FAMILIES, Context
from .render import affine_points, head_matte, lighting, moving_background, optics, pixel_grid, render_shot, sample, sensor_noise, to_tensor
from .sources import augment_appearance, pick_source, scene

TRAIN_FAMILIES = ('boundary_jitter', 'color_flicker', 'sharpness_flicker', 'texture_swap')
HELD_OUT_FAMILIES = ('warp_jitter', 'identity_swap')
TRAIN_STRENGTHS = (0.35, 0.55, 0.8, 1.0)
TEST_STRENGTHS = (0.2, 0.45, 0.675, 0.9)
# train2, train3 are more training data (same families and strengths as train, other seeds);
# val2 is validation data from the current generator (walking clips, trajectory alignment)
SPLIT_SEEDS = {'train': 1000, 'val': 2000, 'test': 3000, 'train2': 4000, 'train3': 5000, 'test2': 6000, 'val2': 7000}
# Eye distance in the full frame, pixels: from small faces (upsampled by the aligner) to
# large ones (shrunk ~3x by plain bilinear sampling, as the runtime does).
EYE_RANGE = (18.0, 110.0)
# Share of chunks whose clips are people walking through the shot (crowds, passers-by), and
# how far they travel over one clip, in eye distances.
WALK_SHARE = 0.3
WALK_TRAVEL = (0.5, 3.0)


@dataclass
class ClipSpec:
    index: int
    seed: int
    family: str  # '' for genuine
    strength: float

    @property
    def label(self) -> int:
        return 0 if self.family == '' else 1


def split_specs(split: str, count: int) -> list[ClipSpec]:
    """Half genuine, half manipulated, families and strengths cycled evenly."""
    if split not in SPLIT_SEEDS:
        raise ValueError(f'unknown split {split!r}; expected one of {sorted(SPLIT_SEEDS)}')
    if split.startswith('test'):
        combos = [(f, s) for f in HELD_OUT_FAMILIES for s in TRAIN_STRENGTHS + TEST_STRENGTHS]
        combos += [(f, s) for f in TRAIN_FAMILIES for s in TEST_STRENGTHS]
    else:
        combos = [(f, s) for f in TRAIN_FAMILIES for s in TRAIN_STRENGTHS]
    rng = np.random.default_rng(SPLIT_SEEDS[split])
    specs = []
    for i in range(count):
        seed = int(rng.integers(2 ** 31))
        if i % 2 == 0:
            specs.append(ClipSpec(i, seed, '', 0.0))
        else:
            f, s = combos[(i // 2) % len(combos)]
            specs.append(ClipSpec(i, seed, f, s))
    return specs


@dataclass
class Rendered:
    frames: np.ndarray      # (T,C,C,3) uint8 full frames (canvas)
    landmarks: np.ndarray   # (T,5,2) true landmarks on the canvas
    meta: dict


def eye_buckets() -> list[tuple[float, float, int]]:
    """Eye-distance ranges, log-spaced over EYE_RANGE, each with the canvas (full-frame
    window) size that holds the aligned crop (3.08 eye distances wide) plus motion."""
    edges = np.exp(np.linspace(np.log(EYE_RANGE[0]), np.log(EYE_RANGE[1]), 5))
    return [(float(a), float(b), int(np.ceil(3.8 * b / 16) * 16)) for a, b in zip(edges[:-1], edges[1:])]


def render_clip(spec: ClipSpec, length: int, bucket: tuple[float, float, int], walking: bool = False) -> Rendered:
    rng = np.random.default_rng(spec.seed)
    src = pick_source(rng)
    img = augment_appearance(src.image, rng)
    fps = float(rng.choice([25.0, 30.0]))
    lo, hi, canvas = bucket
    d = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    lively = float(rng.uniform(0.15, 1.0))
    walk = float(rng.uniform(*WALK_TRAVEL)) if walking else 0.0
    shot = render_shot(img, src.landmarks, rng, length, canvas, d, fps, lively, walk=walk)
    if walking:
        # a person passing in front of a scene: the background moves on its own
        bg = moving_background(to_tensor(augment_appearance(scene(rng).image, rng)), rng, length, canvas, d)
        matte = head_matte(shot, src.landmarks, canvas, feather=float(rng.uniform(0.5, 1.5) + 0.1 * shot.eye))
        shot.frames = shot.frames * matte + bg * (1 - matte)
    frames = lighting(shot.frames, rng, fps, strength=float(rng.uniform(0.3, 1.0)))
    frames = optics(frames, rng, shot.maps)
    frames = sensor_noise(frames, rng, float(rng.uniform(0, 4.5)))
    if spec.family:
        frames = FAMILIES[spec.family](shot, frames, spec.strength, Context(fps, rng))
    frames = sensor_noise(frames, rng, float(rng.uniform(0, 1.2)))
    out = frames.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    meta = {'source': src.name, 'eye_px': round(d, 1), 'fps': fps, 'lively': round(lively, 2), 'walk': round(walk, 2)}
    return Rendered(out, shot.landmarks, meta)


def align_clip(frames: np.ndarray, landmarks: np.ndarray, size: int, rng: np.random.Generator,
               alignment: str = 'trajectory') -> np.ndarray:
    """What server/faces/align.ts alignWindow does with detector landmarks (the model's
    manifest names the alignment), bilinear, black outside. (T,C,C,3) -> (T,size,size,3)."""
    e = np.mean([eye_distance(l) for l in landmarks])
    noisy = landmarks + rng.normal(0, rng.uniform(0.008, 0.03) * e, landmarks.shape)
    grid = pixel_grid(size, size)
    coords = torch.stack([affine_points(invert(m), grid) for m in window_similarities(noisy, size, alignment)])
    src = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    out = sample(src, coords.contiguous())
    return out.add(0.5).floor().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


# Encoder settings: quantiser (CRF-like, lower is better) and keyframe interval.
QUANTIZERS = (17, 20, 23, 26, 29, 32, 35)
KEYINTS = (10, 20, 30, 60, 250)


def build_chunk(args: tuple) -> tuple:
    """Renders a chunk of clips, compresses them in one H.264 stream per canvas size (one
    encoder setting per chunk, both classes together), aligns them."""
    specs, length, size, chunk_seed, walk_share = args
    torch.set_num_threads(1)
    rng = np.random.default_rng(chunk_seed)
    quant = int(rng.choice(QUANTIZERS))
    keyint = int(rng.choice(KEYINTS))
    compress = rng.random() > 0.08
    # one face-size range per chunk, so the chunk is one H.264 stream of one frame size
    buckets = eye_buckets()
    bucket = buckets[int(rng.integers(len(buckets)))]
    walking = bool(rng.random() < walk_share)
    if walking:  # room for the travel
        bucket = (bucket[0], bucket[1], int(np.ceil(bucket[2] * 1.8 / 16) * 16))
    rendered = [render_clip(s, length, bucket, walking) for s in specs]
    if compress:
        coded = h264_roundtrip(np.concatenate([r.frames for r in rendered]), quant, keyint)
        for k, r in enumerate(rendered):
            r.frames = coded[k * length:(k + 1) * length]
    clips = np.stack([align_clip(r.frames, r.landmarks, size, rng) for r in rendered])
    metas = []
    for s, r in zip(specs, rendered):
        m = dict(asdict(s), label=s.label, **r.meta)
        m['quantizer'] = quant if compress else None
        m['keyint'] = keyint
        metas.append(m)
    return clips, metas


def generate(split: str, count: int, out_dir: str, length: int, size: int, workers: int, chunk: int = 16,
             walk_share: float = WALK_SHARE) -> None:
    os.makedirs(out_dir, exist_ok=True)
    specs = split_specs(split, count)
    chunks = [specs[i:i + chunk] for i in range(0, len(specs), chunk)]
    path = os.path.join(out_dir, f'{split}_x.npy')
    x = np.lib.format.open_memmap(path, mode='w+', dtype=np.uint8, shape=(count, length, size, size, 3))
    metas: list = []
    t0 = time.time()
    jobs = [(c, length, size, zlib.crc32(f'{split}:{k}'.encode()), walk_share) for k, c in enumerate(chunks)]
    ctx = get_context('fork')
    with ctx.Pool(workers) as pool:
        done = 0
        for clips, m in pool.imap(build_chunk, jobs):
            x[done:done + len(clips)] = clips
            metas.extend(m)
            done += len(clips)
            el = time.time() - t0
            print(f'[{split}] {done}/{count} clips  {el:.0f}s  eta {el / done * (count - done):.0f}s', flush=True)
            # labels and metadata after every chunk: a stopped run leaves a usable prefix
            write_labels(out_dir, split, length, size, metas)
    x.flush()
    del x
    print(f'[{split}] wrote {path} in {time.time() - t0:.0f}s', flush=True)


def write_labels(out_dir: str, split: str, length: int, size: int, metas: list) -> None:
    np.save(os.path.join(out_dir, f'{split}_y.npy'), np.array([m['label'] for m in metas], np.uint8))
    with open(os.path.join(out_dir, f'{split}_meta.json'), 'w') as f:
        json.dump({'split': split, 'length': length, 'size': size, 'clips': metas}, f)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--split', required=True, choices=sorted(SPLIT_SEEDS))
    p.add_argument('--count', type=int, required=True)
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), 'data'))
    p.add_argument('--length', type=int, default=16, help='frames per clip (the model clip length)')
    p.add_argument('--size', type=int, default=112, help='aligned side (the model input size)')
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--walk-share', type=float, default=WALK_SHARE, help='share of chunks with people walking through the shot')
    a = p.parse_args(argv)
    if a.count < 2:
        sys.exit('--count must be at least 2')
    generate(a.split, a.count, a.out, a.length, a.size, a.workers, walk_share=a.walk_share)


if __name__ == '__main__':
    main()
