#!/usr/bin/python3
"""Converts an FTCN+TT checkpoint (the released ftcn_tt.pth, or a smaller family member)
to ONNX, checks ONNX Runtime against PyTorch, and installs it as models/<name>/ with its
manifest and card. Run by `npx deepwatch model convert`; progress goes to stdout one
line per step, errors to stderr. Exit codes: 2 the checkpoint does not fit, 3 ONNX Runtime
disagrees with PyTorch, 1 anything else."""
import argparse
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ftcn.checkpoint import CheckpointError, load_model  # noqa: E402
from ftcn.cli_common import fail, parse_config, progress  # noqa: E402
from ftcn.export import REFERENCE_THRESHOLD, export_onnx, verify_onnx, write_manifest  # noqa: E402
from ftcn.model import FULL, gmacs_per_clip, parameter_count  # noqa: E402

REPO_MODELS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
STEPS = 5


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def write_card(path: str, name: str, cfg, ckpt: str, ckpt_sha: str, gflops: float, params: int,
               diff: float, clips: int, threshold: float, licence: str) -> None:
    full = cfg == FULL
    lines = [
        f'# {name}',
        '',
        f'FTCN+TT clip classifier ({"the released architecture" if full else "a smaller member of the FTCN+TT family"}),',
        f'converted from `{os.path.basename(ckpt)}` (sha256 `{ckpt_sha}`) by `models/toolkit/convert.py`.',
        '',
        f'- Input: (batch, 3, {cfg.clip_length}, {cfg.size}, {cfg.size}) aligned RGB face frames, '
        f'normalised with mean {list(cfg.mean)} and std {list(cfg.std)} (times 255).',
        '- Output: probability that the clip is fake (sigmoid inside the graph).',
        f'- Decision threshold: {threshold}' + (' (the reference implementation\'s; very low: its users report real '
                                                  'videos flagged fake, so tune it on your own data).' if full else '.'),
        f'- {params:,} parameters, {gflops:.1f} GFLOPs per clip.',
        f'- Check at conversion: ONNX Runtime vs PyTorch on {clips} random clips, max |diff| {diff:.2e}.',
        f'- Licence: {licence}',
        '',
        'The weights are whatever the checkpoint holds; Deepwatch neither trains nor ships them.',
        '',
    ]
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('checkpoint')
    p.add_argument('--name', default='ftcn_tt', help='model name: installed as <models-dir>/<name>/')
    p.add_argument('--models-dir', default=REPO_MODELS, help='models root (default: the repository models/)')
    p.add_argument('--config', help='full, fast, or a JSON file of FtcnConfig fields (default: saved in the checkpoint, else full)')
    p.add_argument('--threshold', type=float, help=f'decision threshold (default: {REFERENCE_THRESHOLD} for the full model, else 0.5)')
    p.add_argument('--clips', type=int, default=4, help='random clips for the ONNX Runtime vs PyTorch check')
    p.add_argument('--tolerance', type=float, default=1e-4, help='largest accepted |ORT - PyTorch| on the probability')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--licence', default='as published with the checkpoint by its authors (FTCN release); supplied by the user, not redistributed by Deepwatch')
    p.add_argument('--source', help='provenance text (default: the checkpoint file name and hash)')
    p.add_argument('--allow-pickle', action='store_true', help='let torch.load unpickle arbitrary objects (only for a checkpoint you trust)')
    p.add_argument('--dump-reference', metavar='DIR', help='also write the check clips and both runtimes\' outputs to DIR')
    a = p.parse_args()

    if not __import__('re').fullmatch(r'[a-z0-9_\-]+', a.name):
        fail(f'--name must be lower-case letters, digits, _ or -; got {a.name!r}')
    cfg = parse_config(a.config) if a.config else None

    t0 = time.perf_counter()
    progress(1, STEPS, f'reading {a.checkpoint}')
    try:
        model, cfg = load_model(a.checkpoint, cfg, a.allow_pickle)
    except CheckpointError as e:
        fail(str(e), 2)
    params = parameter_count(model)
    n_tensors = len(model.state_dict())
    print(f'      {n_tensors} tensors, {params:,} parameters; config: T={cfg.clip_length} size={cfg.size} '
          f'widths={list(cfg.widths)} blocks={list(cfg.blocks)} token width={cfg.token_width}', flush=True)

    progress(2, STEPS, 'counting compute')
    gmacs = gmacs_per_clip(cfg)
    gflops = 2 * gmacs['total']
    print(f'      {gflops:.2f} GFLOPs per clip (' + ', '.join(f'{k} {v:.2f}' for k, v in gmacs.items() if k != 'total') + ' GMAC)', flush=True)

    model_dir = os.path.join(os.path.abspath(a.models_dir), a.name)
    os.makedirs(model_dir, exist_ok=True)
    onnx_name = f'{a.name}.onnx'
    onnx_path = os.path.join(model_dir, onnx_name)
    partial = onnx_path + '.partial'
    progress(3, STEPS, f'exporting ONNX (opset {a.opset}, dynamic batch) to {onnx_path}')
    export_onnx(model, cfg, partial, a.opset)
    print(f'      {os.path.getsize(partial) / 1e6:.1f} MB', flush=True)

    progress(4, STEPS, f'checking ONNX Runtime against PyTorch on {a.clips} random clips')
    diff = verify_onnx(model, cfg, partial, a.clips, seed=0, dump_dir=a.dump_reference)
    print(f'      max |ORT - PyTorch| = {diff:.3e} (tolerance {a.tolerance:g})', flush=True)
    if not diff <= a.tolerance:
        os.remove(partial)
        fail(f'ONNX Runtime and PyTorch disagree by {diff:.3e} > {a.tolerance:g}; nothing installed', 3)
    os.replace(partial, onnx_path)

    progress(5, STEPS, f'writing {os.path.join(model_dir, "manifest.json")}')
    threshold = a.threshold if a.threshold is not None else (REFERENCE_THRESHOLD if cfg == FULL else 0.5)
    ckpt_sha = sha256(a.checkpoint)
    write_card(os.path.join(model_dir, 'card.md'), a.name, cfg, a.checkpoint, ckpt_sha, gflops, params, diff, a.clips, threshold, a.licence)
    # User-supplied weights are not for committing (the full ONNX is ~59 MB).
    with open(os.path.join(model_dir, '.gitignore'), 'w') as f:
        f.write('# converted from user-supplied weights by models/toolkit/convert.py: not for committing\n*\n')
    write_manifest(model_dir, a.name, cfg, onnx_name, threshold, {
        'source': a.source or f'converted from {os.path.basename(a.checkpoint)} (sha256 {ckpt_sha}) by models/toolkit/convert.py',
        'licence': a.licence,
        'notes': f'ONNX Runtime vs PyTorch max |diff| {diff:.2e} on {a.clips} random clips at conversion',
    }, output='probability', card='card.md', gflops=gflops)
    print(f'done in {time.perf_counter() - t0:.1f} s: model "{a.name}" installed in {model_dir}', flush=True)


if __name__ == '__main__':
    main()
