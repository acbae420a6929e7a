import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, columnType, dictionaryType, DType, type ColumnType } from '../../src/column.js';
import { columnFromArray, columnFromStrings, stringsOf, valuesView, type NumericArray } from '../../src/column-alloc.js';
import { groupBy, groupBySum, groupIds, type GroupAgg, type GroupAggOp } from '../../src/kernels/groupby.js';
import { InvalidOptionError, LengthMismatchError, UnknownOpError, UnsupportedTypeError } from '../../src/errors.js';
import type { ArenaScope } from '../../src/memory/arena.js';
import { rng, SCALE } from '../helpers/rng.js';
import { boolColumn, boolsOf } from '../helpers/bools.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf, type NumericName } from '../helpers/columns.js';

const ctx = Context.create({ maxBytes: 1 << 30 });
const OPS: GroupAggOp[] = ['count', 'sum', 'min', 'max', 'mean'];

// ---------------------------------------------------------------------------------------------
// Reading columns back as JS values (null for null rows).

type Val = number | bigint | string | null;

function read(col: Column): Val[] {
  if (col.type.name === 'utf8' || col.type.name === 'dictionary') return stringsOf(col);
  if (col.type.name === 'bool') return boolsOf(col).map((b) => (b === null ? null : b ? 'true' : 'false'));
  const v = valuesView(col);
  return Array.from({ length: col.length }, (_, i) => (col.isValid(i) ? v[i] : null));
}

/** A key's identity as the group-by defines it: -0 = +0, all NaNs alike, null its own key. */
function keyId(v: Val): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '0' : String(v);
  return JSON.stringify(v);
}

/** For dictionary keys the engine groups by code, so the reference does too. */
function keyIdsOf(col: Column): string[] {
  if (col.type.name === 'dictionary') {
    const codes = valuesView(col);
    return Array.from({ length: col.length }, (_, i) => (col.isValid(i) ? `#${codes[i]}` : 'null'));
  }
  return read(col).map(keyId);
}

interface RefAgg { count: number; absSum: number; sum: number | bigint; min: number | bigint | null; max: number | bigint | null; anyNaN: boolean; nonNaN: boolean }

function refGroups(keys: Column[], aggs: GroupAgg[]) {
  const n = keys[0].length;
  const kids = keys.map(keyIdsOf);
  const vals = aggs.map((a) => (a.col.type.name === 'utf8' || a.col.type.name === 'dictionary' ? stringsOf(a.col) : read(a.col)));
  const groups = new Map<string, RefAgg[]>();
  for (let i = 0; i < n; i++) {
    const id = JSON.stringify(kids.map((k) => k[i]));
    let g = groups.get(id);
    if (!g) {
      g = aggs.map((a) => ({ count: 0, absSum: 0, sum: isIntCol(a.col) ? 0n : 0, min: null, max: null, anyNaN: false, nonNaN: false }));
      groups.set(id, g);
    }
    aggs.forEach((a, j) => {
      const x = vals[j][i];
      if (x === null) return;
      const r = g![j];
      r.count++;
      if (a.op === 'count') return;
      r.absSum += Math.abs(Number(x));
      if (typeof x === 'bigint' || isIntCol(a.col)) {
        const b = BigInt(x as number | bigint);
        r.sum = (r.sum as bigint) + b;
        r.min = r.min === null || b < (r.min as bigint) ? b : r.min;
        r.max = r.max === null || b > (r.max as bigint) ? b : r.max;
      } else {
        const f = x as number;
        r.sum = (r.sum as number) + f;
        if (Number.isNaN(f)) { r.anyNaN = true; return; }
        r.nonNaN = true;
        r.min = r.min === null || f < (r.min as number) ? f : r.min;
        r.max = r.max === null || f > (r.max as number) ? f : r.max;
      }
    });
  }
  return groups;
}

const isIntCol = (c: Column) => c.type.dtype <= DType.U64 && c.type.name !== 'utf8' && c.type.name !== 'dictionary';
const isUnsigned = (c: Column) => c.type.dtype >= DType.U8 && c.type.dtype <= DType.U64;

