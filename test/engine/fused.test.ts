// Fused morsel pipelines (src/engine/fused.ts) against the materializing executor: the same query
// run both ways must give the same groups and values (integers exact, floats 1e-9 relative), on
// seeded random data with nulls everywhere, several batches with different dictionaries, tiny
// morsels (many per batch, ragged tails), and empty inputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Dictionary, Field, Float32, Float64, Int16, Int32, Int64, Int8, RecordBatch, Schema, Struct, Table, Uint8, Utf8, DateDay, makeData, vectorFromArray, type DataType } from 'apache-arrow';
import { Engine } from '../../src/engine/engine.js';
import { execOptions } from '../../src/engine/exec.js';
import { col, lit, sum, min, max, mean, count, countDistinct, type Expr, type AggExpr } from '../../src/engine/expr.js';
import { compileFused } from '../../src/engine/fused.js';
import type { Query } from '../../src/engine/query.js';
import type { Dataset } from '../../src/engine/dataset.js';
import { rng } from '../helpers/rng.js';

const engine = await Engine.start({ memoryLimit: 1 << 30 });

/** A batch of n random rows; every column has nulls (rate pNull); dictionaries differ per batch. */
function batch(r: () => number, n: number, dictWords: string[], pNull = 0.1): RecordBatch {
  const bits = () => {
    const v = new Uint8Array(Math.ceil(n / 8));
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      if (r() >= pNull) v[i >> 3] |= 1 << (i & 7);
      else nulls++;
    }
    return { v, nulls };
  };
  const field = <T extends DataType>(name: string, type: T, data: ArrayLike<number | bigint> & { length: number }, extra: Record<string, unknown> = {}) => {
    const b = bits();
    return { f: new Field(name, type, true), d: makeData({ type, length: n, data: data as never, nullBitmap: b.v, nullCount: b.nulls, ...extra } as never) };
  };
  const dict = vectorFromArray(dictWords, new Utf8());
  const cols = [
    field('qty', new Float64(), Float64Array.from({ length: n }, () => Math.floor(r() * 50) + 1)),
    field('price', new Float64(), Float64Array.from({ length: n }, () => Math.round(r() * 1e6) / 100)),
    field('disc', new Float64(), Float64Array.from({ length: n }, () => Math.floor(r() * 11) / 100)),
    field('f32', new Float32(), Float32Array.from({ length: n }, () => (r() - 0.5) * 100)),
    field('i32', new Int32(), Int32Array.from({ length: n }, () => Math.floor((r() - 0.5) * 2000))),
    field('i64', new Int64(), BigInt64Array.from({ length: n }, () => BigInt(Math.floor((r() - 0.5) * 1e12)))),
    field('i16', new Int16(), Int16Array.from({ length: n }, () => Math.floor((r() - 0.5) * 600))),
    field('u8', new Uint8(), Uint8Array.from({ length: n }, () => Math.floor(r() * 256))),
    field('k', new Int8(), Int8Array.from({ length: n }, () => Math.floor(r() * 5) - 2)),
    field('day', new DateDay(), Int32Array.from({ length: n }, () => 8000 + Math.floor(r() * 3000))),
    field('flag', new Dictionary(new Utf8(), new Int8(), 7), Int8Array.from({ length: n }, () => Math.floor(r() * dictWords.length)), { dictionary: dict }),
  ];
  const fields = cols.map((c) => c.f);
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: cols.map((c) => c.d) }));
}

function dataset(seed: number, sizes: number[], pNull = 0.1): Dataset {
  const r = rng(seed);
  const words = [['A', 'N', 'R'], ['R', 'A'], ['N', 'O', 'A', 'R', 'F']];
  return engine.fromArrow(new Table(sizes.map((n, i) => batch(r, n, words[i % words.length], pNull))), `seed ${seed}`);
}

type Row = Record<string, unknown>;
const close = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

async function rowsOf(q: Query, fuse: boolean): Promise<Row[]> {
  const saved = execOptions.fuse;
  execOptions.fuse = fuse;
  try {
    const t = await q.collect();
    const rows = t.toArray().map((x) => ({ ...x.toJSON() }) as Row);
    engine.release(t);
    return rows;
  } finally {
    execOptions.fuse = saved;
  }
}

const keyOf = (r: Row, keys: string[]) => keys.map((k) => String(r[k])).join('|');

async function same(label: string, q: Query, keys: string[] = []): Promise<void> {
  assert.ok(compileFused(q.logicalPlan, q.source, 128), `${label}: expected the fused path to compile`);
  const want = await rowsOf(q, false);
  const got = await rowsOf(q, true);
  assert.is(got.length, want.length, `${label}: row count`);
  const byKey = new Map(want.map((r) => [keyOf(r, keys), r]));
  for (const g of got) {
    const w = byKey.get(keyOf(g, keys));
    assert.ok(w, `${label}: unexpected group ${keyOf(g, keys)}`);
    for (const [name, x] of Object.entries(w!)) {
      const y = g[name];
      const ok = typeof x === 'number' && typeof y === 'number' ? close(x, y) : x === y || String(x) === String(y);
      assert.ok(ok, `${label}: ${name} of group ${keyOf(g, keys)}: fused ${String(y)} vs ${String(x)}`);
    }
  }
  // Same output schema either way.
  const saved = execOptions.fuse;
  execOptions.fuse = true;
  const t = await q.collect();
  execOptions.fuse = saved;
  const u = await q.collect();
  assert.equal(t.schema.fields.map((f) => `${f.name}:${f.type}`), u.schema.fields.map((f) => `${f.name}:${f.type}`), `${label}: schema`);
  engine.release(t);
  engine.release(u);
}

