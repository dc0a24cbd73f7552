"""Landmarks, the FTCN template, similarity fits and smooth motion signals.

Conventions match server/faces/align.ts and warp.ts: a 2x3 affine maps source to output
coordinates (OpenCV's warpAffine convention), integer coordinates are pixel centres.
"""
from __future__ import annotations

import numpy as np

# The FTCN alignment template for a 224x224 output (left eye, right eye, nose tip, left and
# right mouth corner, as x, y). The runtime scales it by size/224.
TEMPLATE_224 = np.array([
    [75.10, 75.06],
    [147.92, 73.80],
    [111.63, 119.88],
    [79.36, 152.86],
    [146.39, 151.70],
], dtype=np.float64)

# The same five points on skimage's astronaut.png (512x512), found by eye on 10x crops
# (eye centres between the eye corners, nose tip at the brightest point of the tip, mouth
# corners where the lips meet). Image-left eye first, as in the template.
ASTRONAUT_LANDMARKS = np.array([
    [203.5, 101.5],
    [246.5, 103.0],
    [224.0, 127.0],
    [203.5, 140.5],
    [243.5, 141.5],
], dtype=np.float64)


def template(size: int) -> np.ndarray:
    return TEMPLATE_224 * (size / 224.0)


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (no reflection) taking src points (N,2) onto dst (N,2); 2x3."""
    src = np.asarray(src, np.float64).reshape(-1, 2)
    dst = np.asarray(dst, np.float64).reshape(-1, 2)
    ms, md = src.mean(0), dst.mean(0)
    p, q = src - ms, dst - md
    norm = (p ** 2).sum()
    if norm < 1e-12:
        raise ValueError('fit_similarity: source points coincide')
    a = (p * q).sum() / norm
    b = (p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum() / norm
    return np.array([[a, -b, md[0] - (a * ms[0] - b * ms[1])],
                     [b, a, md[1] - (b * ms[0] + a * ms[1])]])


# Polynomial degree of the 'trajectory' window alignment (server/faces/align.ts TRAJECTORY_DEGREE).
TRAJECTORY_DEGREE = 2


def window_similarities(landmarks: np.ndarray, size: int, alignment: str) -> list:
    """One 2x3 similarity per frame (frame -> size x size template), as the runtime's
    windowTransforms: 'joint' is one fit over the whole window; 'trajectory' fits each
    frame, then puts its linear part (a, b) and its landmark centroid on a least-squares
    quadratic in time (t scaled to [-1, 1])."""
    tpl = template(size)
    lms = np.asarray(landmarks, np.float64)
    n = len(lms)
    if alignment == 'joint':
        m = fit_similarity(lms.reshape(-1, 2), np.tile(tpl, (n, 1)))
        return [m] * n
    if alignment != 'trajectory':
        raise ValueError(f'unknown alignment {alignment!r}')
    per = [fit_similarity(lm, tpl) for lm in lms]
    params = np.array([[m[0, 0], m[1, 0], *lm.mean(0)] for m, lm in zip(per, lms)])
    degree = min(TRAJECTORY_DEGREE, (n - 1) // 2)
    ts = np.zeros(n) if n == 1 else 2 * np.arange(n) / (n - 1) - 1
    basis = np.stack([ts ** i for i in range(degree + 1)], 1)
    coef, *_ = np.linalg.lstsq(basis, params, rcond=None)
    fit = basis @ coef
    tc = tpl.mean(0)
    out = []
    for a, b, x, y in fit:
        out.append(np.array([[a, -b, tc[0] - (a * x - b * y)], [b, a, tc[1] - (b * x + a * y)]]))
    return out


def to3(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a after b (apply b first)."""
    return (to3(a) @ to3(b))[:2]


def invert(m: np.ndarray) -> np.ndarray:
    return np.linalg.inv(to3(m))[:2]


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def similarity(scale: float, angle: float, tx: float, ty: float, centre=(0.0, 0.0)) -> np.ndarray:
    """Rotate by angle (radians) and scale about `centre`, then translate."""
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    cx, cy = centre
    return np.array([[c, -s, cx - c * cx + s * cy + tx],
                     [s, c, cy - s * cx - c * cy + ty]])


def eye_distance(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[1] - lm[0]))


def smooth_signal(rng: np.random.Generator, n: int, fps: float, fmax: float, amp: float, drift: float = 0.0) -> np.ndarray:
    """A smooth random signal of n samples: a few sinusoids below fmax Hz plus a linear
    drift, scaled so its peak is about `amp`. Genuine motion is band-limited like this."""
    t = np.arange(n) / fps
    x = np.zeros(n)
    for _ in range(3):
        f = rng.uniform(0.05, fmax)
        x += rng.normal() * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    x -= x.mean()
    peak = np.abs(x).max()
    if peak > 1e-9:
        x *= amp / peak
    return x + drift * rng.normal() * (t - t.mean()) * fps / max(n, 1)
