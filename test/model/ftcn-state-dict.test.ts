import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { python } from './helpers.js';

// The released ftcn_tt.pth: every tensor name and shape (facts from the reference release).
const reference = readFileSync(join(import.meta.dirname, 'fixtures', 'ftcn_tt_state_dict.tsv'), 'utf8')
  .trim().split('\n').map((l) => {
    const [name, shape] = l.split('\t');
    return { name, shape: shape.replace(/[() ]/g, '').split(',').filter(Boolean).map(Number) };
  });

// FLOPs are counted on a real forward pass: about 2 s for FULL, whose count the conversion
// test checks through its manifest, so only FAST's is asked for here.
const dump = (config: string, flops: boolean) => JSON.parse(python(['-c', `
import json
from ftcn.model import CONFIGS, FtcnTT, gflops_per_clip, parameter_count
cfg = CONFIGS['${config}']
m = FtcnTT(cfg)
print(json.dumps({'tensors': [[k, list(v.shape)] for k, v in m.state_dict().items()],
                  'params': parameter_count(m), 'gflops': gflops_per_clip(cfg) if ${flops ? 'True' : 'False'} else None}))
`])) as { tensors: [string, number[]][]; params: number; gflops: number | null };

describe('FTCN+TT definition', () => {
  it('FULL state_dict() has exactly the 275 names and shapes of the released checkpoint, in order', () => {
    expect(reference).toHaveLength(275);
    const full = dump('full', false);
    expect(full.tensors.map(([name, shape]) => ({ name, shape }))).toEqual(reference);
    expect(full.params).toBe(14_765_889);
  });

  it('FAST is the same architecture (same tensor names) at no more than 10 GFLOPs per clip', () => {
    const fast = dump('fast', true);
    expect(fast.tensors.map(([n]) => n)).toEqual(reference.map((r) => r.name));
    expect(fast.gflops).toBeLessThanOrEqual(10);
    expect(fast.gflops).toBeGreaterThan(1);
  });
});