function closeTo(got: number, want: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want));
}

/** Checks a groupBy result against the reference: same set of groups, every aggregate. */
function check(keys: Column[], aggs: GroupAgg[], r: ReturnType<typeof groupBy>, where: string) {
  const want = refGroups(keys, aggs);
  assert.is(r.groups, want.size, `groups ${where}`);
  assert.is(r.keys.length, keys.length);
  const outIds = r.keys.map((k, j) => {
    assert.is(k.length, r.groups, `key length ${where}`);
    assert.is(k.type.name, keys[j].type.name);
    return keyIdsOf(k);
  });
  const outVals = r.results.map((c) => {
    assert.is(c.length, r.groups, `result length ${where}`);
    return read(c);
  });
  const seen = new Set<string>();
  for (let g = 0; g < r.groups; g++) {
    const id = JSON.stringify(outIds.map((k) => k[g]));
    assert.ok(!seen.has(id), `duplicate group ${id} ${where}`);
    seen.add(id);
    const ref = want.get(id);
    assert.ok(ref, `unexpected group ${id} ${where}`);
    aggs.forEach((a, j) => {
      const got = outVals[j][g];
      const e = ref![j];
      const w = `${a.op}(${a.col.type.name}) group ${id} ${where}`;
      if (a.op === 'count') { assert.is(got, BigInt(e.count), w); return; }
      if (e.count === 0) { assert.is(got, null, w); return; }
      if (a.op === 'mean') {
        const s = typeof e.sum === 'bigint' ? Number(e.sum) : e.sum;
        // 64-bit integer means are summed in f64 (no wrap-around), so the error scales with Σ|x|.
        const tol = 1e-9 * Math.max(1, e.absSum / e.count);
        assert.ok(closeTo(got as number, s / e.count) || Math.abs((got as number) - s / e.count) <= tol, `${w}: ${got} vs ${s / e.count}`);
      } else if (a.op === 'sum') {
        if (typeof e.sum === 'bigint') assert.is(got, isUnsigned(a.col) ? BigInt.asUintN(64, e.sum) : BigInt.asIntN(64, e.sum), w);
        else assert.ok(closeTo(got as number, e.sum), `${w}: ${got} vs ${e.sum}`);
      } else {
        const isMax = a.op === 'max';
        let exp: number | bigint | null = isMax ? e.max : e.min;
        if (typeof exp !== 'bigint') {
          if (isMax && e.anyNaN) exp = NaN;
          if (!isMax && !e.nonNaN) exp = NaN;
        }
        const is64 = a.col.type.dtype === DType.I64 || a.col.type.dtype === DType.U64;
        if (typeof exp === 'bigint' && !is64) exp = Number(exp);
        assert.ok(Object.is(got, exp) || got === exp, `${w}: ${got} vs ${exp}`);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Column builders.

const KEY_TYPES = [...NUMERIC_TYPES, 'date32', 'date64', 'timestamp', 'dictionary', 'utf8', 'bool'] as const;
type KeyTypeName = (typeof KEY_TYPES)[number];

const WORDS = ['', 'a', 'b', 'ab', 'ba', 'héllo', 'x'.repeat(17), 'x'.repeat(16), 'y'.repeat(40), 'Zürich', '日本'];

/** A key column of n rows drawn from a small domain (so groups repeat), with nulls at nullRate. */
function keyColumn(scope: ArenaScope, name: KeyTypeName, n: number, r: () => number, nullRate: number, domain = 7): Column {
  const valid = nullRate > 0 ? randomValidity(n, r, nullRate) : undefined;
  if (name === 'utf8') {
    return columnFromStrings(ctx, scope, Array.from({ length: n }, (_, i) => (valid && !valid[i] ? null : WORDS[Math.floor(r() * WORDS.length)])));
  }
  if (name === 'bool') {
    // Null rows carry a set value bit (boolColumn's default), which the key comparison must ignore.
    return boolColumn(ctx, scope, Array.from({ length: n }, (_, i) => (valid && !valid[i] ? null : r() < 0.5)));
  }
  if (name === 'dictionary') {
    const dict = columnFromStrings(ctx, scope, WORDS);
    const codes = Int32Array.from({ length: n }, () => Math.floor(r() * WORDS.length));
    const c = columnFromArray(ctx, scope, columnType('int32'), codes, valid);
    return new Column(ctx, scope, { type: dictionaryType(DType.I32), length: n, values: c.values, validity: c.validity, nullCount: c.nullCount, dictionary: dict });
  }
  let type: ColumnType;
  let data: NumericArray;
  const pick = () => Math.floor(r() * domain) - 3;
  if (name === 'date32') { type = columnType('date32'); data = Int32Array.from({ length: n }, () => 19000 + pick()); }
  else if (name === 'date64') { type = columnType('date64'); data = BigInt64Array.from({ length: n }, () => BigInt(1.7e12 + pick())); }
  else if (name === 'timestamp') { type = columnType('timestamp', 'microsecond'); data = BigInt64Array.from({ length: n }, () => BigInt(pick()) * 1000n); }
  else if (name === 'float32' || name === 'float64') {
    type = typeOf(name);
    const special = [0, -0, NaN, 1.5, -2.25, Infinity, -Infinity];
    data = (name === 'float32' ? Float32Array : Float64Array).from({ length: n }, () => special[Math.floor(r() * Math.min(domain, special.length))]);
  } else {
    type = typeOf(name);
    const big = name.endsWith('64');
    // Domain near the type's extremes too, so key − min and widening are exercised.
    const base = name.startsWith('u') ? 0 : -3;
    const hiEdge = name === 'int8' ? 124 : name === 'uint8' ? 250 : 0;
    const arr = randomArray(name, n, r);
    for (let i = 0; i < n; i++) {
      const v = (r() < 0.5 ? base : hiEdge) + Math.floor(r() * domain);
      if (big) (arr as BigInt64Array)[i] = BigInt(v);
      else (arr as Int32Array)[i] = v;
    }
    data = arr;
  }
  return columnFromArray(ctx, scope, type, data, valid);
}

function valueColumn(scope: ArenaScope, name: NumericName, n: number, r: () => number, nullRate: number): Column {
  const valid = nullRate > 0 ? randomValidity(n, r, nullRate) : undefined;
  return columnFromArray(ctx, scope, typeOf(name), randomArray(name, n, r), valid);
}

const allAggs = (v: Column): GroupAgg[] => OPS.map((op) => ({ op, col: v }));

// ---------------------------------------------------------------------------------------------

for (const kt of KEY_TYPES) {
  test(`groupBy key ${kt}: lengths 0..129, nulls, both paths, every aggregate`, () => {
    const r = rng(0x9b0 + kt.length * 31 + kt.charCodeAt(1));
    const scope = ctx.scope();
    const dense = kt !== 'utf8' && kt !== 'bool' && !kt.startsWith('float');
    for (let n = 0; n <= 129; n++) {
      for (const nullRate of [0, 0.2]) {
        const key = keyColumn(scope, kt, n, r, nullRate);
        const v = valueColumn(scope, 'float64', n, r, 0.1);
        const iv = valueColumn(scope, 'int32', n, r, 0.1);
        const aggs = [...allAggs(v), { op: 'sum', col: iv } as GroupAgg, { op: 'min', col: iv } as GroupAgg];
        for (const path of dense ? (['hash', 'dense', 'auto'] as const) : (['hash', 'auto'] as const)) {
          check([key], aggs, groupBy([key], aggs, { path }), `${kt} n=${n} nulls=${nullRate} path=${path}`);
        }
      }
    }
    scope.close();
  });
}

for (const vt of NUMERIC_TYPES) {
  test(`groupBy values ${vt}: every aggregate, dense int32 keys and hash path, nulls`, () => {
    const r = rng(0x7a1 + vt.length * 17 + vt.charCodeAt(0));
    const scope = ctx.scope();
    for (const n of [0, 1, 5, 63, 64, 65, 128, 129, 300, 1000]) {
      for (const nullRate of [0, 0.3]) {
        const key = keyColumn(scope, 'int32', n, r, nullRate === 0 ? 0 : 0.1, 20);
        const v = valueColumn(scope, vt, n, r, nullRate);
        for (const path of ['dense', 'hash'] as const) {
          check([key], allAggs(v), groupBy([key], allAggs(v), { path }), `${vt} n=${n} nulls=${nullRate} path=${path}`);
        }
      }
    }
    scope.close();
  });
}

test('multi-column keys (int32, utf8, float64, dictionary, bool) with nulls; order of key columns matters', () => {
  const r = rng(4242);
  const scope = ctx.scope();
  for (const n of [0, 1, 2, 17, 64, 129, 1000, 5000]) {
    const keys = [keyColumn(scope, 'int32', n, r, 0.1, 3), keyColumn(scope, 'utf8', n, r, 0.1), keyColumn(scope, 'float64', n, r, 0.1, 4), keyColumn(scope, 'dictionary', n, r, 0.05), keyColumn(scope, 'bool', n, r, 0.1)];
    const v = valueColumn(scope, 'int64', n, r, 0.2);
    check(keys, allAggs(v), groupBy(keys, allAggs(v)), `multi n=${n}`);
    check(keys.slice(0, 2), [], groupBy(keys.slice(0, 2), []), `multi no aggs n=${n}`);
  }
  // (a, b) and (b, a) are different keys
  const a = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([1, 2, 1, 2]));
  const b = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([2, 1, 2, 1]));
  assert.is(groupBy([a, b], []).groups, 2);
  scope.close();
});

test('float keys: -0 and +0 are one key, all NaNs are one key, null is its own key', () => {
  const scope = ctx.scope();
  const nan2 = new Float64Array(new BigUint64Array([0x7ff8dead00000001n]).buffer)[0];
  const negNaN = new Float64Array(new BigUint64Array([0xfff0000000000001n]).buffer)[0];
  const xs = Float64Array.from([0, -0, NaN, nan2, negNaN, 1, 1, 0, 12345]);
  const key = columnFromArray(ctx, scope, columnType('float64'), xs, [true, true, true, true, true, true, true, true, false]);
  const ones = columnFromArray(ctx, scope, columnType('int32'), new Int32Array(xs.length).fill(1));
  const res = groupBy([key], [{ op: 'sum', col: ones }]);
  assert.is(res.groups, 4);
  const ks = read(res.keys[0]).map(keyId);
  const sums = read(res.results[0]);
  const bySum = Object.fromEntries(ks.map((k, i) => [k, sums[i]]));
  assert.equal(bySum, { '0': 3n, NaN: 3n, '1': 2n, null: 1n });
  // Without nulls a single float key takes the specialized probe (inline compare): same answer.
  const f32 = columnFromArray(ctx, scope, columnType('float32'), Float32Array.from([0, -0, NaN, -NaN, 2]));
  assert.is(groupBy([f32], []).groups, 3);
  const f64 = columnFromArray(ctx, scope, columnType('float64'), xs.slice(0, 8));
  assert.is(groupBy([f64], [], { initialCapacity: 4 }).groups, 3);
  scope.close();
});

test('many groups force the hash table to grow (initialCapacity 4), results match', () => {
  const r = rng(77);
  const scope = ctx.scope();
  const n = Math.round(100_000 * SCALE);
  const keys = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * n / 2)) * 1_000_003n);
  const key = columnFromArray(ctx, scope, columnType('int64'), keys);
  const s = columnFromStrings(ctx, scope, Array.from({ length: n }, () => `k${Math.floor(r() * n / 3)}`));
  const v = valueColumn(scope, 'float64', n, r, 0.1);
  for (const cap of [4, 1024]) {
    check([key], allAggs(v), groupBy([key], allAggs(v), { initialCapacity: cap }), `int64 cap=${cap}`);
    check([s], [{ op: 'count', col: v }], groupBy([s], [{ op: 'count', col: v }], { initialCapacity: cap }), `utf8 cap=${cap}`);
  }
  scope.close();
});

