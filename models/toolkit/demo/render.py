"""Rendering frames: warps, non-rigid face motion, blur, lighting, sensor noise.

All warps sample with bilinear weights at pixel centres and read black outside the source,
exactly like server/faces/warp.ts, so aligned training clips are made the way the runtime
makes them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .geometry import apply, compose, eye_distance, invert, similarity, smooth_signal


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """HxWx3 float -> (1,3,H,W)."""
    return torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32)).permute(2, 0, 1)[None]


def pixel_grid(h: int, w: int) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing='ij')
    return torch.stack([xs, ys], -1)  # (h, w, 2) as x, y


def affine_points(m: np.ndarray, grid: torch.Tensor) -> torch.Tensor:
    mt = torch.from_numpy(np.asarray(m, np.float32))
    return grid @ mt[:, :2].T + mt[:, 2]


def sample(src: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """src (1|N,3,H,W); coords (N,h,w,2) source pixel positions -> (N,3,h,w)."""
    h, w = src.shape[2], src.shape[3]
    g = torch.empty_like(coords)
    g[..., 0] = coords[..., 0] * (2.0 / (w - 1)) - 1
    g[..., 1] = coords[..., 1] * (2.0 / (h - 1)) - 1
    if src.shape[0] == 1 and coords.shape[0] > 1:
        src = src.expand(coords.shape[0], -1, -1, -1)
    return F.grid_sample(src, g, mode='bilinear', padding_mode='zeros', align_corners=True)


def warp_affine(src: torch.Tensor, m: np.ndarray, out_h: int, out_w: int) -> torch.Tensor:
    """Like warp.ts warpAffineRGB: m maps source -> output coordinates."""
    coords = affine_points(invert(m), pixel_grid(out_h, out_w))[None]
    return sample(src, coords)


def gaussian_kernel(sigma: float) -> torch.Tensor:
    r = max(1, int(np.ceil(3 * sigma)))
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return k / k.sum()


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N,C,H,W), edges replicated."""
    if sigma < 0.15:
        return x
    k = gaussian_kernel(sigma)
    r = (len(k) - 1) // 2
    c = x.shape[1]
    x = F.pad(x, (r, r, r, r), mode='replicate')
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def antialias_sigma(scale: float) -> float:
    """Pre-blur for shrinking by `scale` (<1) so a bilinear sample does not alias."""
    return 0.0 if scale >= 1 else 0.45 * np.sqrt(1 / scale ** 2 - 1)


@dataclass
class FaceMotion:
    """Non-rigid motion in source coordinates: talking mouth, blinks, head turn, and a
    fixed reshaping of the face for identity variety. Each field is a backward map (an
    output point p shows the source at p + D(p)), with amplitudes in eye distances."""
    lm: np.ndarray          # (5,2) source landmarks
    jaw: np.ndarray         # (T,) mouth opening
    width: np.ndarray       # (T,) mouth widening
    blink: np.ndarray       # (T,) 0 open .. ~0.8 closed
    yaw: np.ndarray         # (T,)
    pitch: np.ndarray       # (T,)
    shape: tuple            # static (sx, sy) reshaping

    def field(self, p: torch.Tensor, t: int) -> torch.Tensor:
        lm = self.lm
        e = eye_distance(lm)
        out = torch.zeros_like(p)
        x, y = p[..., 0], p[..., 1]

        def g(cx: float, cy: float, s: float) -> torch.Tensor:
            return torch.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (s * e) ** 2))

        mouth = (lm[3] + lm[4]) / 2
        nose = lm[2]
        if self.jaw[t] != 0:
            below = torch.sigmoid((y - mouth[1]) / (0.08 * e))
            out[..., 1] -= float(self.jaw[t]) * e * below * g(mouth[0], mouth[1] + 0.3 * e, 0.55)
        if self.width[t] != 0:
            out[..., 0] -= float(self.width[t]) * (x - mouth[0]) * g(mouth[0], mouth[1], 0.4)
        if self.blink[t] != 0:
            for eye in lm[:2]:
                out[..., 1] += float(self.blink[t]) * (y - eye[1]) * g(eye[0], eye[1], 0.17)
        if self.yaw[t] != 0:
            out[..., 0] += float(self.yaw[t]) * e * (g(nose[0], nose[1], 0.9) + 0.5 * g(nose[0], nose[1], 0.3))
        if self.pitch[t] != 0:
            out[..., 1] += float(self.pitch[t]) * e * (g(nose[0], nose[1], 0.9) + 0.5 * g(nose[0], nose[1], 0.3))
        sx, sy = self.shape
        if sx or sy:
            gg = g(nose[0], nose[1], 1.3)
            out[..., 0] += sx * (x - nose[0]) * gg
            out[..., 1] += sy * (y - nose[1]) * gg
        return out

    def moved_landmarks(self, t: int) -> np.ndarray:
        """Where the landmarks appear after the motion (first-order inverse of the field)."""
        p = torch.from_numpy(self.lm.astype(np.float32))[None]
        d = self.field(p, t)[0].numpy()
        return self.lm - d


