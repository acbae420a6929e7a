import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, columnType, type ColumnType } from '../../src/column.js';
import { allocColumn, columnFromArray, valuesView, type NumericArray } from '../../src/column-alloc.js';
import * as ar from '../../src/kernels/arith.js';
import {
  InvalidOptionError, LengthMismatchError, OutOfRangeError, UnknownOpError, UnsupportedTypeError,
} from '../../src/errors.js';
import { rng, SCALE } from '../helpers/rng.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf, type NumericName } from '../helpers/columns.js';

const ctx = Context.create({ maxBytes: 1 << 30 });

type Bin = 'add' | 'sub' | 'mul' | 'div';
type Un = 'neg' | 'abs';
type Shape = 'cc' | 'cs' | 'sc';
const BINS: Bin[] = ['add', 'sub', 'mul', 'div'];
const UNS: Un[] = ['neg', 'abs'];
const SHAPES: Shape[] = ['cc', 'cs', 'sc'];

const isFloat = (t: NumericName) => t.startsWith('float');
const bitsOf = (t: NumericName) => Number(t.replace(/\D/g, ''));
const isSigned = (t: NumericName) => t.startsWith('int');
const is64 = (t: NumericName) => bitsOf(t) === 64 && !isFloat(t);

/** Wraps an exact integer result to the type, as two's complement does. */
function wrap(t: NumericName, v: bigint): bigint {
  return isSigned(t) ? BigInt.asIntN(bitsOf(t), v) : BigInt.asUintN(bitsOf(t), v);
}
/** Rounds an exact (f64) float result to the type. */
const fround = (t: NumericName, v: number) => (t === 'float32' ? Math.fround(v) : v);

/** The scalar reference: the expected value, or null for a row the op itself nulls (x / 0). */
function refBinary(t: NumericName, op: Bin, x: number | bigint, y: number | bigint): number | bigint | null {
  if (isFloat(t)) {
    const a = x as number, b = y as number;
    const r = op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : a / b;
    return fround(t, r); // f32: exact f64 result of two f32s, rounded once — what f32 ops give
  }
  const a = BigInt(x), b = BigInt(y);
  if (op === 'div' && b === 0n) return null;
  const r = op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : a / b; // BigInt / truncates
  return wrap(t, r);
}
function refUnary(t: NumericName, op: Un, x: number | bigint): number | bigint {
  if (isFloat(t)) return op === 'neg' ? -(x as number) : Math.abs(x as number);
  const a = BigInt(x);
  return wrap(t, op === 'neg' ? -a : a < 0n ? -a : a);
}

/** Same value: ints exactly, floats with -0 ≠ 0 and any NaN equal to any NaN. */
function same(t: NumericName, got: number | bigint, want: number | bigint): boolean {
  if (isFloat(t)) return Object.is(got, want) || (Number.isNaN(got as number) && Number.isNaN(want as number));
  return BigInt(got) === BigInt(want);
}

/** Integer data with the values that break arithmetic sprinkled in: 0, ±1, MIN, MAX. */
function withSpecials(t: NumericName, arr: NumericArray, r: () => number, rate = 0.15): NumericArray {
  if (isFloat(t)) return arr;
  const b = bitsOf(t);
  const specials = isSigned(t)
    ? [0n, 1n, -1n, -(1n << BigInt(b - 1)), (1n << BigInt(b - 1)) - 1n]
    : [0n, 1n, (1n << BigInt(b)) - 1n];
  for (let i = 0; i < arr.length; i++) {
    if (r() < rate) {
      const v = specials[Math.floor(r() * specials.length)];
      (arr as unknown as Array<number | bigint>)[i] = is64(t) ? v : Number(v);
    }
  }
  return arr;
}

function randomScalar(t: NumericName, r: () => number): number | bigint {
  const v = withSpecials(t, randomArray(t, 1, r), r, 0.4)[0];
  return v;
}

/** Checks a result column against the reference row by row (values only where valid). */
function check(where: string, t: NumericName, col: Column, want: Array<number | bigint | null>, valid: boolean[] | undefined) {
  assert.is(col.length, want.length, `${where}: length`);
  const got = valuesView(col);
  let nulls = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const v = (!valid || valid[i]) && w !== null;
    if (!v) nulls++;
    assert.is(col.isValid(i), v, `${where}: validity of row ${i}`);
    if (w === null) assert.ok(same(t, got[i], is64(t) ? 0n : 0), `${where}: x/0 row ${i} holds 0, got ${got[i]}`);
    else if (v) assert.ok(same(t, got[i], w), `${where}: row ${i}: got ${got[i]}, want ${w}`);
  }
  assert.is(col.nullCount, nulls, `${where}: nullCount`);
  if (nulls === 0) assert.is(col.validity, 0, `${where}: no bitmap when nothing is null`);
}

