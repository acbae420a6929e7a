import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { addonPath, morselRowsFor, parseSize } from '../../src/runtime/native.js';

const CHILD = fileURLToPath(new URL('./fallback-child.ts', import.meta.url));
const built = existsSync(addonPath());

function child(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr);
  const expectSum = Array.from({ length: 300_000 }, (_, i) => i % 7).reduce((a, b) => a + b, 0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.is(out.sum, expectSum);
  return { out, stderr: r.stderr };
}

test('fallback (AETHERFLOW_NO_NATIVE=1): runs unpinned, says so in exactly one line, same results', () => {
  const { out, stderr } = child({ AETHERFLOW_NO_NATIVE: '1' });
  const lines = stderr.split('\n').filter((l) => l.includes('aetherflow'));
  assert.is(lines.length, 1, stderr);
  assert.match(lines[0], /unpinned/);
  assert.match(lines[0], /AETHERFLOW_NO_NATIVE=1/);
  assert.equal(out.cores, [-1, -1]);
  assert.is(out.source, 'js');
});

test('native addon: topology from /sys, workers pinned to distinct cores, no warning', () => {
  if (!built) {
    console.log(`  (skipped: ${addonPath()} not built — run node native/build.mjs)`);
    return;
  }
  const { out, stderr } = child({ AETHERFLOW_NO_NATIVE: '0' });
  assert.not.match(stderr, /unpinned/);
  assert.is(out.source, 'native');
  const cores = out.cores as number[];
  assert.ok(cores.every((c) => c >= 0), `pinned: ${cores}`);
  if (os.availableParallelism() >= 2) assert.is(new Set(cores).size, 2, 'distinct cores');
  if (process.platform === 'linux' && existsSync('/sys/devices/system/cpu/cpu0/cache/index2')) {
    assert.ok(out.l2 > 0, 'L2 size known');
    assert.is(out.morselRows, morselRowsFor(out.l2), 'morsel size follows L2');
  }
});

test('morsel rows from L2; cache-size parsing', () => {
  assert.is(morselRowsFor(0), 65536);
  assert.is(morselRowsFor(1 << 20), 65536);
  assert.is(morselRowsFor(512 * 1024), 32768);
  assert.is(morselRowsFor(64 * 1024), 16384);
  assert.is(morselRowsFor(64 << 20), 262144);
  assert.is(parseSize('32K'), 32768);
  assert.is(parseSize('32768K'), 32 << 20);
  assert.is(parseSize('1M'), 1 << 20);
  assert.is(parseSize(''), 0);
});

test.run();
