import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, columnType, type ColumnType, type TimeUnit } from '../../src/column.js';
import { allocColumn, columnFromArray, valuesView, type NumericArray } from '../../src/column-alloc.js';
import { cast, castCanFail } from '../../src/kernels/cast.js';
import { InvalidOptionError, OutOfRangeError, UnsupportedTypeError } from '../../src/errors.js';
import { rng, SCALE } from '../helpers/rng.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf, type NumericName } from '../helpers/columns.js';

const ctx = Context.create({ maxBytes: 1 << 30 });

const isFloat = (t: NumericName) => t.startsWith('float');
const bitsOf = (t: NumericName) => Number(t.replace(/\D/g, ''));
const isSigned = (t: NumericName) => t.startsWith('int');
const is64 = (t: NumericName) => bitsOf(t) === 64 && !isFloat(t);

function intRange(t: NumericName): [bigint, bigint] {
  const b = BigInt(bitsOf(t));
  return isSigned(t) ? [-(1n << (b - 1n)), (1n << (b - 1n)) - 1n] : [0n, (1n << b) - 1n];
}

/** An exact integer rounded to the nearest float32 (ties to even), without double rounding via f64. */
function bigToF32(x: bigint): number {
  const neg = x < 0n;
  let m = neg ? -x : x;
  const bits = m.toString(2).length;
  let shift = 0n;
  if (bits > 24) {
    shift = BigInt(bits - 24);
    const rem = m & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    m >>= shift;
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
  }
  const v = Number(m) * 2 ** Number(shift); // exact: m ≤ 2^24
  return Math.fround(neg ? -v : v);
}

/** Reference cast of one value: the result, or null when it is not representable. */
function refCast(from: NumericName, to: NumericName, x: number | bigint): number | bigint | null {
  if (isFloat(to)) {
    if (isFloat(from)) return to === 'float32' ? Math.fround(x as number) : (x as number);
    return to === 'float32' ? bigToF32(BigInt(x)) : Number(BigInt(x)); // Number(bigint) rounds to nearest-even
  }
  let v: bigint;
  if (isFloat(from)) {
    if (!Number.isFinite(x as number)) return null;
    v = BigInt(Math.trunc(x as number));
  } else {
    v = BigInt(x);
  }
  const [lo, hi] = intRange(to);
  if (v < lo || v > hi) return null;
  return is64(to) ? v : Number(v);
}

function same(got: number | bigint, want: number | bigint): boolean {
  if (typeof want === 'number') return Object.is(got, want) || (Number.isNaN(got as number) && Number.isNaN(want));
  return BigInt(got) === want;
}

/** Values that sit on the edges of other types' ranges. */
function edgy(from: NumericName, arr: NumericArray, r: () => number): NumericArray {
  const put = (i: number, v: number | bigint) => { (arr as unknown as Array<number | bigint>)[i] = v; };
  for (let i = 0; i < arr.length; i++) {
    if (r() >= 0.3) continue;
    if (isFloat(from)) {
      const e = [0.5, -0.5, -0.9, 127.9, 128, -128.9, -129, 255.5, 256, 32767.5, 65536, 2 ** 31 - 0.5, 2 ** 31, -(2 ** 31) - 0.5,
        -(2 ** 31) - 1, 2 ** 32, 2 ** 63, -(2 ** 63), 2 ** 64, 2 ** 64 - 2048, 1e300, -0, NaN, Infinity, -Infinity, 3.5e38];
      put(i, e[Math.floor(r() * e.length)]);
    } else {
      const [lo, hi] = intRange(from);
      const e = [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, 32767n, 32768n, 65535n, 65536n, 2n ** 31n - 1n, 2n ** 31n,
        -(2n ** 31n), 2n ** 32n - 1n, 2n ** 53n + 1n, lo, hi].filter((v) => v >= lo && v <= hi);
      const v = e[Math.floor(r() * e.length)];
      put(i, is64(from) ? v : Number(v));
    }
  }
  return arr;
}

