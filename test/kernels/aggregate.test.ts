import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { columnType } from '../../src/column.js';
import { columnFromArray, type NumericArray } from '../../src/column-alloc.js';
import * as agg from '../../src/kernels/aggregate.js';
import { UnsupportedTypeError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf, type NumericName } from '../helpers/columns.js';

const ctx = Context.create({ maxBytes: 1 << 30 });

/** Scalar references: plain loops over the valid values, in BigInt for integers (exact). */
function reference(name: NumericName, data: NumericArray, valid: boolean[] | undefined) {
  const vals: Array<number | bigint> = [];
  for (let i = 0; i < data.length; i++) if (!valid || valid[i]) vals.push(data[i]);
  const isFloat = name.startsWith('float');
  const is64 = name.endsWith('64') && !isFloat;
  if (vals.length === 0) return { count: 0, sum: null, min: null, max: null };
  if (isFloat) {
    const xs = vals as number[];
    let max = -Infinity, min = Infinity, anyNonNaN = false;
    for (const x of xs) {
      if (Number.isNaN(x)) { max = NaN; continue; }
      anyNonNaN = true;
      if (x < min) min = x;
      if (!Number.isNaN(max) && x > max) max = x;
    }
    return { count: xs.length, sum: exactSum(xs), min: anyNonNaN ? min : NaN, max };
  }
  const bs = vals.map((v) => BigInt(v));
  let sum = bs.reduce((a, b) => a + b, 0n);
  sum = BigInt.asIntN(64, sum);
  if (name === 'uint64') sum = BigInt.asUintN(64, sum);
  const min = bs.reduce((a, b) => (b < a ? b : a));
  const max = bs.reduce((a, b) => (b > a ? b : a));
  const conv = (b: bigint) => (is64 ? b : Number(b));
  return { count: bs.length, sum: conv(sum), min: conv(min), max: conv(max) };
}

/** Exact float sum (Shewchuk's partials, as in Python's math.fsum); NaN/Inf follow IEEE. */
function exactSum(xs: number[]): number {
  let special = 0;
  const partials: number[] = [];
  for (let x of xs) {
    if (!Number.isFinite(x)) { special += x; continue; }
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  if (special !== 0 || Number.isNaN(special)) return special;
  return partials.reduce((a, b) => a + b, 0);
}

function closeTo(got: number, want: number, rel: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= rel * Math.max(Math.abs(want), 1e-300) || got === want;
}

for (const name of NUMERIC_TYPES) {
  test(`count/sum/min/max/mean ${name}: every length 0..129, and lengths that interleave block streams, with and without nulls`, () => {
    const r = rng(0x5eed + name.length);
    const scope = ctx.scope();
    // Past 4 whole 64-row blocks the kernel reads blocks as 4 interleaved streams plus 0–3 blocks
    // and a tail in order (assembly/aggregate drive): 256 ± 1, 5..11 blocks with tails, and larger.
    const streamed = [255, 256, 257, 320, 383, 448, 511, 512, 575, 639, 703, 704, 769, 4096 + 64 * 3 + 5, 20000];
    for (const n of [...Array.from({ length: 130 }, (_, i) => i), ...streamed]) {
      for (const nullRate of [0, 0.3, 1]) {
        const data = randomArray(name, n, r);
        const valid = nullRate === 0 ? undefined : randomValidity(n, r, nullRate);
        const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
        const want = reference(name, data, valid);
        const where = `${name} n=${n} nullRate=${nullRate}`;
        assert.is(agg.count(col), want.count, `count ${where}`);
        if (name.startsWith('float')) {
          const s = agg.sum(col) as number | null;
          if (want.sum === null) assert.is(s, null, where);
          else assert.ok(closeTo(s as number, want.sum as number, 1e-9), `sum ${where}: ${s} vs ${want.sum}`);
          assert.ok(Object.is(agg.min(col), want.min) || agg.min(col) === want.min, `min ${where}: ${agg.min(col)} vs ${want.min}`);
          assert.ok(Object.is(agg.max(col), want.max) || agg.max(col) === want.max, `max ${where}: ${agg.max(col)} vs ${want.max}`);
        } else {
          assert.is(agg.sum(col), want.sum, `sum ${where}`);
          assert.is(agg.min(col), want.min, `min ${where}`);
          assert.is(agg.max(col), want.max, `max ${where}`);
        }
      }
    }
    scope.close();
  });
}

test('f64 sum of 1M mixed-magnitude values is within 1e-9 relative of the exact sum', () => {
  const r = rng(99);
  const n = 1_000_000;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = (r() - 0.4) * 10 ** Math.floor(r() * 12 - 4);
  const scope = ctx.scope();
  const col = columnFromArray(ctx, scope, columnType('float64'), data);
  const want = exactSum(Array.from(data));
  const got = agg.sum(col) as number;
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.abs(want), `${got} vs exact ${want}`);
  scope.close();
});

test('integer sums wrap at 64 bits; narrow ints sum without overflow', () => {
  const scope = ctx.scope();
  const big = columnFromArray(ctx, scope, columnType('int64'), new BigInt64Array([2n ** 63n - 1n, 1n]));
  assert.is(agg.sum(big), -(2n ** 63n));
  const i8 = columnFromArray(ctx, scope, columnType('int8'), new Int8Array(1000).fill(127));
  assert.is(agg.sum(i8), 127_000);
  const u32 = columnFromArray(ctx, scope, columnType('uint32'), new Uint32Array(300).fill(0xffffffff));
  assert.is(agg.sum(u32), 300 * 0xffffffff);
  scope.close();
});

test('min/max of floats: NaN is the largest value; min skips NaN unless all are NaN', () => {
  const scope = ctx.scope();
  const mk = (xs: number[]) => columnFromArray(ctx, scope, columnType('float64'), Float64Array.from(xs));
  const withNaN = mk([...Array(70).fill(1), NaN, -3, 5]);
  assert.ok(Number.isNaN(agg.max(withNaN) as number));
  assert.is(agg.min(withNaN), -3);
  assert.ok(Number.isNaN(agg.min(mk(Array(100).fill(NaN))) as number));
  assert.is(agg.min(mk([...Array(80).fill(Infinity), NaN])), Infinity);
  assert.is(agg.mean(mk([1, 2, 3, 4])), 2.5);
  scope.close();
});

test('aggregates over strings/bools are typed errors; count works on any column', () => {
  const scope = ctx.scope();
  const b = columnFromArray(ctx, scope, columnType('uint8'), new Uint8Array(3));
  const asBool = Object.assign(Object.create(Object.getPrototypeOf(b)), b, { type: columnType('bool') });
  assert.throws(() => agg.sum(asBool), (e: unknown) => e instanceof UnsupportedTypeError && /sum.*bool/.test((e as Error).message));
  assert.is(agg.count(asBool), 3);
  scope.close();
});

test.run();
