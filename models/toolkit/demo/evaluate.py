"""Scores the synthetic validation and test splits with a checkpoint, picks the decision
threshold on validation data and reports AUCs by family and strength.

  PYTHONPATH=models/toolkit /usr/bin/python3 -m demo.evaluate --checkpoint RUN/best.pt \
      --data models/toolkit/demo/data --out RUN/results.json

Threshold: the `--val-fpr` quantile of the validation genuine scores (validation clips
only; the test split and real footage play no part in it).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

from ftcn.model import FtcnConfig, FtcnTT

from .metrics import rates, roc_auc, threshold_at_fpr
from .train import VIEWS, Clips, conv3d_as_2d, evaluate


def load_model(path: str) -> tuple[FtcnTT, FtcnConfig]:
    ck = torch.load(path, map_location='cpu')
    cfg = FtcnConfig.from_dict(ck['config'])
    model = FtcnTT(cfg)
    model.load_state_dict(ck['model'])
    model.eval()
    return model, cfg


def breakdown(scores: np.ndarray, meta: list, threshold: float) -> dict:
    labels = np.array([m['label'] for m in meta])
    genuine = labels == 0
    out: dict = {'all': {'auc': roc_auc(labels, scores), 'clips': int(len(labels)), **rates(labels, scores, threshold)}}
    for key in ('family', 'strength'):
        groups = sorted({m[key] for m in meta if m['label'] == 1})
        out[key] = {}
        for g in groups:
            sel = genuine | np.array([m['label'] == 1 and m[key] == g for m in meta])
            out[key][str(g)] = {'auc': roc_auc(labels[sel], scores[sel]), 'fakes': int((labels[sel] == 1).sum()),
                                'tpr': rates(labels[sel], scores[sel], threshold)['tpr']}
    src = np.array([m.get('source', '') != '' and m.get('source', '').startswith('astronaut') for m in meta])
    if src.any() and (~src).any():
        out['faces_only'] = {'auc': roc_auc(labels[src], scores[src]), 'clips': int(src.sum())}
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--val-fpr', type=float, default=0.01)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--val-split', default='val', help='the validation split whose genuine clips set the threshold')
    p.add_argument('--extra-test', default='', help='comma-separated further held-out splits to report (e.g. test2)')
    p.add_argument('--views', default='plain', help=f'comma-separated test-time views averaged: {sorted(VIEWS)}')
    p.add_argument('--splits', default='', help='only these splits (a quick look; default: validation, val, test, extras)')
    a = p.parse_args(argv)
    views = tuple(v for v in a.views.split(',') if v)
    if not views or any(v not in VIEWS for v in views):
        sys.exit(f'--views: pick from {sorted(VIEWS)}')
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    model, cfg = load_model(a.checkpoint)
    conv3d_as_2d(model)
    results: dict = {'checkpoint': os.path.abspath(a.checkpoint), 'config': cfg.to_dict(), 'views': list(views)}
    scores, metas = {}, {}
    splits = list(dict.fromkeys([a.val_split, 'val', 'test'] + [s for s in a.extra_test.split(',') if s]))
    if a.splits:
        splits = list(dict.fromkeys([a.val_split] + a.splits.split(',')))
    for split in splits:
        data = Clips(a.data, split, cfg)
        s, _ = evaluate(model, data, views=views)
        scores[split] = s
        metas[split] = data.meta
        np.save(os.path.join(os.path.dirname(a.out) or '.', f'{split}_scores.npy'), s)
        print(f'{split}: scored {len(s)} clips', flush=True)
    val_gen = scores[a.val_split][np.array([m['label'] for m in metas[a.val_split]]) == 0]
    threshold = threshold_at_fpr(val_gen, a.val_fpr)
    results['threshold'] = {'value': threshold, 'split': a.val_split,
                            'rule': f'{a.val_fpr:.3%} quantile of {len(val_gen)} validation genuine clips ({a.val_split})'}
    for split in splits:
        results[split] = breakdown(scores[split], metas[split], threshold)
    with open(a.out, 'w') as f:
        json.dump(results, f, indent=2)
    print(f"threshold {threshold:.4f} ({a.val_split})")
    for split in splits:
        t = results[split]
        print(f"{split} AUC {t['all']['auc']:.4f} (TPR {t['all']['tpr']:.3f}, FPR {t['all']['fpr']:.3f} at the threshold)")
        for k in ('family', 'strength'):
            for g, r in t[k].items():
                print(f'  {split} {k} {g}: AUC {r["auc"]:.4f}, TPR {r["tpr"]:.3f} ({r["fakes"]} fakes)')


if __name__ == '__main__':
    sys.exit(main())
