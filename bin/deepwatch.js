#!/usr/bin/env node
// Entry of the `deepwatch` command: makes sure the build is current, then runs the CLI.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const setup = spawnSync(process.execPath, [join(root, 'scripts', 'setup.mjs'), '--quiet'], { stdio: 'inherit' });
if (setup.status !== 0) process.exit(setup.status ?? 1);
await import(join(root, 'dist', 'server', 'cli', 'main.js'));
