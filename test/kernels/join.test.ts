/**
 * hashJoin (assembly/join): every key kind against a JS nested-loop reference — pairs in probe-row
 * order, each probe row's matches in build-row order; null keys never match; −0 = +0 and NaN = NaN;
 * multi-column keys; output growth (many more pairs than probe rows); left joins; typed errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, columnType, dictionaryType, DType } from '../../src/column.js';
import { columnFromArray, columnFromStrings, type NumericArray } from '../../src/column-alloc.js';
import { hashJoin } from '../../src/kernels/join.js';
import { InvalidOptionError, UnsupportedTypeError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import { boolColumn } from '../helpers/bools.js';
import { NUMERIC_TYPES, typeOf, type NumericName } from '../helpers/columns.js';

const ctx = Context.create({ maxBytes: 1 << 28 });

type Key = (number | bigint | string | boolean | null)[];

/** Key equality as SQL join + group-by see it: null never equal; -0 = +0; NaN = NaN. */
const same = (a: Key[number], b: Key[number]) => a !== null && b !== null && (a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b)));

function reference(probe: Key[], build: Key[], left: boolean): Array<[number, number | null]> {
  const out: Array<[number, number | null]> = [];
  const n = probe[0].length;
  const m = build[0].length;
  for (let i = 0; i < n; i++) {
    let hit = false;
    for (let j = 0; j < m; j++) {
      if (probe.every((p, k) => same(p[i], build[k][j]))) {
        out.push([i, j]);
        hit = true;
      }
    }
    if (!hit && left) out.push([i, null]);
  }
  return out;
}

function pairsOf(r: ReturnType<typeof hashJoin>): Array<[number, number | null]> {
  const p = new Int32Array(ctx.mem.buffer, r.probe.values, r.length);
  const b = new Int32Array(ctx.mem.buffer, r.build.values, r.length);
  assert.is(r.probe.length, r.length);
  assert.is(r.build.length, r.length);
  return Array.from(p, (x, k) => [x, r.build.isValid(k) ? b[k] : null]);
}

function check(probe: Column[], build: Column[], pv: Key[], bv: Key[], where: string): void {
  for (const how of ['inner', 'left'] as const) {
    const got = pairsOf(hashJoin(probe, build, { how }));
    const want = reference(pv, bv, how === 'left');
    assert.equal(got, want, `${where} ${how}`);
  }
}

/** A small domain so keys repeat on both sides; values of the type, NaN and ±0 for floats. */
function keyValues(name: NumericName, n: number, r: () => number, nulls: number): Key {
  return Array.from({ length: n }, () => {
    if (r() < nulls) return null;
    const v = Math.floor(r() * 12) - (name.startsWith('u') ? 0 : 4);
    if (name.startsWith('float')) {
      const x = r();
      return x < 0.05 ? NaN : x < 0.1 ? -0 : x < 0.15 ? 0 : v / 2;
    }
    return name.endsWith('64') ? BigInt(v) : v;
  });
}

function numericColumn(name: NumericName, vals: Key, scope: ReturnType<Context['scope']>): Column {
  const T = { int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array }[name];
  const zero = name.endsWith('64') && !name.startsWith('float') ? 0n : 0;
  // Nulls get a value that also occurs as a valid key (7): a null must not match it.
  const seven = typeof zero === 'bigint' ? 7n : 7;
  const arr = (T as unknown as { from(a: unknown[]): NumericArray }).from(vals.map((v) => (v === null ? seven : v)));
  return columnFromArray(ctx, scope, typeOf(name), arr, vals.map((v) => v !== null));
}

test('single numeric key of every type, nulls on both sides, n = 0..70 × m = 0..40', () => {
  const r = rng(11);
  const scope = ctx.scope();
  for (const name of NUMERIC_TYPES) {
    for (const [n, m] of [[0, 0], [0, 5], [5, 0], [1, 1], [17, 3], [70, 40], [64, 64], [33, 1]]) {
      for (const nulls of [0, 0.2]) {
        const pv = keyValues(name, n, r, nulls);
        const bv = keyValues(name, m, r, nulls);
        check([numericColumn(name, pv, scope)], [numericColumn(name, bv, scope)], [pv], [bv], `${name} n=${n} m=${m} nulls=${nulls}`);
      }
    }
  }
  scope.close();
});

