// The README's first TypeScript example must run as written (with the package name pointed at src/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the README usage example runs and prints the grouped result', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = readme.match(/```ts\n([\s\S]*?)```/);
  assert.ok(m, 'README has a ```ts block');
  const code = m![1].replace(/from 'aetherflow'/g, "from '../src/index.js'");
  const dir = join(root, '.tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `readme-example-${process.pid}.mts`);
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, r.stderr);
    const out = r.stdout.replace(/\x1b\[[0-9;]*m/g, ''); // console.table colours under FORCE_COLOR
    // Rows with shipdate ≤ 10500: A (twice) and N; R is filtered out.
    assert.match(out, /'A'.*\b25\b/);
    assert.match(out, /'N'.*\b36\b/);
    assert.not.match(out, /'R'/);
  } finally {
    rmSync(file, { force: true });
  }
});

test.run();