test('castCanFail mirrors the kernel rules', () => {
  const d = (t: NumericName) => typeOf(t).dtype;
  assert.not.ok(castCanFail(d('int8'), d('int64')));
  assert.ok(castCanFail(d('int64'), d('int8')));
  assert.ok(castCanFail(d('int8'), d('uint64')));
  assert.not.ok(castCanFail(d('uint32'), d('int64')));
  assert.ok(castCanFail(d('uint32'), d('int32')));
  assert.ok(castCanFail(d('float32'), d('uint8')));
  assert.not.ok(castCanFail(d('int64'), d('float32')));
});

for (const from of NUMERIC_TYPES) {
  test(`cast ${from} → every numeric type: n = 0..129, nulls, edge values`, () => {
    const r = rng(0xc457 + bitsOf(from) * 3 + from.length);
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      const data = edgy(from, randomArray(from, n, r), r);
      const valid = n % 3 === 0 ? undefined : randomValidity(n, r, 0.25);
      const c = columnFromArray(ctx, scope, typeOf(from), data, valid);
      for (const to of NUMERIC_TYPES) {
        const out = cast(c, to);
        assert.is(out.type.name, to);
        const got = valuesView(out);
        let nulls = 0;
        for (let i = 0; i < n; i++) {
          const want = refCast(from, to, data[i]);
          const v = (!valid || valid[i]) && want !== null;
          if (!v) nulls++;
          if (out.isValid(i) !== v) assert.unreachable(`${from}→${to} n=${n} row ${i} (${data[i]}): valid ${out.isValid(i)}, want ${v}`);
          if (want === null) {
            if (!same(got[i], is64(to) ? 0n : 0)) assert.unreachable(`${from}→${to} row ${i}: a nulled value holds 0`);
          } else if (v && !same(got[i], want)) {
            assert.unreachable(`${from}→${to} n=${n} row ${i}: ${data[i]} → ${got[i]}, want ${want}`);
          }
        }
        assert.is(out.nullCount, nulls, `${from}→${to} n=${n} nullCount`);
        if (nulls === 0) assert.is(out.validity, 0);
      }
    }
    scope.close();
  });
}

test('float → int: truncation toward zero, NaN/±Inf/out of range → null (documented examples)', () => {
  const scope = ctx.scope();
  const f = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from([2.9, -2.9, -0.5, NaN, Infinity, 2 ** 31, -(2 ** 31), 2 ** 63]));
  const i32 = cast(f, 'int32');
  assert.equal(Array.from(valuesView(i32)), [2, -2, 0, 0, 0, 0, -(2 ** 31), 0]);
  assert.equal(Array.from({ length: 8 }, (_, i) => i32.isValid(i)), [true, true, true, false, false, false, true, false]);
  assert.is(i32.nullCount, 4);
  const i64 = cast(f, 'int64');
  assert.equal(Array.from({ length: 8 }, (_, i) => i64.isValid(i)), [true, true, true, false, false, true, true, false]);
  const u8 = cast(columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([-1, 0, 255, 256])), 'uint8');
  assert.equal(Array.from(valuesView(u8)), [0, 0, 255, 0]);
  assert.is(u8.nullCount, 2);
  // Input nulls stay null, and count once even where the value would also overflow.
  const withNull = columnFromArray(ctx, scope, columnType('int16'), Int16Array.from([300, 5, -300]), [false, true, true]);
  const i8 = cast(withNull, 'int8');
  assert.equal([i8.isValid(0), i8.isValid(1), i8.isValid(2)], [false, true, false]);
  assert.is(i8.nullCount, 2);
  scope.close();
});

// ---- temporal ----

const DAY_MS = 86_400_000n;
const NS_PER: Record<TimeUnit, bigint> = { second: 1_000_000_000n, millisecond: 1_000_000n, microsecond: 1_000n, nanosecond: 1n };
const floorDiv = (a: bigint, b: bigint) => (a % b !== 0n && a < 0n ? a / b - 1n : a / b);

