"""The images clips are made from, their landmarks, and per-clip appearance changes.

Only images whose skimage docstring (skimage/data/_fetchers.py) states public domain or
CC0 are used. The astronaut photo is the one face; the other images are extra genuine
and manipulated "scenes" with a virtual face layout, so the model has to learn temporal
inconsistency rather than one person's identity.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from .geometry import ASTRONAUT_LANDMARKS, TEMPLATE_224, apply, fit_similarity, similarity

SKIMAGE_DATA = '/usr/lib/python3/dist-packages/skimage/data'
ASTRONAUT = 'astronaut.png'  # NASA, public domain

# file -> licence as stated in skimage/data/_fetchers.py
SCENES = {
    'coffee.png': 'CC0 (Rachel Michetti)',
    'chelsea.png': 'CC0 (Stefan van der Walt)',
    'rocket.jpg': 'public domain (SpaceX)',
    'brick.png': 'CC0 (CC0Textures)',
    'grass.png': 'CC0 (DeviantArt, linolafett)',
    'gravel.png': 'CC0 (CC0Textures)',
    'camera.png': 'CC0 (Lav Varshney)',
    'coins.png': 'no known copyright restrictions (Brooklyn Museum)',
    'hubble_deep_field.jpg': 'public domain (NASA)',
    'retina.jpg': 'CC0 1.0',
    'clock_motion.png': 'public domain (Stefan van der Walt)',
    'text.png': 'public domain',
    'ihc.png': 'no known copyright restrictions',
}


@lru_cache(maxsize=None)
def load_rgb(name: str) -> np.ndarray:
    im = Image.open(os.path.join(SKIMAGE_DATA, name))
    return np.asarray(im.convert('RGB'), dtype=np.uint8)


@dataclass
class Source:
    """An image (float32 0..255, HxWx3) and where the five face points sit on it."""
    image: np.ndarray
    landmarks: np.ndarray
    is_face: bool
    name: str


def astronaut(mirror: bool = False) -> Source:
    img = load_rgb(ASTRONAUT).astype(np.float32)
    lm = ASTRONAUT_LANDMARKS.copy()
    if mirror:
        img = img[:, ::-1].copy()
        lm[:, 0] = img.shape[1] - 1 - lm[:, 0]
        lm = lm[[1, 0, 2, 4, 3]]  # left and right swap in a mirror
    return Source(img, lm, True, 'astronaut' + ('-mirror' if mirror else ''))


def scene(rng: np.random.Generator, name: str | None = None) -> Source:
    """A non-face image with a virtual face layout placed somewhere on it."""
    name = name or str(rng.choice(sorted(SCENES)))
    img = load_rgb(name).astype(np.float32)
    if rng.random() < 0.5:
        img = img[:, ::-1].copy()
    h, w = img.shape[:2]
    e = rng.uniform(0.09, 0.2) * min(h, w)  # virtual eye distance
    k = e / 72.82  # template eye distance
    cx = rng.uniform(0.3, 0.7) * w
    cy = rng.uniform(0.3, 0.7) * h
    m = similarity(k, rng.normal(0, 0.2), cx - 112 * k, cy - 112 * k)
    # rotate about the template centre, then place
    m = fit_similarity(TEMPLATE_224, apply(m, TEMPLATE_224))
    return Source(img, apply(m, TEMPLATE_224), False, name)


def pick_source(rng: np.random.Generator, face_fraction: float = 0.7) -> Source:
    if rng.random() < face_fraction:
        return astronaut(mirror=bool(rng.random() < 0.5))
    return scene(rng)


def _hue_matrix(deg: float) -> np.ndarray:
    """RGB -> RGB rotation about the grey axis (a hue shift that keeps luminance roughly)."""
    t = np.deg2rad(deg)
    c, s = np.cos(t), np.sin(t)
    k = 1 / 3
    sq = np.sqrt(1 / 3)
    return np.array([
        [c + (1 - c) * k, k * (1 - c) - sq * s, k * (1 - c) + sq * s],
        [k * (1 - c) + sq * s, c + k * (1 - c), k * (1 - c) - sq * s],
        [k * (1 - c) - sq * s, k * (1 - c) + sq * s, c + k * (1 - c)],
    ], dtype=np.float32)


def augment_appearance(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-clip colour, contrast, tone changes so no single skin tone or exposure is 'the'
    genuine look. float32 0..255 in and out."""
    x = img / 255.0
    if rng.random() < 0.07:
        x = x[..., rng.permutation(3)]
    hue = rng.uniform(-180, 180) if rng.random() < 0.1 else rng.normal(0, 12)
    x = x @ _hue_matrix(hue).T
    grey = x.mean(-1, keepdims=True)
    sat = 0.0 if rng.random() < 0.07 else rng.uniform(0.5, 1.4)
    x = grey + (x - grey) * sat
    x = np.clip(x, 0, 1) ** rng.uniform(0.75, 1.35)
    mean = x.mean()
    x = (x - mean) * rng.uniform(0.65, 1.3) + mean * rng.uniform(0.7, 1.25)
    x = x * rng.uniform(0.9, 1.1, size=3).astype(np.float32)  # white balance
    return np.clip(x * 255.0, 0, 255).astype(np.float32)
