import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LIST_EXAMPLES, exampleConfigYaml } from '../../server/config/example.js';
import { ConfigError, loadConfig, parseConfig } from '../../server/config/load.js';
import { repoRoot } from '../../server/shared/paths.js';
import { issuesOf } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('configuration', () => {
  it('loadConfig() with no file gives every default (port 8080, demo on)', () => {
    const { config, file } = loadConfig({ cwd: dir, env: {} });
    expect(file).toBeNull();
    expect(config.server.port).toBe(8080);
    expect(config.rtmp.port).toBe(1935);
    expect(config.demo.enabled).toBe(true);
    expect(config.whip.iceServers).toEqual([]);
    expect(config.logging.level).toBe('info');
  });

  it('reads ./deepwatch.yaml when present, DEEPWATCH_CONFIG or --config otherwise', () => {
    const sub = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(sub, 'deepwatch.yaml'), 'server:\n  port: 9000\n');
    expect(loadConfig({ cwd: sub, env: {} }).config.server.port).toBe(9000);
    const other = write('other.yaml', 'server:\n  port: 9100\n');
    expect(loadConfig({ cwd: sub, env: { DEEPWATCH_CONFIG: other } }).config.server.port).toBe(9100);
    expect(loadConfig({ cwd: sub, env: { DEEPWATCH_CONFIG: other }, path: join(sub, 'deepwatch.yaml') }).config.server.port).toBe(9000);
    expect(issuesOf(() => loadConfig({ cwd: sub, env: {}, path: 'missing.yaml' }))[0]).toMatch(/^config file not found: .*missing\.yaml$/);
  });

  it('DEEPWATCH_PORT overrides the file, --port overrides both, and both are validated', () => {
    const f = write('port.yaml', 'server:\n  port: 9000\n  host: 127.0.0.1\n');
    expect(loadConfig({ path: f, env: { DEEPWATCH_PORT: '9001' } }).config.server).toMatchObject({ port: 9001, host: '127.0.0.1' });
    expect(loadConfig({ path: f, env: { DEEPWATCH_PORT: '9001' }, overrides: { port: 9002 } }).config.server.port).toBe(9002);
    expect(issuesOf(() => loadConfig({ path: f, env: { DEEPWATCH_PORT: 'eighty' } }))).toEqual(['DEEPWATCH_PORT: must be an integer, got "eighty"']);
    expect(issuesOf(() => loadConfig({ path: f, env: { DEEPWATCH_PORT: '70000' } }))).toEqual(['server -> port: must be <= 65535']);
  });

  it('errors name their path and the bound', () => {
    expect(issuesOf(() => parseConfig({ server: { port: 65536 } }))).toEqual(['server -> port: must be <= 65535']);
    expect(issuesOf(() => parseConfig({ analysis: { batchSize: 0 } }))).toEqual(['analysis -> batchSize: must be >= 1']);
    expect(issuesOf(() => parseConfig({ server: { port: '80' } }))).toEqual(['server -> port: expected number, received string']);
    expect(issuesOf(() => parseConfig({ logging: { level: 'loud' } }))[0]).toMatch(/^logging -> level: must be one of "fatal", "error"/);
    expect(issuesOf(() => parseConfig({ webhooks: [{ url: 'ftp://x', secret: 'short' }] }))).toEqual([
      'webhooks[0] -> url: must be an http:// or https:// URL',
      'webhooks[0] -> secret: must be at least 16 characters',
    ]);
    expect(issuesOf(() => parseConfig({ whip: { udpPortMin: 5000, udpPortMax: 4000 } }))).toEqual(['whip -> udpPortMax: must be >= udpPortMin (5000)']);
    expect(issuesOf(() => parseConfig({ alerts: { openThreshold: 0.5, closeThreshold: 0.7 } }))).toEqual(['alerts -> closeThreshold: must be <= openThreshold (0.5)']);
    expect(issuesOf(() => parseConfig({ streams: { publishKeys: [{ key: 'cam', name: 'A' }], pull: [{ key: 'cam', name: 'B', url: 'rtsp://h/s' }] } })))
      .toEqual(['streams -> pull[0] -> key: duplicate stream key "cam" (also streams -> publishKeys[0])']);
  });

  it('unknown keys are rejected, with the keys that are allowed there', () => {
    expect(issuesOf(() => parseConfig({ servr: {} }))).toEqual([
      'servr: unknown key (allowed: server, rtmp, whip, streams, demo, analysis, alerts, webhooks, storage, logging)',
    ]);
    expect(issuesOf(() => parseConfig({ server: { prot: 1 } }))).toEqual(['server -> prot: unknown key (allowed: host, port, publicUrl, previewFps, accessTokens)']);
    expect(issuesOf(() => parseConfig({ streams: { pull: [{ key: 'a', name: 'A', url: 'rtsp://h/s', repeat: true }] } })))
      .toEqual(['streams -> pull[0] -> repeat: unknown key (allowed: key, name, url, loop)']);
  });

  it('a YAML syntax error or a non-mapping document is a ConfigError naming the file', () => {
    const broken = write('broken.yaml', 'server:\n  port: [1, 2\n');
    const e = (() => { try { loadConfig({ path: broken, env: {} }); } catch (err) { return err as ConfigError; } return null; })();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e!.message).toContain(broken);
    expect(e!.issues[0]).toMatch(/^not valid YAML: /);
    expect(issuesOf(() => loadConfig({ path: write('list.yaml', '- 1\n- 2\n'), env: {} }))[0]).toMatch(/must be a mapping of sections/);
    expect(loadConfig({ path: write('empty.yaml', '# nothing\n'), env: {} }).config.server.port).toBe(8080);
  });

  it('deepwatch.example.yaml is the generated example, documents every option, and loads to the defaults', () => {
    const committed = readFileSync(join(repoRoot, 'deepwatch.example.yaml'), 'utf8');
    expect(committed, 'regenerate with: npx deepwatch config example > deepwatch.example.yaml').toBe(exampleConfigYaml());
    expect(loadConfig({ path: join(repoRoot, 'deepwatch.example.yaml'), env: {} }).config).toEqual(parseConfig({}));
    for (const key of ['previewFps', 'udpPortMin', 'announcedAddress', 'publishKeys', 'stride', 'maxQueuedClips', 'closeThreshold', 'dbPath', 'level']) {
      expect(committed).toMatch(new RegExp(`^\\s*${key}: `, 'm'));
    }
    // The commented-out examples of the lists are valid configuration too.
    const lists = parseConfig({
      whip: { iceServers: LIST_EXAMPLES['whip.iceServers'] },
      streams: { publishKeys: LIST_EXAMPLES['streams.publishKeys'], pull: LIST_EXAMPLES['streams.pull'] },
      webhooks: LIST_EXAMPLES.webhooks,
    });
    expect(lists.streams.pull[0]).toMatchObject({ key: 'lobby', url: 'rtsp://192.0.2.10:554/stream1' });
    expect(lists.webhooks[0]!.events).toEqual(['open', 'close']);
    expect(committed).toContain('#   - key: lobby');
  });
});