def random_face_motion(lm: np.ndarray, rng: np.random.Generator, n: int, fps: float, lively: float) -> FaceMotion:
    """Genuine facial motion. `lively` 0..1 scales how much the person talks and moves."""
    talk = rng.random() < 0.75
    jaw = np.clip(smooth_signal(rng, n, fps, rng.uniform(1.5, 5.0), 0.16 * lively) + 0.05 * lively, 0, None) if talk else np.zeros(n)
    width = smooth_signal(rng, n, fps, 3.0, 0.1 * lively) if talk else np.zeros(n)
    blink = np.zeros(n)
    if rng.random() < 0.35:
        start = int(rng.integers(-3, n))
        close, open_ = int(rng.integers(1, 4)), int(rng.integers(2, 6))
        depth = rng.uniform(0.4, 0.85)
        for i in range(n):
            k = i - start
            if 0 <= k < close:
                blink[i] = depth * (k + 1) / close
            elif close <= k < close + open_:
                blink[i] = depth * (1 - (k - close + 1) / (open_ + 1))
    yaw = smooth_signal(rng, n, fps, 1.2, 0.12 * lively, drift=0.05)
    pitch = smooth_signal(rng, n, fps, 1.2, 0.08 * lively, drift=0.03)
    shape = (float(rng.normal(0, 0.06)), float(rng.normal(0, 0.06))) if rng.random() < 0.7 else (0.0, 0.0)
    return FaceMotion(lm, jaw, width, blink, yaw, pitch, shape)


@dataclass
class Shot:
    """One rendered clip on its canvas, with what the manipulations and aligner need."""
    frames: torch.Tensor      # (T,3,C,C) float 0..255
    landmarks: np.ndarray     # (T,5,2) true canvas landmarks
    maps: list                # per-frame source -> canvas similarity
    eye: float                # canvas eye distance


