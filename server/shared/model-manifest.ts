import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { WINDOW_ALIGNMENTS } from '../faces/align.js';
import { modelsDir } from './paths.js';

/**
 * Every model lives in its own folder `models/<name>/` with a `manifest.json` that says
 * everything the server needs to run it: nothing about a model is hard-coded elsewhere,
 * so another model of the same kind is added by conversion alone.
 */
const provenance = z.object({
  source: z.string().describe('where the weights come from: npm package@version and path, or "trained by models/toolkit/..."'),
  licence: z.string(),
  notes: z.string().optional(),
});

const tensorSpec = z.object({
  name: z.string(),
  shape: z.array(z.union([z.number().int(), z.string()])),
  dtype: z.string().default('float32'),
});

const common = {
  name: z.string().regex(/^[a-z0-9_\-]+$/),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
  provenance,
  card: z.string().optional().describe('model card file, relative to the model folder'),
};

export const clipModelManifest = z.object({
  ...common,
  kind: z.literal('clip-classifier'),
  family: z.string().describe('e.g. ftcn_tt'),
  layout: z.literal('BCTHW'),
  clipLength: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  /** Input pixels 0..255 become (x - mean*255) / (std*255). */
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number(), z.number(), z.number()]),
  output: z.enum(['probability', 'logit']).describe('what the single output per clip means: probability of fake, or its logit'),
  threshold: z.number().describe('default decision threshold on the probability'),
  gflopsPerClip: z.number().positive(),
  /** Default clip stride for live scoring (frames between clips per track). */
  defaultStride: z.number().int().positive().default(4),
  /**
   * How the model's training clips were aligned, so the runtime cuts clips the same way:
   * `joint` (the reference: one similarity per window) or `trajectory` (per-frame
   * similarities on a quadratic in time; see server/faces/align.ts).
   */
  alignment: z.enum(WINDOW_ALIGNMENTS).default('joint'),
  /** The family's size knobs the file was built with (FtcnConfig for ftcn_tt), for people and tools; the server does not read it. */
  architecture: z.record(z.string(), z.unknown()).optional(),
});

export const faceModelManifest = z.object({
  ...common,
  kind: z.enum(['face-detector', 'face-landmarks']),
  /** Free-form settings the stage that uses the model reads (anchors, crop scale...). */
  settings: z.record(z.string(), z.unknown()).default({}),
});

export const modelManifest = z.discriminatedUnion('kind', [clipModelManifest, faceModelManifest]);
export type ClipModelManifest = z.infer<typeof clipModelManifest>;
export type FaceModelManifest = z.infer<typeof faceModelManifest>;
export type ModelManifest = z.infer<typeof modelManifest>;

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export interface ResolvedModel<M extends ModelManifest = ModelManifest> {
  manifest: M;
  dir: string;
  /** Absolute path of the ONNX file. */
  path: string;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Reads and validates one model's manifest; checks the file is there and has the stated hash. */
export function loadModelManifest(name: string, root = modelsDir, verifyHash = true): ResolvedModel {
  const dir = join(root, name);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    const known = listModelNames(root);
    throw new ModelLoadError(`no model "${name}" (no ${manifestPath}); installed models: ${known.join(', ') || 'none'}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new ModelLoadError(`${manifestPath} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = modelManifest.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelLoadError(`${manifestPath} is invalid: ${issues}`);
  }
  const path = join(dir, parsed.data.file);
  if (!existsSync(path)) throw new ModelLoadError(`model "${name}": file ${path} is missing`);
  if (verifyHash) {
    const actual = sha256File(path);
    if (actual !== parsed.data.sha256) {
      throw new ModelLoadError(`model "${name}": ${path} is corrupt or replaced (sha256 ${actual.slice(0, 12)}…, manifest says ${parsed.data.sha256.slice(0, 12)}…)`);
    }
  }
  return { manifest: parsed.data, dir, path };
}

export function listModelNames(root = modelsDir): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'manifest.json')))
    .map((d) => d.name)
    .sort();
}

export function loadClipModelManifest(name: string, root = modelsDir, verifyHash = true): ResolvedModel<ClipModelManifest> {
  const m = loadModelManifest(name, root, verifyHash);
  if (m.manifest.kind !== 'clip-classifier') throw new ModelLoadError(`model "${name}" is a ${m.manifest.kind}, not a clip classifier`);
  return m as ResolvedModel<ClipModelManifest>;
}
