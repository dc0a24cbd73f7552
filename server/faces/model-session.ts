import * as ort from 'onnxruntime-node';
import { loadModelManifest, ModelLoadError, type FaceModelManifest, type ResolvedModel } from '../shared/model-manifest.js';
import { modelsDir } from '../shared/paths.js';

/** Thread settings measured fastest and least noisy on 2 cores (see docs/faces.md). */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // The shipped BlazeFace file carries a few unused constants; ONNX Runtime warns about each.
  logSeverityLevel: 3,
  // Worker threads that spin while waiting for work steal the CPU from the decoders and the
  // clip model on a 2-core machine: measured 2-3x slower face models under that load.
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

export interface FaceModel {
  model: ResolvedModel<FaceModelManifest>;
  session: ort.InferenceSession;
}

/**
 * Opens a face model by folder name: checks the manifest, the kind and the file's sha256,
 * and that the ONNX graph has the inputs and outputs the manifest promises. Every failure
 * is a ModelLoadError that names the model and what is wrong with it.
 */
export async function openFaceModel(name: string, kind: FaceModelManifest['kind'], root = modelsDir): Promise<FaceModel> {
  const resolved = loadModelManifest(name, root);
  if (resolved.manifest.kind !== kind) {
    throw new ModelLoadError(`model "${name}" is a ${resolved.manifest.kind}, not a ${kind}`);
  }
  const model = resolved as ResolvedModel<FaceModelManifest>;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model.path, SESSION_OPTIONS);
  } catch (e) {
    throw new ModelLoadError(`model "${name}": ONNX Runtime cannot load ${model.path}: ${(e as Error).message}`);
  }
  const missing = [
    ...model.manifest.inputs.filter((t) => !session.inputNames.includes(t.name)).map((t) => `input ${t.name}`),
    ...model.manifest.outputs.filter((t) => !session.outputNames.includes(t.name)).map((t) => `output ${t.name}`),
  ];
  if (missing.length > 0) {
    await session.release();
    throw new ModelLoadError(`model "${name}": the ONNX graph lacks ${missing.join(', ')} named in its manifest ` +
      `(graph has inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`);
  }
  return { model, session };
}
