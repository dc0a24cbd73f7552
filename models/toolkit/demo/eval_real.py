"""Genuine real footage through the real pipeline: runs `deepwatch analyze` (decoder ->
face stage -> alignWindow -> ONNX Runtime) with stride 4 on each video and reports the
share of clip scores at or above the model's threshold (a false-positive rate, since
the footage is genuine).

  PYTHONPATH=models/toolkit /usr/bin/python3 -m demo.eval_real /work/shared/media/*.mp4 \
      --out models/toolkit/demo/runs/demo/real.json

Needs the compiled CLI (`npm run build`). The videos are for local evaluation only.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from .ship import NAME

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def analyse(path: str, model: str, stride: int) -> dict:
    cli = os.path.join(REPO, 'dist', 'server', 'cli', 'main.js')
    if not os.path.exists(cli):
        raise SystemExit(f'{cli} is missing: run `npm run build` first')
    with tempfile.TemporaryDirectory(prefix='demo-real-') as tmp:
        report = os.path.join(tmp, 'report.json')
        r = subprocess.run(['node', cli, 'analyze', path, '--report', report, '--stride', str(stride), '--model', model, '--quiet'],
                           cwd=REPO, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f'analyze {path} failed: {r.stderr.strip()[-800:]}')
        with open(report) as f:
            return json.load(f)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('videos', nargs='+')
    p.add_argument('--model', default=NAME)
    p.add_argument('--stride', type=int, default=4)
    p.add_argument('--out', help='write the per-video numbers and all clip scores here (JSON)')
    a = p.parse_args(argv)
    rows, all_p = [], []
    threshold = None
    for v in a.videos:
        rep = analyse(v, a.model, a.stride)
        threshold = rep['model']['threshold']
        probs = [c['probability'] for t in rep['tracks'] for c in t['clips']]
        all_p += probs
        above = sum(x >= threshold for x in probs)
        row = {'video': os.path.basename(v), 'tracks': len(rep['tracks']), 'clips': len(probs), 'above': above,
               'fraction_above': above / len(probs) if probs else None,
               'median': float(np.median(probs)) if probs else None, 'max': max(probs) if probs else None, 'probs': probs}
        rows.append(row)
        frac = 'n/a' if row['fraction_above'] is None else f"{row['fraction_above']:.3f}"
        print(f"{row['video']}: {row['tracks']} tracks, {row['clips']} clips, {above} at/above {threshold:.4f} ({frac}); "
              f"median {row['median'] if row['median'] is None else round(row['median'], 4)}, max {row['max'] if row['max'] is None else round(row['max'], 4)}",
              flush=True)
    total = len(all_p)
    above = sum(x >= threshold for x in all_p) if threshold is not None else 0
    summary = {'model': a.model, 'threshold': threshold, 'stride': a.stride, 'clips': total, 'above': above,
               'fraction_above': above / total if total else None, 'videos': rows}
    print(f'all: {above}/{total} clips at/above the threshold ({(above / total if total else float("nan")):.3f})')
    if a.out:
        with open(a.out, 'w') as f:
            json.dump(summary, f, indent=1)


if __name__ == '__main__':
    sys.exit(main())
