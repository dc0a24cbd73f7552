import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelLoadError, sha256File } from '../../server/shared/model-manifest.js';
import { modelsDir } from '../../server/shared/paths.js';
import { FaceStage } from '../../server/faces/face-stage.js';
import { tempDir } from '../helpers/gst.js';

/** Each case gets its own copy of the two face models to break. */
let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir();
  for (const m of ['blazeface', 'face_landmarks']) cpSync(join(modelsDir, m), join(tmp.dir, m), { recursive: true });
});
afterEach(() => tmp.cleanup());

const onnx = (dir: string, model: string) => {
  const manifest = JSON.parse(readFileSync(join(dir, model, 'manifest.json'), 'utf8'));
  return join(dir, model, manifest.file);
};

describe('FaceStage.create() model checks', () => {
  it('loads the shipped models from a copy', async () => {
    const stage = await FaceStage.create({ modelsRoot: tmp.dir });
    await stage.close();
  });

  it('rejects with ModelLoadError naming the model when a byte of the ONNX file changed', async () => {
    const path = onnx(tmp.dir, 'face_landmarks');
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(path, bytes);
    const err = await FaceStage.create({ modelsRoot: tmp.dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/model "face_landmarks": .*facemesh\.onnx is corrupt or replaced \(sha256 [0-9a-f]{12}…, manifest says [0-9a-f]{12}…\)/);
  });

  it('rejects clearly when the detector file is missing', async () => {
    rmSync(onnx(tmp.dir, 'blazeface'));
    await expect(FaceStage.create({ modelsRoot: tmp.dir })).rejects.toThrow(/model "blazeface": file .*face_detection_back_256x256_barracuda\.onnx is missing/);
  });

  it('rejects clearly when the model folder is missing', async () => {
    rmSync(join(tmp.dir, 'face_landmarks'), { recursive: true });
    await expect(FaceStage.create({ modelsRoot: tmp.dir })).rejects.toThrow(/no model "face_landmarks" .*installed models: blazeface/);
  });

  it('says ONNX Runtime cannot load a truncated file even when its hash was updated to match', async () => {
    const path = onnx(tmp.dir, 'blazeface');
    writeFileSync(path, readFileSync(path).subarray(0, 1000));
    const manifestPath = join(tmp.dir, 'blazeface', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.sha256 = sha256File(path);
    writeFileSync(manifestPath, JSON.stringify(manifest));
    await expect(FaceStage.create({ modelsRoot: tmp.dir })).rejects.toThrow(/model "blazeface": ONNX Runtime cannot load/);
  });

  it('rejects a manifest whose tensor names the graph does not have', async () => {
    const manifestPath = join(tmp.dir, 'face_landmarks', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.outputs[0].name = 'mesh_out';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    await expect(FaceStage.create({ modelsRoot: tmp.dir })).rejects.toThrow(/model "face_landmarks": the ONNX graph lacks output mesh_out/);
  });

  it('rejects a model of the wrong kind', async () => {
    const manifestPath = join(tmp.dir, 'blazeface', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.kind = 'face-landmarks';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    await expect(FaceStage.create({ modelsRoot: tmp.dir })).rejects.toThrow(/model "blazeface" is a face-landmarks, not a face-detector/);
  });
});