def random_camera(rng: np.random.Generator, n: int, fps: float, d: float, lively: float, walk: float = 0.0) -> list:
    """Smooth per-frame similarities about the face: pan, zoom, roll; optional hand shake.
    `walk` > 0 is a person walking through the shot: `walk` eye distances of travel over
    the clip in a random direction, a stride bob, and approach or retreat."""
    tx = smooth_signal(rng, n, fps, 1.0, rng.uniform(0, 0.25) * d * lively, drift=0.2 * d)
    ty = smooth_signal(rng, n, fps, 1.0, rng.uniform(0, 0.2) * d * lively, drift=0.15 * d)
    rot = smooth_signal(rng, n, fps, 0.8, np.deg2rad(rng.uniform(0, 5)) * lively, drift=np.deg2rad(2))
    zoom = smooth_signal(rng, n, fps, 0.6, rng.uniform(0, 0.07) * lively, drift=0.04)
    if walk > 0:
        u = np.linspace(-0.5, 0.5, n)
        ang = rng.uniform(-np.pi, np.pi)
        accel = rng.normal(0, 0.15)
        path = walk * d * (u + accel * (u ** 2 - 1 / 12))
        stride = rng.uniform(1.5, 2.4)  # steps per second: the head bobs once per step
        ph = rng.uniform(0, 2 * np.pi)
        tt = np.arange(n) / fps
        tx = tx + path * np.cos(ang) + rng.uniform(0, 0.05) * d * np.sin(np.pi * stride * tt + ph)
        ty = ty + path * np.sin(ang) * 0.4 + rng.uniform(0.01, 0.08) * d * np.sin(2 * np.pi * stride * tt + ph)
        zoom = zoom + rng.uniform(-0.25, 0.25) * u
    if rng.random() < 0.25:
        # hand-held shake: frame-to-frame but global, so the whole frame moves together
        shake = rng.uniform(0.2, 0.8)
        raw = rng.normal(0, shake, size=(n, 2))
        tx = tx + np.convolve(raw[:, 0], [0.25, 0.5, 0.25], mode='same')
        ty = ty + np.convolve(raw[:, 1], [0.25, 0.5, 0.25], mode='same')
    return [(1 + zoom[i], rot[i], tx[i], ty[i]) for i in range(n)]


def render_shot(src_img: np.ndarray, src_lm: np.ndarray, rng: np.random.Generator, n: int, canvas: int,
                d: float, fps: float, lively: float, motion: FaceMotion | None = None,
                camera: list | None = None, centre: tuple | None = None, roll: float | None = None,
                walk: float = 0.0) -> Shot:
    """Renders n frames of the source on a canvas x canvas frame with the face's eye
    distance about d pixels."""
    from .geometry import TEMPLATE_224, fit_similarity
    e_src = eye_distance(src_lm)
    scale = d / e_src
    # base placement: the template shape at the canvas centre, with a head roll
    c = centre if centre is not None else (canvas / 2 + rng.normal(0, 0.08 * d), canvas / 2 + rng.normal(0, 0.08 * d))
    roll = roll if roll is not None else rng.normal(0, np.deg2rad(8))
    k = d / 72.82
    tpl = (TEMPLATE_224 - 112.0) * k
    cr, sr = np.cos(roll), np.sin(roll)
    tpl = tpl @ np.array([[cr, sr], [-sr, cr]]) + np.asarray(c)
    base = fit_similarity(src_lm, tpl)
    face_c = apply(base, src_lm).mean(0)
    src = to_tensor(src_img)
    sigma = antialias_sigma(scale)
    if sigma > 0:
        src = blur(src, sigma)
    motion = motion if motion is not None else random_face_motion(src_lm, rng, n, fps, lively)
    camera = camera if camera is not None else random_camera(rng, n, fps, d, lively, walk)
    grid = pixel_grid(canvas, canvas)
    coords, maps, lms = [], [], []
    for t in range(n):
        z, a, tx, ty = camera[t]
        m = compose(similarity(z, a, tx, ty, centre=tuple(face_c)), base)
        p = affine_points(invert(m), grid)
        p = p + motion.field(p, t)
        coords.append(p)
        maps.append(m)
        lms.append(apply(m, motion.moved_landmarks(t)))
    frames = sample(src, torch.stack(coords))
    return Shot(frames, np.stack(lms), maps, d * float(np.mean([cm[0] for cm in camera])))


def lighting(frames: torch.Tensor, rng: np.random.Generator, fps: float, strength: float = 1.0) -> torch.Tensor:
    """Smooth exposure, white-balance and light-direction drift over the clip."""
    n, _, h, w = frames.shape
    gain = 1 + smooth_signal(rng, n, fps, 0.8, rng.uniform(0, 0.1) * strength, drift=0.05 * strength)
    wb = np.stack([1 + smooth_signal(rng, n, fps, 0.5, rng.uniform(0, 0.04) * strength) for _ in range(3)], 1)
    ang = rng.uniform(0, 2 * np.pi) + smooth_signal(rng, n, fps, 0.5, 0.6 * strength)
    amp = rng.uniform(0, 0.15) * strength + smooth_signal(rng, n, fps, 0.5, 0.05 * strength)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing='ij')
    g = torch.from_numpy((gain[:, None] * wb).astype(np.float32)).view(n, 3, 1, 1)
    ramp = torch.stack([1 + float(amp[i]) * (xs * float(np.cos(ang[i])) + ys * float(np.sin(ang[i]))) for i in range(n)])[:, None]
    return frames * g * ramp