test('dense and hash paths agree on larger random cases; groupBySum matches a JS loop', () => {
  const r = rng(2024);
  const scope = ctx.scope();
  const n = Math.round(200_000 * SCALE);
  for (const [domain, nullRate] of [[1000, 0], [10, 0], [3000, 0.05], [1, 0.5]] as const) {
    const key = keyColumn(scope, 'int32', n, r, nullRate, domain);
    const v = valueColumn(scope, 'float64', n, r, nullRate);
    for (const path of ['dense', 'hash'] as const) check([key], allAggs(v), groupBy([key], allAggs(v), { path }), `domain=${domain} path=${path}`);
  }
  const kd = Int32Array.from({ length: n }, () => Math.floor(r() * 1000));
  const vd = Float64Array.from({ length: n }, () => r() * 100);
  const sums = new Float64Array(1000);
  for (let i = 0; i < n; i++) sums[kd[i]] += vd[i];
  const g = groupBySum(columnFromArray(ctx, scope, columnType('int32'), kd), columnFromArray(ctx, scope, columnType('float64'), vd));
  assert.is(g.groups, 1000);
  const gk = read(g.keys) as number[];
  const gs = read(g.sums) as number[];
  for (let i = 0; i < g.groups; i++) assert.ok(closeTo(gs[i], sums[gk[i]]), `key ${gk[i]}`);
  scope.close();
});