test('distinct build keys (the primary-key side: no buckets), with nulls, inner and left, across chunks', () => {
  const r = rng(15);
  const scope = ctx.scope();
  for (const [n, m] of [[5000, 700], [3, 2000], [2049, 1]]) {
    // A permutation of 0..m-1 as build keys, one null; probe keys in 0..1.2m with nulls.
    const bv: Key = Array.from({ length: m }, (_, j) => (j === m >> 1 ? null : (j * 37) % m));
    const pv: Key = Array.from({ length: n }, () => (r() < 0.1 ? null : Math.floor(r() * m * 1.2)));
    for (const name of ['int32', 'int16', 'float64'] as const) {
      if (name === 'int16' && m > 30000) continue;
      check([numericColumn(name, pv, scope)], [numericColumn(name, bv, scope)], [pv], [bv], `distinct ${name} n=${n} m=${m}`);
    }
    const ps = pv.map((x) => (x === null ? null : `k${x}`)), bs = bv.map((x) => (x === null ? null : `k${x}`));
    check([columnFromStrings(ctx, scope, ps)], [columnFromStrings(ctx, scope, bs)], [ps], [bs], `distinct utf8 n=${n} m=${m}`);
  }
  scope.close();
});

test('utf8, bool and multi-column keys (int + utf8 + bool), generic comparison path', () => {
  const r = rng(12);
  const scope = ctx.scope();
  const words = ['', 'a', 'ab', 'é', 'x'.repeat(40), 'x'.repeat(41), 'zeta'];
  const strs = (n: number): Key => Array.from({ length: n }, () => (r() < 0.15 ? null : words[Math.floor(r() * words.length)]));
  const bools = (n: number): Key => Array.from({ length: n }, () => (r() < 0.15 ? null : r() < 0.5));
  for (const [n, m] of [[0, 3], [50, 20], [130, 70]]) {
    const ps = strs(n), bs = strs(m);
    check([columnFromStrings(ctx, scope, ps as (string | null)[])], [columnFromStrings(ctx, scope, bs as (string | null)[])], [ps], [bs], `utf8 n=${n}`);
    const pb = bools(n), bb = bools(m);
    check([boolColumn(ctx, scope, pb as (boolean | null)[])], [boolColumn(ctx, scope, bb as (boolean | null)[])], [pb], [bb], `bool n=${n}`);
    const pi = keyValues('int32', n, r, 0.1), bi = keyValues('int32', m, r, 0.1);
    check(
      [numericColumn('int32', pi, scope), columnFromStrings(ctx, scope, ps as (string | null)[]), boolColumn(ctx, scope, pb as (boolean | null)[])],
      [numericColumn('int32', bi, scope), columnFromStrings(ctx, scope, bs as (string | null)[]), boolColumn(ctx, scope, bb as (boolean | null)[])],
      [pi, ps, pb], [bi, bs, bb], `int32+utf8+bool n=${n}`,
    );
  }
  scope.close();
});

test('dictionary keys sharing one dictionary join by code', () => {
  const scope = ctx.scope();
  const dict = columnFromStrings(ctx, scope, ['red', 'green', 'blue']);
  const codes = (xs: (number | null)[]) => {
    const c = columnFromArray(ctx, scope, columnType('int8'), Int8Array.from(xs, (x) => x ?? 0), xs.map((x) => x !== null));
    return new Column(ctx, scope, { type: dictionaryType(DType.I8), length: xs.length, values: c.values, validity: c.validity, nullCount: c.nullCount, dictionary: dict });
  };
  const p = [0, 1, 2, null, 1], b = [1, 1, null, 2];
  check([codes(p)], [codes(b)], [p], [b], 'dictionary');
  scope.close();
});

