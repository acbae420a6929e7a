#!/usr/bin/env node
// Builds the native addon with node-gyp at install time (package.json "install"). It never fails
// the install: without a compiler, Python or Node headers the runtime runs unpinned and says so
// once. AETHERFLOW_NO_NATIVE=1 skips the build entirely.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function nodeGyp() {
  // npm ships node-gyp beside itself and exports its path to install scripts; else a local one.
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    return existsSync(npmDir) ? npmDir : null;
  }
}

if (process.env.AETHERFLOW_NO_NATIVE === '1') {
  console.log('aetherflow: AETHERFLOW_NO_NATIVE=1, native addon not built (workers will run unpinned)');
  process.exit(0);
}
const gyp = nodeGyp();
if (!gyp) {
  console.warn('aetherflow: node-gyp not found, native addon not built (workers will run unpinned)');
  process.exit(0);
}
const args = [gyp, 'rebuild'];
// Offline machines: use the headers of the running Node when they are installed (no download).
const headers = join(dirname(process.execPath), '..', 'include', 'node');
if (existsSync(join(headers, 'node_api.h')) && !process.env.npm_config_nodedir) args.push(`--nodedir=${join(headers, '..', '..')}`);
const r = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn(`aetherflow: native addon build failed (exit ${r.status}); workers will run unpinned`);
}
process.exit(0);
