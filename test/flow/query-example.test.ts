// The main job (`npm start`) end to end through the CLI, on a smaller table (TPCH_LITE_ROWS).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('.', import.meta.url).pathname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-example-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('examples/jobs/tpch-lite.yaml: Parquet, fan-out/fan-in queries, a script on the engine memory, the summary', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'run', join(root, 'examples/jobs/tpch-lite.yaml'), '--work-dir', dir],
    { cwd: root, encoding: 'utf8', env: { ...process.env, TPCH_LITE_ROWS: '30000' } });
  assert.is(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /TPC-H Q1 \(pricing summary\) over \d+ lines, checked on worker thread \d+ \(zero-copy from the engine memory\)/);
  assert.match(r.stdout, /^A\s+F\s+\d+/m);
  assert.match(r.stdout, /^N\s+O\s+\d+/m);
  assert.match(r.stdout, /^R\s+F\s+\d+/m);
  assert.match(r.stdout, /COMPLETED in .* — 9 completed/);
  const id = /^run ([\w-]+) /.exec(r.stdout)![1];
  for (const f of ['data/lineitem.parquet', 'out/pricing_summary.parquet', 'pricing_summary.arrow', 'flag_A.arrow', 'check.json']) {
    assert.ok(existsSync(join(dir, 'runs', id, f)), f);
  }
});

test.run();
