#!/usr/bin/python3
"""Times an FTCN+TT checkpoint in PyTorch (CPU, no_grad) on the clips in a raw float32 file,
for bench/model.ts to set beside ONNX Runtime on the same clips. Prints one JSON object:
per batch size, the wall and CPU (all threads) ms per clip of every timed run and their medians."""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ftcn.checkpoint import load_model  # noqa: E402
from ftcn.cli_common import parse_config  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('checkpoint')
    p.add_argument('--clips', required=True, help='little-endian float32 file, B x 3 x T x H x W')
    p.add_argument('--config', help='full, fast or a JSON file (default: saved in the checkpoint, else full)')
    p.add_argument('--batches', default='1', help='comma-separated batch sizes')
    p.add_argument('--runs', type=int, default=3, help='timed runs per batch size (after one warm-up run)')
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    model, cfg = load_model(a.checkpoint, parse_config(a.config) if a.config else None)
    per = 3 * cfg.clip_length * cfg.size * cfg.size
    data = np.fromfile(a.clips, dtype='<f4')
    if data.size % per:
        raise SystemExit(f'{a.clips} holds {data.size} floats, not a whole number of {per}-float clips')
    clips = torch.from_numpy(data).view(-1, 3, cfg.clip_length, cfg.size, cfg.size)
    out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batches': []}
    with torch.no_grad():
        for b in (int(x) for x in a.batches.split(',')):
            if b > clips.shape[0]:
                raise SystemExit(f'batch {b} needs {b} clips; {a.clips} holds {clips.shape[0]}')
            x = clips[:b].contiguous()
            probs = model(x).reshape(-1).tolist()  # warm-up (allocations, oneDNN primitives)
            runs, cpu = [], []
            for _ in range(a.runs):
                t0, c0 = time.perf_counter(), time.process_time()
                model(x)
                runs.append((time.perf_counter() - t0) * 1000 / b)
                cpu.append((time.process_time() - c0) * 1000 / b)
            out['batches'].append({'batch': b, 'msPerClip': runs, 'medianMsPerClip': statistics.median(runs),
                                   'cpuMsPerClip': cpu, 'medianCpuMsPerClip': statistics.median(cpu), 'probs': probs})
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