test('dates and timestamps: date32 ↔ date64 ↔ timestamp (every unit), floor toward −∞, overflow → null', () => {
  const scope = ctx.scope();
  const days = Int32Array.from([0, 1, -1, 19_000, -719_162, 2 ** 31 - 1, -(2 ** 31), 106_751, 106_752, -106_752]);
  const d32 = columnFromArray(ctx, scope, columnType('date32'), days);
  const d64 = cast(d32, 'date64');
  assert.equal(Array.from(valuesView(d64)), Array.from(days, (d) => BigInt(d) * DAY_MS));
  assert.is(d64.nullCount, 0);
  assert.equal(Array.from(valuesView(cast(d64, 'date32'))), Array.from(days));
  for (const unit of ['second', 'millisecond', 'microsecond', 'nanosecond'] as TimeUnit[]) {
    const ts = cast(d32, columnType('timestamp', unit));
    const perDay = 86_400n * 1_000_000_000n / NS_PER[unit];
    for (let i = 0; i < days.length; i++) {
      const want = BigInt(days[i]) * perDay;
      const fits = want >= -(2n ** 63n) && want < 2n ** 63n;
      assert.is(ts.isValid(i), fits, `date32 ${days[i]} → timestamp[${unit}] validity`);
      if (fits) assert.is(valuesView(ts)[i], want);
    }
    const back = cast(ts, 'date32');
    for (let i = 0; i < days.length; i++) if (ts.isValid(i)) assert.is(valuesView(back)[i], days[i]);
    assert.is(back.nullCount, ts.nullCount);
  }
  // Sub-day times map to the day that contains them, before 1970 too.
  const ms = BigInt64Array.from([-1n, 0n, DAY_MS - 1n, DAY_MS, -DAY_MS, -DAY_MS - 1n, 2n ** 63n - 1n, -(2n ** 63n)]);
  const tms = columnFromArray(ctx, scope, columnType('timestamp', 'millisecond'), ms);
  const asDays = cast(tms, 'date32');
  assert.equal(Array.from(valuesView(asDays)).slice(0, 6), [-1, 0, 0, 1, -1, -2]);
  assert.is(asDays.nullCount, 2, 'ms timestamps beyond ±2^31 days are null');
  // Unit changes: coarser floors, finer multiplies with overflow → null; same unit is a copy.
  const ts = columnFromArray(ctx, scope, columnType('timestamp', 'nanosecond'), BigInt64Array.from([-1n, 1_999_999_999n, -2_000_000_001n, 2n ** 63n - 1n]));
  assert.equal(Array.from(valuesView(cast(ts, columnType('timestamp', 'second')))), [-1n, 1n, -3n, 9_223_372_036n]);
  assert.equal(Array.from(valuesView(cast(ts, 'date64'))), [-1n, 1999n, -2001n, floorDiv(2n ** 63n - 1n, 1_000_000n)]);
  const sec = columnFromArray(ctx, scope, columnType('timestamp', 'second'), BigInt64Array.from([1n, -1n, 9_223_372_037n, -9_223_372_037n, 9_223_372_036n]));
  const ns = cast(sec, columnType('timestamp', 'nanosecond'));
  assert.equal([0, 1, 2, 3, 4].map((i) => ns.isValid(i)), [true, true, false, false, true]);
  assert.equal(Array.from(valuesView(ns)), [1_000_000_000n, -1_000_000_000n, 0n, 0n, 9_223_372_036_000_000_000n]);
  const d64ms = cast(tms, 'date64');
  assert.equal(Array.from(valuesView(d64ms)), Array.from(ms));
  const tz = cast(tms, columnType('timestamp', 'millisecond', 'Europe/Paris'));
  assert.is(tz.type.timezone, 'Europe/Paris');
  assert.equal(Array.from(valuesView(tz)), Array.from(ms));
  scope.close();
});

