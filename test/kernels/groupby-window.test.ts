// The dense group-by over int32 keys in one pass (README "Fused window"): the first aggregate folds
// rows into a window of slots that starts empty and moves or widens when a 64-row block leaves it.
// These cases aim at the window's edges: moves at block boundaries, keys that drift, windows that
// must centre or clip at the ends of i32, all-null blocks, a span over the auto limit (→ hash path)
// and the compact float-SUM records (−0.0 identity, null-only groups).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, columnType } from '../../src/column.js';
import { columnFromArray, valuesView } from '../../src/column-alloc.js';
import { groupBy, type GroupAgg, type GroupAggOp } from '../../src/kernels/groupby.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { ArenaScope } from '../../src/memory/arena.js';
import { rng } from '../helpers/rng.js';

const ctx = Context.create({ maxBytes: 1 << 30 });
const OPS: GroupAggOp[] = ['count', 'sum', 'min', 'max', 'mean'];

type Key = number | null;
type Num = number | null;

function read(col: Column): Array<number | bigint | null> {
  const v = valuesView(col);
  return Array.from({ length: col.length }, (_, i) => (col.isValid(i) ? v[i] : null));
}

/** Reference: per key (null its own), count / sum / min / max / mean of the valid values, summed in row order. */
function reference(keys: Key[], vals: Num[]) {
  const m = new Map<Key, { count: number; sum: number; min: number; max: number }>();
  keys.forEach((k, i) => {
    let g = m.get(k);
    if (!g) m.set(k, (g = { count: 0, sum: 0, min: Infinity, max: -Infinity }));
    const x = vals[i];
    if (x === null) return;
    g.count++;
    g.sum += x;
    g.min = Math.min(g.min, x);
    g.max = Math.max(g.max, x);
  });
  return m;
}

/** Runs groupBy on the default (auto) path and checks every aggregate; float sums must match exactly. */
function check(scope: ArenaScope, keys: Key[], vals: Num[], where: string, path: 'auto' | 'dense' = 'auto') {
  const n = keys.length;
  // A column without nulls gets no bitmap, as the importer gives it: the kernel's no-bitmap fast
  // path (`pairs`) only runs then.
  const validity = (xs: Array<number | null>) => (xs.every((x) => x !== null) ? undefined : xs.map((x) => x !== null));
  const kcol = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(keys, (k) => k ?? 0), validity(keys));
  const vcol = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from(vals, (x) => x ?? 0), validity(vals));
  const icol = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(vals, (x) => (x === null ? 0 : Math.round(x))), validity(vals));
  const aggs: GroupAgg[] = [...OPS.map((op) => ({ op, col: vcol })), { op: 'sum', col: icol }];
  const r = groupBy([kcol], aggs, { path });
  const want = reference(keys, vals);
  const wantInt = reference(keys, vals.map((x) => (x === null ? null : Math.round(x))));
  assert.is(r.groups, want.size, `groups ${where}`);
  const ks = read(r.keys[0]) as Key[];
  const res = r.results.map(read);
  // The dense path yields ascending keys, the null key last; a span over min(65536, 2n) takes the
  // hash path (first appearance).
  const present = keys.filter((k): k is number => k !== null);
  const span = present.length ? Math.max(...present) - Math.min(...present) + 1 : 0;
  const sorted = [...want.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
  if (path === 'dense' || span <= Math.min(65536, 2 * n)) assert.equal(ks, sorted, `key order ${where}`);
  else assert.equal(new Set(ks), new Set(sorted), `keys ${where}`);
  ks.forEach((k, g) => {
    const e = want.get(k)!;
    const w = `key ${k} ${where}`;
    assert.is(res[0][g], BigInt(e.count), `count ${w}`);
    if (e.count === 0) {
      for (let j = 1; j < res.length; j++) assert.is(res[j][g], null, `null aggregate ${j} ${w}`);
      return;
    }
    assert.ok(Object.is(res[1][g], e.sum) || (res[1][g] === 0 && e.sum === 0), `sum ${w}: ${res[1][g]} vs ${e.sum}`);
    assert.is(res[2][g], e.min, `min ${w}`);
    assert.is(res[3][g], e.max, `max ${w}`);
    assert.ok(Math.abs((res[4][g] as number) - e.sum / e.count) <= 1e-12 * Math.max(1, Math.abs(e.sum / e.count)), `mean ${w}`);
    assert.is(res[5][g], BigInt(wantInt.get(k)!.sum), `int sum ${w}`);
  });
  assert.is(n, kcol.length);
}

