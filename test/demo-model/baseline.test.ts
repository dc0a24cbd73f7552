import { describe, expect, it } from 'vitest';
import { python } from '../model/helpers.js';

// demo.baseline is the floor the learned model is compared with in docs/demo-model.md; its
// statistics must see flicker inside the face region and its regression must use them.
const script = `
import json, os, tempfile
import numpy as np, torch
from demo.baseline import statistics, fit_logistic, FEATURES
from demo.metrics import roc_auc
from demo.train import inner_face_map

rng = np.random.default_rng(3)
size, T, n = 64, 16, 24
face = inner_face_map(size)[0].numpy() > 0.5
x = np.empty((n, T, size, size, 3), np.uint8)
labels = np.arange(n) % 2
for i in range(n):
    base = rng.uniform(60, 190, (size, size))
    frames = base[None] + rng.normal(0, 2.0, (T, size, size))  # sensor noise everywhere
    if labels[i]:
        frames[:, face] += rng.normal(0, 6.0, (T, 1))  # the face region flickers as a whole
    x[i] = np.clip(frames, 0, 255)[..., None].repeat(3, -1)
d = tempfile.mkdtemp()
np.save(os.path.join(d, 'tiny_x.npy'), x)
meta = [{'label': int(l), 'family': 'color_flicker' if l else ''} for l in labels]
json.dump({'clips': meta}, open(os.path.join(d, 'tiny_meta.json'), 'w'))
s, m = statistics(d, 'tiny')
inside_outside = FEATURES.index('log inside/outside energy')
score = fit_logistic(s, labels)(s)
print(json.dumps({'shape': list(s.shape), 'n_meta': len(m),
                  'feature_auc': roc_auc(labels, s[:, inside_outside]), 'fit_auc': roc_auc(labels, score),
                  'finite': bool(np.isfinite(s).all())}))
`;

describe('demo hand-made baseline', () => {
  it('its statistics separate clips whose face region flickers, and its regression uses them', () => {
    const out = JSON.parse(python(['-c', script]).trim().split('\n').pop() as string) as {
      shape: number[]; n_meta: number; feature_auc: number; fit_auc: number; finite: boolean;
    };
    expect(out.shape).toEqual([24, 7]);
    expect(out.n_meta).toBe(24);
    expect(out.finite).toBe(true);
    expect(out.feature_auc).toBe(1);
    expect(out.fit_auc).toBe(1);
  });
});