test('temporal ↔ integers reinterpret the stored count (numeric rules for the width)', () => {
  const scope = ctx.scope();
  const d32 = columnFromArray(ctx, scope, columnType('date32'), Int32Array.from([-5, 0, 19_000]), [true, false, true]);
  const i32 = cast(d32, 'int32');
  assert.equal(Array.from(valuesView(i32)).filter((_, i) => i !== 1), [-5, 19_000]);
  assert.is(i32.nullCount, 1);
  assert.equal(Array.from(valuesView(cast(d32, 'int64'))).filter((_, i) => i !== 1), [-5n, 19_000n]);
  const i64 = columnFromArray(ctx, scope, columnType('int64'), BigInt64Array.from([1n, 2n ** 40n, -(2n ** 31n)]));
  const asDate = cast(i64, 'date32');
  assert.equal([asDate.isValid(0), asDate.isValid(1), asDate.isValid(2)], [true, false, true]);
  assert.equal(Array.from(valuesView(cast(i64, columnType('timestamp', 'microsecond')))), [1n, 2n ** 40n, -(2n ** 31n)]);
  const u16 = cast(columnFromArray(ctx, scope, columnType('timestamp', 'second'), BigInt64Array.from([65_535n, 65_536n])), 'uint16');
  assert.equal([u16.isValid(0), u16.isValid(1)], [true, false]);
  scope.close();
});

test('property (seeded): random long columns, random pairs; widening then narrowing back is the identity', () => {
  const r = rng(0xbeef);
  const scope = ctx.scope();
  const rounds = Math.max(5, Math.round(80 * SCALE));
  for (let k = 0; k < rounds; k++) {
    const from = NUMERIC_TYPES[Math.floor(r() * NUMERIC_TYPES.length)];
    const to = NUMERIC_TYPES[Math.floor(r() * NUMERIC_TYPES.length)];
    const n = 500 + Math.floor(r() * 3000);
    const data = edgy(from, randomArray(from, n, r), r);
    const valid = r() < 0.5 ? randomValidity(n, r, r() * 0.5) : undefined;
    const c = columnFromArray(ctx, scope, typeOf(from), data, valid);
    const out = cast(c, to);
    const got = valuesView(out);
    for (let i = 0; i < n; i++) {
      const want = refCast(from, to, data[i]);
      const v = (!valid || valid[i]) && want !== null;
      if (out.isValid(i) !== v || (v && !same(got[i], want!))) assert.unreachable(`round ${k}: ${from}→${to} row ${i}: ${data[i]} → ${got[i]}`);
    }
    // A cast that cannot fail, and back, restores every valid value.
    if (!castCanFail(typeOf(from).dtype, typeOf(to).dtype) && !isFloat(from) && !isFloat(to)) {
      const back = valuesView(cast(out, from));
      for (let i = 0; i < n; i++) if ((!valid || valid[i]) && back[i] !== data[i]) assert.unreachable(`round trip ${from}→${to}→${from} row ${i}`);
    }
  }
  scope.close();
});

