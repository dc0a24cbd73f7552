import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelManifest, sha256File } from '../../server/shared/model-manifest.js';
import { modelsDir, repoRoot } from '../../server/shared/paths.js';
import { SESSION_OPTIONS } from '../../server/faces/model-session.js';
import { warpToTensor } from '../../server/faces/warp.js';
import { loadAstronaut } from '../helpers/faces-fixtures.js';
import { tempDir } from '../helpers/gst.js';

/*
 * The converted FaceMesh must compute what the original does. The original is a TFJS
 * graph model; TensorFlow.js (pure JavaScript CPU backend, a dev dependency) runs it here,
 * so the reference is the real runtime, not a re-implementation.
 */

const SRC = join(modelsDir, 'face_landmarks', 'source');
const OUTPUTS = { output_mesh: 'Identity_2:0', output_faceflag: 'Identity_1:0', output_contours: 'Identity:0' } as const;
// Measured largest gaps: mesh 1.5e-4, contours 1.1e-4 crop pixels, face flag 3e-8. Float32
// summation order differs between the runtimes; these bounds leave 10x room.
const TOL = { output_mesh: 2e-3, output_faceflag: 1e-5, output_contours: 2e-3 } as const;

let tfModel: GraphModel;
let session: ort.InferenceSession;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const manifest = JSON.parse(readFileSync(join(SRC, 'facemesh.json'), 'utf8'));
  const bin = readFileSync(join(SRC, 'facemesh.bin'));
  tfModel = await loadGraphModel(tf.io.fromMemory({
    modelTopology: manifest.modelTopology,
    weightSpecs: manifest.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
  }));
  session = await ort.InferenceSession.create(loadModelManifest('face_landmarks').path, SESSION_OPTIONS);
});

afterAll(async () => {
  tfModel?.dispose();
  await session?.release();
});

/** Upright face crops of the astronaut (as the stage makes them) plus one random input. */
function inputs(): Float32Array {
  const photo = loadAstronaut();
  const S = 192, per = S * S * 3;
  const x = new Float32Array(per * 3);
  // crop -> photo maps: the face at two scales and a slight turn
  warpToTensor(photo, [156 / 192, 0, 146, 0, 156 / 192, 48], S, S, x, 0, 1 / 255, 0);
  const a = 0.15, k = 120 / 192;
  warpToTensor(photo, [k * Math.cos(a), -k * Math.sin(a), 170, k * Math.sin(a), k * Math.cos(a), 60], S, S, x, per, 1 / 255, 0);
  let seed = 7;
  for (let i = 2 * per; i < 3 * per; i++) { seed = (seed * 1103515245 + 12345) >>> 0; x[i] = seed / 2 ** 32; }
  return x;
}

describe('FaceMesh converted to ONNX', () => {
  it('matches the TFJS original on face crops and on noise', async () => {
    const x = inputs();
    const n = x.length / (192 * 192 * 3);
    const outs = tfModel.execute(tf.tensor(x, [n, 192, 192, 3]), Object.values(OUTPUTS)) as tf.Tensor[];
    const ref = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
    const got = await session.run({ input_1: new ort.Tensor('float32', x, [n, 192, 192, 3]) });
    Object.keys(OUTPUTS).forEach((name, i) => {
      const a = got[name]!.data as Float32Array;
      const b = ref[i]!;
      expect(a.length).toBe(b.length);
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!));
      expect(worst, `${name} largest gap`).toBeLessThan(TOL[name as keyof typeof TOL]);
    });
    // The crops really are faces to the model, and the noise is not: the comparison covers both regimes.
    const flags = got.output_faceflag!.data as Float32Array;
    expect(flags[0]).toBeGreaterThan(0.9);
    expect(flags[1]).toBeGreaterThan(0.9);
    expect(flags[2]).toBeLessThan(0.1);
  });

  it('is exactly what the committed converter produces from the committed source', () => {
    const tmp = tempDir();
    try {
      const out = join(tmp.dir, 'facemesh.onnx');
      const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'models/toolkit/face/convert_facemesh.py'), SRC, out], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(sha256File(out)).toBe(loadModelManifest('face_landmarks').manifest.sha256);
    } finally {
      tmp.cleanup();
    }
  });
});
