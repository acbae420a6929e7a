import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC, vectorFromArray, makeData, makeVector, Table, Utf8, Dictionary, Int32, DateDay } from 'apache-arrow';
import { Engine } from '../../src/engine/engine.js';
import { col, lit, sum, min, max, mean, count, countDistinct, UnknownColumnError, ExprTypeError } from '../../src/engine/expr.js';
import { FileFormatError } from '../../src/engine/io/ipc.js';
import { importTable } from '../../src/arrow/import.js';
import { MemoryDataset } from '../../src/engine/dataset.js';
import { schemaOf } from '../../src/engine/schema.js';
import { rng } from '../helpers/rng.js';

const engine = await Engine.start({ memoryLimit: 1 << 30 });

const N = 5000;
const r = rng(1234);
const flags = ['A', 'N', 'R'];
const data = {
  qty: Float64Array.from({ length: N }, () => Math.floor(r() * 50) + 1),
  price: Float64Array.from({ length: N }, () => Math.round(r() * 100000) / 100),
  disc: Float64Array.from({ length: N }, () => Math.floor(r() * 11) / 100),
  day: Int32Array.from({ length: N }, () => Math.floor(r() * 2000)),
  k: Int32Array.from({ length: N }, () => Math.floor(r() * 37)),
};
const flag = Array.from({ length: N }, () => flags[Math.floor(r() * 3)]);
const table = tableFromArrays({ ...data, flag });
const ds = engine.fromArrow(table, 'test');

const rows = () => Array.from({ length: N }, (_, i) => ({ qty: data.qty[i], price: data.price[i], disc: data.disc[i], day: data.day[i], k: data.k[i], flag: flag[i] }));
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

test('filter → derive → agg without keys matches a JS reference', async () => {
  const out = await engine.query(ds)
    .filter(col('qty').lt(24).and(col('disc').between(0.05, 0.07)))
    .derive({ rev: col('price').mul(col('disc')) })
    .agg({ revenue: sum('rev'), n: count(), lo: min('price'), hi: max('price'), avg: mean('qty') })
    .collect();
  const sel = rows().filter((x) => x.qty < 24 && x.disc >= 0.05 && x.disc <= 0.07);
  assert.is(out.numRows, 1);
  const got = out.get(0)!.toJSON() as Record<string, number | bigint>;
  assert.ok(close(got.revenue as number, sel.reduce((s, x) => s + x.price * x.disc, 0)), `revenue ${got.revenue}`);
  assert.is(Number(got.n), sel.length);
  assert.is(got.lo, Math.min(...sel.map((x) => x.price)));
  assert.is(got.hi, Math.max(...sel.map((x) => x.price)));
  assert.ok(close(got.avg as number, sel.reduce((s, x) => s + x.qty, 0) / sel.length));
  engine.release(out);
});

test('group by a string key with sum/mean/count, sorted', async () => {
  const out = await engine.query(ds)
    .filter(col('day').le(1500))
    .derive({ disc_price: col('price').mul(lit(1).sub(col('disc'))) })
    .groupBy('flag')
    .agg({ sum_qty: sum('qty'), avg_price: mean('price'), sum_dp: sum('disc_price'), n: count() })
    .sort('flag')
    .collect();
  const sel = rows().filter((x) => x.day <= 1500);
  const want = flags.map((f) => {
    const g = sel.filter((x) => x.flag === f);
    return { flag: f, sum_qty: g.reduce((s, x) => s + x.qty, 0), avg_price: g.reduce((s, x) => s + x.price, 0) / g.length, sum_dp: g.reduce((s, x) => s + x.price * (1 - x.disc), 0), n: g.length };
  });
  assert.equal(out.getChild('flag')!.toArray(), flags);
  for (let i = 0; i < 3; i++) {
    const row = out.get(i)!.toJSON() as Record<string, number | bigint>;
    assert.is(row.sum_qty, want[i].sum_qty);
    assert.ok(close(row.avg_price as number, want[i].avg_price));
    assert.ok(close(row.sum_dp as number, want[i].sum_dp));
    assert.is(Number(row.n), want[i].n);
  }
  engine.release(out);
});

