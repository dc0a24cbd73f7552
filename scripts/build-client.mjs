#!/usr/bin/env node
// Builds the dashboard (client/) into dist/client/: type-checks it with tsc, bundles it with
// esbuild into one content-hashed ES module, and writes index.html pointing at it. Skips in
// well under a second when nothing it reads changed since the last build (--force rebuilds).
// Run by scripts/setup.mjs after the server is compiled, and by the browser tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = join(root, 'client');
const outDir = join(root, 'dist', 'client');
const stamp = join(outDir, '.build-stamp');
const args = new Set(process.argv.slice(2));
const say = (msg) => { if (!args.has('--quiet')) process.stderr.write(`[build-client] ${msg}\n`); };

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let n = 0;
  for (const e of readdirSync(path)) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    n = Math.max(n, newest(join(path, e)));
  }
  return n;
}

// Everything the bundle depends on: the client sources, the wire contract it shares with the
// server, the installed package versions, and this script.
const inputs = [clientDir, join(root, 'server', 'api', 'wire.ts'), join(root, 'package-lock.json'), fileURLToPath(import.meta.url)];
const newestInput = Math.max(...inputs.map(newest));
if (!args.has('--force') && existsSync(stamp) && existsSync(join(outDir, 'index.html')) && statSync(stamp).mtimeMs >= newestInput) {
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('build-client: esbuild is not installed; run `npm ci` first\n');
  process.exit(1);
}

if (!args.has('--no-typecheck')) {
  say('type-checking the dashboard');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(clientDir, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) {
    process.stderr.write('build-client: the dashboard does not type-check (see above)\n');
    process.exit(1);
  }
}

say('bundling');
const t0 = Date.now();
mkdirSync(outDir, { recursive: true });
for (const f of readdirSync(outDir)) if (/^app-[A-Z0-9]+\.js(\.map|\.LEGAL\.txt)?$/.test(f)) rmSync(join(outDir, f));
const result = await esbuild.build({
  entryPoints: { app: join(clientDir, 'src', 'main.ts') },
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  platform: 'browser',
  minify: true,
  sourcemap: 'linked',
  entryNames: '[name]-[hash]',
  outdir: outDir,
  tsconfig: join(clientDir, 'tsconfig.json'),
  metafile: true,
  logLevel: 'warning',
  legalComments: 'linked',
});
const bundle = Object.keys(result.metafile.outputs).find((p) => /app-[A-Z0-9]+\.js$/.test(p));
if (!bundle) {
  process.stderr.write('build-client: esbuild produced no bundle\n');
  process.exit(1);
}
const bundleName = relative(outDir, join(root, bundle));
const html = readFileSync(join(clientDir, 'index.html'), 'utf8');
if (!html.includes('./app.js')) {
  process.stderr.write('build-client: client/index.html must load ./app.js\n');
  process.exit(1);
}
writeFileSync(join(outDir, 'index.html'), html.replace('./app.js', `./${bundleName}`));
writeFileSync(stamp, new Date().toISOString());
const kb = (statSync(join(outDir, bundleName)).size / 1024).toFixed(0);
say(`dist/client/${bundleName} (${kb} KiB) in ${Date.now() - t0} ms`);