test('groupIds: equal keys share an id, ids in order of first appearance, firstRow holds the key', () => {
  const r = rng(5);
  const scope = ctx.scope();
  for (const kt of ['int32', 'uint8', 'int64', 'utf8', 'float64'] as const) {
    for (const n of [0, 1, 100, 2000]) {
      const key = keyColumn(scope, kt, n, r, 0.1, 50);
      for (const path of kt === 'utf8' || kt === 'float64' ? (['hash'] as const) : (['dense', 'hash'] as const)) {
        const { ids, groups, firstRow } = groupIds([key], { path, initialCapacity: 4 });
        const idv = valuesView(ids) as Int32Array;
        const fr = valuesView(firstRow) as Int32Array;
        const kid = keyIdsOf(key);
        assert.is(new Set(kid).size, groups, `${kt} ${path} n=${n}`);
        let next = 0;
        const idOf = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const known = idOf.get(kid[i]);
          if (known === undefined) {
            assert.is(idv[i], next, `first appearance order ${kt} ${path} row ${i}`);
            assert.is(fr[next], i);
            idOf.set(kid[i], next++);
          } else assert.is(idv[i], known, `${kt} ${path} row ${i}`);
        }
      }
    }
  }
  scope.close();
});

test('canaries: outputs do not write past their end; inputs are not modified', () => {
  for (const shape of ['dense', 'hash', 'multi'] as const) {
    // A fresh engine per case: everything above the arena's top is then fresh, so we paint it and
    // every output (and every temporary) lands on paint.
    const c2 = Context.create({ maxBytes: 256 << 20 });
    const inScope = c2.scope();
    const r = rng(11);
    const n = 1000;
    const key = columnFromArray(c2, inScope, columnType('int16'), Int16Array.from({ length: n }, () => Math.floor(r() * 37) - 5), randomValidity(n, r, 0.1));
    const skey = columnFromStrings(c2, inScope, Array.from({ length: n }, () => `s${Math.floor(r() * 30)}`));
    const v = columnFromArray(c2, inScope, columnType('float32'), Float32Array.from({ length: n }, () => r()), randomValidity(n, r, 0.2));
    const keys = shape === 'multi' ? [skey, key] : [key];
    const top = c2.arena.stats().top;
    const before = c2.mem.u8.slice(0, top);
    c2.mem.u8.fill(0xa5, top);
    const out = c2.scope();
    const res = groupBy(keys, allAggs(v), { path: shape === 'dense' ? 'dense' : 'hash', scope: out });
    for (const c of [...res.keys, ...res.results]) {
      const isUtf8 = c.type.name === 'utf8';
      const ends = [[c.values, isUtf8 ? c2.mem.i32[(c.offsets >>> 2) + c.length] : c.length * c.width]];
      if (isUtf8) ends.push([c.offsets, (c.length + 1) * 4]);
      if (c.validity) ends.push([c.validity, Math.ceil(c.length / 8)]);
      for (const [p, bytes] of ends) {
        const padEnd = p + Math.max(64, Math.ceil(bytes / 64) * 64);
        for (let q = p + bytes; q < padEnd; q++) assert.is(c2.mem.u8[q], 0xa5, `canary at +${q - p} of a ${bytes}-byte ${c.type.name} buffer (${shape})`);
      }
    }
    check(keys, allAggs(v), res, `canary ${shape}`);
    // Below the old top only the arena header and this thread's scratch may change.
    const now = c2.mem.u8;
    const mutable = (i: number) => (i >= c2.arena.base && i < c2.arena.base + 64) || (i >= c2.scratch && i < c2.scratch + 256);
    for (let i = 0; i < top; i++) if (now[i] !== before[i] && !mutable(i)) assert.unreachable(`byte ${i} below the arena top changed (${shape})`);
    out.close();
    inScope.close();
  }
});

