"""FTCN+TT: the fully temporal I3D-ResNet-50 with a one-layer Temporal Transformer head.

Written from the architecture facts in shared/reference/ftcn-tt.md. Module names are
chosen so that `state_dict()` of the FULL config carries exactly the tensor names and
shapes of the released `ftcn_tt.pth`, which is why some attribute names look odd
(`pathway0_res0`, `branch1_bn.0`, `layers.0.0.fn.fn`): they are the checkpoint's keys.

Every size knob of the family lives in FtcnConfig so that smaller members (FAST) are the
same graph with other numbers, trainable by models/toolkit/demo and exported the same way.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Optional, Tuple

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class FtcnConfig:
    clip_length: int = 32
    size: int = 224
    stem_width: int = 64
    stem_temporal_kernel: int = 5
    # Inner (bottleneck) widths of s2, s3, s4; each stage outputs expansion * inner.
    widths: Tuple[int, int, int] = (64, 128, 256)
    expansion: int = 4
    blocks: Tuple[int, int, int] = (3, 4, 6)
    # Temporal kernel of conv `a` in each block; None = the reference pattern
    # (s2 all 3, s3 and s4 alternate 3,1 starting with 3).
    temporal_kernels: Optional[Tuple[Tuple[int, ...], ...]] = None
    # Temporal max-pool between s2 and s3 (T -> T / pool).
    temporal_pool: int = 2
    transformer_depth: int = 1
    transformer_heads: int = 16
    transformer_head_dim: int = 64
    mlp_dim: int = 2048
    dropout: float = 0.1
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        if self.size % 16 != 0:
            raise ValueError(f'size must be a multiple of 16 (the backbone halves it four times), got {self.size}')
        if self.clip_length % self.temporal_pool != 0:
            raise ValueError(f'clip_length {self.clip_length} is not divisible by temporal_pool {self.temporal_pool}')
        if len(self.widths) != 3 or len(self.blocks) != 3:
            raise ValueError('widths and blocks each need three entries (s2, s3, s4)')
        ks = self.kernels()
        for stage, (n, k) in enumerate(zip(self.blocks, ks)):
            if len(k) != n:
                raise ValueError(f'temporal_kernels for stage s{stage + 2} has {len(k)} entries, blocks says {n}')
            if any(t % 2 == 0 for t in k):
                raise ValueError('temporal kernels must be odd so that padding t//2 keeps T')

    def kernels(self) -> Tuple[Tuple[int, ...], ...]:
        if self.temporal_kernels is not None:
            return tuple(tuple(k) for k in self.temporal_kernels)
        s2 = tuple(3 for _ in range(self.blocks[0]))
        alt = lambda n: tuple(3 if i % 2 == 0 else 1 for i in range(n))  # noqa: E731
        return (s2, alt(self.blocks[1]), alt(self.blocks[2]))

    @property
    def token_width(self) -> int:
        """The transformer's token width: the s4 output width (no input projection)."""
        return self.expansion * self.widths[2]

    @property
    def tokens(self) -> int:
        return self.clip_length // self.temporal_pool

    @property
    def feature_size(self) -> int:
        return self.size // 16

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> 'FtcnConfig':
        d = dict(d)
        for k in ('widths', 'blocks', 'mean', 'std'):
            if k in d and d[k] is not None:
                d[k] = tuple(d[k])
        if d.get('temporal_kernels') is not None:
            d['temporal_kernels'] = tuple(tuple(k) for k in d['temporal_kernels'])
        return FtcnConfig(**d)


# The released model.
FULL = FtcnConfig()
# The CPU member: half the frames, half the input side, half the widths (~4 GFLOPs/clip,
# about 1/32 of FULL). Heads keep 64 dims each, so heads = token width / 64.
FAST = FtcnConfig(
    clip_length=16,
    size=112,
    stem_width=32,
    widths=(32, 64, 128),
    transformer_heads=8,
    transformer_head_dim=64,
    mlp_dim=1024,
)
CONFIGS = {'full': FULL, 'fast': FAST}


