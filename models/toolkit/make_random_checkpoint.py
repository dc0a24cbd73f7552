#!/usr/bin/python3
"""Writes an FTCN+TT checkpoint with random weights in the shape of the released one, for
tests and benchmarks. BatchNorm statistics are measured on a few random clips so the
activations (and the output probability) look like a trained network's rather than
exploding or saturating, and the last layer is aimed along the direction in which two
random clips' features differ, so that the probability varies visibly from clip to clip
(a random head gives nearly the same number for every input, which would make a runtime
comparison weak). The --rename/--reshape/--drop options make deliberately broken
checkpoints for the converter's refusal tests."""
import argparse
import os
import sys
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from ftcn.checkpoint import save_checkpoint  # noqa: E402
from ftcn.cli_common import fail, parse_config  # noqa: E402
from ftcn.export import random_clips  # noqa: E402
from ftcn.model import FULL, FtcnTT  # noqa: E402


def calibrate(model: FtcnTT, clips: int, seed: int) -> None:
    for m in model.modules():
        if isinstance(m, nn.BatchNorm3d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration clips
    # The clips are i.i.d. pixel noise, whose feature statistics do not depend on the frame
    # size: measure them at half size when that is still a valid input (4x cheaper).
    half = model.cfg.size // 2
    small = replace(model.cfg, size=half) if half % 16 == 0 else model.cfg
    model.train()
    with torch.no_grad():
        for i in range(clips):
            model(random_clips(small, 1, seed + 1000 + i))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm3d):
            m.momentum = 0.1
    model.eval()


def spread_head(model: FtcnTT, seed: int) -> None:
    """Sets the final linear layer so that the two calibration clips get logits +1 and -1."""
    head = model.resnet.head.time_T.mlp_head[1]
    feats = []
    hook = head.register_forward_hook(lambda _m, inp, _out: feats.append(inp[0].detach()))
    with torch.no_grad():
        model(torch.cat([random_clips(model.cfg, 1, seed + 1000 + i) for i in range(2)]))
    hook.remove()
    g1, g2 = feats[0][0], feats[0][1]
    d = g1 - g2
    with torch.no_grad():
        head.weight.copy_((2 * d / d.dot(d)).unsqueeze(0))
        head.bias.fill_(float(-head.weight[0].dot((g1 + g2) / 2)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--out', required=True, help='checkpoint path to write (.pth)')
    p.add_argument('--config', default='full', help='full (the released shape), fast, or a JSON file of FtcnConfig fields')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--calibrate', type=int, default=2, help='random clips to measure BatchNorm statistics on (0: leave 0/1)')
    p.add_argument('--no-spread', action='store_true', help='keep the random final layer as initialised')
    p.add_argument('--module-prefix', action='store_true', help='prefix every key with "module." as DataParallel does')
    p.add_argument('--embed-config', choices=['auto', 'yes', 'no'], default='auto',
                   help='store the config in the checkpoint (auto: not for FULL, like the released file)')
    p.add_argument('--rename', action='append', default=[], metavar='OLD=NEW', help='rename a tensor (refusal tests)')
    p.add_argument('--reshape', action='append', default=[], metavar='NAME', help='add one row to a tensor (refusal tests)')
    p.add_argument('--drop', action='append', default=[], metavar='NAME', help='remove a tensor (refusal tests)')
    a = p.parse_args()

    cfg = parse_config(a.config)
    torch.manual_seed(a.seed)
    model = FtcnTT(cfg)
    if a.calibrate > 0:
        calibrate(model, a.calibrate, a.seed)
    if a.calibrate >= 2 and not a.no_spread:
        spread_head(model, a.seed)
    sd = model.state_dict()
    for spec in a.rename:
        old, _, new = spec.partition('=')
        if old not in sd or not new:
            fail(f'--rename {spec}: no tensor {old!r} (or empty new name)')
        sd = type(sd)((new if k == old else k, v) for k, v in sd.items())
    for name in a.reshape:
        if name not in sd:
            fail(f'--reshape: no tensor {name!r}')
        t = sd[name]
        sd[name] = torch.cat([t, t[:1]]) if t.dim() > 0 else t.reshape(1)
    for name in a.drop:
        if sd.pop(name, None) is None:
            fail(f'--drop: no tensor {name!r}')
    if a.module_prefix:
        sd = type(sd)((f'module.{k}', v) for k, v in sd.items())

    embed = a.embed_config == 'yes' or (a.embed_config == 'auto' and cfg != FULL)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if embed:
        save_checkpoint(a.out, model, state_dict=sd)
    else:
        torch.save(sd, a.out)
    print(f'wrote {a.out}: {len(sd)} tensors, {sum(v.numel() for k, v in sd.items() if not k.endswith("num_batches_tracked"))} numbers'
          f'{", config embedded" if embed else ""}', flush=True)


if __name__ == '__main__':
    main()
