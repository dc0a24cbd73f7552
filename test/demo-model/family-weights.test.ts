import { describe, expect, it } from 'vitest';
import { python } from '../model/helpers.js';

// The trainer's --family-weights spends more steps on the families a model still confuses;
// the pool it draws manipulated clips from must repeat exactly those families' clips.
const script = `
import json
from demo.train import fake_pool

meta = [{'label': 0, 'family': ''}] * 3 + [{'label': 1, 'family': f} for f in ('a', 'b', 'a', 'c')]
out = {'plain': fake_pool(meta, {}), 'weighted': sorted(fake_pool(meta, {'a': 3}))}
for bad in ({'zzz': 2}, {'a': 0}, {'a': 1.5}):
    try:
        fake_pool(meta, bad)
        out[json.dumps(bad)] = 'accepted'
    except ValueError as e:
        out[json.dumps(bad)] = str(e)
print(json.dumps(out))
`;

describe('demo trainer family weights', () => {
  it('repeats the weighted families in the draw pool and refuses unknown families or bad weights', () => {
    const out = JSON.parse(python(['-c', script]).trim().split('\n').pop() as string) as Record<string, unknown>;
    expect(out.plain).toEqual([3, 4, 5, 6]);
    expect(out.weighted).toEqual([3, 3, 3, 4, 5, 5, 5, 6]);
    expect(out['{"zzz": 2}']).toMatch(/no training clips of \['zzz'\]/);
    expect(out['{"a": 0}']).toMatch(/whole numbers >= 1/);
    expect(out['{"a": 1.5}']).toMatch(/whole numbers >= 1/);
  });
});