const values = (n: number, r: () => number, nullRate = 0): Num[] => Array.from({ length: n }, () => (r() < nullRate ? null : Math.round(r() * 2000 - 1000) / 8 + 0));

test('1 row, 0 rows, a single null key, a single null value', () => {
  const scope = ctx.scope();
  check(scope, [], [], 'empty');
  check(scope, [5], [1.5], 'one row');
  check(scope, [-7], [null], 'one row, null value');
  check(scope, [null], [2], 'one null key');
  check(scope, [null, null, 3], [1, null, null], 'null keys and a null-valued group');
  scope.close();
});

test('the window moves at block boundaries: a new key range starts exactly at row 64·k, and mid-block', () => {
  const r = rng(31);
  const scope = ctx.scope();
  for (const at of [64, 128, 640, 4096, 4097, 8191, 70]) {
    const n = at + 300;
    const keys: Key[] = Array.from({ length: n }, (_, i) => (i < at ? Math.floor(r() * 10) : 50_000 + Math.floor(r() * 10)));
    check(scope, keys, values(n, r), `jump at row ${at}`);
    // and back down again after the jump
    const back: Key[] = keys.map((k, i) => (i >= at + 100 ? -50_000 + (i % 7) : k));
    check(scope, back, values(n, r), `jump up then down at row ${at}`);
  }
  scope.close();
});

test('a block leaves the window past the lookahead: in the second range after the first range\'s block of its pair was folded, and in the first', () => {
  // The kernel folds the two ranges a block of each in turn; with n = 20 000 the second range
  // starts at row 10 048, so a jump at row 15 000 (or 8 000 in the first range) lies past the
  // 4096-row lookahead the first window was sized from and stops the fold half-way through a pair.
  const r = rng(37);
  const scope = ctx.scope();
  const n = 20_000;
  for (const at of [15_000, 15_040, 8_000]) {
    // (to keys 1000…: a span the dense path takes; a span over 2n would go to the hash path)
    const keys: Key[] = Array.from({ length: n }, (_, i) => (i < at ? Math.floor(r() * 10) : 1000 + Math.floor(r() * 10)));
    check(scope, keys, values(n, r), `jump at row ${at} of ${n}`);
  }
  scope.close();
});

test('keys that drift upward (sorted) and downward: many moves, each keeps what was folded', () => {
  const r = rng(32);
  const scope = ctx.scope();
  const n = 100_000;
  const up: Key[] = Array.from({ length: n }, (_, i) => Math.floor(i / 3));
  check(scope, up, values(n, r), 'ascending keys');
  const down: Key[] = Array.from({ length: n }, (_, i) => 1_000_000 - Math.floor(i / 2));
  check(scope, down, values(n, r, 0.1), 'descending keys, null values');
  // a slow random walk
  let k = 0;
  const walk: Key[] = Array.from({ length: n }, () => (k += Math.floor(r() * 5) - 2));
  check(scope, walk, values(n, r), 'random walk');
  scope.close();
});

test('negative keys, keys at both ends of int32, and a window that must clip there', () => {
  const r = rng(33);
  const scope = ctx.scope();
  const MIN = -(2 ** 31);
  const MAX = 2 ** 31 - 1;
  for (const lo of [MIN, MIN + 1, MAX - 100, -5000, -1]) {
    const n = 3000;
    const keys: Key[] = Array.from({ length: n }, () => lo + Math.floor(r() * 101));
    check(scope, keys, values(n, r, 0.05), `keys from ${lo}`);
  }
  const edges: Key[] = Array.from({ length: 2000 }, (_, i) => (i % 2 ? MAX - (i % 5) : MAX - 3000 + (i % 11)));
  check(scope, edges, values(2000, r), 'keys just below MAX, widening towards it');
  scope.close();
});

test('all-null key blocks before, between and after valid ones; null values in full-key blocks', () => {
  const r = rng(34);
  const scope = ctx.scope();
  const n = 64 * 40 + 17;
  const keys: Key[] = Array.from({ length: n }, (_, i) => {
    const b = i >> 6;
    if (b < 5 || (b >= 20 && b < 25) || b >= 38) return null;
    return b < 20 ? 100 + (i % 13) : -300 + (i % 29);
  });
  check(scope, keys, values(n, r, 0.2), 'null blocks');
  check(scope, keys.map(() => null), values(n, r), 'all keys null');
  scope.close();
});

