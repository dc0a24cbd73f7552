"""Manipulation families: what face-forgery pipelines leave behind in time.

A forged frame is made frame by frame: a face region (eyes, nose, mouth, soft edges) is
generated or altered and blended back. Because each frame is processed alone, the region
is inconsistent over time even when every single frame looks fine. Each family below
produces one kind of that inconsistency, scaled by a strength in (0, 1]: at 1 it is
visible to a person, at 0.2 it is hard to see in a single frame.

The families are kept apart so some can be held out of training (see synth.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from .geometry import TEMPLATE_224, apply, compose, eye_distance, fit_similarity, invert, similarity
from .render import FaceMotion, Shot, affine_points, blur, pixel_grid, random_face_motion, sample, to_tensor, warp_affine
from .sources import astronaut, augment_appearance, scene

# Inner-face outline in template (224x224) coordinates: brows, temples, cheeks, below the
# mouth. Eyes sit at y~75, the mouth at y~152.
INNER_FACE_224 = np.array([
    [55, 44], [112, 38], [169, 44], [186, 92], [180, 142], [160, 178],
    [112, 190], [64, 178], [44, 142], [38, 92],
], dtype=np.float64)


def face_mask(size: tuple, lm: np.ndarray, feather: float, jitter: np.ndarray | None = None) -> torch.Tensor:
    """Soft inner-face mask (1,1,H,W) in 0..1 for landmarks lm; `jitter` is an extra
    similarity applied in template space (a mis-tracked or mis-sized region)."""
    h, w = size
    tpl_to_img = fit_similarity(TEMPLATE_224, lm)
    poly = INNER_FACE_224
    if jitter is not None:
        poly = apply(jitter, poly)
    pts = apply(tpl_to_img, poly)
    im = Image.new('L', (w, h), 0)
    ImageDraw.Draw(im).polygon([tuple(p) for p in pts], fill=255)
    if feather > 0.3:
        im = im.filter(ImageFilter.GaussianBlur(radius=feather))
    return torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0)[None, None]


def template_jitter(rng: np.random.Generator, pos: float, scale: float, rot: float = 0.0) -> np.ndarray:
    """A small random similarity about the template centre (pos in template pixels)."""
    return similarity(1 + rng.normal(0, scale), rng.normal(0, rot), rng.normal(0, pos), rng.normal(0, pos), centre=(112.0, 112.0))


@dataclass
class Context:
    fps: float
    rng: np.random.Generator


def _blend(frames: torch.Tensor, content: torch.Tensor, masks: list) -> torch.Tensor:
    m = torch.cat(masks)
    return frames * (1 - m) + content * m


def _masks(shot: Shot, frames: torch.Tensor, rng: np.random.Generator, pos: float, scale: float,
           feather_e: float, feather_jit: float = 0.0) -> list:
    """Per-frame masks; pos/scale are per-frame jitter (template px / fraction)."""
    n, _, h, w = frames.shape
    out = []
    for t in range(n):
        e = eye_distance(shot.landmarks[t])
        f = max(0.0, feather_e * e * (1 + rng.normal(0, feather_jit)))
        out.append(face_mask((h, w), shot.landmarks[t], f, template_jitter(rng, pos, scale)))
    return out


def boundary_jitter(shot: Shot, frames: torch.Tensor, s: float, ctx: Context) -> torch.Tensor:
    """A smoother, slightly re-toned copy of the face pasted back with a region whose
    position, size and softness wander frame to frame (a tracker that does not settle)."""
    rng = ctx.rng
    gain = torch.tensor(1 + rng.choice([-1, 1], 3) * rng.uniform(0.03, 0.05 + 0.07 * s, 3), dtype=torch.float32).view(1, 3, 1, 1)
    content = blur(frames, rng.uniform(0.4, 0.6 + 0.8 * s)) * gain
    masks = _masks(shot, frames, rng, pos=7.0 * s, scale=0.04 * s, feather_e=rng.uniform(0.06, 0.2), feather_jit=0.4 * s)
    return _blend(frames, content, masks)


def color_flicker(shot: Shot, frames: torch.Tensor, s: float, ctx: Context) -> torch.Tensor:
    """Per-frame colour correction of the face region that never agrees with itself."""
    rng = ctx.rng
    n = frames.shape[0]
    shared = rng.normal(0, 0.045 * s, (n, 1))
    gain = 1 + shared + rng.normal(0, 0.035 * s, (n, 3))
    bias = rng.normal(0, 4.0 * s, (n, 1)) + rng.normal(0, 2.0 * s, (n, 3))
    g = torch.from_numpy(gain.astype(np.float32)).view(n, 3, 1, 1)
    b = torch.from_numpy(bias.astype(np.float32)).view(n, 3, 1, 1)
    masks = _masks(shot, frames, rng, pos=0.8, scale=0.005, feather_e=rng.uniform(0.1, 0.25))
    return _blend(frames, frames * g + b, masks)


def sharpness_flicker(shot: Shot, frames: torch.Tensor, s: float, ctx: Context) -> torch.Tensor:
    """The face region alternates between blurred and over-sharpened from frame to frame
    (generators and their upscalers are not temporally stable in detail)."""
    rng = ctx.rng
    n = frames.shape[0]
    scale = max(0.6, eye_distance(shot.landmarks[0]) / 40.0) ** 0.5
    content = []
    for t in range(n):
        f = frames[t:t + 1]
        if rng.random() < 0.5:
            content.append(blur(f, rng.uniform(0.2, 0.3 + 1.6 * s) * scale))
        else:
            amount = rng.uniform(0.1, 0.2 + 1.3 * s)
            content.append(f + amount * (f - blur(f, 1.0 * scale)))
    masks = _masks(shot, frames, rng, pos=0.8, scale=0.005, feather_e=rng.uniform(0.08, 0.2))
    return _blend(frames, torch.cat(content), masks)


def texture_swap(shot: Shot, frames: torch.Tensor, s: float, ctx: Context) -> torch.Tensor:
    """A foreign texture (another image) mixed into the face region, its placement and
    opacity re-estimated every frame."""
    rng = ctx.rng
    n, _, h, w = frames.shape
    tex_src = scene(rng)
    tex = to_tensor(augment_appearance(tex_src.image, rng))
    e = shot.eye
    base = compose(fit_similarity(tex_src.landmarks, shot.landmarks[0]),
                   similarity(rng.uniform(0.6, 1.6), rng.uniform(-np.pi, np.pi), 0, 0, centre=tuple(tex_src.landmarks.mean(0))))
    alpha0 = rng.uniform(0.08, 0.12 + 0.3 * s)
    content = []
    for t in range(n):
        follow = compose(fit_similarity(shot.landmarks[0], shot.landmarks[t]), base)
        jit = similarity(1 + rng.normal(0, 0.01 * s), 0, rng.normal(0, 0.02 * s * e + 0.3), rng.normal(0, 0.02 * s * e + 0.3))
        tt = warp_affine(tex, compose(jit, follow), h, w)
        mean_f, mean_t = frames[t].mean(), tt.mean().clamp(min=1)
        tt = tt * (mean_f / mean_t)
        a = float(np.clip(alpha0 * (1 + rng.normal(0, 0.35 * s)), 0.02, 0.9))
        content.append(frames[t:t + 1] * (1 - a) + tt * a)
    masks = _masks(shot, frames, rng, pos=1.5 * s, scale=0.01 * s, feather_e=rng.uniform(0.08, 0.2))
    return _blend(frames, torch.cat(content), masks)


def warp_jitter(shot: Shot, frames: torch.Tensor, s: float, ctx: Context) -> torch.Tensor:
    """The face region's content shifted, turned and scaled a little, independently in
    every frame (per-frame face alignment in a swap pipeline)."""
    rng = ctx.rng
    n, _, h, w = frames.shape
    content = []
    for t in range(n):
        lm = shot.landmarks[t]
        e = eye_distance(lm)
        m = similarity(1 + rng.normal(0, 0.025 * s), rng.normal(0, np.deg2rad(1.5) * s),
                       rng.normal(0, 0.035 * s * e), rng.normal(0, 0.035 * s * e), centre=tuple(lm.mean(0)))
        content.append(warp_affine(frames[t:t + 1], m, h, w))
    masks = _masks(shot, frames, rng, pos=1.0, scale=0.008, feather_e=rng.uniform(0.1, 0.2))
    c = torch.cat(content)
    # where the shifted copy reads outside the frame it is black: keep the original there
    c = torch.where(c.sum(1, keepdim=True) > 0, c, frames)
    return _blend(frames, c, masks)


def identity_swap(shot: Shot, frames: torch.Tensor, s: float, ctx: Context) -> torch.Tensor:
    """Another face (a re-coloured, re-shaped, possibly mirrored astronaut with its own
    expression track) aligned onto every frame separately, colour-matched per frame."""
    rng = ctx.rng
    n, _, h, w = frames.shape
    other = astronaut(mirror=bool(rng.random() < 0.5))
    img = to_tensor(augment_appearance(other.image, rng))
    motion = random_face_motion(other.landmarks, rng, n, ctx.fps, rng.uniform(0.2, 1.0))
    motion.shape = (float(rng.normal(0, 0.1)), float(rng.normal(0, 0.1)))
    e_o = eye_distance(other.landmarks)
    scale = shot.eye / e_o
    if scale < 1:
        img = blur(img, 0.45 * np.sqrt(1 / scale ** 2 - 1))
    img = blur(img, rng.uniform(0.0, 0.8))  # generated faces are smoother
    grid = pixel_grid(h, w)
    masks = _masks(shot, frames, rng, pos=2.5 * s, scale=0.015 * s, feather_e=rng.uniform(0.08, 0.2), feather_jit=0.2 * s)
    out = []
    for t in range(n):
        lm = shot.landmarks[t]
        e = eye_distance(lm)
        jit = similarity(1 + rng.normal(0, 0.02 * s), rng.normal(0, np.deg2rad(1.2) * s),
                         rng.normal(0, 0.03 * s * e), rng.normal(0, 0.03 * s * e), centre=tuple(lm.mean(0)))
        m = compose(jit, fit_similarity(other.landmarks, lm))
        p = affine_points(invert(m), grid)
        p = p + motion.field(p, t)
        c = sample(img, p[None])
        # colour transfer inside the mask, re-estimated (imperfectly) per frame
        mk = masks[t]
        wsum = mk.sum().clamp(min=1)
        mu_f = (frames[t:t + 1] * mk).sum((2, 3), keepdim=True) / wsum
        mu_c = (c * mk).sum((2, 3), keepdim=True) / wsum
        sd_f = (((frames[t:t + 1] - mu_f) ** 2 * mk).sum((2, 3), keepdim=True) / wsum).sqrt()
        sd_c = (((c - mu_c) ** 2 * mk).sum((2, 3), keepdim=True) / wsum).sqrt().clamp(min=1)
        noise = torch.from_numpy(rng.normal(0, 0.04 * s, (1, 3, 1, 1)).astype(np.float32))
        c = (c - mu_c) * (sd_f / sd_c) * (1 + noise) + mu_f * (1 + noise)
        out.append(c)
    return _blend(frames, torch.cat(out), masks)


FAMILIES: dict[str, Callable] = {
    'boundary_jitter': boundary_jitter,
    'color_flicker': color_flicker,
    'sharpness_flicker': sharpness_flicker,
    'texture_swap': texture_swap,
    'warp_jitter': warp_jitter,
    'identity_swap': identity_swap,
}