const aggsAll: Record<string, AggExpr> = {
  n: count(), n_qty: count('qty'), s_qty: sum('qty'), m_price: mean('price'), lo_price: min('price'), hi_price: max('price'),
  s_i32: sum('i32'), m_i32: mean('i32'), lo_i32: min('i32'), hi_i32: max('i32'), s_i64: sum('i64'), m_i64: mean('i64'), hi_i64: max('i64'),
  s_u8: sum('u8'), lo_u8: min('u8'), s_f32: sum('f32'), hi_f32: max('f32'), lo_day: min('day'), s_i16: sum('i16'), n_flag: count('flag'),
};

const q1Like = (ds: Dataset, morselFilter: Expr) => engine.query(ds)
  .filter(morselFilter)
  .derive({ disc_price: col('price').mul(lit(1).sub(col('disc'))) })
  .derive({ charge: col('disc_price').mul(lit(1).add(col('disc'))), mixed: col('i32').mul(col('qty')), idiv: col('i32').div(col('k')) });

const saveMorsel = execOptions.morselRows;
execOptions.morselRows = 128;

test('scalar aggregates of every type, filtered, several batches and ragged morsels', async () => {
  for (const seed of [1, 2, 3]) {
    const ds = dataset(seed, [1000, 37, 640, 129]);
    await same(`seed ${seed} all`, engine.query(ds).agg(aggsAll));
    await same(`seed ${seed} filtered`, engine.query(ds).filter(col('day').le(lit.date('1998-09-02')).and(col('qty').lt(24))).agg(aggsAll));
    await same(`seed ${seed} or/not/isNull`, engine.query(ds)
      .filter(col('disc').between(0.02, 0.07).or(col('i32').isNull()).and(col('price').gt(5000).not()))
      .agg(aggsAll));
  }
});

test('Q1-like: derive chains, int division by zero, casts, group by dictionary × int key with null keys', async () => {
  for (const seed of [4, 5]) {
    const ds = dataset(seed, [700, 333, 1024]);
    const q = q1Like(ds, col('day').le(lit.date('1998-09-02')).and(col('u8').ne(7)))
      .groupBy('flag', 'k')
      .agg({
        sum_qty: sum('qty'), sum_price: sum('price'), sum_dp: sum('disc_price'), sum_charge: sum('charge'), avg_qty: mean('qty'),
        avg_disc: mean('disc'), n: count(), s_mixed: sum('mixed'), s_idiv: sum('idiv'), n_idiv: count('idiv'), m_i64: mean('i64'), lo: min('f32'),
      })
      .sort('flag', 'k');
    await same(`seed ${seed} q1`, q, ['flag', 'k']);
    await same(`seed ${seed} by k`, engine.query(ds).groupBy('k').agg(aggsAll), ['k']);
    await same(`seed ${seed} by day`, engine.query(ds).filter(col('day').lt(8100)).groupBy('day').agg({ n: count(), s: sum('price') }), ['day']);
  }
});

test('Q6-like: conjunction of ranges into a masked sum of a product', async () => {
  const ds = dataset(6, [2000, 1500], 0.05);
  const q = engine.query(ds)
    .filter(col('day').ge(lit.date('1994-01-01')).and(col('day').lt(lit.date('1995-01-01'))).and(col('disc').between(0.05, 0.07)).and(col('qty').lt(24)))
    .agg({ revenue: sum(col('price').mul(col('disc'))), n: count() });
  await same('q6', q);
});

test('nothing selected, all-null columns, and empty batches', async () => {
  const ds = dataset(7, [300, 0, 200]);
  await same('none selected', engine.query(ds).filter(col('qty').gt(1000)).agg(aggsAll));
  await same('none selected keyed', engine.query(ds).filter(col('qty').gt(1000)).groupBy('flag').agg({ n: count(), s: sum('qty') }), ['flag']);
  const nulls = dataset(8, [200, 100], 1);
  await same('all null', engine.query(nulls).agg(aggsAll));
  await same('all null keyed', engine.query(nulls).groupBy('flag', 'k').agg({ n: count(), s: sum('qty'), m: mean('i32') }), ['flag', 'k']);
  const empty = engine.fromArrow(new Table([batch(rng(9), 0, ['A'])]), 'empty');
  await same('empty', engine.query(empty).agg({ n: count(), s: sum('qty'), lo: min('i32') }));
});

test('select and derive shadowing a source column stay correct', async () => {
  const ds = dataset(10, [500]);
  await same('shadow', engine.query(ds).derive({ qty: col('qty').mul(2) }).select('qty', 'flag').groupBy('flag').agg({ s: sum('qty') }), ['flag']);
});

test('what the fused path does not take falls back (same results as before)', async () => {
  const ds = dataset(11, [400]);
  assert.not.ok(compileFused(engine.query(ds).agg({ d: countDistinct('k') }).logicalPlan, ds));
  assert.not.ok(compileFused(engine.query(ds).filter(col('flag').eq('A')).agg({ n: count() }).logicalPlan, ds));
  const t = await engine.query(ds).filter(col('flag').eq('A')).agg({ n: count(), d: countDistinct('k') }).collect();
  assert.is(t.numRows, 1);
  engine.release(t);
});

test.after(() => {
  execOptions.morselRows = saveMorsel;
});

test.run();