test('sort descending with limit, and select', async () => {
  const out = await engine.query(ds).sort({ column: 'price', descending: true }).limit(5).select('price', 'k').collect();
  const want = [...data.price].sort((a, b) => b - a).slice(0, 5);
  assert.equal([...out.getChild('price')!.toArray()], want);
  assert.equal(out.schema.fields.map((f) => f.name), ['price', 'k']);
  const off = await engine.query(ds).sort('k', 'price').limit(3, 10).collect();
  const sorted = rows().sort((a, b) => a.k - b.k || a.price - b.price).slice(10, 13);
  assert.equal([...off.getChild('price')!.toArray()], sorted.map((x) => x.price));
  engine.release(out);
  engine.release(off);
});

test('inner and left hash joins', async () => {
  const dim = engine.fromArrow(tableFromArrays({ k: Int32Array.from([1, 2, 3, 40]), label: ['one', 'two', 'three', 'forty'] }), 'dim');
  const inner = await engine.query(ds).join(dim, { on: 'k' }).select('k', 'label').collect();
  const want = rows().filter((x) => [1, 2, 3].includes(x.k));
  assert.is(inner.numRows, want.length);
  const labels = inner.getChild('label')!.toArray() as string[];
  const ks = inner.getChild('k')!.toArray() as Int32Array;
  for (let i = 0; i < inner.numRows; i++) assert.is(labels[i], ['', 'one', 'two', 'three'][ks[i]]);
  const left = await engine.query(ds).join(dim, { on: 'k', how: 'left' }).collect();
  assert.is(left.numRows, N);
  assert.is(left.getChild('label')!.nullCount, N - want.length);
  engine.release(inner);
  engine.release(left);
  dim.release();
});

test('countDistinct and count(*) over the whole input', async () => {
  const out = await engine.query(ds).agg({ d: countDistinct('k'), n: count() }).collect();
  assert.is(Number(out.get(0)!.toJSON().d), new Set(data.k).size);
  assert.is(Number(out.get(0)!.toJSON().n), N);
  engine.release(out);
});

test('countDistinct per group, beside other aggregates', async () => {
  const out = await engine.query(ds).filter(col('day').lt(1000)).groupBy('flag').agg({ d: countDistinct('k'), n: count(), s: sum('qty') }).sort('flag').collect();
  const sel = rows().filter((x) => x.day < 1000);
  const got = out.toArray().map((r) => r.toJSON() as Record<string, unknown>);
  assert.equal(got.map((r) => r.flag), flags);
  for (const r of got) {
    const g = sel.filter((x) => x.flag === r.flag);
    assert.is(Number(r.d), new Set(g.map((x) => x.k)).size, `distinct k for ${r.flag}`);
    assert.is(Number(r.n), g.length);
    assert.is(r.s, g.reduce((a, x) => a + x.qty, 0));
  }
  engine.release(out);
});

test('results view the engine memory and are released explicitly', async () => {
  const before = engine.liveResults;
  const out = await engine.query(ds).filter(col('k').eq(3)).select('price').collect();
  assert.ok(out.getChild('price')!.data[0].values.buffer === engine.ctx.mem.buffer);
  assert.is(engine.liveResults, before + 1);
  assert.ok(engine.release(out));
  assert.is(engine.liveResults, before);
});

test('date arithmetic: a shifted date literal filters a date column; released datasets are dropped', async () => {
  const live = engine.liveDatasets;
  const d = engine.fromArrow(tableFromArrays({ d: vectorFromArray([0, 10, 20, 30].map((x) => new Date(x * 86_400_000)), new DateDay()), v: Int32Array.of(1, 2, 3, 4) }));
  assert.is(engine.liveDatasets, live + 1);
  const out = await engine.query(d).filter(col('d').le(lit.date('1970-01-31').sub(10))).derive({ next: col('d').add(1) }).collect();
  assert.equal([...out.getChild('v')!.toArray()], [1, 2, 3]);
  assert.is(out.schema.fields.find((f) => f.name === 'next')!.type.toString(), 'Date32<DAY>');
  engine.release(out);
  d.release();
  assert.is(engine.liveDatasets, live);
});