def _bn(c: int) -> nn.BatchNorm3d:
    return nn.BatchNorm3d(c, eps=1e-5)


def _spatial_halving() -> nn.MaxPool3d:
    # The fully temporal backbone replaces every spatial stride 2 by stride 1 and this pool.
    return nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))


class Stem(nn.Module):
    def __init__(self, cin: int, cout: int, kt: int):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, (kt, 1, 1), stride=1, padding=(kt // 2, 0, 0), bias=False)
        # Sequential so the checkpoint key is `bn.0.*` (the pool is index 1).
        self.bn = nn.Sequential(_bn(cout), _spatial_halving())
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.relu(self.bn(self.conv(x))))


class Bottleneck(nn.Module):
    def __init__(self, cin: int, inner: int, cout: int, kt: int, halve: bool):
        super().__init__()
        self.a = nn.Conv3d(cin, inner, (kt, 1, 1), padding=(kt // 2, 0, 0), bias=False)
        self.a_bn = _bn(inner)
        self.a_relu = nn.ReLU(inplace=True)
        self.b = nn.Conv3d(inner, inner, 1, bias=False)
        self.b_bn = nn.Sequential(_bn(inner), _spatial_halving()) if halve else _bn(inner)
        self.b_relu = nn.ReLU(inplace=True)
        self.c = nn.Conv3d(inner, cout, 1, bias=False)
        self.c_bn = _bn(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a_relu(self.a_bn(self.a(x)))
        x = self.b_relu(self.b_bn(self.b(x)))
        return self.c_bn(self.c(x))


class ResBlock(nn.Module):
    def __init__(self, cin: int, inner: int, cout: int, kt: int, first: bool, halve: bool):
        super().__init__()
        self.has_shortcut = first
        if first:
            self.branch1 = nn.Conv3d(cin, cout, 1, bias=False)
            self.branch1_bn = nn.Sequential(_bn(cout), _spatial_halving()) if halve else _bn(cout)
        self.branch2 = Bottleneck(cin, inner, cout, kt, halve and first)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.branch1_bn(self.branch1(x)) if self.has_shortcut else x
        return self.relu(skip + self.branch2(x))


class Stage(nn.Module):
    def __init__(self, cin: int, inner: int, cout: int, kernels: Tuple[int, ...], halve: bool):
        super().__init__()
        self.depth = len(kernels)
        for i, kt in enumerate(kernels):
            block = ResBlock(cin if i == 0 else cout, inner, cout, kt, first=i == 0, halve=halve)
            self.add_module(f'pathway0_res{i}', block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(self.depth):
            x = getattr(self, f'pathway0_res{i}')(x)
        return x


class StemStage(nn.Module):
    def __init__(self, cfg: FtcnConfig):
        super().__init__()
        self.pathway0_stem = Stem(3, cfg.stem_width, cfg.stem_temporal_kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pathway0_stem(x)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, head_dim: int, dropout: float):
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.head_dim = head_dim
        self.scale = head_dim ** -0.5
        self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q, k, v = self.to_qkv(x).chunk(3, dim=-1)
        # (b, n, h*d) -> (b, h, n, d)
        q, k, v = (t.reshape(b, n, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        attn = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, self.heads * self.head_dim)
        return self.to_out(out)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        # Indices 0 and 3 are the checkpoint's `net.0` / `net.3`.
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn: nn.Module):
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fn(x)


class Transformer(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, head_dim: int, mlp_dim: int, dropout: float):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleList([
                Residual(PreNorm(dim, Attention(dim, heads, head_dim, dropout))),
                Residual(PreNorm(dim, FeedForward(dim, mlp_dim, dropout))),
            ])
            for _ in range(depth)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for attn, ff in self.layers:
            x = ff(attn(x))
        return x


class TemporalTransformer(nn.Module):
    def __init__(self, cfg: FtcnConfig):
        super().__init__()
        dim = cfg.token_width
        self.pos_embedding = nn.Parameter(torch.randn(1, cfg.tokens + 1, dim))
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.dropout = nn.Dropout(cfg.dropout)
        self.transformer = Transformer(dim, cfg.transformer_depth, cfg.transformer_heads, cfg.transformer_head_dim, cfg.mlp_dim, cfg.dropout)
        self.mlp_head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        b = tokens.shape[0]
        x = torch.cat([self.cls_token.expand(b, -1, -1), tokens], dim=1)
        x = self.dropout(x + self.pos_embedding)
        x = self.transformer(x)
        return self.mlp_head(x[:, 0])


class Head(nn.Module):
    def __init__(self, cfg: FtcnConfig):
        super().__init__()
        self.time_T = TemporalTransformer(cfg)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        # Average over the whole spatial plane: (B, C, T, h, w) -> T tokens of width C.
        tokens = feat.mean(dim=(3, 4)).transpose(1, 2)
        return torch.sigmoid(self.time_T(tokens))


class Backbone(nn.Module):
    def __init__(self, cfg: FtcnConfig):
        super().__init__()
        ks = cfg.kernels()
        outs = [cfg.expansion * w for w in cfg.widths]
        self.s1 = StemStage(cfg)
        self.s2 = Stage(cfg.stem_width, cfg.widths[0], outs[0], ks[0], halve=False)
        self.pathway0_pool = nn.MaxPool3d(kernel_size=(cfg.temporal_pool, 1, 1), stride=(cfg.temporal_pool, 1, 1))
        self.s3 = Stage(outs[0], cfg.widths[1], outs[1], ks[1], halve=True)
        self.s4 = Stage(outs[1], cfg.widths[2], outs[2], ks[2], halve=True)
        self.head = Head(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.s2(self.s1(x))
        x = self.s4(self.s3(self.pathway0_pool(x)))
        return self.head(x)


class FtcnTT(nn.Module):
    """Input (B, 3, T, H, W) normalised float; output (B, 1) probability that the clip is fake."""

    def __init__(self, cfg: FtcnConfig = FULL):
        super().__init__()
        self.cfg = cfg
        self.resnet = Backbone(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resnet(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """s4 output (B, C, T/2, H/16, W/16), for inspection and training tools."""
        r = self.resnet
        return r.s4(r.s3(r.pathway0_pool(r.s2(r.s1(x)))))


def gmacs_per_clip(cfg: FtcnConfig) -> dict:
    """Multiply-accumulates per clip, by stage, counted from the model's own layers on a
    real forward pass (convolutions, linears, attention products; norms and pools ignored)."""
    model = FtcnTT(cfg).eval()
    counts: dict = {}
    stage_of = {}
    for stage in ('s1', 's2', 's3', 's4', 'head'):
        for m in getattr(model.resnet, stage).modules():
            stage_of[m] = stage

    def conv_hook(m, _inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * m.kernel_size[2]
        counts[stage_of[m]] = counts.get(stage_of[m], 0) + out.numel() * (m.in_channels // m.groups) * k

    def linear_hook(m, _inp, out):
        counts[stage_of[m]] = counts.get(stage_of[m], 0) + out.numel() * m.in_features

    def attn_hook(m, inp, _out):
        b, n, _ = inp[0].shape
        counts['head'] = counts.get('head', 0) + 2 * b * m.heads * n * n * m.head_dim

    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(linear_hook)
        elif isinstance(m, Attention):
            m.register_forward_hook(attn_hook)
    with torch.no_grad():
        model(torch.zeros(1, 3, cfg.clip_length, cfg.size, cfg.size))
    out = {k: v / 1e9 for k, v in counts.items()}
    out['total'] = sum(counts.values()) / 1e9
    return out


def gflops_per_clip(cfg: FtcnConfig) -> float:
    """Floating-point operations per clip in GFLOP (2 per multiply-accumulate)."""
    return 2 * gmacs_per_clip(cfg)['total']


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
