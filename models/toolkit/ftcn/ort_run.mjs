// Runs an ONNX clip model in onnxruntime-node on raw float32 clips and writes the outputs
// as JSON. Used by the Python toolkit to check an export against PyTorch with the same
// runtime the server uses (Debian ships no Python onnxruntime).
// usage: node ort_run.mjs model.onnx clips.f32 '[B,3,T,H,W]' batch out.json
import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const [modelPath, clipPath, shapeJson, batchArg, outPath] = process.argv.slice(2);
if (!outPath) {
  process.stderr.write('usage: node ort_run.mjs model.onnx clips.f32 "[B,3,T,H,W]" batch out.json\n');
  process.exit(2);
}
const shape = JSON.parse(shapeJson);
const batch = Number(batchArg);
const perClip = shape.slice(1).reduce((a, b) => a * b, 1);
const bytes = readFileSync(clipPath);
const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
if (all.length !== shape[0] * perClip) throw new Error(`clips file has ${all.length} floats, shape says ${shape[0] * perClip}`);

const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential',
});
const input = session.inputNames[0];
const output = session.outputNames[0];
const probs = [];
let ms = 0;
for (let i = 0; i < shape[0]; i += batch) {
  const n = Math.min(batch, shape[0] - i);
  const t = new ort.Tensor('float32', all.subarray(i * perClip, (i + n) * perClip), [n, ...shape.slice(1)]);
  const t0 = performance.now();
  const res = await session.run({ [input]: t });
  ms += performance.now() - t0;
  probs.push(...res[output].data);
}
await session.release();
writeFileSync(outPath, JSON.stringify({ probs, msPerClip: ms / shape[0] }));