test('a dataset of several batches with different dictionaries concatenates (filter, sort)', async () => {
  const scope = engine.ctx.scope();
  const b1 = importTable(engine.ctx, scope, tableFromArrays({ s: ['a', 'b', 'a'], v: Float64Array.of(1, 2, 3) }));
  const b2 = importTable(engine.ctx, scope, tableFromArrays({ s: ['c', 'a'], v: Float64Array.of(4, 5) }));
  const two = new MemoryDataset('two batches', schemaOf(b1), [b1, b2], scope);
  const out = await engine.query(two).filter(col('v').gt(1)).sort('-v').collect();
  assert.equal(out.toArray().map((r) => [r.s, r.v]), [['a', 5], ['c', 4], ['a', 3], ['b', 2]]);
  engine.release(out);
  two.release();
});

test('explain shows fused pipelines and breakers', () => {
  const text = engine.query(ds).filter(col('qty').gt(10)).derive({ x: col('price').mul(2) }).groupBy('flag').agg({ s: sum('x') }).explain();
  assert.match(text, /pipeline \(fused per morsel\): filter \(qty > 10\) → derive x = \(price \* 2\) → hash aggregate by flag/);
});

test('bad queries fail at the call, naming column or types', () => {
  assert.throws(() => engine.query(ds).filter(col('qtty').gt(1)), (e: unknown) => e instanceof UnknownColumnError && /qtty.*available: qty/.test((e as Error).message));
  assert.throws(() => engine.query(ds).filter(col('flag').gt(col('qty'))), (e: unknown) => e instanceof ExprTypeError && /dictionary<i32, utf8> vs float64/.test((e as Error).message));
  assert.throws(() => engine.query(ds).groupBy('flag').agg({ s: sum('flag') }), (e: unknown) => e instanceof ExprTypeError);
});

test('IPC files: write a result, read it back, scan it; corrupt files are typed errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'af-ipc-'));
  const path = join(dir, 'out.arrow');
  const w = await engine.query(ds).filter(col('k').lt(5)).select('k', 'price', 'flag').write(path);
  const back = await engine.read(path);
  const n = rows().filter((x) => x.k < 5).length;
  assert.is(w.rows, n);
  assert.is(back.rows, n);
  const scanned = await engine.scan(path);
  const agg = await engine.query(scanned).agg({ s: sum('price') }).collect();
  assert.ok(close(agg.get(0)!.toJSON().s as number, rows().filter((x) => x.k < 5).reduce((s, x) => s + x.price, 0)));
  engine.release(agg);
  back.release();
  const bad = join(dir, 'bad.arrow');
  const bytes = tableToIPC(table, 'file');
  writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
  let err: unknown;
  try { await engine.read(bad); } catch (e) { err = e; }
  assert.instance(err, FileFormatError);
  assert.match((err as Error).message, /bad\.arrow/);
});

test('dictionary string columns compare against string literals', async () => {
  const dict = vectorFromArray(['x', 'y', 'x', null, 'z', 'x'], new Dictionary(new Utf8(), new Int32()));
  const t = new Table({ s: dict, v: vectorFromArray([1, 2, 3, 4, 5, 6]) });
  const d2 = engine.fromArrow(t);
  const out = await engine.query(d2).filter(col('s').eq('x')).agg({ s: sum('v') }).collect();
  assert.is(Number(out.get(0)!.toJSON().s), 1 + 3 + 6);
  engine.release(out);
  d2.release();
});

test('a dictionary holding a string twice groups and counts by string, not by code', async () => {
  const dictionary = vectorFromArray(['p', 'q', 'p', 'r', 'q'], new Utf8());
  const type = new Dictionary(new Utf8(), new Int32());
  const codes = new Int32Array([0, 1, 2, 3, 4, 0, 2, 4]); // p q p r q p p q
  const s = makeVector(makeData({ type, length: codes.length, data: codes, dictionary }));
  const t = new Table({ s, v: vectorFromArray([1, 2, 3, 4, 5, 6, 7, 8]) });
  const d = engine.fromArrow(t);
  const g = await engine.query(d).groupBy('s').agg({ n: count(), total: sum('v') }).sort('s').collect();
  assert.equal(g.toArray().map((r) => { const o = r.toJSON(); return [o.s, Number(o.n), Number(o.total)]; }),
    [['p', 4, 1 + 3 + 6 + 7], ['q', 3, 2 + 5 + 8], ['r', 1, 4]]);
  const c = await engine.query(d).agg({ k: countDistinct('s') }).collect();
  assert.is(Number(c.get(0)!.toJSON().k), 3);
  engine.release(g);
  engine.release(c);
  d.release();
});

test.after(async () => { await engine.close(); });
test.run();