function runBinary(op: Bin, shape: Shape, a: Column, b: Column, scalar: number | bigint): Column {
  if (shape === 'cc') return ar[op](a, b);
  if (shape === 'cs') return ar[op](a, scalar);
  return ar[op](scalar, b);
}

for (const t of NUMERIC_TYPES) {
  test(`add/sub/mul/div ${t}: column∘column, column∘scalar, scalar∘column, n = 0..129, with nulls`, () => {
    const r = rng(0xa817 + bitsOf(t) * 31 + t.length);
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      for (const nullRate of [0, 0.3]) {
        const da = withSpecials(t, randomArray(t, n, r), r);
        const db = withSpecials(t, randomArray(t, n, r), r);
        const va = nullRate ? randomValidity(n, r, nullRate) : undefined;
        const vb = nullRate ? randomValidity(n, r, nullRate) : undefined;
        const a = columnFromArray(ctx, scope, typeOf(t), da, va);
        const b = columnFromArray(ctx, scope, typeOf(t), db, vb);
        const s = randomScalar(t, r);
        for (const op of BINS) {
          for (const shape of SHAPES) {
            const want: Array<number | bigint | null> = [];
            const valid: boolean[] = [];
            for (let i = 0; i < n; i++) {
              const x = shape === 'sc' ? s : da[i];
              const y = shape === 'cs' ? s : db[i];
              want.push(refBinary(t, op, x, y));
              valid.push((shape === 'sc' || !va || va[i]) && (shape === 'cs' || !vb || vb[i]));
            }
            check(`${op} ${t} ${shape} n=${n} nulls=${nullRate} s=${s}`, t, runBinary(op, shape, a, b, s), want, valid);
          }
        }
      }
    }
    scope.close();
  });

  test(`neg/abs ${t}: n = 0..129, with nulls and MIN/MAX/±0/NaN`, () => {
    const r = rng(0x0e9 + bitsOf(t) + t.length * 7);
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      const d = withSpecials(t, randomArray(t, n, r), r);
      const valid = n % 2 ? randomValidity(n, r, 0.25) : undefined;
      const a = columnFromArray(ctx, scope, typeOf(t), d, valid);
      for (const op of UNS) {
        const want = Array.from(d as ArrayLike<number | bigint>, (x) => refUnary(t, op, x));
        check(`${op} ${t} n=${n}`, t, ar[op](a), want, valid);
      }
    }
    scope.close();
  });

  test(`mulAdd ${t}: x·k + y equals mul then add, n = 0..129`, () => {
    const r = rng(0xadd + t.length * 13 + bitsOf(t));
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      const dx = withSpecials(t, randomArray(t, n, r), r);
      const dy = withSpecials(t, randomArray(t, n, r), r);
      const vx = n % 3 === 1 ? randomValidity(n, r, 0.2) : undefined;
      const vy = n % 3 === 2 ? randomValidity(n, r, 0.2) : undefined;
      const k = randomScalar(t, r);
      const x = columnFromArray(ctx, scope, typeOf(t), dx, vx);
      const y = columnFromArray(ctx, scope, typeOf(t), dy, vy);
      const want: Array<number | bigint> = [];
      const valid: boolean[] = [];
      for (let i = 0; i < n; i++) {
        want.push(refBinary(t, 'add', refBinary(t, 'mul', dx[i], k)!, dy[i])!);
        valid.push((!vx || vx[i]) && (!vy || vy[i]));
      }
      check(`mulAdd ${t} n=${n} k=${k}`, t, ar.mulAdd(x, k, y), want, valid);
    }
    scope.close();
  });
}

