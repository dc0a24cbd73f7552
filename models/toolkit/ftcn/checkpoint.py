"""Reading a checkpoint into an FtcnTT, refusing clearly when it does not fit."""
from __future__ import annotations

import json
import pickle
from typing import Dict, List, Optional, Tuple

import torch

from .model import FtcnConfig, FtcnTT

# Containers some trainers wrap the weights in.
_WRAPPER_KEYS = ('state_dict', 'model', 'model_state_dict', 'net')
# A saved FtcnConfig travels under this key (models/toolkit/demo writes it), so a
# checkpoint of a smaller family member converts without naming its config again.
CONFIG_KEY = 'ftcn_config'


class CheckpointError(Exception):
    """The checkpoint cannot be used; the message says exactly why."""


def read_checkpoint(path: str, allow_pickle: bool = False) -> Tuple[Dict[str, torch.Tensor], Optional[dict]]:
    """Returns (tensors with any `module.` prefix removed, saved config dict or None)."""
    try:
        # weights_only refuses arbitrary pickled objects: a .pth from the internet can run code.
        obj = torch.load(path, map_location='cpu', weights_only=not allow_pickle)
    except FileNotFoundError as e:
        raise CheckpointError(f'no such checkpoint file: {path}') from e
    except (pickle.UnpicklingError, RuntimeError) as e:
        if not allow_pickle and 'Weights only load failed' in str(e):
            raise CheckpointError(
                f'{path} holds Python objects that PyTorch\'s safe loader refuses (torch 1.13 refuses even plain floats); '
                'unpickling them could run code. '
                'If you trust where it came from, run again with --allow-pickle.') from e
        raise CheckpointError(f'cannot read {path} as a PyTorch checkpoint: {e}') from e
    except Exception as e:  # a file that is not a checkpoint fails in many ways inside the unpickler
        raise CheckpointError(f'cannot read {path} as a PyTorch checkpoint ({type(e).__name__}: {e})') from e
    config = None
    if isinstance(obj, dict) and CONFIG_KEY in obj:
        saved = obj[CONFIG_KEY]
        config = json.loads(saved) if isinstance(saved, str) else saved
        if not isinstance(config, dict):
            raise CheckpointError(f'{path}: {CONFIG_KEY} is not a config mapping')
    if isinstance(obj, dict):
        for key in _WRAPPER_KEYS:
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                obj = inner
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(
            f'{path} is not a state dict (a mapping of names to tensors), nor a dict holding one '
            f'under {"/".join(_WRAPPER_KEYS)}')
    tensors = {}
    for k, v in obj.items():
        name = k[len('module.'):] if k.startswith('module.') else k
        tensors[name] = v
    return tensors, config


def save_checkpoint(path: str, model: FtcnTT, extra: Optional[dict] = None,
                    state_dict: Optional[Dict[str, torch.Tensor]] = None) -> None:
    """Saves weights with their config so that convert.py rebuilds the same family member.
    The config goes in as a JSON string: PyTorch 1.13's safe loader (weights_only) refuses
    floats and tuples, and it must be able to read back what we write."""
    obj = {'state_dict': state_dict if state_dict is not None else model.state_dict(), CONFIG_KEY: json.dumps(model.cfg.to_dict())}
    for k, v in (extra or {}).items():
        obj[k] = json.dumps(v) if not isinstance(v, (torch.Tensor, str, int)) else v
    torch.save(obj, path)


def compare_state_dict(tensors: Dict[str, torch.Tensor], model: FtcnTT) -> List[str]:
    """Every way the tensors differ from what the model expects, one line each (empty = fits)."""
    expected = model.state_dict()
    problems = []
    for name, ref in expected.items():
        if name not in tensors:
            # Old checkpoints may lack the BatchNorm counters, which do not affect inference.
            if not name.endswith('num_batches_tracked'):
                problems.append(f'missing tensor {name} {tuple(ref.shape)}')
        elif tuple(tensors[name].shape) != tuple(ref.shape):
            problems.append(f'mis-shaped tensor {name}: checkpoint has {tuple(tensors[name].shape)}, model needs {tuple(ref.shape)}')
    for name in tensors:
        if name not in expected:
            problems.append(f'unexpected tensor {name} {tuple(tensors[name].shape)}')
    return problems


def load_model(path: str, cfg: Optional[FtcnConfig] = None, allow_pickle: bool = False) -> Tuple[FtcnTT, FtcnConfig]:
    """Builds the model for `cfg` (or the config saved in the checkpoint, else FULL) and loads
    the weights; raises CheckpointError listing every missing, unexpected or mis-shaped tensor."""
    from .model import FULL
    tensors, saved = read_checkpoint(path, allow_pickle)
    if cfg is None:
        cfg = FtcnConfig.from_dict(saved) if saved else FULL
    model = FtcnTT(cfg)
    problems = compare_state_dict(tensors, model)
    if problems:
        shown = problems[:40]
        more = f'\n  ... and {len(problems) - len(shown)} more' if len(problems) > len(shown) else ''
        raise CheckpointError(
            f'{path} does not fit FTCN+TT ({len(problems)} problem(s)):\n  ' + '\n  '.join(shown) + more)
    model.load_state_dict(tensors, strict=False)
    model.eval()
    return model, cfg