test('canaries: a cast writes exactly n values and ceil(n/8) bitmap bytes', () => {
  const r = rng(0xca57);
  const GUARD = 48;
  for (const [from, to] of [['float64', 'int8'], ['int8', 'float64'], ['int64', 'uint16'], ['uint8', 'int64'], ['float32', 'uint64'], ['int32', 'int32']] as Array<[NumericName, NumericName]>) {
    for (const n of [0, 1, 7, 9, 63, 64, 65, 129, 200]) {
      const scope = ctx.scope();
      const data = edgy(from, randomArray(from, n, r), r);
      const c = columnFromArray(ctx, scope, typeOf(from), data, randomValidity(n, r, 0.2));
      const w = bitsOf(to) / 8, vBytes = n * w, bBytes = Math.ceil(n / 8), total = vBytes + bBytes + 4 * GUARD;
      const region = scope.alloc(total);
      const u8 = ctx.mem.u8;
      for (let i = 0; i < total; i++) u8[region + i] = 0x5a ^ (i & 0xff);
      const values = region + GUARD, validity = region + vBytes + 3 * GUARD + 5;
      const out = cast(c, to, { into: new Column(ctx, scope, { type: typeOf(to), length: n, values, validity }) });
      const m = ctx.mem.u8;
      for (let i = 0; i < total; i++) {
        const p = region + i;
        const inside = (p >= values && p < values + vBytes) || (p >= validity && p < validity + bBytes);
        if (!inside && m[p] !== (0x5a ^ (i & 0xff))) assert.unreachable(`${from}→${to} n=${n}: guard byte at ${i} clobbered`);
      }
      for (let i = 0; i < n; i++) {
        const want = refCast(from, to, data[i]);
        const v = c.isValid(i) && want !== null;
        if (out.isValid(i) !== v || (v && !same(valuesView(out)[i], want!))) assert.unreachable(`${from}→${to} n=${n} row ${i}`);
      }
      scope.close();
    }
  }
});

test('errors: unsupported types and pairs, bad names, bad pointers, overlapping into — before the kernel', () => {
  const scope = ctx.scope();
  let calls = 0;
  const kernel = Object.fromEntries(Object.entries(ctx.kernel).map(([k, f]) => [
    k, typeof f === 'function' ? (...args: unknown[]) => { calls++; return (f as (...a: unknown[]) => unknown)(...args); } : f,
  ]));
  const spy = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { kernel }) as Context;
  const mk = (type: ColumnType, n: number, values?: number) =>
    new Column(spy, scope, { type, length: n, values: values ?? allocColumn(ctx, scope, type, n).values });
  const isErr = (E: new (...args: never[]) => Error, re?: RegExp) => (e: unknown) => e instanceof E && (!re || re.test((e as Error).message));
  const f64 = mk(columnType('float64'), 10);
  const d32 = mk(columnType('date32'), 10);
  assert.throws(() => cast(f64, 'bool'), isErr(UnsupportedTypeError, /cast.*float64 ∘ bool/));
  assert.throws(() => cast(f64, 'utf8'), isErr(UnsupportedTypeError));
  assert.throws(() => cast(mk(columnType('bool'), 10), 'int32'), isErr(UnsupportedTypeError, /bool/));
  assert.throws(() => cast(f64, 'dictionary'), isErr(UnsupportedTypeError));
  assert.throws(() => cast(d32, 'float64'), isErr(UnsupportedTypeError, /temporal/));
  assert.throws(() => cast(f64, 'date64'), isErr(UnsupportedTypeError, /temporal/));
  assert.throws(() => cast(f64, 'int128' as 'int64'), isErr(InvalidOptionError, /int128/));
  assert.throws(() => cast(f64, columnType('timestamp', 'fortnight' as TimeUnit)), isErr(InvalidOptionError, /unit/));
  const wild = mk(columnType('int32'), 100, ctx.mem.byteLength - 100);
  assert.throws(() => cast(wild, 'int64'), isErr(OutOfRangeError, /cast.*values end/));
  const i32 = mk(columnType('int32'), 10);
  const into = new Column(spy, scope, { type: columnType('int64'), length: 10, values: i32.values + 4 });
  assert.throws(() => cast(i32, 'int64', { into }), isErr(InvalidOptionError, /overlap/));
  const same = new Column(spy, scope, { type: columnType('int32'), length: 10, values: i32.values });
  assert.throws(() => cast(i32, 'int32', { into: same }), isErr(InvalidOptionError, /overlap/));
  assert.throws(() => cast(i32, 'int64', { into: mk(columnType('int64'), 9) }), isErr(Error, /lengths differ/));
  assert.throws(() => cast(i32, 'int64', { into: mk(columnType('uint64'), 10) }), isErr(UnsupportedTypeError));
  assert.is(calls, 0, 'no kernel ran');
  cast(i32, 'int64');
  assert.ok(calls > 0);
  scope.close();
});

test.run();
