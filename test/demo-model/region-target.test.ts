import { describe, expect, it } from 'vitest';
import { python } from '../model/helpers.js';

// The trainer's auxiliary region loss (models/toolkit/demo/train.py --region-weight) teaches
// every location of a manipulated clip where the alteration is. The target is only right if
// it goes through exactly the same mirror, crop and shrink as the clip it belongs to.
const script = `
import json, random
import numpy as np, torch
from ftcn.model import FAST
from demo.train import Clips, inner_face_map

size = FAST.size
region = inner_face_map(size)
# Clips whose pixels ARE the region map (every frame, every channel), plus a ramp in x so a
# mirrored map cannot pass for an unmirrored one.
ramp = torch.linspace(0, 0.2, size).view(1, size)
pattern = (region[0] * 0.8 + ramp) * 255
clips = Clips.__new__(Clips)
clips.x = pattern.round().to(torch.uint8).view(1, 1, size, size, 1).expand(6, FAST.clip_length, size, size, 3).contiguous()
clips.y = torch.tensor([0., 1., 0., 1., 0., 1.])
clips.mean = torch.tensor(FAST.mean).view(1, 3, 1, 1, 1) * 255
clips.std = torch.tensor(FAST.std).view(1, 3, 1, 1, 1) * 255
rng = random.Random(7)
worst, shapes = 0.0, set()
for _ in range(20):
    for crop in (48, 64):
        x, y, r = clips.batch(list(range(6)), rng, crop, 0.5, (region * 0.8 + ramp))
        pixels = (x * clips.std + clips.mean)[:, 0, 0] / 255  # B,h,w of channel 0, frame 0
        worst = max(worst, float((pixels - r[:, 0]).abs().max()))
        shapes.add(tuple(r.shape))
m = region[0]
print(json.dumps({'worst': worst, 'shapes': sorted(shapes), 'share': float(m.mean()),
                  'corner': float(m[:8, :8].max()), 'centre': float(m[size // 2, size // 2]),
                  'mirror_gap': float((m - m.flip(-1)).abs().mean())}))
`;

describe('demo trainer region target', () => {
  it('follows each clip through mirror, crop and shrink, and covers the inner face only', () => {
    const out = JSON.parse(python(['-c', script]).trim().split('\n').pop() as string) as {
      worst: number; shapes: number[][]; share: number; corner: number; centre: number; mirror_gap: number;
    };
    // uint8 rounding of the pixels (0.5/255) plus bilinear-free average pooling: well under 0.01
    expect(out.worst).toBeLessThan(0.01);
    expect(out.shapes).toEqual([[6, 1, 48, 48], [6, 1, 64, 64]]);
    // the inner-face polygon: about half the aligned crop, none of its corners, all of its centre
    expect(out.share).toBeGreaterThan(0.3);
    expect(out.share).toBeLessThan(0.7);
    expect(out.corner).toBe(0);
    expect(out.centre).toBe(1);
    expect(out.mirror_gap).toBeLessThan(0.02);
  });
});
