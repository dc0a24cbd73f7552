"""A floor for the learned model: seven hand-made temporal statistics of the aligned clip and
a logistic regression on them (and their squares), fitted on a training split and scored
on the test split by family, like evaluate.py.

  PYTHONPATH=models/toolkit /usr/bin/python3 -m demo.baseline --data models/toolkit/demo/data

The statistics use the template's inner-face polygon (where every family alters the clip):
energy of the temporal second difference (blind to steady motion) inside the face, on its
edge and outside it, how that energy varies from frame to frame, and how much the temporal
change follows the spatial Laplacian (a face that is blurred and sharpened in turn changes
along its own edges). The last one needs a 3x3 spatial filter, which the FTCN backbone
(spatial kernel 1 everywhere) cannot form before its max-pools.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from .metrics import roc_auc
from .train import inner_face_map

FEATURES = ['log inside/outside energy', 'log edge/outside energy', 'log edge/inside energy', 'frame-to-frame variation inside',
            'Laplacian coherence inside', 'Laplacian coherence outside', 'log outside energy']
LAPLACIAN = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float32).view(1, 1, 3, 3)


def statistics(data_dir: str, split: str, every: int = 1, chunk: int = 64) -> tuple:
    """(N, 7) statistics and the clips' metadata for every `every`-th clip of a split."""
    x = np.load(os.path.join(data_dir, f'{split}_x.npy'), mmap_mode='r')
    with open(os.path.join(data_dir, f'{split}_meta.json')) as f:
        meta = json.load(f)['clips']
    size = x.shape[2]
    smooth = F.avg_pool2d(inner_face_map(size)[None], 9, 1, 4)[0, 0]
    inside, edge, outside = smooth > 0.95, (smooth > 0.1) & (smooth < 0.9), smooth < 0.02
    idx = list(range(0, len(meta), every))
    out = []
    for i in range(0, len(idx), chunk):
        c = torch.from_numpy(np.array(x[idx[i:i + chunk]])).float().mean(-1)  # B,T,H,W grey
        d2 = c[:, 2:] - 2 * c[:, 1:-1] + c[:, :-2]
        energy = d2.abs().mean(1)
        e_in, e_edge, e_out = (energy[:, m].mean(1) for m in (inside, edge, outside))
        per_frame = d2.abs()[:, :, inside].mean(-1)
        lap = F.conv2d(c.mean(1, keepdim=True), LAPLACIAN, padding=1)[:, 0]

        def coherence(m: torch.Tensor) -> torch.Tensor:
            return ((d2 * lap[:, None])[:, :, m].mean(-1) / (lap[:, m].abs().mean(-1)[:, None] + 1e-3)).abs().mean(1)
        out.append(torch.stack([(e_in / e_out).log(), (e_edge / e_out).log(), (e_edge / e_in).log(),
                                per_frame.std(1) / per_frame.mean(1), coherence(inside), coherence(outside), e_out.log()], 1))
        print(f'{split}: {min(i + chunk, len(idx))}/{len(idx)} clips', file=sys.stderr, flush=True)
    return torch.cat(out).numpy().astype(np.float64), [meta[i] for i in idx]


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3):
    """Returns score(x) of an L2-regularised logistic regression on [x, x^2], standardised."""
    def expand(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, a ** 2], 1)
    mu, sd = expand(x).mean(0), expand(x).std(0) + 1e-6
    a = torch.tensor((expand(x) - mu) / sd, dtype=torch.float64)
    t = torch.tensor(y, dtype=torch.float64)
    w = torch.zeros(a.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=500)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(a @ w + b, t) + l2 * (w ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return lambda z: (torch.tensor((expand(z) - mu) / sd) @ w + b).detach().numpy()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True)
    p.add_argument('--train-split', default='train')
    p.add_argument('--every', type=int, default=3, help='use every n-th training clip (odd: the splits alternate labels)')
    p.add_argument('--test-split', default='test')
    p.add_argument('--out', help='write the results here (JSON)')
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    x_tr, m_tr = statistics(a.data, a.train_split, a.every)
    x_te, m_te = statistics(a.data, a.test_split)
    y_tr = np.array([m['label'] for m in m_tr])
    y_te = np.array([m['label'] for m in m_te])
    score = fit_logistic(x_tr, y_tr)(x_te)
    genuine = y_te == 0
    res: dict = {'train_clips': len(y_tr), 'test_clips': len(y_te), 'auc': roc_auc(y_te, score), 'family': {}, 'single_feature': {}}
    for fam in sorted({m['family'] for m in m_te if m['label'] == 1}):
        sel = genuine | np.array([m['family'] == fam for m in m_te])
        res['family'][fam] = roc_auc(y_te[sel], score[sel])
        # each statistic alone, either direction
        res['single_feature'][fam] = {n: max(v, 1 - v) for n, v in
                                      ((n, roc_auc(y_te[sel], x_te[sel, k])) for k, n in enumerate(FEATURES))}
    print(f"hand-made statistics + logistic regression: {a.test_split} AUC {res['auc']:.4f}")
    for fam, v in res['family'].items():
        best = max(res['single_feature'][fam].items(), key=lambda kv: kv[1])
        print(f'  {fam}: AUC {v:.4f} (best single statistic: {best[0]} {best[1]:.3f})')
    if a.out:
        with open(a.out, 'w') as f:
            json.dump(res, f, indent=1)


if __name__ == '__main__':
    sys.exit(main())
