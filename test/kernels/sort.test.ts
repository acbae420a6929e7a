import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, DType, columnType } from '../../src/column.js';
import { columnFromArray, valuesView, type NumericArray } from '../../src/column-alloc.js';
import { argsort, sortColumn } from '../../src/kernels/sort.js';
import { InvalidOptionError, LengthMismatchError, OutOfRangeError, UnsupportedTypeError } from '../../src/errors.js';
import type { ArenaScope } from '../../src/memory/arena.js';
import { rng, SCALE } from '../helpers/rng.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf, type NumericName } from '../helpers/columns.js';
import { dictionaryColumn, readStrings, utf8Column } from '../helpers/strings.js';

const ctx = Context.create({ maxBytes: 1 << 30 });

// ---- the reference: Array.prototype.sort (stable) over row indices ----------------------------

type Val = number | bigint | string | boolean | null;
interface RefKey { vals: Val[]; desc: boolean; nullsFirst: boolean }

const utf8Bytes = (s: string) => Buffer.from(s, 'utf8');

/** Value order: numbers with NaN largest and -0 = +0; strings by UTF-8 bytes. */
function cmpVal(a: Val, b: Val): number {
  if (typeof a === 'number' && typeof b === 'number') {
    const na = Number.isNaN(a), nb = Number.isNaN(b);
    if (na || nb) return na && nb ? 0 : na ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(utf8Bytes(a), utf8Bytes(b));
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return a! < b! ? -1 : a! > b! ? 1 : 0;
}

function refArgsort(keys: RefKey[], n: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  return idx.sort((i, j) => {
    for (const k of keys) {
      const a = k.vals[i], b = k.vals[j];
      if (a === null || b === null) {
        if (a === null && b === null) continue;
        return (a === null) === k.nullsFirst ? -1 : 1;
      }
      const c = cmpVal(a, b);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  });
}

const permOf = (col: Column): number[] => Array.from(new Int32Array(col.ctx.mem.buffer, col.values, col.length));

function valsOf(data: NumericArray, valid?: boolean[]): Val[] {
  return Array.from(data as ArrayLike<number | bigint>, (v, i) => (valid && !valid[i] ? null : v));
}

// ---- canaries: the bytes before an output and the slack after it stay untouched --------------

const CANARY = 0xa5;

/**
 * Runs `make` in a fresh scope whose next allocations are watched: the 64 bytes just before the
 * first output buffer and up to 256 bytes past the end of the last one must keep the canary byte.
 */
function withCanaries(bytes: number, make: (scope: ArenaScope) => Column): Column {
  const scope = ctx.scope();
  const guardLo = scope.alloc(64);
  const span = 64 + Math.ceil(bytes / 64) * 64 + 256;
  ctx.mem.u8.fill(CANARY, guardLo, guardLo + span);
  const out = make(scope);
  assert.is(out.values, guardLo + 64, 'output allocated right after the guard');
  const u8 = ctx.mem.u8;
  for (let p = guardLo; p < guardLo + 64; p++) assert.is(u8[p], CANARY, `canary before output at +${p - guardLo}`);
  for (let p = out.values + bytes; p < guardLo + span; p++) assert.is(u8[p], CANARY, `canary after output at +${p - out.values}`);
  return out;
}

// ---- numeric keys ------------------------------------------------------------------------------

for (const name of NUMERIC_TYPES) {
  test(`argsort ${name}: lengths 0..129, asc/desc, nulls first/last, matches a stable reference`, () => {
    const r = rng(0x50f7 + name.length * 31 + name.charCodeAt(0));
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      for (const nullRate of [0, 0.25]) {
        // Few distinct values so ties (stability) are common; floats add NaN/±0/±Inf.
        const data = randomArray(name, n, r);
        if (n % 3 === 0) for (let i = 7; i < n; i++) (data as unknown as unknown[])[i] = data[i % 7];
        const valid = nullRate === 0 ? undefined : randomValidity(n, r, nullRate);
        const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
        for (const desc of [false, true]) {
          for (const nullsFirst of [false, true]) {
            const want = refArgsort([{ vals: valsOf(data, valid), desc, nullsFirst }], n);
            const got = withCanaries(n * 4, (s) => argsort(col, { descending: desc, nullsFirst, scope: s }));
            assert.equal(permOf(got), want, `${name} n=${n} nulls=${nullRate} desc=${desc} nullsFirst=${nullsFirst}`);
          }
        }
      }
    }
    scope.close();
  });
}

test('float order: NaN (any sign/payload) is largest, -0 equals +0, ±Inf at the ends; stable', () => {
  const scope = ctx.scope();
  const negNaN = new Float64Array(new BigUint64Array([0xfff8000000000001n]).buffer)[0];
  for (const t of ['float64', 'float32'] as const) {
    const tiny = t === 'float64' ? 5e-324 : 1.401298464324817e-45; // the smallest subnormal of each type
    const xs = [0, -0, NaN, Infinity, -Infinity, 1, -1, negNaN, -0, 0, tiny, -tiny, NaN, 1.5];
    const data = t === 'float64' ? Float64Array.from(xs) : Float32Array.from(xs);
    const col = columnFromArray(ctx, scope, columnType(t), data);
    const asc = permOf(argsort(col));
    assert.equal(asc, refArgsort([{ vals: Array.from(data), desc: false, nullsFirst: false }], xs.length), t);
    // -0/+0 keep input order: indexes 0,1,8,9 appear in that order.
    assert.equal(asc.filter((i) => data[i] === 0), [0, 1, 8, 9]);
    assert.equal(asc.slice(-3), [2, 7, 12], 'NaNs last in input order');
    const desc = permOf(argsort(col, { descending: true }));
    assert.equal(desc.slice(0, 3), [2, 7, 12], 'NaNs first when descending, still in input order');
    assert.equal(desc.filter((i) => data[i] === 0), [0, 1, 8, 9], 'ties stay in input order when descending');
  }
  scope.close();
});

test('argsort: larger seeded random inputs (both digit widths), every numeric type', () => {
  const r = rng(777);
  const scope = ctx.scope();
  for (const n of [1000, 70_000, Math.round(200_000 * SCALE)]) {
    for (const name of NUMERIC_TYPES) {
      const data = randomArray(name, n, r);
      const valid = randomValidity(n, r, 0.1);
      const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
      const desc = n % 2 === 0;
      const want = refArgsort([{ vals: valsOf(data, valid), desc, nullsFirst: true }], n);
      assert.equal(permOf(argsort(col, { descending: desc, nullsFirst: true })), want, `${name} n=${n}`);
    }
  }
  scope.close();
});

test('temporal and bool keys sort as their stored integers / false < true', () => {
  const scope = ctx.scope();
  const days = Int32Array.from([19000, -5, 19000, 0, 365]);
  const d = columnFromArray(ctx, scope, columnType('date32'), days);
  assert.equal(permOf(argsort(d)), [1, 3, 4, 0, 2]);
  const ts = BigInt64Array.from([3n, -(2n ** 62n), 2n ** 62n, 3n]);
  const t = columnFromArray(ctx, scope, columnType('timestamp', 'nanosecond'), ts);
  assert.equal(permOf(argsort(t, { descending: true })), [2, 0, 3, 1]);

  const r = rng(5);
  for (const n of [0, 1, 63, 64, 65, 200]) {
    const bits = Array.from({ length: n }, () => r() < 0.5);
    const valid = randomValidity(n, r, 0.2);
    const bitmap = new Uint8Array(Math.ceil(n / 8));
    bits.forEach((b, i) => { if (b) bitmap[i >>> 3] |= 1 << (i & 7); });
    const values = scope.calloc(bitmap.length);
    ctx.mem.u8.set(bitmap, values);
    const vcol = columnFromArray(ctx, scope, columnType('uint8'), new Uint8Array(n), valid);
    const col = new Column(ctx, scope, { type: columnType('bool'), length: n, values, validity: vcol.validity, nullCount: vcol.nullCount });
    for (const desc of [false, true]) {
      const want = refArgsort([{ vals: bits.map((b, i) => (valid[i] ? b : null)), desc, nullsFirst: false }], n);
      assert.equal(permOf(argsort(col, { descending: desc })), want, `bool n=${n} desc=${desc}`);
      const sorted = sortColumn(col, { descending: desc });
      for (let i = 0; i < n; i++) {
        const bit = ((ctx.mem.u8[sorted.values + (i >>> 3)] >>> (i & 7)) & 1) === 1;
        if (sorted.isValid(i)) assert.is(bit, bits[want[i]], `bool gather row ${i}`);
        else assert.not.ok(valid[want[i]]);
      }
    }
  }
  scope.close();
});

// ---- multi-key --------------------------------------------------------------------------------

test('multi-key: mixed directions and null placements over mixed types, vs the reference', () => {
  const r = rng(4242);
  const scope = ctx.scope();
  for (const n of [0, 1, 2, 17, 64, 129, 1000, 5000]) {
    const a = Int8Array.from({ length: n }, () => Math.floor(r() * 4) - 2);
    const aValid = randomValidity(n, r, 0.1);
    const b = Float64Array.from({ length: n }, () => [NaN, -0, 0, 1.5, -2, Infinity][Math.floor(r() * 6)]);
    const bValid = randomValidity(n, r, 0.15);
    const words = ['', 'a', 'ab', 'b', 'é', 'z', 'aa'];
    const c = Array.from({ length: n }, () => (r() < 0.1 ? null : words[Math.floor(r() * words.length)]));
    const d = BigUint64Array.from({ length: n }, () => BigInt(Math.floor(r() * 3)) << 63n >> 1n);
    const dict = ['kiwi', 'fig', 'kiwi', 'apple'];
    const e = Array.from({ length: n }, () => (r() < 0.1 ? null : Math.floor(r() * dict.length)));
    const cols = [
      columnFromArray(ctx, scope, columnType('int8'), a, aValid),
      columnFromArray(ctx, scope, columnType('float64'), b, bValid),
      utf8Column(ctx, scope, c),
      dictionaryColumn(ctx, scope, dict, e, DType.U16),
      columnFromArray(ctx, scope, columnType('uint64'), d),
    ];
    const vals: Val[][] = [valsOf(a, aValid), valsOf(b, bValid), c, e.map((x) => (x === null ? null : dict[x])), valsOf(d)];
    for (let trial = 0; trial < 4; trial++) {
      const desc = vals.map(() => r() < 0.5);
      const nullsFirst = vals.map(() => r() < 0.5);
      const want = refArgsort(vals.map((v, k) => ({ vals: v, desc: desc[k], nullsFirst: nullsFirst[k] })), n);
      assert.equal(permOf(argsort(cols, { descending: desc, nullsFirst })), want, `n=${n} desc=${desc} nf=${nullsFirst}`);
      // Key order matters: reversed keys give the reversed-priority reference.
      const rev = [...cols].reverse();
      const wantRev = refArgsort(vals.map((v, k) => ({ vals: v, desc: desc[k], nullsFirst: nullsFirst[k] })).reverse(), n);
      assert.equal(permOf(argsort(rev, { descending: [...desc].reverse(), nullsFirst: [...nullsFirst].reverse() })), wantRev);
    }
  }
  scope.close();
});

// ---- strings and dictionaries -----------------------------------------------------------------

const ALPHABET = ['', 'a', 'b', 'é', '€', '😀', '\u0000', 'Z', 'ab', 'abcdefgh', 'abcdefghi', 'abcdefgh\u0000'];

function randomString(r: () => number): string {
  const len = Math.floor(r() * 12);
  let s = '';
  // Slices by code point (Array.from), so no lone surrogates: every string round-trips through UTF-8.
  for (let i = 0; i < len; i++) s += Array.from(ALPHABET[1 + Math.floor(r() * (ALPHABET.length - 1))]).slice(0, 1 + Math.floor(r() * 3)).join('');
  return s;
}

test('utf8: UTF-8 byte order (empty, multi-byte, NUL, shared 8-byte prefixes), stable, lengths 0..129', () => {
  const r = rng(31337);
  const scope = ctx.scope();
  for (let n = 0; n <= 129; n++) {
    const pool = Array.from({ length: 1 + (n >> 2) }, () => randomString(r)).concat(ALPHABET);
    const strs = Array.from({ length: n }, () => (r() < 0.15 ? null : pool[Math.floor(r() * pool.length)]));
    const col = utf8Column(ctx, scope, strs);
    for (const desc of [false, true]) {
      for (const nullsFirst of [false, true]) {
        const want = refArgsort([{ vals: strs, desc, nullsFirst }], n);
        const got = withCanaries(n * 4, (s) => argsort(col, { descending: desc, nullsFirst, scope: s }));
        assert.equal(permOf(got), want, `utf8 n=${n} desc=${desc} nf=${nullsFirst}`);
      }
    }
  }
  // '\uFFFF' (EF BF BF) < '😀' (F0 …) in UTF-8 although UTF-16 code units order them the other way.
  const col = utf8Column(ctx, scope, ['😀', '\uffff', 'a']);
  assert.equal(permOf(argsort(col)), [2, 1, 0]);
  scope.close();
});

test('utf8: 50k random strings and sortColumn gathers them', () => {
  const r = rng(8);
  const scope = ctx.scope();
  const n = Math.round(50_000 * SCALE);
  const strs = Array.from({ length: n }, () => (r() < 0.05 ? null : randomString(r)));
  const col = utf8Column(ctx, scope, strs);
  const want = refArgsort([{ vals: strs, desc: true, nullsFirst: true }], n);
  assert.equal(permOf(argsort(col, { descending: true, nullsFirst: true })), want);
  const sorted = sortColumn(col, { descending: true, nullsFirst: true });
  assert.equal(readStrings(sorted), want.map((i) => strs[i]));
  assert.is(sorted.nullCount, strs.filter((s) => s === null).length);
  scope.close();
});

test('dictionary: sorts by the strings (duplicate and unused entries, every code type), not by codes', () => {
  const r = rng(99);
  const scope = ctx.scope();
  const dict = ['pear', 'apple', 'fig', 'apple', '', 'Äpfel', 'zebra'];
  for (const codeType of [DType.I8, DType.I16, DType.I32, DType.I64, DType.U8, DType.U16, DType.U32, DType.U64]) {
    for (const n of [0, 1, 65, 300]) {
      const codes = Array.from({ length: n }, () => (r() < 0.1 ? null : Math.floor(r() * (dict.length - 1))));
      const col = dictionaryColumn(ctx, scope, dict, codes, codeType);
      for (const desc of [false, true]) {
        const strs = codes.map((c) => (c === null ? null : dict[c]));
        const want = refArgsort([{ vals: strs, desc, nullsFirst: false }], n);
        assert.equal(permOf(argsort(col, { descending: desc })), want, `dict ${DType[codeType]} n=${n} desc=${desc}`);
      }
    }
  }
  // Null dictionary entries make their rows null.
  const col = dictionaryColumn(ctx, scope, ['b', null, 'a'], [0, 1, 2, null, 1, 0]);
  assert.equal(permOf(argsort(col)), [2, 0, 5, 1, 3, 4]);
  assert.equal(permOf(argsort(col, { nullsFirst: true })), [1, 3, 4, 2, 0, 5]);
  const sorted = sortColumn(col);
  assert.equal(Array.from(new Int32Array(ctx.mem.buffer, sorted.values, 6)).slice(0, 3), [2, 0, 0]);
  assert.is(sorted.dictionary, col.dictionary);
  scope.close();
});

// ---- sortColumn -------------------------------------------------------------------------------

for (const name of NUMERIC_TYPES) {
  test(`sortColumn ${name}: gathered values and validity match the reference order`, () => {
    const r = rng(12 + name.length);
    const scope = ctx.scope();
    for (const n of [0, 1, 63, 64, 65, 129, 3000]) {
      const data = randomArray(name, n, r);
      const valid = randomValidity(n, r, 0.2);
      const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
      const want = refArgsort([{ vals: valsOf(data, valid), desc: true, nullsFirst: false }], n);
      const sorted = sortColumn(col, { descending: true });
      const got = valuesView(sorted);
      assert.is(sorted.type, col.type);
      assert.is(sorted.nullCount, valid.filter((v) => !v).length);
      for (let i = 0; i < n; i++) {
        assert.is(sorted.isValid(i), valid[want[i]], `${name} validity row ${i}`);
        assert.ok(Object.is(got[i], data[want[i]]), `${name} value row ${i}: ${got[i]} vs ${data[want[i]]}`);
      }
    }
    scope.close();
  });
}

// ---- bad input: typed errors before any kernel runs ---------------------------------------------

test('bad input: typed errors naming the op', () => {
  const scope = ctx.scope();
  const a = columnFromArray(ctx, scope, columnType('int32'), new Int32Array(5));
  const b = columnFromArray(ctx, scope, columnType('float64'), new Float64Array(4));
  assert.throws(() => argsort([a, b]), (e: unknown) => e instanceof LengthMismatchError && /argsort/.test((e as Error).message));
  assert.throws(() => argsort([]), (e: unknown) => e instanceof InvalidOptionError && (e as InvalidOptionError).option === 'keys');
  assert.throws(() => argsort([a, a], { descending: [true] }),
    (e: unknown) => e instanceof InvalidOptionError && (e as InvalidOptionError).option === 'descending');
  assert.throws(() => argsort(a, { nullsFirst: 'yes' as unknown as boolean }),
    (e: unknown) => e instanceof InvalidOptionError && (e as InvalidOptionError).option === 'nullsFirst');
  assert.throws(() => sortColumn(a, { descending: 1 as unknown as boolean }), (e: unknown) => e instanceof InvalidOptionError);
  // A dictionary of numbers (not strings) and float codes are unsupported.
  const numDict = new Column(ctx, scope, { type: { name: 'dictionary', dtype: DType.I32 }, length: 5, values: a.values, dictionary: b });
  assert.throws(() => argsort(numDict), (e: unknown) => e instanceof UnsupportedTypeError && /argsort/.test((e as Error).message));
  const floatCodes = new Column(ctx, scope, { type: { name: 'dictionary', dtype: DType.F64 }, length: 4, values: b.values, dictionary: utf8Column(ctx, scope, ['x']) });
  assert.throws(() => sortColumn(floatCodes), (e: unknown) => e instanceof UnsupportedTypeError && /'sort'/.test((e as Error).message));
  // Out-of-memory pointers and out-of-range codes.
  const wild = new Column(ctx, scope, { type: columnType('int64'), length: 10, values: ctx.mem.byteLength - 8 });
  assert.throws(() => argsort(wild), (e: unknown) => e instanceof OutOfRangeError);
  const badCodes = dictionaryColumn(ctx, scope, ['x', 'y'], [0, 1, 2, 1]);
  assert.throws(() => argsort(badCodes), (e: unknown) => e instanceof OutOfRangeError && /row 2/.test((e as Error).message));
  const negCodes = dictionaryColumn(ctx, scope, ['x', 'y'], [0, -1], DType.I8);
  assert.throws(() => argsort(negCodes), (e: unknown) => e instanceof OutOfRangeError && /row 1/.test((e as Error).message));
  // Decreasing utf8 offsets are caught by the kernel's check and reported with the row.
  const s = utf8Column(ctx, scope, ['ab', 'cd', 'ef']);
  ctx.mem.i32[(s.offsets >>> 2) + 2] = 1;
  assert.throws(() => argsort(s), (e: unknown) => e instanceof OutOfRangeError && /decrease/.test((e as Error).message));
  scope.close();
});

test.run();
