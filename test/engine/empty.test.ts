/**
 * Empty sources: a table with zero record batches, an IPC file / stream with only a schema, a CSV
 * with only a header, a Parquet file with zero row groups. Every step kind must run on them and give
 * an empty Table with the right schema — except `agg` without keys, which gives one row like SQL:
 * count 0, countDistinct 0, and null sum / min / max / mean (checked against DuckDB). Both executors
 * run (fused and materialized).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dictionary, Field, Float64, Int32, Schema, Table, Utf8, tableFromArrays, tableToIPC } from 'apache-arrow';
import { Engine } from '../../src/engine/engine.js';
import { MemoryDataset, type Dataset } from '../../src/engine/dataset.js';
import { execOptions } from '../../src/engine/exec.js';
import { col, count, countDistinct, max, mean, min, sum } from '../../src/engine/expr.js';
import type { Query } from '../../src/engine/query.js';
import { arrowRows, diffRows, duckRows, openDuck } from '../helpers/duckdb.js';

const engine = await Engine.start({ memoryLimit: 1 << 28 });
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-empty-'));
const schema = new Schema([
  new Field('a', new Int32(), true), new Field('s', new Utf8(), true), new Field('x', new Float64(), true),
  new Field('d', new Dictionary(new Utf8(), new Int32()), true),
]);
const empty = new Table(schema);
writeFileSync(join(dir, 'e.arrow'), tableToIPC(empty, 'file'));
writeFileSync(join(dir, 'e.arrows'), tableToIPC(empty, 'stream'));
writeFileSync(join(dir, 'e.csv'), 'a,s,x\n');
const duck = await openDuck();
await duck.conn.run(`CREATE TABLE e (a INTEGER, s VARCHAR, x DOUBLE)`);
await duck.conn.run(`COPY e TO '${join(dir, 'e.parquet')}' (FORMAT parquet)`);

// A non-empty table for joins against the empty side.
const full = engine.fromArrow(tableFromArrays({ a: Int32Array.from([1, 2, 2]), y: Float64Array.from([0.5, 1.5, 2.5]) }), 'full');
const csvSchema = { a: 'int32', s: 'utf8', x: 'float64' } as const;

/** Every kind of empty source; each has at least a, s, x. */
async function sources(): Promise<Array<[string, Dataset]>> {
  const fromArrow = engine.fromArrow(empty, 'empty table');
  return [
    ['zero batches', new MemoryDataset('zero batches', fromArrow.schema, [], engine.ctx.scope())],
    ['arrow table without batches', fromArrow],
    ['IPC file, schema only (read)', await engine.read(join(dir, 'e.arrow'))],
    ['IPC stream, schema only (scan)', await engine.scan(join(dir, 'e.arrows'))],
    ['CSV header only, explicit schema (read)', await engine.read(join(dir, 'e.csv'), { csv: { schema: csvSchema } })],
    ['CSV header only, explicit schema (scan)', await engine.scan(join(dir, 'e.csv'), { csv: { schema: csvSchema } })],
    ['Parquet, 0 row groups (read)', await engine.read(join(dir, 'e.parquet'))],
    ['Parquet, 0 row groups (scan)', await engine.scan(join(dir, 'e.parquet'))],
  ];
}

const fieldsOf = (t: Table) => t.schema.fields.map((f) => `${f.name}:${f.type}`).join(', ');

/** The steps, each with the schema its result must have (a function of the source's types). */
const STEPS: Array<[string, (q: Query) => Query, string[]]> = [
  ['no step', (q) => q.select('a', 's', 'x'), ['a:Int32', 's:Utf8', 'x:Float64']],
  ['filter', (q) => q.filter(col('a').gt(1).and(col('s').lt('m'))).select('a', 's', 'x'), ['a:Int32', 's:Utf8', 'x:Float64']],
  ['derive', (q) => q.derive({ y: col('x').mul(2), t: col('a').add(1) }).select('y', 't'), ['y:Float64', 't:Int32']],
  ['filter → derive', (q) => q.filter(col('x').lt(3)).derive({ y: col('x').add(col('a')) }).select('a', 'y'), ['a:Int32', 'y:Float64']],
  ['groupBy(int) / agg', (q) => q.groupBy('a').agg({ n: count(), sx: sum('x') }), ['a:Int32', 'n:Int64', 'sx:Float64']],
  ['groupBy(utf8) / agg', (q) => q.groupBy('s').agg({ n: count(), m: max('x'), cd: countDistinct('a') }), ['s:Utf8', 'n:Int64', 'm:Float64', 'cd:Int64']],
  ['filter → groupBy / agg', (q) => q.filter(col('x').gt(0)).groupBy('a').agg({ m: mean('x') }), ['a:Int32', 'm:Float64']],
  ['sort', (q) => q.sort('s', '-a').select('a', 's', 'x'), ['a:Int32', 's:Utf8', 'x:Float64']],
  ['limit', (q) => q.limit(5, 2).select('a', 's', 'x'), ['a:Int32', 's:Utf8', 'x:Float64']],
  ['inner join (empty probe side)', (q) => q.select('a', 'x').join(full, { on: 'a' }), ['a:Int32', 'x:Float64', 'y:Float64']],
  ['left join (empty probe side)', (q) => q.select('a', 's').join(full, { on: 'a', how: 'left' }), ['a:Int32', 's:Utf8', 'y:Float64']],
];