test('float sums: −0.0 values, groups with only −0.0 or only null values, NaN and ±Infinity', () => {
  const scope = ctx.scope();
  const n = 64 * 8;
  const keys: Key[] = Array.from({ length: n }, (_, i) => i % 6);
  const vals: Num[] = keys.map((k, i) => (k === 0 ? -0 : k === 1 ? null : k === 2 ? (i % 2 ? 0 : -0) : k === 3 ? Infinity : k === 4 ? (i % 12 === 4 ? NaN : 1.25) : -Infinity));
  const kcol = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(keys, (k) => k ?? 0));
  const vcol = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from(vals, (x) => x ?? 0), vals.map((x) => x !== null));
  const r = groupBy([kcol], [{ op: 'sum', col: vcol }, { op: 'count', col: vcol }]);
  assert.is(r.groups, 6);
  assert.equal(read(r.keys[0]), [0, 1, 2, 3, 4, 5]);
  const sums = read(r.results[0]);
  // A group of −0.0 values sums to +0.0 (the sum starts at +0.0, as the JS loop's does); a group of
  // null values exists and its sum is null.
  assert.ok(Object.is(sums[0], 0), `−0.0 group: ${String(sums[0])}`);
  assert.is(sums[1], null);
  assert.ok(Object.is(sums[2], 0));
  assert.is(sums[3], Infinity);
  assert.ok(Number.isNaN(sums[4] as number));
  assert.is(sums[5], -Infinity);
  assert.equal(read(r.results[1]), [0, 1, 2, 3, 4, 5].map((g) => BigInt(keys.filter((k, j) => k === g && vals[j] !== null).length)));
  scope.close();
});

test('a span over the auto limit goes to the hash path (also when discovered late); forced dense refuses > 2^24', () => {
  const r = rng(35);
  const scope = ctx.scope();
  const n = 20_000;
  // limit = min(65536, 2n) = 40000: the last block reaches past it.
  const keys: Key[] = Array.from({ length: n }, (_, i) => (i < n - 10 ? Math.floor(r() * 1000) : 39_500 + i - n));
  const kcol = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(keys, (k) => k ?? 0));
  const vcol = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from(values(n, r), (x) => x ?? 0));
  const late = groupBy([kcol], [{ op: 'sum', col: vcol }]);
  const fits = reference(keys, [...valuesView(vcol)] as number[]).size;
  assert.is(late.groups, fits);
  // Span 40 000 ≤ 2n: dense (ascending keys); span 40 001: hash (first-appearance order, key 0.. first).
  const within = groupBy([columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(keys, (k, i) => (i === n - 1 ? 39_999 : k ?? 0)))], []);
  const firstKeys = read(within.keys[0]) as number[];
  assert.ok(firstKeys.every((k, i) => i === 0 || k > firstKeys[i - 1]), 'dense path: ascending keys');
  const beyond = groupBy([columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(keys, (k, i) => (i === n - 1 ? 40_000 : k ?? 0)))], []);
  assert.is(read(beyond.keys[0])[0], keys[0], 'hash path: first appearance first');
  // Forced dense: a domain of 2^24 + 1 values is refused with the exact span.
  const wide = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([0, 5, 2 ** 24]));
  assert.throws(() => groupBy([wide], [], { path: 'dense' }), (e: unknown) => e instanceof InvalidOptionError && /spans 16777217/.test((e as Error).message));
  check(scope, [0, 5, 99_999, 7, null], [1, 2, 3, 4, 5], 'forced dense over 100 000 values', 'dense');
  scope.close();
});

test('seeded random: key domains, null rates and lengths around blocks and the lookahead', () => {
  const r = rng(36);
  const scope = ctx.scope();
  for (let t = 0; t < 60; t++) {
    const n = [1, 63, 64, 65, 4095, 4096, 4160, 10_000][t % 8] + Math.floor(r() * 3);
    const domain = [1, 7, 1000, 30_000][Math.floor(r() * 4)];
    const offset = Math.floor(r() * 2e6) - 1e6;
    const keyNulls = [0, 0.1, 0.9][t % 3];
    const keys: Key[] = Array.from({ length: n }, () => (r() < keyNulls ? null : offset + Math.floor(r() * domain)));
    check(scope, keys, values(n, r, [0, 0.3][t % 2]), `t=${t} n=${n} domain=${domain} offset=${offset}`);
  }
  scope.close();
});

test.run();
