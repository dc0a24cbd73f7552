import { stringify } from 'yaml';
import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * Writes deepwatch.example.yaml from the schema: every option with its description, bounds
 * and default, so the example cannot drift from what the server accepts.
 */

interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
}

/** Filled-in entries for the lists that are empty by default, shown commented out. */
export const LIST_EXAMPLES: Record<string, unknown[]> = {
  'whip.iceServers': [{ urls: 'turn:turn.example.net:3478', username: 'deepwatch', credential: 'secret' }],
  'server.accessTokens': ['a-long-random-token-per-operator-or-tool'],
  'streams.publishKeys': [{ key: 'studio-a', name: 'Studio A camera' }],
  'streams.pull': [{ key: 'lobby', name: 'Lobby camera', url: 'rtsp://192.0.2.10:554/stream1' }],
  webhooks: [{ url: 'https://ops.example.net/hooks/deepwatch', secret: 'a-long-random-shared-secret', events: ['open', 'close'] }],
};

function bounds(s: JsonSchema): string {
  const parts: string[] = [];
  const alt = s.anyOf?.find((a) => a.type !== 'null') ?? s;
  if (s.anyOf?.some((a) => a.type === 'null')) parts.push('or null');
  if (alt.enum) parts.push(`one of ${alt.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (alt.minimum !== undefined || alt.maximum !== undefined) parts.push(`${alt.minimum ?? ''}..${alt.maximum ?? ''}`);
  if (alt.type === 'integer') parts.push('integer');
  if (alt.format === 'uri') parts.push('URL');
  if (alt.minLength !== undefined && alt.minLength > 1) parts.push(`at least ${alt.minLength} characters`);
  if (alt.items?.enum) parts.push(`entries: ${alt.items.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (alt.maxItems !== undefined) parts.push(`at most ${alt.maxItems} entries`);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

function comment(text: string, indent: string): string[] {
  return text.split('\n').map((l) => `${indent}# ${l}`.trimEnd());
}

function scalar(value: unknown): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

function renderObject(s: JsonSchema, path: string[], indent: string): string[] {
  const out: string[] = [];
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const here = [...path, key];
    if (out.length > 0 && path.length === 0) out.push('');
    if (prop.description) out.push(...comment(`${prop.description}${bounds(prop)}`, indent));
    if (prop.type === 'object' && prop.properties) {
      out.push(`${indent}${key}:`);
      out.push(...renderObject(prop, here, `${indent}  `));
    } else if (prop.type === 'array' && prop.items?.properties) {
      out.push(...renderList(prop, here, indent, key));
    } else {
      out.push(`${indent}${key}: ${scalar(prop.default ?? null)}`, ...exampleOf(here, indent, key));
    }
  }
  return out;
}

function renderList(s: JsonSchema, path: string[], indent: string, key: string): string[] {
  const out: string[] = [];
  const fields = Object.entries(s.items?.properties ?? {});
  out.push(...comment('each entry:', indent));
  for (const [k, p] of fields) out.push(...comment(`  ${k}: ${p.description ?? ''}${bounds(p)}`, indent));
  out.push(`${indent}${key}: ${scalar(s.default ?? [])}`, ...exampleOf(path, indent, key));
  return out;
}

function exampleOf(path: string[], indent: string, key: string): string[] {
  const example = LIST_EXAMPLES[path.join('.')];
  if (!example) return [];
  return [...comment('for example:', indent), ...comment(stringify({ [key]: example }, { lineWidth: 0 }).trimEnd(), indent)];
}

export function exampleConfigYaml(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const head = [
    '# Deepwatch configuration: every option with its default. Copy this file to deepwatch.yaml',
    '# (or pass --config FILE, or set DEEPWATCH_CONFIG) and keep only what you change: any option',
    '# left out takes the default shown here, and unknown keys are rejected at start.',
    '# Generated from server/config/schema.ts by `deepwatch config example`.',
    '',
  ];
  return `${[...head, ...renderObject(schema, [], '')].join('\n')}\n`;
}
