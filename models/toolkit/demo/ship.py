"""Exports a trained checkpoint as the shipped demo model: ONNX (via ftcn.export), checked
against PyTorch in onnxruntime-node, and its manifest with the validation threshold.

  PYTHONPATH=models/toolkit /usr/bin/python3 -m demo.ship --checkpoint RUN/best.pt \
      --results RUN/results.json --models models
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

from ftcn.export import export_onnx, verify_onnx, write_manifest
from ftcn.model import gflops_per_clip

from .evaluate import load_model

NAME = 'ftcn_tt_fast_demo'


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--alignment', default='trajectory', choices=['joint', 'trajectory'],
                   help='how the training clips were aligned (synth.py); the runtime cuts clips the same way')
    p.add_argument('--results', required=True, help='evaluate.py output: the threshold comes from there')
    p.add_argument('--models', default='models')
    p.add_argument('--name', default=NAME)
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    model, cfg = load_model(a.checkpoint)
    with open(a.results) as f:
        results = json.load(f)
    threshold = float(results['threshold']['value'])
    model_dir = os.path.join(a.models, a.name)
    onnx_path = os.path.join(model_dir, f'{a.name}.onnx')
    export_onnx(model, cfg, onnx_path)
    diff = verify_onnx(model, cfg, onnx_path, n_clips=4)
    if diff > 1e-4:
        sys.exit(f'ONNX Runtime and PyTorch disagree by {diff:.2e}: not shipping')
    provenance = {
        'source': 'trained by this project: models/toolkit/demo (synthetic clips from public-domain/CC0 images in Debian python3-skimage)',
        'licence': 'Apache-2.0 (weights trained by the project; training images public domain / CC0)',
        'notes': (f'Synthetic temporal artefacts only; never trained on a real deepfake. Test ROC AUC '
                  f"{results['test']['all']['auc']:.3f} on held-out synthetic families/strengths. See CARD.md."),
    }
    path = write_manifest(model_dir, a.name, cfg, onnx_path, threshold, provenance, output='probability', card='CARD.md',
                          default_stride=4, alignment=a.alignment)
    print(f'{onnx_path}: {os.path.getsize(onnx_path) / 1e6:.2f} MB, {gflops_per_clip(cfg):.2f} GFLOPs/clip, '
          f'ORT vs torch max |diff| {diff:.2e}\n{path}: threshold {threshold:.5f}')


if __name__ == '__main__':
    sys.exit(main())
