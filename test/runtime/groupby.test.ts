import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { columnFromArray, columnFromStrings, stringsOf, valuesView } from '../../src/column-alloc.js';
import type { Column } from '../../src/column.js';
import { JobAbortedError, UnsupportedTypeError } from '../../src/errors.js';
import { groupBy as groupByKernel, groupBySum as groupBySumKernel, type GroupAgg } from '../../src/kernels/groupby.js';
import { groupBy, groupBySum, keyRangeJob } from '../../src/runtime/plans.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { randomArray, randomValidity, typeOf } from '../helpers/columns.js';
import { rng } from '../helpers/rng.js';

let rt: Runtime;

test.before(async () => {
  rt = await Runtime.start({ workers: 2, maxBytes: 1 << 30, morselRows: 1024 });
});

test.after(async () => {
  await rt.close();
});

const bit = (col: Column, i: number) => col.validity === 0 || ((col.ctx.mem.u8[col.validity + (i >>> 3)] >>> (i & 7)) & 1) === 1;

test('keyRange in parallel: min, max and valid count over morsels', async () => {
  const scope = rt.ctx.scope();
  const r = rng(5);
  const keys = Int32Array.from({ length: 70_000 }, () => Math.floor(r() * 2000) - 1000);
  const valid = randomValidity(keys.length, r, 0.1);
  const col = columnFromArray(rt.ctx, scope, typeOf('int32'), keys, valid);
  let min = Infinity, max = -Infinity, n = 0;
  keys.forEach((k, i) => { if (valid[i]) { n++; min = Math.min(min, k); max = Math.max(max, k); } });
  assert.equal(await rt.run(keyRangeJob(col)), { min: BigInt(min), max: BigInt(max), valid: n });
  scope.close();
});

