import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Table, tableFromArrays, tableToIPC, type Vector } from 'apache-arrow';
import { flow } from '../../src/flow/builder.js';
import { Container } from '../../src/flow/container.js';
import { parseJob } from '../../src/flow/job.js';
import { closeScriptPool, configureScriptPool } from '../../src/flow/kinds/index.js';
import { engineProvider, QueryNodeError } from '../../src/flow/kinds/query.js';
import { Engine } from '../../src/engine/engine.js';
import { isContextBuffer } from '../../src/arrow/resident.js';
import { JobValidationError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';

const root = join(new URL('.', import.meta.url).pathname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-query-'));
const engine = await Engine.start({ memoryLimit: 1 << 28 });
const container = new Container().singleton('engine', () => engine);
test.after(async () => {
  await closeScriptPool();
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const N = 20_000;
const r = rng(99);
const flags = ['A', 'N', 'R'];
const data = {
  k: Int32Array.from({ length: N }, () => Math.floor(r() * 10)),
  qty: Float64Array.from({ length: N }, () => Math.floor(r() * 50) + 1),
  price: Float64Array.from({ length: N }, () => Math.round(r() * 100_000) / 100),
  flag: Array.from({ length: N }, () => flags[Math.floor(r() * 3)]),
};
const rows = Array.from({ length: N }, (_, i) => ({ k: data.k[i], qty: data.qty[i], price: data.price[i], flag: data.flag[i] }));
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
const arr = (v: Vector | null) => [...(v!.toArray() as ArrayLike<unknown>)].map((x) => (typeof x === 'bigint' ? Number(x) : x));

test('query nodes over upstream outputs: filter, derive, group by, sort; results stay in the engine memory', async () => {
  const f = flow('q', { concurrency: 4 })
    .node('gen', () => tableFromArrays(data))
    .task('big', 'query', { source: 'gen', steps: [
      { filter: 'qty > 24 and flag != \'N\'' },
      { derive: { rev: 'price * (1 - qty / 100)' } },
    ] }, { after: ['gen'] })
    .task('by_k', 'query', { source: 'big', steps: [
      { group_by: 'k', agg: { n: 'count(*)', revenue: 'sum(rev)', top: 'max(price)' } },
      { sort: ['-n', 'k'] },
      { limit: 3 },
    ] }, { after: ['big'] })
    .build({ container });
  const run = await f.run();
  assert.is(run.state, 'completed', String(run.error));
  const big = run.output('big') as Table;
  const sel = rows.filter((x) => x.qty > 24 && x.flag !== 'N');
  assert.is(big.numRows, sel.length);
  // By reference: the upstream table is a view of the engine's shared memory.
  assert.ok(isContextBuffer(engine.ctx, big.getChild('rev')!.data[0].values.buffer));
  const want = [...Array(10).keys()].map((k) => {
    const g = sel.filter((x) => x.k === k);
    return { k, n: g.length, revenue: g.reduce((s, x) => s + x.price * (1 - x.qty / 100), 0), top: Math.max(...g.map((x) => x.price)) };
  }).sort((a, b) => b.n - a.n || a.k - b.k).slice(0, 3);
  const out = run.output('by_k') as Table;
  assert.equal(arr(out.getChild('k')), want.map((w) => w.k));
  assert.equal(arr(out.getChild('n')), want.map((w) => w.n));
  arr(out.getChild('revenue')).forEach((v, i) => assert.ok(close(v as number, want[i].revenue), `revenue ${i}`));
  assert.equal(arr(out.getChild('top')), want.map((w) => w.top));
});

test('a file source with $params, a join with an upstream table, a union of upstream tables, write', async () => {
  const file = join(dir, 'facts.arrow');
  writeFileSync(file, tableToIPC(tableFromArrays(data), 'file'));
  const names = tableFromArrays({ k: Int32Array.from([0, 1, 2]), label: ['zero', 'one', 'two'] });
  const per = (flag: string) => ({
    source: { file }, params: { flag, lo: 2 }, steps: [
      { filter: 'flag = $flag and k <= $lo' },
      { join: { with: 'names', on: 'k' } },
      { group_by: ['flag', 'label'], agg: { n: 'count()', q: 'sum(qty)' } },
    ],
  });
  const f = flow('files', { concurrency: 4 })
    .node('names', () => names)
    .task('A', 'query', per('A'), { after: ['names'] })
    .task('R', 'query', per('R'), { after: ['names'] })
    .task('both', 'query', { source: ['A', 'R'], steps: [{ sort: ['flag', { column: 'label', descending: true }] }] }, { after: ['A', 'R'] })
    .task('save', 'query', { source: 'both', write: '${work_dir}/out/both.arrow' }, { after: ['both'] })
    .build({ container });
  const run = await f.run({ workDir: dir });
  assert.is(run.state, 'completed', String(run.error));
  const both = run.output('both') as Table;
  const want = ['A', 'R'].flatMap((fl) => ['zero', 'one', 'two'].map((label, k) => {
    const g = rows.filter((x) => x.flag === fl && x.k === k);
    return { flag: fl, label, n: g.length, q: g.reduce((s, x) => s + x.qty, 0) };
  }).sort((a, b) => (a.label < b.label ? 1 : -1)));
  assert.equal(arr(both.getChild('flag')), want.map((w) => w.flag));
  assert.equal(arr(both.getChild('label')), want.map((w) => w.label));
  assert.equal(arr(both.getChild('n')), want.map((w) => w.n));
  assert.equal(arr(both.getChild('q')), want.map((w) => w.q));
  const saved = run.output('save') as { path: string; rows: number; bytes: number };
  assert.is(saved.path, 'out/both.arrow'); // relative to the work dir: outputs do not depend on where the run lives
  assert.is(saved.rows, 6);
  assert.ok(saved.bytes > 0);
  const back = await engine.read(join(dir, 'out/both.arrow'));
  assert.is(back.rows, 6);
  back.release();
});

test('a column the data lacks fails the node with the YAML file, line and field, and nothing downstream runs', async () => {
  const job = parseJob(`name: bad-column
tasks:
  - name: gen
    type: function
    config: { module: ./fixtures/flow/query-gen.mjs }
  - name: q
    type: query
    depends_on: [gen]
    config:
      source: gen
      steps:
        - filter: qty > 1
        - derive: { x: "prise * 2" }
  - name: after
    type: query
    depends_on: [q]
    config: { source: q }
`, 'jobs/bad.yaml', join(root, 'test'));
  assert.equal(job.flow.nodes.find((n) => n.name === 'q')!.inject, ['engine']);
  const run = await job.flow.run({ container });
  assert.is(run.state, 'failed');
  const e = run.nodeError('q') as QueryNodeError;
  assert.instance(e, QueryNodeError);
  assert.match(e.message, /jobs\/bad\.yaml:13:19 tasks\[1\]\.config\.steps\[1\]\.derive: unknown column 'prise' \(available: qty, price\)/);
  assert.is(run.nodeState('after'), 'SKIPPED');
});

test('without an engine provider a query flow is rejected when built', () => {
  try {
    flow('x').node('a', () => 1).task('q', 'query', { source: 'a' }, { after: ['a'] }).build();
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /injects 'engine', which no provider supplies/);
  }
});

test('engineProvider: a flow brings its own engine', async () => {
  const run = await flow('own').provide('engine', engineProvider({ memoryLimit: 1 << 26 }))
    .node('a', () => tableFromArrays({ x: Int32Array.from([3, 1, 2]) }))
    .task('q', 'query', { source: 'a', steps: [{ sort: 'x' }, { select: 'x' }] }, { after: ['a'] })
    .build().run();
  assert.is(run.state, 'completed', String(run.error));
  assert.equal(arr((run.output('q') as Table).getChild('x')), [1, 2, 3]);
});

test('a script node reads an upstream query result from the engine memory (shared, not copied)', async () => {
  await configureScriptPool({ memory: engine.ctx.memory, threads: 1 });
  const mod = join(dir, 'reader.mjs');
  writeFileSync(mod, `export default function ({ input, memory }) {
  const v = input.top.getChild('price').data[0].values;
  const direct = new Float64Array(memory.buffer, v.byteOffset, v.length);
  return { shared: v.buffer instanceof SharedArrayBuffer, same: direct.every((x, i) => x === v[i]), sum: v.reduce((a, b) => a + b, 0), rows: input.top.numRows, flag: input.top.getChild('flag').get(0) };
}\n`);
  const run = await flow('script')
    .node('gen', () => tableFromArrays(data))
    .task('top', 'query', { source: 'gen', steps: [{ sort: '-price' }, { limit: 5 }, { select: ['price', 'flag'] }] }, { after: ['gen'] })
    .task('read', 'script', { module: mod }, { after: ['top'] })
    .build({ container }).run();
  assert.is(run.state, 'completed', String(run.error));
  const top = [...data.price].sort((a, b) => b - a).slice(0, 5);
  const got = run.output('read') as { shared: boolean; same: boolean; sum: number; rows: number; flag: string };
  assert.ok(got.shared);
  assert.ok(got.same);
  assert.is(got.rows, 5);
  assert.ok(close(got.sum, top.reduce((a, b) => a + b, 0)));
  assert.is(got.flag, rows.find((x) => x.price === top[0])!.flag);
});

test.run();
