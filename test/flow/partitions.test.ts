import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tableFromArrays, type Table } from 'apache-arrow';
import { flow, partitions } from '../../src/flow/index.js';
import { Engine } from '../../src/engine/engine.js';
import { col, sum } from '../../src/engine/expr.js';

test('partitions cut a table into zero-copy row ranges, in order', () => {
  const t = tableFromArrays({ x: Float64Array.from({ length: 10 }, (_, i) => i) });
  const parts = partitions(t, { count: 3 });
  assert.equal(parts.map((p) => p.numRows), [4, 4, 2]);
  assert.equal(parts.flatMap((p) => [...p.getChild('x')!.toArray()]), [...t.getChild('x')!.toArray()]);
  assert.is(parts[1].getChild('x')!.data[0].values.buffer, t.getChild('x')!.data[0].values.buffer);
  assert.equal(partitions(t, { rows: 6 }).map((p) => p.numRows), [6, 4]);
  assert.equal(partitions(t.slice(0, 0)), []);
  assert.throws(() => partitions(t, { count: 0 }), /count must be a positive integer/);
});

test('a flow fans out over the partitions of an engine result and fans in, in row order', async () => {
  const engine = await Engine.start({ memoryLimit: 1 << 28 });
  const n = 10_000;
  const ds = engine.fromArrow(tableFromArrays({ k: Int32Array.from({ length: n }, (_, i) => i % 7), v: Float64Array.from({ length: n }, (_, i) => i) }));
  const f = flow('parts')
    .node('load', { run: () => engine.query(ds).filter(col('k').lt(5)).collect() })
    .fanOut('sums', {
      after: ['load'],
      over: (c) => partitions(c.input('load') as Table, { count: 4 }),
      branch: (part: Table) => {
        const v = part.getChild('v')!.toArray() as Float64Array;
        return { rows: part.numRows, first: v[0], total: v.reduce((a, b) => a + b, 0) };
      },
    })
    .build();
  const run = await f.run();
  assert.is(run.state, 'completed');
  const parts = run.output('sums') as Array<{ rows: number; first: number; total: number }>;
  const kept = Array.from({ length: n }, (_, i) => i).filter((i) => i % 7 < 5);
  assert.is(parts.reduce((a, p) => a + p.rows, 0), kept.length);
  assert.equal(parts.map((p) => p.first), [0, 1, 2, 3].map((q) => kept[q * Math.ceil(kept.length / 4)]));
  const all = await engine.query(ds).filter(col('k').lt(5)).agg({ s: sum('v') }).collect();
  assert.is(parts.reduce((a, p) => a + p.total, 0), all.get(0)!.toJSON().s);
  await engine.close();
});

test.run();