/** agg without keys: one row, as SQL has it. */
const AGG = (q: Query) => q.agg({ n: count(), nx: count('x'), sx: sum('x'), sa: sum('a'), lo: min('a'), hi: max('x'), avg: mean('x'), cd: countDistinct('a') });
const AGG_SQL = 'SELECT count(*) AS n, count(x) AS nx, sum(x) AS sx, sum(a) AS sa, min(a) AS lo, max(x) AS hi, avg(x) AS avg, count(DISTINCT a) AS cd FROM e';

for (const fuse of [true, false]) {
  test(`every step over every empty source gives an empty table with the right schema (${fuse ? 'fused' : 'materialized'})`, async () => {
    execOptions.fuse = fuse;
    try {
      for (const [label, ds] of await sources()) {
        for (const [step, f, want] of STEPS) {
          const out = await f(engine.query(ds)).collect();
          assert.is(out.numRows, 0, `${label} / ${step}: rows`);
          assert.is(fieldsOf(out), want.join(', '), `${label} / ${step}: schema`);
          engine.release(out);
        }
        const out = await AGG(engine.query(ds)).collect();
        const d = diffRows(arrowRows(out), await duckRows(duck, AGG_SQL), true);
        assert.is(d, null, `${label} / agg without keys vs DuckDB: ${d}`);
        assert.is(fieldsOf(out), 'n:Int64, nx:Int64, sx:Float64, sa:Int64, lo:Int32, hi:Float64, avg:Float64, cd:Int64', `${label} / agg schema`);
        engine.release(out);
      }
    } finally {
      execOptions.fuse = true;
    }
  });
}

test('joins with an empty build side: inner gives nothing, left keeps every probe row with nulls', async () => {
  for (const [label, ds] of await sources()) {
    const right = engine.query(ds).select('a', 's');
    const inner = await engine.query(full).join(right, { on: 'a' }).collect();
    assert.is(inner.numRows, 0, `${label} inner`);
    assert.is(fieldsOf(inner), 'a:Int32, y:Float64, s:Utf8');
    const left = await engine.query(full).join(right, { on: 'a', how: 'left' }).sort('y').collect();
    assert.equal(left.toArray().map((r) => r.toJSON()), [{ a: 1, y: 0.5, s: null }, { a: 2, y: 1.5, s: null }, { a: 2, y: 2.5, s: null }], `${label} left`);
    engine.release(inner);
    engine.release(left);
  }
});

test('header-only CSV without a schema: columns are utf8 (nothing to infer from), queries still run', async () => {
  const ds = await engine.read(join(dir, 'e.csv'));
  assert.equal([...ds.schema.values()].map((t) => t.name), ['utf8', 'utf8', 'utf8']);
  const out = await engine.query(ds).filter(col('s').ge('x')).sort('a').collect();
  assert.is(out.numRows, 0);
  assert.is(fieldsOf(out), 'a:Utf8, s:Utf8, x:Utf8');
  engine.release(out);
});

test('the Parquet fixture really has zero row groups; stream() and write() of an empty result work', async () => {
  const meta = await duckRows(duck, `SELECT num_row_groups FROM parquet_file_metadata('${join(dir, 'e.parquet')}')`);
  assert.equal(meta, [{ num_row_groups: 0n }]);
  const ds = new MemoryDataset('zero batches', engine.fromArrow(empty).schema, [], engine.ctx.scope());
  let batches = 0;
  for await (const b of engine.query(ds).filter(col('a').gt(0)).stream()) batches += b.numRows;
  assert.is(batches, 0);
  const w = await engine.query(ds).select('a', 's').write(join(dir, 'out.arrow'));
  assert.is(w.rows, 0);
  const back = await engine.read(join(dir, 'out.arrow'));
  assert.equal([...back.schema.keys()], ['a', 's']);
});

test.after(async () => {
  duck.close();
  await engine.close();
});

test.run();