test('integer overflow wraps, MIN / -1 wraps, x / 0 is null with value 0', () => {
  const scope = ctx.scope();
  const i8 = (xs: number[]) => columnFromArray(ctx, scope, columnType('int8'), Int8Array.from(xs));
  assert.equal(Array.from(valuesView(ar.add(i8([127, -128]), 1))), [-128, -127]);
  assert.equal(Array.from(valuesView(ar.mul(i8([64, -128]), 2))), [-128, 0]);
  const u8 = columnFromArray(ctx, scope, columnType('uint8'), Uint8Array.from([0, 1, 200]));
  assert.equal(Array.from(valuesView(ar.sub(u8, 1))), [255, 0, 199]);
  assert.equal(Array.from(valuesView(ar.neg(u8))), [0, 255, 56]);
  const i64 = columnFromArray(ctx, scope, columnType('int64'), BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 7n, -7n]));
  assert.equal(Array.from(valuesView(ar.div(i64, -1n))), [-(2n ** 63n), -(2n ** 63n) + 1n, -7n, 7n]);
  assert.equal(Array.from(valuesView(ar.div(i64, 2))), [-(2n ** 62n), 2n ** 62n - 1n, 3n, -3n]); // toward zero
  assert.equal(Array.from(valuesView(ar.abs(i64))), [-(2n ** 63n), 2n ** 63n - 1n, 7n, 7n]);
  const i32 = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([-(2 ** 31), 5, 0]));
  const q = ar.div(i32, columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([-1, 0, 0])));
  assert.equal(Array.from(valuesView(q)), [-(2 ** 31), 0, 0]);
  assert.equal([q.isValid(0), q.isValid(1), q.isValid(2)], [true, false, false]);
  assert.is(q.nullCount, 2);
  const allNull = ar.div(i32, 0);
  assert.is(allNull.nullCount, 3);
  const sc = ar.div(100, columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([7, -7, 0])));
  assert.equal(Array.from(valuesView(sc)), [14, -14, 0]);
  assert.is(sc.nullCount, 1);
  scope.close();
});

test('floats: IEEE division by zero, NaN, ±0, ±Infinity, never null', () => {
  const scope = ctx.scope();
  const f = (xs: number[]) => columnFromArray(ctx, scope, columnType('float64'), Float64Array.from(xs));
  const q = ar.div(f([1, -1, 0, NaN, Infinity, -0]), 0);
  const got = Array.from(valuesView(q) as Float64Array);
  assert.equal(got.slice(0, 2), [Infinity, -Infinity]);
  assert.ok(Number.isNaN(got[2]) && Number.isNaN(got[3]));
  assert.equal(got[4], Infinity);
  assert.ok(Number.isNaN(got[5]));
  assert.is(q.validity, 0);
  const n = Array.from(valuesView(ar.neg(f([0, -0, Infinity]))) as Float64Array);
  assert.ok(Object.is(n[0], -0) && Object.is(n[1], 0) && n[2] === -Infinity);
  assert.ok(Object.is((valuesView(ar.add(f([-0]), f([-0]))) as Float64Array)[0], -0));
  assert.ok(Object.is((valuesView(ar.abs(f([-0]))) as Float64Array)[0], 0));
  assert.equal(Array.from(valuesView(ar.sub(1.5, f([1, 2]))) as Float64Array), [0.5, -0.5]);
  scope.close();
});

test('property (seeded): long random columns, random op/type/shape, against the reference', () => {
  const r = rng(20261122);
  const scope = ctx.scope();
  const rounds = Math.max(5, Math.round(60 * SCALE));
  for (let k = 0; k < rounds; k++) {
    const t = NUMERIC_TYPES[Math.floor(r() * NUMERIC_TYPES.length)];
    const n = 200 + Math.floor(r() * 4000);
    const da = withSpecials(t, randomArray(t, n, r), r, 0.05);
    const db = withSpecials(t, randomArray(t, n, r), r, 0.05);
    const va = r() < 0.5 ? randomValidity(n, r, r() * 0.5) : undefined;
    const vb = r() < 0.5 ? randomValidity(n, r, r() * 0.5) : undefined;
    const a = columnFromArray(ctx, scope, typeOf(t), da, va);
    const b = columnFromArray(ctx, scope, typeOf(t), db, vb);
    const op = BINS[Math.floor(r() * 4)];
    const shape = SHAPES[Math.floor(r() * 3)];
    const s = randomScalar(t, r);
    const want: Array<number | bigint | null> = [];
    const valid: boolean[] = [];
    for (let i = 0; i < n; i++) {
      want.push(refBinary(t, op, shape === 'sc' ? s : da[i], shape === 'cs' ? s : db[i]));
      valid.push((shape === 'sc' || !va || va[i]) && (shape === 'cs' || !vb || vb[i]));
    }
    check(`round ${k}: ${op} ${t} ${shape} n=${n}`, t, runBinary(op, shape, a, b, s), want, valid);
    // Wrapping arithmetic is a ring: (a + b) − b = a and −(−a) = a, bit for bit, for every integer type.
    if (!isFloat(t)) {
      const back = valuesView(ar.sub(ar.add(a, b), b));
      const negneg = valuesView(ar.neg(ar.neg(a)));
      for (let i = 0; i < n; i++) {
        if (back[i] !== da[i] || negneg[i] !== da[i]) assert.unreachable(`ring law broken at ${i} (${t})`);
      }
    }
  }
  scope.close();
});

