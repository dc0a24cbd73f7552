"""Argument helpers shared by the toolkit's entry scripts."""
from __future__ import annotations

import json
import os
import sys

from .model import CONFIGS, FtcnConfig


def parse_config(value: str) -> FtcnConfig:
    """`full`, `fast`, or a JSON file holding FtcnConfig fields."""
    if value.lower() in CONFIGS:
        return CONFIGS[value.lower()]
    if os.path.exists(value):
        with open(value) as f:
            return FtcnConfig.from_dict(json.load(f))
    raise SystemExit(f'--config must be one of {", ".join(CONFIGS)} or a JSON file of FtcnConfig fields; got {value!r}')


def progress(step: int, total: int, text: str) -> None:
    # One line per step, flushed at once: the Node CLI streams these to the terminal.
    print(f'[{step}/{total}] {text}', flush=True)


def fail(message: str, code: int = 1) -> None:
    print(f'error: {message}', file=sys.stderr, flush=True)
    raise SystemExit(code)