test('output growth: heavy duplicates give many more pairs than probe rows (resume protocol)', () => {
  const r = rng(13);
  const scope = ctx.scope();
  // 3000 probe rows × 400 build rows over 3 keys: ~400K pairs from a 3000-pair first buffer.
  const pv: Key = Array.from({ length: 3000 }, () => Math.floor(r() * 4));
  const bv: Key = Array.from({ length: 400 }, () => Math.floor(r() * 3));
  const P = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(pv as number[]));
  const B = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(bv as number[]));
  for (const how of ['inner', 'left'] as const) {
    const got = hashJoin([P], [B], { how, scope });
    const want = reference([pv], [bv], how === 'left');
    assert.ok(got.length > 100 * 3000 / 4, `many pairs: ${got.length}`);
    assert.equal(pairsOf(got), want, how);
  }
  // A single probe row with more matches than the first buffer holds (1024 pairs).
  const one = columnFromArray(ctx, scope, columnType('int32'), Int32Array.of(5));
  const many = columnFromArray(ctx, scope, columnType('int32'), new Int32Array(5000).fill(5));
  const r1 = hashJoin([one], [many]);
  assert.is(r1.length, 5000);
  assert.equal(pairsOf(r1), Array.from({ length: 5000 }, (_, j) => [0, j]));
  scope.close();
});

test('bigger random join against a Map reference (build 20 K distinct + dup keys, probe 100 K)', () => {
  const r = rng(14);
  const scope = ctx.scope();
  const m = 20_000, n = 100_000;
  const bk = BigInt64Array.from({ length: m }, () => BigInt(Math.floor(r() * 30_000)) * 1_000_003n);
  const pk = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 40_000)) * 1_000_003n);
  const byKey = new Map<bigint, number[]>();
  bk.forEach((k, j) => (byKey.get(k) ?? byKey.set(k, []).get(k)!).push(j));
  const want: number[] = [];
  pk.forEach((k, i) => { for (const j of byKey.get(k) ?? []) want.push(i, j); });
  const got = hashJoin([columnFromArray(ctx, scope, columnType('int64'), pk)], [columnFromArray(ctx, scope, columnType('int64'), bk)]);
  const p = new Int32Array(ctx.mem.buffer, got.probe.values, got.length);
  const b = new Int32Array(ctx.mem.buffer, got.build.values, got.length);
  assert.is(got.length * 2, want.length);
  for (let k = 0; k < got.length; k++) if (p[k] !== want[2 * k] || b[k] !== want[2 * k + 1]) assert.unreachable(`pair ${k}`);
  scope.close();
});

test('bad input: different key types or counts, foreign dictionaries, bad how → typed errors', () => {
  const scope = ctx.scope();
  const i32 = columnFromArray(ctx, scope, columnType('int32'), Int32Array.of(1, 2));
  const i64 = columnFromArray(ctx, scope, columnType('int64'), BigInt64Array.of(1n, 2n));
  const s = columnFromStrings(ctx, scope, ['a', 'b']);
  assert.throws(() => hashJoin([i32], [i64]), (e: unknown) => e instanceof UnsupportedTypeError && /join.*int32.*int64/.test((e as Error).message));
  assert.throws(() => hashJoin([i32], [s]), (e: unknown) => e instanceof UnsupportedTypeError);
  assert.throws(() => hashJoin([i32, s], [i32]), (e: unknown) => e instanceof InvalidOptionError);
  assert.throws(() => hashJoin([i32], [i32], { how: 'outer' as never }), (e: unknown) => e instanceof InvalidOptionError);
  const d1 = columnFromStrings(ctx, scope, ['a']);
  const d2 = columnFromStrings(ctx, scope, ['a']);
  const code = columnFromArray(ctx, scope, columnType('int8'), Int8Array.of(0, 0));
  const mk = (d: Column) => new Column(ctx, scope, { type: dictionaryType(DType.I8), length: 2, values: code.values, dictionary: d });
  assert.throws(() => hashJoin([mk(d1)], [mk(d2)]), (e: unknown) => e instanceof UnsupportedTypeError && /share one dictionary/.test((e as Error).message));
  scope.close();
});

test.run();