test('in place: into = an input column', () => {
  const scope = ctx.scope();
  const a = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from({ length: 77 }, (_, i) => i));
  const b = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from({ length: 77 }, () => 0.5));
  const r = ar.add(a, b, { into: a });
  assert.is(r.values, a.values);
  assert.equal(Array.from(valuesView(a) as Float64Array), Array.from({ length: 77 }, (_, i) => i + 0.5));
  ar.mulAdd(a, 2, b, { into: b });
  assert.equal((valuesView(b) as Float64Array)[76], (76.5 * 2) + 0.5);
  scope.close();
});

/**
 * Canaries: the result is written into a column placed in the middle of a bigger region filled
 * with a guard pattern (values at an 8-byte-aligned but not 64-aligned offset, the bitmap at an odd
 * offset); nothing outside [values, +n·w) and [validity, +ceil(n/8)) may change.
 */
test('canaries: kernels write exactly n values and ceil(n/8) bitmap bytes', () => {
  const r = rng(0xca9a);
  const GUARD = 40;
  for (const t of NUMERIC_TYPES) {
    for (const n of [0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 128, 129, 300]) {
      const scope = ctx.scope();
      const w = bitsOf(t) / 8;
      const type = typeOf(t);
      const da = withSpecials(t, randomArray(t, n, r), r);
      const db = withSpecials(t, randomArray(t, n, r), r);
      const a = columnFromArray(ctx, scope, type, da, randomValidity(n, r, 0.2));
      const b = columnFromArray(ctx, scope, type, db);
      const vBytes = n * w, bBytes = Math.ceil(n / 8);
      const region = scope.alloc(vBytes + bBytes + 4 * GUARD);
      const u8 = ctx.mem.u8;
      const fill = () => { for (let i = 0; i < vBytes + bBytes + 4 * GUARD; i++) u8[region + i] = 0xa5 ^ (i & 0xff); };
      const values = region + GUARD;
      const validity = region + vBytes + 3 * GUARD + 3;
      const into = new Column(ctx, scope, { type, length: n, values, validity });
      const guardsIntact = (where: string) => {
        const m = ctx.mem.u8;
        for (let i = 0; i < vBytes + bBytes + 4 * GUARD; i++) {
          const p = region + i;
          const inside = (p >= values && p < values + vBytes) || (p >= validity && p < validity + bBytes);
          if (!inside && m[p] !== (0xa5 ^ (i & 0xff))) assert.unreachable(`${where}: guard byte ${i - GUARD} clobbered`);
        }
      };
      for (const op of [...BINS, ...UNS, 'mulAdd' as const]) {
        fill();
        const res = op === 'mulAdd' ? ar.mulAdd(a, 3, b, { into })
          : op === 'neg' || op === 'abs' ? ar[op](a, { into })
          : ar[op](a, b, { into });
        guardsIntact(`${op} ${t} n=${n}`);
        assert.is(res.values, values);
        for (let i = 0; i < n; i++) {
          const want = op === 'mulAdd' ? refBinary(t, 'add', refBinary(t, 'mul', da[i], is64(t) ? 3n : 3)!, db[i])
            : op === 'neg' || op === 'abs' ? refUnary(t, op, da[i]) : refBinary(t, op, da[i], db[i]);
          if (res.isValid(i) && want !== null && !same(t, valuesView(res)[i], want)) assert.unreachable(`${op} ${t} n=${n} row ${i}`);
          if (res.isValid(i) !== (a.isValid(i) && want !== null)) assert.unreachable(`${op} ${t} n=${n} validity row ${i}`);
        }
      }
      scope.close();
    }
  }
});

// ---- bad input: typed errors, thrown before any kernel runs ----