def optics(frames: torch.Tensor, rng: np.random.Generator, maps: list) -> torch.Tensor:
    """Defocus (fixed, sometimes hunting) and motion blur that follows the frame speed."""
    n = frames.shape[0]
    base = rng.uniform(0, 1.0) if rng.random() < 0.6 else 0.0
    hunt = rng.uniform(0, 0.4) if rng.random() < 0.2 else 0.0
    mb = rng.uniform(0, 0.25)
    out = []
    for t in range(n):
        a, b = maps[max(t - 1, 0)], maps[min(t + 1, n - 1)]
        speed = float(np.linalg.norm(a[:, 2] - b[:, 2])) / 2
        sigma = base + hunt * np.sin(t * 0.4) ** 2 + mb * speed
        out.append(blur(frames[t:t + 1], sigma))
    return torch.cat(out)


def sensor_noise(frames: torch.Tensor, rng: np.random.Generator, sigma: float) -> torch.Tensor:
    """Independent per-frame noise, stronger in bright areas (shot noise) plus a floor."""
    if sigma <= 0:
        return frames
    shot = torch.sqrt(frames.clamp(min=0) / 128.0 + 0.2)
    noise = torch.from_numpy(rng.standard_normal(frames.shape, dtype=np.float32)) * (sigma * shot)
    if rng.random() < 0.5:  # luminance-correlated (Bayer demosaic mixes channels)
        lum = torch.from_numpy(rng.standard_normal((frames.shape[0], 1) + frames.shape[2:], dtype=np.float32))
        noise = noise * 0.6 + lum * (sigma * 0.8) * shot
    return frames + noise


def head_matte(shot: Shot, src_lm: np.ndarray, canvas: int, feather: float) -> torch.Tensor:
    """(T,1,C,C) soft ellipse over head and hair, carried rigidly by each frame's map:
    where a moving person covers the scene behind."""
    e = eye_distance(src_lm)
    c = src_lm[:2].mean(0) * 0.5 + src_lm[3:].mean(0) * 0.5 - np.array([0, 0.35 * e])
    grid = pixel_grid(canvas, canvas)
    out = []
    for m in shot.maps:
        p = affine_points(invert(m), grid)  # canvas -> source
        r = torch.sqrt(((p[..., 0] - float(c[0])) / (1.45 * e)) ** 2 + ((p[..., 1] - float(c[1])) / (2.0 * e)) ** 2)
        out.append(torch.clamp((1 - r) * 1.45 * shot.eye / max(feather, 0.5) + 0.5, 0, 1)[None])
    return torch.stack(out)


def moving_background(img: torch.Tensor, rng: np.random.Generator, n: int, canvas: int, d: float) -> torch.Tensor:
    """(T,3,C,C) a scene behind the person, with its own slow camera drift (so the person
    and the background move differently, as when someone walks past)."""
    h, w = img.shape[2], img.shape[3]
    scale = rng.uniform(1.2, 2.0) * canvas / min(h, w)
    cx, cy = w / 2, h / 2
    vx, vy = rng.normal(0, 0.3 * d, 2)
    grid = pixel_grid(canvas, canvas)
    coords = []
    for t in range(n):
        u = t / max(n - 1, 1) - 0.5
        m = similarity(scale, 0.0, canvas / 2 - scale * cx + vx * u, canvas / 2 - scale * cy + vy * u)
        coords.append(affine_points(invert(m), grid))
    return sample(img, torch.stack(coords))
