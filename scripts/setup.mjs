#!/usr/bin/env node
// Makes sure everything Deepwatch needs is on this machine, then builds what is stale.
// Runs before `npm start` and `npm test`; plain JavaScript with no dependencies because
// it must work before `npm ci` has run. Idempotent: a no-op check takes well under a second.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const forTests = args.has('--for-tests');
const quiet = args.has('--quiet');
const say = (msg) => { if (!quiet) process.stderr.write(`[setup] ${msg}\n`); };

// GStreamer elements the pipelines in pipelines/ use, and the Debian packages that bring them.
const GST_ELEMENTS = [
  'gdppay', 'fdsrc', 'fdsink', 'filesrc', 'decodebin', 'uridecodebin', 'videoconvertscale', 'videorate',
  'x264enc', 'avdec_h264', 'h264parse', 'vp8enc', 'vp8dec', 'flvdemux', 'flvmux', 'mp4mux', 'qtdemux',
  'rtmp2src', 'rtmp2sink', 'souphttpsrc', 'hlsdemux', 'udpsrc', 'udpsink', 'rtpjitterbuffer',
  'rtpvp8depay', 'rtpvp8pay', 'rtph264depay', 'rtph264pay', 'jpegenc', 'jpegdec', 'pngdec', 'imagefreeze',
  'videotestsrc', 'audiotestsrc', 'matroskamux', 'rawvideoparse', 'audioconvert', 'audioresample', 'avenc_aac', 'aacparse', 'gdpdepay', 'compositor',
];
const GST_PACKAGES = [
  'gstreamer1.0-tools', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-bad',
  'gstreamer1.0-plugins-ugly', 'gstreamer1.0-libav', 'gstreamer1.0-plugins-base-apps',
];
// Only the tests need these: Python tooling for the model toolkit's checks and Chromium for the dashboard.
const TEST_PACKAGES = ['python3-torch', 'python3-onnx', 'python3-numpy', 'chromium'];

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function missingGstElements() {
  if (!has('gst-inspect-1.0')) return GST_ELEMENTS;
  // One listing of every feature is far quicker than one gst-inspect call per element.
  const out = spawnSync('gst-inspect-1.0', [], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout ?? '';
  const present = new Set([...out.matchAll(/^[^:\n]+:\s+([^:\s]+):/gm)].map((m) => m[1]));
  return GST_ELEMENTS.filter((el) => !present.has(el));
}

function missingDebs(pkgs) {
  return pkgs.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function aptInstall(pkgs, why) {
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  if (process.getuid?.() !== 0) {
    process.stderr.write(`\nDeepwatch needs ${why}. Install it with:\n\n  sudo sh -c '${cmd}'\n\nthen run this command again.\n`);
    process.exit(1);
  }
  say(`installing ${why}: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const c of [['apt-get', ['update', '-qq']], ['apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs]]]) {
    const r = spawnSync(c[0], c[1], { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) {
      process.stderr.write(`\nFailed: ${c[0]} ${c[1].join(' ')} (exit ${r.status}). Run it by hand to see why.\n`);
      process.exit(1);
    }
  }
}

function ensureSystemPackages() {
  const wanted = [];
  // gst-discoverer-1.0 (plugins-base-apps) tells a file's duration and audio for `analyze`.
  if (missingGstElements().length > 0 || !has('gst-discoverer-1.0')) wanted.push(...missingDebs(GST_PACKAGES));
  if (forTests) wanted.push(...missingDebs(TEST_PACKAGES));
  if (wanted.length > 0) aptInstall(wanted, 'system packages (GStreamer' + (forTests ? ', Python torch/onnx and Chromium for the tests' : '') + ')');
  const still = missingGstElements();
  if (still.length > 0) {
    process.stderr.write(`GStreamer elements still missing after install: ${still.join(', ')}\n`);
    process.exit(1);
  }
}

function newestMtime(dir, exts) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
  if (!stale) return;
  say('installing npm dependencies (npm ci)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) { process.stderr.write('npm ci failed\n'); process.exit(1); }
}

// onnxruntime-node ships its CPU build in the npm package; the CUDA provider comes from
// outside the npm registry. Where an NVIDIA driver is present, try to fetch it once, and
// say plainly when that is impossible (the server then runs on the CPU and logs why).
function ensureCudaProvider() {
  if (!has('nvidia-smi')) return;
  const binDir = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
  if (existsSync(join(binDir, 'libonnxruntime_providers_cuda.so'))) return;
  const stamp = join(root, 'node_modules', '.deepwatch-cuda-attempted');
  if (existsSync(stamp)) return;
  say('NVIDIA driver found: fetching the onnxruntime CUDA provider');
  const r = spawnSync('node', ['script/install', '--onnxruntime-node-install=cuda12'], {
    cwd: join(root, 'node_modules', 'onnxruntime-node'), stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000,
  });
  writeFileSync(stamp, String(r.status));
  if (r.status !== 0) say('could not fetch the CUDA provider; inference will run on the CPU');
}

function ensureBuilt() {
  const stamp = join(root, 'dist', '.build-stamp');
  const srcNewest = Math.max(newestMtime(join(root, 'server'), ['.ts', '.json']), newestMtime(join(root, 'bench'), ['.ts']),
    statSync(join(root, 'tsconfig.json')).mtimeMs);
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < srcNewest) {
    say('compiling TypeScript');
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
    if (r.status !== 0) { process.stderr.write('TypeScript build failed\n'); process.exit(1); }
    mkdirSync(dirname(stamp), { recursive: true });
    writeFileSync(stamp, new Date().toISOString());
  }
  // The dashboard build keeps its own up-to-date check (a fraction of a second when current).
  const clientBuild = join(root, 'scripts', 'build-client.mjs');
  if (existsSync(clientBuild)) {
    const c = spawnSync(process.execPath, [clientBuild], { stdio: 'inherit' });
    if (c.status !== 0) { process.stderr.write('dashboard build failed\n'); process.exit(1); }
  }
}

ensureSystemPackages();
ensureNodeModules();
ensureCudaProvider();
ensureBuilt();