/** A context whose kernel exports count calls (columns built on it run through the same wrappers). */
function spyContext() {
  let calls = 0;
  // The exports object is frozen, so wrap each function into a plain object instead of a Proxy.
  const kernel = Object.fromEntries(Object.entries(ctx.kernel).map(([k, f]) => [
    k, typeof f === 'function' ? (...args: unknown[]) => { calls++; return (f as (...a: unknown[]) => unknown)(...args); } : f,
  ]));
  const spy = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { kernel }) as Context;
  return { spy, calls: () => calls };
}

function col(c: Context, scope: ReturnType<Context['scope']>, type: ColumnType, n: number, values?: number): Column {
  const base = allocColumn(ctx, scope, type, n);
  return new Column(c, scope, { type, length: n, values: values ?? base.values });
}

test('errors: mismatched lengths, types, unknown op, bad pointers — typed, before the kernel', () => {
  const scope = ctx.scope();
  const { spy, calls } = spyContext();
  const f64 = columnType('float64');
  const a = col(spy, scope, f64, 10);
  const b = col(spy, scope, f64, 11);
  const i32 = col(spy, scope, columnType('int32'), 10);
  const isErr = (E: new (...args: never[]) => Error, re?: RegExp) => (e: unknown) => e instanceof E && (!re || re.test((e as Error).message));

  assert.throws(() => ar.add(a, b), isErr(LengthMismatchError, /add.*10 vs 11/));
  assert.throws(() => ar.mulAdd(a, 2, b), isErr(LengthMismatchError));
  assert.throws(() => ar.add(a, i32), isErr(UnsupportedTypeError, /float64 ∘ int32/));
  assert.throws(() => ar.div(i32, a), isErr(UnsupportedTypeError, /int32 ∘ float64/));
  const bool = col(spy, scope, columnType('bool'), 10);
  assert.throws(() => ar.add(bool, 1), isErr(UnsupportedTypeError, /add.*bool/));
  assert.throws(() => ar.neg(bool), isErr(UnsupportedTypeError, /neg.*bool/));
  const utf8 = allocColumn(ctx, scope, columnType('utf8'), 10);
  const utf8Spy = new Column(spy, scope, { type: utf8.type, length: 10, values: utf8.values, offsets: utf8.offsets });
  assert.throws(() => ar.mul(utf8Spy, utf8Spy), isErr(UnsupportedTypeError, /utf8/));
  const date = col(spy, scope, columnType('date32'), 10);
  assert.throws(() => ar.add(date, 1), isErr(UnsupportedTypeError, /temporal/));
  assert.throws(() => ar.add(1, 2), isErr(UnsupportedTypeError, /at least one operand/));
  assert.throws(() => ar.arith('pow' as ar.ArithOpName, a, b), isErr(UnknownOpError, /pow.*add, sub, mul, div, neg, abs/));
  assert.throws(() => ar.arith('toString' as ar.ArithOpName, a, b), isErr(UnknownOpError));
  assert.throws(() => ar.add(i32, 2 ** 31), isErr(InvalidOptionError, /int32/));
  assert.throws(() => ar.add(i32, 1.5), isErr(InvalidOptionError));
  assert.throws(() => ar.add(col(spy, scope, columnType('uint64'), 10), -1n), isErr(InvalidOptionError));
  const limit = ctx.mem.byteLength;
  const wild = col(spy, scope, f64, 10, limit - 40);
  assert.throws(() => ar.add(wild, a), isErr(OutOfRangeError, /add.*values end/));
  assert.throws(() => ar.abs(wild), isErr(OutOfRangeError));
  const wildInto = new Column(spy, scope, { type: f64, length: 10, values: limit + 64 });
  assert.throws(() => ar.add(a, a, { into: wildInto }), isErr(OutOfRangeError));
  const overlapping = new Column(spy, scope, { type: f64, length: 10, values: a.values + 8 });
  assert.throws(() => ar.add(a, 1, { into: overlapping }), isErr(InvalidOptionError, /overlap/));
  assert.throws(() => ar.add(a, 1, { into: i32 }), isErr(UnsupportedTypeError));
  assert.throws(() => ar.add(a, 1, { into: b }), isErr(LengthMismatchError));
  assert.is(calls(), 0, 'no kernel ran');
  // And the same calls do run kernels when valid (the spy works).
  ar.add(a, a);
  assert.ok(calls() > 0);
  scope.close();
});

test.run();