test('bad input: typed errors before any kernel runs', () => {
  const scope = ctx.scope();
  const k = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([1, 2, 3]));
  const v2 = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from([1, 2]));
  const v3 = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from([1, 2, 3]));
  const s = columnFromStrings(ctx, scope, ['a', 'b', 'c']);
  const b = columnFromArray(ctx, scope, columnType('uint8'), new Uint8Array(3));
  const asBool = new Column(ctx, scope, { type: columnType('bool'), length: 3, values: b.values });
  const other = Context.create({ maxBytes: 1 << 24 });
  const os = other.scope();
  const ok = columnFromArray(other, os, columnType('int32'), Int32Array.from([1, 2, 3]));
  const top = ctx.arena.stats().top;
  const cases: Array<[() => unknown, new (...a: never[]) => Error, RegExp]> = [
    [() => groupBy([k], [{ op: 'sum', col: v2 }]), LengthMismatchError, /groupBy.*3 vs 3 vs 2|3 vs 2/],
    [() => groupBy([k, v2], []), LengthMismatchError, /groupBy/],
    [() => groupBy([asBool], [], { path: 'dense' }), InvalidOptionError, /path/],
    [() => groupBy([k], [{ op: 'sum', col: s }]), UnsupportedTypeError, /groupBy sum.*utf8/],
    [() => groupBy([k], [{ op: 'median' as GroupAggOp, col: v3 }]), UnknownOpError, /median/],
    [() => groupBy([s], [], { path: 'dense' }), InvalidOptionError, /path/],
    [() => groupBy([k, k], [], { path: 'dense' }), InvalidOptionError, /path/],
    [() => groupBy([k], [], { path: 'fast' as 'dense' }), InvalidOptionError, /path/],
    [() => groupBy([k], [], { initialCapacity: 0 }), InvalidOptionError, /initialCapacity/],
    [() => groupBy([], []), InvalidOptionError, /keys/],
    [() => groupBy([k], [{ op: 'sum', col: ok }]), UnsupportedTypeError, /different engines/],
    [() => groupIds([k], { path: 'dense', initialCapacity: 1.5 }), InvalidOptionError, /initialCapacity/],
  ];
  for (const [fn, cls, re] of cases) {
    assert.throws(fn, (e: unknown) => e instanceof cls && re.test((e as Error).message), `${cls.name} ${re}`);
  }
  assert.is(ctx.arena.stats().top, top, 'nothing allocated by rejected calls');
  // bool keys group (hash path); count works over any column type; a huge forced dense domain is refused
  assert.is(groupBy([asBool], [{ op: 'count', col: v3 }]).groups, 1);
  assert.is(groupBy([k], [{ op: 'count', col: s }]).groups, 3);
  const wide = columnFromArray(ctx, scope, columnType('int64'), BigInt64Array.from([0n, 1n << 40n]));
  assert.throws(() => groupBy([wide], [], { path: 'dense' }), (e: unknown) => e instanceof InvalidOptionError && /domain/.test((e as Error).message));
  assert.is(groupBy([wide], []).groups, 2);
  os.close();
  scope.close();
});

test.run();