/** The parallel groupBySum against the single-thread kernel (dense or hash: both in key order, null key last). */
async function sameSums(key: Column, value: Column, where: string): Promise<number> {
  const par = await groupBySum(rt, key, value);
  const one = groupBySumKernel(key, value);
  assert.is(par.groups, one.groups, `${where}: groups`);
  // The kernel's hash path gives first-appearance order: compare by key.
  const kv = valuesView(one.keys);
  const sv = valuesView(one.sums);
  const byKey = new Map<number | null, number | bigint | null>();
  for (let g = 0; g < one.groups; g++) byKey.set(bit(one.keys, g) ? Number(kv[g]) : null, bit(one.sums, g) ? sv[g] : null);
  for (let g = 0; g < par.groups; g++) {
    const isNullKey = par.nullKeyGroup && g === par.groups - 1;
    const k = isNullKey ? null : par.keys[g];
    if (g > 0 && !isNullKey) assert.ok(par.keys[g - 1] < par.keys[g], `${where}: keys ascending at ${g}`);
    assert.ok(byKey.has(k), `${where}: group ${k} missing on one thread`);
    const want = byKey.get(k);
    const got = par.sums[g];
    if (typeof want === 'number' && typeof got === 'number') assert.ok(Object.is(got, want) || Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${where} group ${k}: ${got} vs ${want}`);
    else assert.is(got, want, `${where} group ${k}`);
  }
  return par.groups;
}

for (const valueType of ['float64', 'int64', 'int32', 'float32', 'uint16'] as const) {
  test(`groupBySum in parallel equals the single-thread kernel (${valueType} values, null keys and values)`, async () => {
    const scope = rt.ctx.scope();
    const r = rng(11);
    const n = 123_457;
    const keys = Int32Array.from({ length: n }, () => Math.floor(r() * 1000) + 17);
    const key = columnFromArray(rt.ctx, scope, typeOf('int32'), keys, randomValidity(n, r, 0.01));
    const value = columnFromArray(rt.ctx, scope, typeOf(valueType), randomArray(valueType, n, r, false), randomValidity(n, r, 0.05));
    await sameSums(key, value, valueType);
    scope.close();
  });
}

test('groupBySum: windows that grow on a worker, keys drifting across morsels, negative and extreme keys', async () => {
  const r = rng(31);
  const n = 200_000; // morsels of 4096 rows (≤ ~64 per job): 49 tables
  const scope = rt.ctx.scope();
  const cases: Array<[string, (i: number) => number]> = [
    // The sample (first 4096 rows) sees keys 0..9; later morsels need far wider windows.
    ['narrow sample, wide later', (i) => (i < 4096 ? i % 10 : Math.floor(r() * 20_000))],
    // Every morsel has its own narrow window: merged by absolute key.
    ['drifting', (i) => Math.floor(i / 100) - 500],
    ['drifting down, noisy', (i) => 30_000 - Math.floor(i / 8) + Math.floor(r() * 50)],
    ['negative', (i) => -50_000 + Math.floor(r() * 3000)],
    ['near i32 min', (i) => -(2 ** 31) + Math.floor(r() * 700)],
    ['near i32 max', (i) => 2 ** 31 - 1 - (i < 50_000 ? 3 : Math.floor(r() * 40_000))],
  ];
  for (const [where, f] of cases) {
    const keys = Int32Array.from({ length: n }, (_, i) => f(i));
    const key = columnFromArray(rt.ctx, scope, typeOf('int32'), keys, randomValidity(n, r, 0.02));
    for (const vt of ['float64', 'int64'] as const) {
      const value = columnFromArray(rt.ctx, scope, typeOf(vt), randomArray(vt, n, r, false), randomValidity(n, r, 0.1));
      await sameSums(key, value, `${where} (${vt})`);
    }
  }
  assert.is(rt.stats().tasksInUse, 0);
  scope.close();
});

test('groupBySum: keys spanning more than the dense limit take the hash plan (early, late, or only all morsels together)', async () => {
  const r = rng(37);
  const n = 100_000;
  const scope = rt.ctx.scope();
  const cases: Array<[string, (i: number) => number]> = [
    ['wide from the first rows', () => Math.floor(r() * 2 ** 31) - 2 ** 30],
    ['one wide key late in one morsel', (i) => (i === 77_777 ? 1e9 : Math.floor(r() * 500))],
    ['every morsel narrow, all together wide', (i) => i * 3],
    ['over 2 × rows (limit 200 000)', (i) => (i % 2 === 0 ? 0 : 150_000 + (i % 7))],
  ];
  for (const [where, f] of cases) {
    const keys = Int32Array.from({ length: n }, (_, i) => f(i));
    const key = columnFromArray(rt.ctx, scope, typeOf('int32'), keys, randomValidity(n, r, 0.01));
    const value = columnFromArray(rt.ctx, scope, typeOf('float64'), randomArray('float64', n, r, false), randomValidity(n, r, 0.05));
    await sameSums(key, value, where);
  }
  scope.close();
});

test('groupBySum: 0 and 1 rows, all keys null, all values null, an aborted run', async () => {
  const scope = rt.ctx.scope();
  const f64 = typeOf('float64');
  const i32 = typeOf('int32');
  for (const [where, keys, kvalid, vals, vvalid] of [
    ['empty', [], undefined, [], undefined],
    ['one row', [-7], undefined, [2.5], undefined],
    ['one null key', [5], [false], [1], undefined],
    ['one null value', [5], undefined, [1], [false]],
    ['all keys null', [1, 2, 3, 4], [false, false, false, false], [1, 2, 3, 4], undefined],
    ['all values null', [1, 2, 1, 2], undefined, [1, 2, 3, 4], [false, false, false, false]],
  ] as const) {
    const key = columnFromArray(rt.ctx, scope, i32, Int32Array.from(keys), kvalid ? [...kvalid] : undefined);
    const value = columnFromArray(rt.ctx, scope, f64, Float64Array.from(vals), vvalid ? [...vvalid] : undefined);
    await sameSums(key, value, where);
  }
  const r = rng(41);
  const n = 100_000;
  const key = columnFromArray(rt.ctx, scope, i32, Int32Array.from({ length: n }, () => Math.floor(r() * 100)));
  const value = columnFromArray(rt.ctx, scope, f64, randomArray('float64', n, r, false));
  try {
    await groupBySum(rt, key, value, { signal: AbortSignal.abort(new Error('stop')) });
    assert.unreachable('an aborted run resolved');
  } catch (e) {
    assert.instance(e, JobAbortedError);
  }
  assert.is((await groupBySum(rt, key, value)).groups, 100);
  assert.is(rt.stats().tasksInUse, 0);
  scope.close();
});

test('groupBySum: non-int32 keys are typed errors', async () => {
  const scope = rt.ctx.scope();
  const f = columnFromArray(rt.ctx, scope, typeOf('float64'), new Float64Array(10));
  try {
    await groupBySum(rt, f, f);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnsupportedTypeError);
  }
  const k = columnFromArray(rt.ctx, scope, typeOf('int32'), Int32Array.from([0, 1e6]));
  const utf8 = columnFromStrings(rt.ctx, scope, ['a', 'b']);
  try {
    await groupBySum(rt, k, utf8);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnsupportedTypeError);
  }
  scope.close();
});

// ---- general group-by (dense and hash paths, every aggregate) ------------------------------------

type Cell = number | bigint | string | null;

function cells(col: Column): Cell[] {
  if (col.type.name === 'utf8' || col.type.name === 'dictionary') return stringsOf(col);
  const v = valuesView(col);
  return Array.from({ length: col.length }, (_, i) => (bit(col, i) ? v[i] : null));
}

function sameCells(a: Cell[], b: Cell[], where: string, float: boolean): void {
  assert.is(a.length, b.length, `${where}: length`);
  for (let i = 0; i < b.length; i++) {
    const x = a[i], y = b[i];
    if (float && typeof x === 'number' && typeof y === 'number' && !Object.is(x, y)) {
      if (!(Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y)))) assert.unreachable(`${where} row ${i}: ${x} vs ${y}`);
    } else if (!Object.is(x, y)) assert.unreachable(`${where} row ${i}: ${String(x)} vs ${String(y)}`);
  }
}

/** Parallel vs single thread, same path, same group order; float sums/means to 1e-9. */
async function check(keys: Column[], aggs: GroupAgg[], where: string, path: 'auto' | 'hash' = 'auto'): Promise<string> {
  const par = await groupBy(rt, keys, aggs, { path });
  const one = groupByKernel(keys, aggs, { path: par.path });
  assert.is(par.groups, one.groups, `${where}: groups`);
  par.keys.forEach((k, i) => sameCells(cells(k), cells(one.keys[i]), `${where} key ${i}`, false));
  par.results.forEach((c, i) => {
    assert.is(c.type.name, one.results[i].type.name, `${where} agg ${i} type`);
    assert.is(c.nullCount, one.results[i].nullCount, `${where} agg ${i} nulls`);
    sameCells(cells(c), cells(one.results[i]), `${where} agg ${i} (${aggs[i].op})`, c.type.name === 'float64' || c.type.name === 'float32');
  });
  return par.path;
}

const ALL_OPS = ['count', 'sum', 'min', 'max', 'mean'] as const;

test('groupBy in parallel = single thread: int32 keys (dense) and forced hash, every aggregate, nulls', async () => {
  const r = rng(21);
  for (const n of [0, 1, 1000, 50_001]) {
    const scope = rt.ctx.scope();
    const key = columnFromArray(rt.ctx, scope, typeOf('int32'), Int32Array.from({ length: n }, () => Math.floor(r() * 300) - 50), randomValidity(n, r, 0.02));
    for (const vt of ['float64', 'int64', 'uint32', 'int8', 'float32'] as const) {
      const value = columnFromArray(rt.ctx, scope, typeOf(vt), randomArray(vt, n, r), randomValidity(n, r, 0.1));
      const aggs = ALL_OPS.map((op) => ({ op, col: value }));
      const p = await check([key], aggs, `int32 key n=${n} ${vt}`);
      if (n > 1000) assert.is(p, 'dense');
      assert.is(await check([key], aggs, `int32 key n=${n} ${vt} hash`, 'hash'), 'hash');
    }
    assert.ok(['dense', 'hash'].includes(await check([key], [], `int32 key n=${n} no aggregates`)));
    scope.close();
  }
});

test('groupBy in parallel = single thread: wide int64 keys, float keys with NaN/−0, utf8 keys, two key columns', async () => {
  const r = rng(22);
  const n = 40_000;
  const scope = rt.ctx.scope();
  const wide = columnFromArray(rt.ctx, scope, typeOf('int64'), BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 5000)) * 1_000_000_007n), randomValidity(n, r, 0.05));
  const fl = columnFromArray(rt.ctx, scope, typeOf('float64'), Float64Array.from({ length: n }, () => [NaN, -0, 0, 1.5, -2, Infinity][Math.floor(r() * 6)] + (r() < 0.5 ? 0 : Math.floor(r() * 20))));
  const words = ['alpha', 'beta', 'gamma', '', 'δέλτα', '🙂', 'x'.repeat(40)];
  const str = columnFromStrings(rt.ctx, scope, Array.from({ length: n }, () => (r() < 0.03 ? null : words[Math.floor(r() * words.length)] + String(Math.floor(r() * 50)))));
  const value = columnFromArray(rt.ctx, scope, typeOf('float64'), randomArray('float64', n, r, false), randomValidity(n, r, 0.1));
  const ivalue = columnFromArray(rt.ctx, scope, typeOf('int32'), randomArray('int32', n, r, false));
  const aggs = [...ALL_OPS.map((op) => ({ op, col: value })), { op: 'sum' as const, col: ivalue }, { op: 'count' as const, col: str }];
  assert.is(await check([wide], aggs, 'int64 key'), 'hash');
  await check([fl], aggs, 'float64 key');
  await check([str], aggs, 'utf8 key');
  await check([str, wide], aggs, 'utf8 + int64 keys');
  scope.close();
});

test('groupBy in parallel: many groups per morsel (tables grow inside the workers)', async () => {
  const r = rng(23);
  const n = 200_000;
  const scope = rt.ctx.scope();
  const key = columnFromArray(rt.ctx, scope, typeOf('int64'), BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 150_000))));
  const value = columnFromArray(rt.ctx, scope, typeOf('int64'), randomArray('int64', n, r, false));
  await check([key], [{ op: 'sum', col: value }, { op: 'max', col: value }, { op: 'count', col: value }], 'high cardinality');
  assert.is(rt.stats().tasksInUse, 0);
  scope.close();
});

test.run();
