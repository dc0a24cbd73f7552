"""ONNX export, manifest writing and the ONNX Runtime check of an FtcnTT."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from typing import Optional, Tuple

import numpy as np
import torch

from .model import FtcnConfig, FtcnTT, gflops_per_clip

INPUT_NAME = 'clip'
OUTPUT_NAME = 'prob'
# The reference implementation's decision threshold for "fake" on the probability.
REFERENCE_THRESHOLD = 0.002584857
_HERE = os.path.dirname(os.path.abspath(__file__))


def export_onnx(model: FtcnTT, cfg: FtcnConfig, path: str, opset: int = 17) -> None:
    """Writes the model as ONNX with input "clip" (batch, 3, T, H, W) and output "prob"
    (batch, 1); only the batch axis is dynamic (T, H, W are fixed by the weights' use)."""
    model.eval()
    dummy = torch.zeros(1, 3, cfg.clip_length, cfg.size, cfg.size)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, dummy, path,
            opset_version=opset,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: 'batch'}, OUTPUT_NAME: {0: 'batch'}},
            do_constant_folding=True,
        )
    import onnx
    onnx.checker.check_model(path)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(model_dir: str, name: str, cfg: FtcnConfig, onnx_file: str, threshold: float,
                   provenance: dict, output: str = 'probability', card: Optional[str] = None,
                   default_stride: int = 4, gflops: Optional[float] = None, alignment: str = 'joint') -> str:
    """Writes `<model_dir>/manifest.json` (kind clip-classifier, see server/shared/model-manifest.ts)
    and returns its path. `model_dir` is the model's own folder (models/<name>); when its last
    component is not `name` it is taken as the models root and `<model_dir>/<name>` is used.
    `onnx_file` may be a path anywhere inside that folder or just the file name in it."""
    if os.path.basename(os.path.normpath(model_dir)) != name:
        model_dir = os.path.join(model_dir, name)
    os.makedirs(model_dir, exist_ok=True)
    onnx_path = onnx_file if os.path.isabs(onnx_file) or os.path.exists(onnx_file) else os.path.join(model_dir, onnx_file)
    if not os.path.exists(onnx_path):
        raise FileNotFoundError(f'ONNX file {onnx_path} does not exist')
    rel = os.path.relpath(os.path.abspath(onnx_path), os.path.abspath(model_dir))
    if rel.startswith('..'):
        raise ValueError(f'ONNX file {onnx_path} is not inside the model folder {model_dir}')
    if alignment not in ('joint', 'trajectory'):
        raise ValueError(f"alignment must be 'joint' or 'trajectory', got {alignment!r}")
    if output not in ('probability', 'logit'):
        raise ValueError(f"output must be 'probability' or 'logit', got {output!r}")
    if not {'source', 'licence'} <= set(provenance):
        raise ValueError('provenance needs at least "source" and "licence"')
    manifest = {
        'name': name,
        'kind': 'clip-classifier',
        'family': 'ftcn_tt',
        'file': rel,
        'sha256': _sha256(onnx_path),
        'inputs': [{'name': INPUT_NAME, 'shape': ['batch', 3, cfg.clip_length, cfg.size, cfg.size], 'dtype': 'float32'}],
        'outputs': [{'name': OUTPUT_NAME, 'shape': ['batch', 1], 'dtype': 'float32'}],
        'layout': 'BCTHW',
        'clipLength': cfg.clip_length,
        'height': cfg.size,
        'width': cfg.size,
        'mean': list(cfg.mean),
        'std': list(cfg.std),
        'output': output,
        'threshold': threshold,
        'gflopsPerClip': round(gflops if gflops is not None else gflops_per_clip(cfg), 3),
        'defaultStride': default_stride,
        'alignment': alignment,
        'architecture': cfg.to_dict(),
        'provenance': provenance,
    }
    if card:
        manifest['card'] = card
    path = os.path.join(model_dir, 'manifest.json')
    with open(path, 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    return path


def random_pixels(cfg: FtcnConfig, n: int, seed: int = 0) -> torch.Tensor:
    """Uniformly random RGB frames, uint8 (n, T, H, W, 3): the layout frames arrive in."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, cfg.clip_length, cfg.size, cfg.size, 3), generator=g, dtype=torch.uint8)


def normalise(pixels: torch.Tensor, cfg: FtcnConfig) -> torch.Tensor:
    """(n, T, H, W, 3) uint8 -> (n, 3, T, H, W) float: (x - mean*255) / (std*255)."""
    x = pixels.permute(0, 4, 1, 2, 3).float()
    mean = torch.tensor(cfg.mean).view(1, 3, 1, 1, 1) * 255
    std = torch.tensor(cfg.std).view(1, 3, 1, 1, 1) * 255
    return ((x - mean) / std).contiguous()


def random_clips(cfg: FtcnConfig, n: int, seed: int = 0) -> torch.Tensor:
    """Normalised clips from uniformly random 0..255 pixels, like real packed input."""
    return normalise(random_pixels(cfg, n, seed), cfg)


def torch_probs(model: FtcnTT, clips: torch.Tensor, batch: int = 2) -> np.ndarray:
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, clips.shape[0], batch):
            outs.append(model(clips[i:i + batch]).reshape(-1))
    return torch.cat(outs).numpy().astype(np.float32)


def node_executable() -> str:
    exe = os.environ.get('DEEPWATCH_NODE') or shutil.which('node')
    if not exe:
        raise RuntimeError('node is not on PATH (set DEEPWATCH_NODE): it runs ONNX Runtime for the check')
    return exe


def ort_probs(onnx_path: str, cfg: FtcnConfig, clips: np.ndarray, batch: int = 2) -> Tuple[np.ndarray, float]:
    """Runs the ONNX file in onnxruntime-node (the runtime the server uses; Debian has no
    Python onnxruntime) on `clips`; returns (probabilities, ms per clip)."""
    with tempfile.TemporaryDirectory(prefix='ftcn-ort-') as tmp:
        clip_path = os.path.join(tmp, 'clips.f32')
        out_path = os.path.join(tmp, 'out.json')
        np.ascontiguousarray(clips, dtype='<f4').tofile(clip_path)
        shape = [clips.shape[0], 3, cfg.clip_length, cfg.size, cfg.size]
        r = subprocess.run([node_executable(), os.path.join(_HERE, 'ort_run.mjs'), onnx_path, clip_path,
                            json.dumps(shape), str(batch), out_path], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f'ONNX Runtime (node) failed: {r.stderr.strip() or r.stdout.strip()}')
        with open(out_path) as f:
            out = json.load(f)
    return np.array(out['probs'], dtype=np.float32), out['msPerClip']


def dump_reference(directory: str, cfg: FtcnConfig, pixels: torch.Tensor, clips: torch.Tensor, probs: np.ndarray,
                   extra: Optional[dict] = None) -> None:
    """Writes pixels.u8 (B x T x H x W x 3 frames), clips.f32 (their normalised input,
    little-endian float32, B x 3 x T x H x W) and reference.json (shape and PyTorch
    probabilities) for other runtimes to compare against."""
    os.makedirs(directory, exist_ok=True)
    pixels.numpy().tofile(os.path.join(directory, 'pixels.u8'))
    clips.numpy().astype('<f4').tofile(os.path.join(directory, 'clips.f32'))
    with open(os.path.join(directory, 'reference.json'), 'w') as f:
        json.dump({'shape': list(clips.shape), 'torchProbs': [float(p) for p in probs], **(extra or {})}, f)


def verify_onnx(model: FtcnTT, cfg: FtcnConfig, onnx_path: str, n_clips: int = 4, seed: int = 0,
                dump_dir: Optional[str] = None) -> float:
    """Max absolute difference of the output probability, ONNX Runtime vs PyTorch, on
    `n_clips` random clips (run as batches of 2, so the dynamic batch axis is exercised)."""
    pixels = random_pixels(cfg, n_clips, seed)
    clips = normalise(pixels, cfg)
    t0 = time.perf_counter()
    ref = torch_probs(model, clips)
    torch_ms = (time.perf_counter() - t0) * 1000 / n_clips
    got, ort_ms = ort_probs(onnx_path, cfg, clips.numpy())
    diff = float(np.max(np.abs(ref - got)))
    if dump_dir:
        dump_reference(dump_dir, cfg, pixels, clips, ref, {'ortProbs': [float(p) for p in got], 'maxAbsDiff': diff,
                                                   'torchMsPerClip': torch_ms, 'ortMsPerClip': ort_ms})
    return diff
