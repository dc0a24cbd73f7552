"""Writes a PNG contact sheet of clips (rows = clips, columns = frames) for eyeballing.

  /usr/bin/python3 -m demo.preview models/toolkit/demo/data/train_x.npy 0 8 /tmp/sheet.png
"""
from __future__ import annotations

import sys

import numpy as np
from PIL import Image


def sheet(clips: np.ndarray, every: int = 2) -> Image.Image:
    rows = [np.concatenate(list(c[::every]), axis=1) for c in clips]
    return Image.fromarray(np.concatenate(rows, axis=0))


if __name__ == '__main__':
    path, start, n, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    x = np.load(path, mmap_mode='r')
    sheet(np.asarray(x[start:start + n])).save(out)
