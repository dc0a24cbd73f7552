"""Trains an FTCN+TT family member on the synthetic clips from synth.py, on the CPU.

  PYTHONPATH=models/toolkit /usr/bin/python3 -m demo.train --data models/toolkit/demo/data \
      --run models/toolkit/demo/runs/fast --minutes 25

Fixed seed, progress lines, a checkpoint every few minutes (resumable with --resume), the
best checkpoint by validation AUC. The convolutions of this backbone have spatial kernel
1, so for speed they run as 2-D convolutions over (T, H*W) during training: the same
weights and the same arithmetic; the exported model is the plain FtcnTT.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from ftcn.model import CONFIGS, FtcnConfig, FtcnTT, gflops_per_clip, parameter_count

from .metrics import roc_auc


def conv3d_as_2d(model: torch.nn.Module) -> None:
    """Runs every (kt,1,1) Conv3d as a Conv2d over (T, H*W): identical maths, several times
    faster on CPU in PyTorch 1.13, whose Conv3d has no fast path for this shape."""
    for m in model.modules():
        if isinstance(m, torch.nn.Conv3d):
            if m.kernel_size[1:] != (1, 1) or m.stride != (1, 1, 1) or m.groups != 1:
                raise ValueError(f'unexpected Conv3d {m}')

            def fwd(x: torch.Tensor, m: torch.nn.Conv3d = m) -> torch.Tensor:
                b, c, t, h, w = x.shape
                o, _, kt = m.weight.shape[:3]
                y = F.conv2d(x.reshape(b, c, t, h * w), m.weight.view(o, c, kt, 1), m.bias, padding=(m.padding[0], 0))
                return y.view(b, o, t, h, w)
            m.forward = fwd


def logits(model: FtcnTT, x: torch.Tensor, with_features: bool = False):
    """The head's output before its sigmoid (for a numerically stable loss); optionally
    also the s4 features it pools."""
    feat = model.features(x)
    out = model.resnet.head.time_T(feat.mean(dim=(3, 4)).transpose(1, 2)).reshape(-1)
    return (out, feat) if with_features else out


def inner_face_map(size: int, supersample: int = 4) -> torch.Tensor:
    """(1,size,size) share of each pixel of the aligned crop inside the inner-face region
    that every manipulation family alters (the template polygon; clips are template-aligned)."""
    from .geometry import template
    from .manipulations import face_mask
    big = size * supersample
    return F.avg_pool2d(face_mask((big, big), template(big), feather=0.0), supersample)[0]


class Clips:
    """uint8 clips (N,T,H,W,3) in memory -> normalised float batches (B,3,T,H,W)."""

    def __init__(self, data_dir: str, split: str, cfg: FtcnConfig, limit: int | None = None):
        xs, ys, self.meta = [], [], []
        for name in split.split(','):  # several splits concatenate (train,train2)
            x = np.load(os.path.join(data_dir, f'{name}_x.npy'), mmap_mode='r')
            y = np.load(os.path.join(data_dir, f'{name}_y.npy'))
            with open(os.path.join(data_dir, f'{name}_meta.json')) as f:
                meta = json.load(f)['clips']
            n = len(y) if limit is None else min(limit, len(y))
            if x.shape[1:] != (cfg.clip_length, cfg.size, cfg.size, 3):
                raise ValueError(f'{name} clips are {x.shape[1:]}, the model wants ({cfg.clip_length}, {cfg.size}, {cfg.size}, 3)')
            xs.append(np.array(x[:n]))
            ys.append(y[:n].astype(np.float32))
            self.meta += meta[:n]
        self.x = torch.from_numpy(np.concatenate(xs) if len(xs) > 1 else xs[0])
        self.y = torch.from_numpy(np.concatenate(ys))
        self.mean = torch.tensor(cfg.mean).view(1, 3, 1, 1, 1) * 255
        self.std = torch.tensor(cfg.std).view(1, 3, 1, 1, 1) * 255

    def __len__(self) -> int:
        return len(self.y)

    def batch(self, idx, rng: random.Random | None = None, crop: int | None = None, shrink: float = 0.0,
              region: torch.Tensor | None = None) -> tuple:
        """Normalised clips and labels; with `region` (1,H,W) also that map put through the
        same flips, crops and shrinks as each clip (B,1,h,w)."""
        x = self.x[idx].permute(0, 4, 1, 2, 3).float()  # B,3,T,H,W
        regions = []
        if rng is not None:
            out = []
            for c in x:
                r = region
                if rng.random() < 0.5:
                    c = c.flip(-1)
                    r = None if r is None else r.flip(-1)
                if rng.random() < 0.5:  # time reversed: genuine stays genuine, fake stays fake
                    c = c.flip(1)
                if crop is not None and crop < c.shape[-1] and rng.random() < shrink:
                    # the whole face, smaller: keeps the mask boundary in view (a crop
                    # would cut it off) at the same cost as a crop
                    c = F.adaptive_avg_pool2d(c.transpose(0, 1), crop).transpose(0, 1)
                    r = None if r is None else F.adaptive_avg_pool2d(r, crop)
                elif crop is not None and crop < c.shape[-1]:
                    m = c.shape[-1] - crop
                    # crops keep the centre (where the inner face is) most of the time
                    oy = min(max(int(rng.gauss(m / 2, m / 4)), 0), m)
                    ox = min(max(int(rng.gauss(m / 2, m / 4)), 0), m)
                    c = c[..., oy:oy + crop, ox:ox + crop]
                    r = None if r is None else r[..., oy:oy + crop, ox:ox + crop]
                out.append(c)
                regions.append(r)
            x = torch.stack(out)
        else:
            regions = [region] * len(idx)
        xn = ((x - self.mean) / self.std).contiguous()
        if region is None:
            return xn, self.y[idx]
        return xn, self.y[idx], torch.stack(regions)


def fake_pool(meta: list, weights: dict) -> list:
    """Indices of the manipulated clips, each family's repeated by its whole-number weight
    (default 1), to be shuffled and drawn without replacement."""
    families = {m['family'] for m in meta if m['label'] == 1}
    unknown = sorted(set(weights) - families)
    if unknown:
        raise ValueError(f'no training clips of {unknown} (there are {sorted(families)})')
    bad = {f: w for f, w in weights.items() if not (isinstance(w, int) and w >= 1)}
    if bad:
        raise ValueError(f'weights must be whole numbers >= 1, got {bad}')
    return [i for i, m in enumerate(meta) if m['label'] == 1 for _ in range(weights.get(m['family'], 1))]


# Views a clip is also scored in at test time: mirrored, time-reversed, both. A genuine clip
# stays genuine under each, so the mean over views is the same question asked four ways.
VIEWS = {'plain': (), 'mirror': (-1,), 'reverse': (2,), 'both': (2, -1)}


def evaluate(model: FtcnTT, data: Clips, batch: int = 16, views: tuple = ('plain',)) -> tuple:
    """Scores (mean probability over `views`) and their ROC AUC."""
    model.eval()
    scores = []
    with torch.no_grad():
        for i in range(0, len(data), batch):
            x, _ = data.batch(list(range(i, min(i + batch, len(data)))))
            p = [torch.sigmoid(logits(model, x.flip(VIEWS[v]) if VIEWS[v] else x)) for v in views]
            scores.append(torch.stack(p).mean(0))
    model.train()
    s = torch.cat(scores).numpy()
    return s, roc_auc(data.y.numpy(), s)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True)
    p.add_argument('--run', required=True, help='output folder for checkpoints and the log')
    p.add_argument('--train-splits', default='train', help='comma-separated training splits, e.g. train,train2')
    p.add_argument('--config', default='fast', choices=sorted(CONFIGS))
    p.add_argument('--override', default='{}', help='JSON of FtcnConfig fields to change (a smaller member)')
    p.add_argument('--minutes', type=float, default=25.0, help='training time budget; the schedule is sized to it')
    p.add_argument('--epochs', type=float, default=None, help='instead of --minutes: a fixed number of passes')
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--weight-decay', type=float, default=0.05)
    p.add_argument('--crop', type=int, default=80, help='random crop side for the early phase (speed); 0 = none')
    p.add_argument('--crop-fraction', type=float, default=0.6, help='share of the steps trained on crops')
    p.add_argument('--shrink', type=float, default=0.5, help='in the crop phase, share of clips shrunk whole to the crop size instead')
    p.add_argument('--val-limit', type=int, default=400, help='validation clips scored at each check')
    p.add_argument('--checks', type=int, default=4, help='validation checks over the run')
    p.add_argument('--curriculum', type=float, default=0.3,
                   help='share of the steps that see only the strongest manipulations (>= --strong)')
    p.add_argument('--strong', type=float, default=0.8)
    p.add_argument('--family-weights', default='{}',
                   help='JSON {family: weight}: how much more often manipulated clips of a family are '
                        'drawn (default 1 each), e.g. to spend steps on the families still confused')
    p.add_argument('--seed', type=int, default=1234)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--resume', action='store_true')
    p.add_argument('--init', help='start from this checkpoint\'s weights (a new schedule: a second stage)')
    p.add_argument('--stem', default='zero-mean', choices=['zero-mean', 'free'],
                   help='zero-mean: the first temporal filters sum to zero over time (kept so after every '
                        'step), so the network sees only change between frames, never still appearance')
    p.add_argument('--region-weight', type=float, default=0.0,
                   help='weight of the auxiliary per-location loss: a 1x1 head on the s4 features '
                        'predicts, at every place and time, whether it lies in the altered inner-face '
                        'region of a manipulated clip (training only; not exported)')
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    # Tiny weights and activations (zero-initialised branches, decayed scales) turn into
    # denormal floats, which the CPU handles ~10x slower: flush them to zero.
    torch.set_flush_denormal(True)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    rng = random.Random(a.seed)
    cfg = replace(CONFIGS[a.config], **json.loads(a.override))
    cfg = FtcnConfig.from_dict(cfg.to_dict())
    os.makedirs(a.run, exist_ok=True)
    log = open(os.path.join(a.run, 'log.jsonl'), 'a')

    def say(msg: str, **rec) -> None:
        print(msg, flush=True)
        if rec:
            log.write(json.dumps(rec) + '\n')
            log.flush()

    train = Clips(a.data, a.train_splits, cfg)
    val = Clips(a.data, 'val', cfg, limit=a.val_limit)
    model = FtcnTT(cfg)
    # Each residual branch starts as the identity (last BN scale 0): a deep ResNet trained
    # from scratch for a few hundred steps gets going much sooner this way.
    for m in model.modules():
        if hasattr(m, 'c_bn'):
            torch.nn.init.zeros_(m.c_bn.weight)
    if a.init:
        ck = torch.load(a.init, map_location='cpu')
        if FtcnConfig.from_dict(ck['config']) != cfg:
            sys.exit(f'--init {a.init} was trained with another configuration: {ck["config"]}')
        model.load_state_dict(ck['model'])
    # Why: one label per clip is a weak signal for a small model on a CPU budget; the
    # synthetic data knows where the alteration is, so every location can be taught.
    region_head = torch.nn.Conv3d(cfg.token_width, 1, 1)
    region = inner_face_map(cfg.size) if a.region_weight > 0 else None
    if a.init and 'region_head' in ck:
        region_head.load_state_dict(ck['region_head'])
    stem_w = model.resnet.s1.pathway0_stem.conv.weight  # (out, 3, kt, 1, 1)

    def project_stem() -> None:
        # Why: the only face the data has is one photo; a model that can read still
        # appearance learns that photo and flags other people. Filters that sum to zero
        # over time respond to temporal change only, which is what FTCN is about.
        if a.stem == 'zero-mean':
            with torch.no_grad():
                stem_w.sub_(stem_w.mean(dim=2, keepdim=True))
    project_stem()
    conv3d_as_2d(model)
    model.train()
    say(('' if not a.init else f'weights from {a.init}\n') + f'config {cfg.to_dict()}\n{gflops_per_clip(cfg):.2f} GFLOPs/clip, {parameter_count(model):,} parameters, '
        f'{len(train)} train clips, {len(val)} val clips')

    decay, no_decay = [], []
    for n_, p_ in list(model.named_parameters()) + [('region.' + k, v) for k, v in region_head.named_parameters()]:
        (no_decay if p_.ndim <= 1 or 'pos_embedding' in n_ or 'cls_token' in n_ else decay).append(p_)
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': a.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}], lr=a.lr)

    # Size the schedule: a fixed number of epochs, or as many steps as fit in --minutes,
    # measured on a few warm-up steps at each input size.
    steps_per_epoch = math.ceil(len(train) / a.batch)
    state = {'step': 0, 'best_auc': -1.0, 'total_steps': None, 'elapsed': 0.0}
    ckpt_last = os.path.join(a.run, 'last.pt')
    if a.resume and os.path.exists(ckpt_last):
        ck = torch.load(ckpt_last)
        model.load_state_dict(ck['model'])
        if 'region_head' in ck:
            region_head.load_state_dict(ck['region_head'])
        opt.load_state_dict(ck['opt'])
        state = ck['state']
        rng.setstate(ck['rng'])
        torch.set_rng_state(ck['torch_rng'])
        if a.epochs is not None:  # a shorter or longer schedule from here on
            state['total_steps'] = max(state['step'] + 1, int(a.epochs * steps_per_epoch))
        say(f'resumed at step {state["step"]} of {state["total_steps"]}')

    def batch_loss(idx: list, crop: int | None) -> torch.Tensor:
        if region is None:
            x, y = train.batch(idx, rng, crop, a.shrink)
            return F.binary_cross_entropy_with_logits(logits(model, x), y)
        x, y, r = train.batch(idx, rng, crop, a.shrink, region)
        out, feat = logits(model, x, with_features=True)
        target = (F.adaptive_avg_pool2d(r, feat.shape[-2:]) * y.view(-1, 1, 1, 1))[:, :, None]  # B,1,1,h,w
        dense = region_head(feat)
        aux = F.binary_cross_entropy_with_logits(dense, target.expand_as(dense))
        return F.binary_cross_entropy_with_logits(out, y) + a.region_weight * aux

    def timed_step(crop: int | None) -> float:
        """One forward/backward with batch preparation, no update: the cost of a step."""
        t = time.time()
        loss = batch_loss([rng.randrange(len(train)) for _ in range(a.batch)], crop)
        opt.zero_grad()
        loss.backward()
        return time.time() - t

    if state['total_steps'] is None:
        if a.epochs is not None:
            state['total_steps'] = int(a.epochs * steps_per_epoch)
        else:
            # probe both phases without updating weights
            crop_t = min(timed_step(a.crop or None) for _ in range(2)) if a.crop else None
            full_t = min(timed_step(None) for _ in range(2))
            opt.zero_grad()
            per = full_t if crop_t is None else a.crop_fraction * crop_t + (1 - a.crop_fraction) * full_t
            budget = a.minutes * 60 * 0.9  # validation checks take the rest
            state['total_steps'] = max(20, int(budget / per))
            say(f'step time {full_t:.2f}s full' + (f', {crop_t:.2f}s at crop {a.crop}' if crop_t else '') +
                f' -> {state["total_steps"]} steps ({state["total_steps"] / steps_per_epoch:.2f} epochs)')
    total = state['total_steps']
    warm = max(10, total // 20)
    crop_until = int(total * a.crop_fraction) if a.crop else 0
    check_every = max(1, total // a.checks)

    def lr_at(step: int) -> float:
        if step < warm:
            return a.lr * (0.1 + 0.9 * step / warm)
        return a.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    def save(path: str) -> None:
        torch.save({'model': model.state_dict(), 'region_head': region_head.state_dict(), 'opt': opt.state_dict(), 'state': state, 'config': cfg.to_dict(),
                    'rng': rng.getstate(), 'torch_rng': torch.get_rng_state()}, path)

    # Balanced batches: half genuine, half manipulated; during the curriculum only the
    # strongest manipulations, so the network finds the artefacts before the subtle ones.
    meta = train.meta
    genuine = [i for i, m in enumerate(meta) if m['label'] == 0]
    try:
        fakes = fake_pool(meta, json.loads(a.family_weights))
    except ValueError as e:
        sys.exit(f'--family-weights: {e}')
    strong = [i for i in fakes if meta[i]['strength'] >= a.strong]
    curriculum_until = int(total * a.curriculum)
    pools: dict = {}

    def draw(name: str, items: list, k: int) -> list:
        # sampling without replacement, reshuffled when a pool runs dry
        q = pools.setdefault(name, [])
        out = []
        while len(out) < k:
            if not q:
                q.extend(items)
                rng.shuffle(q)
            out.append(q.pop())
        return out

    t0 = time.time() - state['elapsed']
    last_save = time.time()
    ema = None
    while state['step'] < total:
        step = state['step']
        half = a.batch // 2
        idx = draw('genuine', genuine, a.batch - half) + (draw('strong', strong, half) if step < curriculum_until else draw('fakes', fakes, half))
        crop = a.crop if step < crop_until else None
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        loss = batch_loss(idx, crop)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(model.parameters()) + list(region_head.parameters()), 5.0)
        opt.step()
        project_stem()
        state['step'] = step + 1
        state['elapsed'] = time.time() - t0
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if state['step'] % 10 == 0:
            el = state['elapsed']
            say(f'step {state["step"]}/{total} loss {ema:.4f} lr {lr_at(step):.2e} crop {crop} '
                f'{el / 60:.1f} min, eta {el / state["step"] * (total - state["step"]) / 60:.1f} min',
                step=state['step'], loss=ema, lr=lr_at(step), minutes=el / 60)
        if state['step'] % check_every == 0 or state['step'] == total:
            _, auc = evaluate(model, val)
            say(f'  val AUC {auc:.4f} ({len(val)} clips) at step {state["step"]}', step=state['step'], val_auc=auc)
            if auc >= state['best_auc']:
                state['best_auc'] = auc
                save(os.path.join(a.run, 'best.pt'))
            save(ckpt_last)
            last_save = time.time()
        elif time.time() - last_save > 180:
            save(ckpt_last)
            last_save = time.time()
    say(f'done: {state["step"]} steps in {state["elapsed"] / 60:.1f} min, best val AUC {state["best_auc"]:.4f}',
        done=True, minutes=state['elapsed'] / 60, best_val_auc=state['best_auc'])


if __name__ == '__main__':
    sys.exit(main())
