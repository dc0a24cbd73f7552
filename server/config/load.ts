import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { accessTokenSchema, configSchema, type Config } from './schema.js';

/** A configuration that cannot be used; `issues` holds one line per problem, each naming its path. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly source: string, readonly issues: string[]) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

export const DEFAULT_CONFIG_FILE = 'deepwatch.yaml';

export interface LoadOptions {
  /** Explicit file (`--config`); wins over DEEPWATCH_CONFIG and ./deepwatch.yaml. */
  path?: string | null;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Command-line overrides; win over the environment and the file. */
  overrides?: { port?: number; host?: string };
}

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when everything is default. */
  file: string | null;
}

/** `server -> port`, `webhooks[0] -> url`: the style operators read in error messages. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += (out ? ' -> ' : '') + String(part);
  }
  return out || '(top level)';
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

/** The keys the schema allows at `path`, to say what a misspelt key should have been. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  let s = unwrap(configSchema);
  for (const part of path) {
    const def = s._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    if (def.type === 'object' && def.shape && typeof part === 'string' && def.shape[part]) s = unwrap(def.shape[part]);
    else if (def.type === 'array' && def.element) s = unwrap(def.element);
    else return [];
  }
  const def = s._zod.def as { type: string; shape?: Record<string, unknown> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = formatPath(issue.path);
  switch (issue.code) {
    case 'too_big': {
      const n = String(issue.maximum);
      if (issue.origin === 'string') return [`${at}: must be at most ${n} characters`];
      if (issue.origin === 'array') return [`${at}: must have at most ${n} entries`];
      return [`${at}: must be ${issue.inclusive === false ? '<' : '<='} ${n}`];
    }
    case 'too_small': {
      const n = String(issue.minimum);
      if (issue.origin === 'string') return [`${at}: must be at least ${n} characters`];
      if (issue.origin === 'array') return [`${at}: must have at least ${n} entries`];
      return [`${at}: must be ${issue.inclusive === false ? '>' : '>='} ${n}`];
    }
    case 'unrecognized_keys': {
      const allowed = allowedKeys(issue.path);
      const hint = allowed.length ? ` (allowed: ${allowed.join(', ')})` : '';
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key${hint}`);
    }
    case 'invalid_value':
      return [`${at}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`];
    case 'invalid_type':
      return [`${at}: ${issue.message.replace(/^Invalid input: /, '')}`];
    case 'invalid_format':
      return [`${at}: ${issue.format === 'url' && issue.message === 'Invalid URL' ? 'must be a URL' : issue.message}`];
    default:
      return [`${at}: ${issue.message}`];
  }
}

export function describeIssues(error: z.ZodError): string[] {
  return error.issues.flatMap(describeIssue);
}

/** Validates an already-parsed document (YAML or JSON) and fills in every default. */
export function parseConfig(raw: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(source, describeIssues(result.error));
  return result.data;
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read the file: ${(e as Error).message}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(file, doc.errors.map((e) => `not valid YAML: ${e.message}`));
  return doc.toJS();
}

function envInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v.trim())) throw new ConfigError(name, [`${name}: must be an integer, got "${v}"`]);
  return Number(v);
}

/** Applies an override at `section.key` before validation, so overrides are checked like the file. */
function setIn(doc: Record<string, unknown>, section: string, key: string, value: unknown): void {
  const current = doc[section];
  const obj = current && typeof current === 'object' && !Array.isArray(current) ? { ...(current as object) } : {};
  (obj as Record<string, unknown>)[key] = value;
  doc[section] = obj;
}

/** DEEPWATCH_ACCESS_TOKEN joins the file's tokens (a secret is easier to inject as a variable). */
function addAccessToken(doc: Record<string, unknown>, token: string): void {
  const checked = accessTokenSchema.safeParse(token.trim());
  if (!checked.success) {
    throw new ConfigError('DEEPWATCH_ACCESS_TOKEN', checked.error.issues.map((i) => `DEEPWATCH_ACCESS_TOKEN: ${i.message}`));
  }
  const server = doc.server;
  const tokens = server && typeof server === 'object' ? (server as Record<string, unknown>).accessTokens : undefined;
  setIn(doc, 'server', 'accessTokens', [...(Array.isArray(tokens) ? tokens : []), checked.data]);
}

/**
 * Finds, reads and validates the configuration: `--config` path, else DEEPWATCH_CONFIG,
 * else ./deepwatch.yaml when present, else all defaults. DEEPWATCH_PORT, DEEPWATCH_HOST and
 * DEEPWATCH_LOG_LEVEL override the file, DEEPWATCH_ACCESS_TOKEN adds to its tokens; `overrides` (command line) override both.
 */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.path ?? env.DEEPWATCH_CONFIG ?? null;
  let file: string | null = null;
  if (explicit) {
    file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new ConfigError(file, [`config file not found: ${file}`]);
  } else if (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE))) {
    file = resolve(cwd, DEFAULT_CONFIG_FILE);
  }
  const raw = file ? readYaml(file) : {};
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(file ?? 'configuration', ['(top level): must be a mapping of sections (server:, rtmp:, ...)']);
  }
  const doc: Record<string, unknown> = { ...((raw as Record<string, unknown> | null) ?? {}) };

  const envPort = envInteger(env, 'DEEPWATCH_PORT');
  if (envPort !== undefined) setIn(doc, 'server', 'port', envPort);
  if (env.DEEPWATCH_HOST) setIn(doc, 'server', 'host', env.DEEPWATCH_HOST);
  if (env.DEEPWATCH_LOG_LEVEL) setIn(doc, 'logging', 'level', env.DEEPWATCH_LOG_LEVEL);
  if (env.DEEPWATCH_ACCESS_TOKEN) addAccessToken(doc, env.DEEPWATCH_ACCESS_TOKEN);
  if (opts.overrides?.port !== undefined) setIn(doc, 'server', 'port', opts.overrides.port);
  if (opts.overrides?.host !== undefined) setIn(doc, 'server', 'host', opts.overrides.host);

  return { config: parseConfig(doc, file ?? 'defaults and environment'), file };
}
