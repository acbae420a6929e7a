import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, DType, columnType, dictionaryType } from '../../src/column.js';
import { allocColumn, columnFromArray, columnFromStrings, type NumericArray } from '../../src/column-alloc.js';
import * as cmp from '../../src/kernels/compare.js';
import { BoolOp, CmpOp } from '../../assembly/shared/codes.js';
import { LengthMismatchError, UnknownOpError, UnsupportedTypeError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf, type NumericName } from '../helpers/columns.js';
import { bitsOf, boolColumn, boolsOf, countNulls } from '../helpers/bools.js';

const ctx = Context.create({ maxBytes: 1 << 30 });

type Num = number | bigint;
const OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;

/** Exact reference: JS compares number ∘ bigint exactly, and follows IEEE for NaN. */
function ref(op: (typeof OPS)[number], x: Num, y: Num): boolean {
  switch (op) {
    case 'eq': return x == y;
    case 'ne': return !(x == y);
    case 'lt': return x < y;
    case 'le': return x <= y;
    case 'gt': return x > y;
    case 'ge': return x >= y;
  }
}

const RANGE: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n], int16: [-32768n, 32767n], int32: [-(2n ** 31n), 2n ** 31n - 1n], int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 255n], uint16: [0n, 65535n], uint32: [0n, 2n ** 32n - 1n], uint64: [0n, 2n ** 64n - 1n],
};

/** Scalars that hit every host rule: in range, fractional, out of range, infinities, NaN, f32-inexact. */
function specialScalars(name: NumericName): Num[] {
  if (name.startsWith('float')) {
    return [0, -0, 0.1, -2.5, NaN, Infinity, -Infinity, 1e300, -1e-300, 2 ** -149, 3.5e38, 3.4028234663852886e38, 1 + 2 ** -30];
  }
  const [min, max] = RANGE[name];
  const out: Num[] = [0, 2.5, -2.5, 300, -300, 1e30, -1e30, Infinity, -Infinity, NaN, min, max, min - 1n, max + 1n, 2n ** 70n, -(2n ** 70n)];
  if (max < 2n ** 53n) out.push(Number(min) - 0.5, Number(max) + 0.5, Number(max) - 0.5);
  return out;
}

const pick = (data: NumericArray, r: () => number): Num => (data.length ? data[Math.floor(r() * data.length)] : 0);

/** Checks a compare result against per-row expectations (null = the row must be null). */
function checkResult(got: Column, want: Array<boolean | null>, nullAsFalse: boolean, where: string): void {
  assert.is(got.type.name, 'bool', where);
  assert.is(got.length, want.length, where);
  const expect = nullAsFalse ? want.map((w) => w === true) : want;
  const rows = boolsOf(got);
  for (let i = 0; i < want.length; i++) {
    if (rows[i] !== expect[i]) assert.unreachable(`${where} row ${i}: got ${rows[i]}, want ${expect[i]}`);
  }
  // Value bits of null rows are 0 (the result doubles as a selection), and padding bits are 0.
  const bits = bitsOf(got);
  for (let i = 0; i < want.length; i++) if (want[i] === null && bits[i]) assert.unreachable(`${where} row ${i}: null row has value bit 1`);
  const n = want.length;
  if (n & 7) assert.is(ctx.mem.u8[got.values + (n >>> 3)] >>> (n & 7), 0, `${where}: padding bits`);
  assert.is(got.nullCount, countNulls(got), `${where}: nullCount`);
  assert.is(got.nullCount, expect.filter((w) => w === null).length, `${where}: nullCount vs reference`);
}

for (const name of NUMERIC_TYPES) {
  test(`compare ${name} ∘ scalar: every op, lengths 0..129, nulls, special scalars; countCompare agrees`, () => {
    const r = rng(0xc0ffee + name.length * 7 + name.charCodeAt(0));
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      for (const nullRate of [0, 0.3]) {
        const data = randomArray(name, n, r);
        const valid = nullRate === 0 ? undefined : randomValidity(n, r, nullRate);
        const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
        const full = [0, 1, 7, 8, 63, 64, 65, 127, 128, 129].includes(n);
        const specials = specialScalars(name);
        const scalars = full ? [pick(data, r), ...specials] : [pick(data, r), specials[Math.floor(r() * specials.length)]];
        for (const s of scalars) {
          for (const op of OPS) {
            const want = Array.from(data as ArrayLike<Num>, (x, i) => (valid && !valid[i] ? null : ref(op, x, s)));
            const where = `${name} n=${n} nulls=${nullRate} ${op} ${typeof s === 'bigint' ? s + 'n' : s}`;
            checkResult(cmp.compare(op, col, s), want, false, where);
            checkResult(cmp.compare(op, col, s, { nullAsFalse: true }), want, true, where + ' nullAsFalse');
            assert.is(cmp.countCompare(col, op, s), want.filter((w) => w === true).length, where + ' countCompare');
          }
        }
      }
    }
    scope.close();
  });

  test(`compare ${name} ∘ ${name}: every op, lengths 0..129, nulls on either side`, () => {
    const r = rng(0xbeef + name.length * 13 + name.charCodeAt(1));
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      for (const [ra, rb] of [[0, 0], [0.3, 0], [0, 0.3], [0.2, 0.2]]) {
        const x = randomArray(name, n, r);
        const y = randomArray(name, n, r);
        // Make some rows equal so eq/le/ge see both outcomes.
        for (let i = 0; i < n; i++) if (r() < 0.3) (y as Float64Array)[i] = (x as Float64Array)[i];
        const va = ra ? randomValidity(n, r, ra) : undefined;
        const vb = rb ? randomValidity(n, r, rb) : undefined;
        const a = columnFromArray(ctx, scope, typeOf(name), x, va);
        const b = columnFromArray(ctx, scope, typeOf(name), y, vb);
        for (const op of OPS) {
          const want = Array.from(x as ArrayLike<Num>, (xv, i) => ((va && !va[i]) || (vb && !vb[i]) ? null : ref(op, xv, (y as ArrayLike<Num>)[i])));
          const where = `${name} n=${n} ${op} nulls=${ra}/${rb}`;
          checkResult(cmp.compare(op, a, b), want, false, where);
          checkResult(cmp.compare(op, a, b, { nullAsFalse: true }), want, true, where + ' nullAsFalse');
        }
      }
    }
    scope.close();
  });

  test(`between ${name}: inclusive bounds, empty and out-of-range intervals`, () => {
    const r = rng(0xb7 + name.length * 31 + name.charCodeAt(0));
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      const data = randomArray(name, n, r);
      const valid = n % 2 ? randomValidity(n, r, 0.25) : undefined;
      const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
      const sp = specialScalars(name);
      const pairs: Array<[Num, Num]> = [[pick(data, r), pick(data, r)], [sp[Math.floor(r() * sp.length)], pick(data, r)], [pick(data, r), sp[Math.floor(r() * sp.length)]]];
      if (n === 129) for (const s of sp) for (const t of sp) pairs.push([s, t]);
      for (const [lo, hi] of pairs) {
        const want = Array.from(data as ArrayLike<Num>, (x, i) => (valid && !valid[i] ? null : x >= lo && x <= hi));
        checkResult(cmp.between(col, lo, hi), want, false, `${name} n=${n} between ${lo} ${hi}`);
      }
    }
    scope.close();
  });
}

test('floats: NaN compares false except ne, ±0 are equal, infinities order (column ∘ column and scalar)', () => {
  const scope = ctx.scope();
  const xs = [NaN, 0, -0, Infinity, -Infinity, 1, NaN, -0];
  const ys = [NaN, -0, 0, Infinity, Infinity, NaN, 1, -0];
  for (const name of ['float32', 'float64'] as const) {
    const C = name === 'float32' ? Float32Array : Float64Array;
    const a = columnFromArray(ctx, scope, columnType(name), C.from(xs));
    const b = columnFromArray(ctx, scope, columnType(name), C.from(ys));
    for (const op of OPS) {
      assert.equal(boolsOf(cmp.compare(op, a, b)), xs.map((x, i) => ref(op, x, ys[i])), `${name} ${op}`);
      assert.equal(boolsOf(cmp.compare(op, a, NaN)), xs.map(() => op === 'ne'), `${name} ${op} NaN`);
      assert.equal(boolsOf(cmp.compare(op, a, -0)), xs.map((x) => ref(op, x, 0)), `${name} ${op} -0`);
    }
  }
  // float32(0.1) < 0.1 as f64: exact, not after rounding the scalar to float32.
  const f = columnFromArray(ctx, scope, columnType('float32'), Float32Array.from([0.1, 0.2]));
  assert.equal(boolsOf(cmp.lt(f, 0.1)), [Math.fround(0.1) < 0.1, false]);
  assert.equal(boolsOf(cmp.eq(f, 0.1)), [false, false]);
  scope.close();
});

test('temporal columns compare their stored integers; timestamps need the same unit', () => {
  const scope = ctx.scope();
  const d = columnFromArray(ctx, scope, columnType('date32'), Int32Array.from([18000, 19000, 20000]));
  assert.equal(boolsOf(cmp.ge(d, 19000)), [false, true, true]);
  assert.equal(boolsOf(cmp.between(d, 18500, 19500)), [false, true, false]);
  const t1 = columnFromArray(ctx, scope, columnType('timestamp', 'millisecond'), BigInt64Array.from([1n, 5n, 9n]));
  const t2 = columnFromArray(ctx, scope, columnType('timestamp', 'millisecond'), BigInt64Array.from([2n, 5n, 3n]));
  const t3 = columnFromArray(ctx, scope, columnType('timestamp', 'second'), BigInt64Array.from([2n, 5n, 3n]));
  assert.equal(boolsOf(cmp.lt(t1, t2)), [true, false, false]);
  assert.equal(boolsOf(cmp.gt(t1, 4n)), [false, true, true]);
  assert.throws(() => cmp.lt(t1, t3), (e: unknown) => e instanceof UnsupportedTypeError);
  scope.close();
});

/** Byte-wise order of two strings (what the kernels implement; DuckDB's binary collation). */
const byteOrder = (x: string, y: string) => Buffer.compare(Buffer.from(x), Buffer.from(y));
const HOLDS = { eq: (c: number) => c === 0, ne: (c: number) => c !== 0, lt: (c: number) => c < 0, le: (c: number) => c <= 0, gt: (c: number) => c > 0, ge: (c: number) => c >= 0 };
const ORDER_ALPHABET = ['', 'a', 'ab', 'aB', 'b', 'é', 'e\u0301', 'Z', '日本', '🎉', '\uffff', 'abcdefgh', 'abcdefghij', 'abcdefghik', 'abcdefgi', 'x'.repeat(300), 'x'.repeat(301), 'x'.repeat(299) + 'y'];

test('utf8 ordering: every op and between against strings, byte-wise (UTF-16 order differs: U+FFFF vs 🎉)', () => {
  const r = rng(78);
  const scope = ctx.scope();
  // JS `<` compares UTF-16 units: '\uffff' > '🎉' there, but its UTF-8 bytes (ef bf bf) sort below 🎉's (f0 …).
  assert.ok('\uffff' > '🎉' && byteOrder('\uffff', '🎉') < 0);
  for (let n = 0; n <= 129; n += n < 20 ? 1 : 7) {
    const strs = Array.from({ length: n }, () => (r() < 0.15 ? null : ORDER_ALPHABET[Math.floor(r() * ORDER_ALPHABET.length)]));
    const col = columnFromStrings(ctx, scope, strs);
    for (const s of ORDER_ALPHABET) {
      for (const op of ['lt', 'le', 'gt', 'ge'] as const) {
        const want = strs.map((x) => (x === null ? null : HOLDS[op](byteOrder(x, s))));
        checkResult(cmp.compare(op, col, s), want, false, `utf8 n=${n} ${op} ${JSON.stringify(s.slice(0, 12))}`);
        checkResult(cmp.compare(op, col, s, { nullAsFalse: true }), want, true, `utf8 n=${n} ${op} nullAsFalse`);
        assert.is(cmp.countCompare(col, op, s), want.filter((w) => w === true).length);
      }
      const hi = ORDER_ALPHABET[Math.floor(r() * ORDER_ALPHABET.length)];
      const want = strs.map((x) => (x === null ? null : byteOrder(x, s) >= 0 && byteOrder(x, hi) <= 0));
      checkResult(cmp.between(col, s, hi), want, false, `utf8 n=${n} between ${JSON.stringify(s.slice(0, 8))} ${JSON.stringify(hi.slice(0, 8))}`);
    }
  }
  scope.close();
});

test('strings column vs column: utf8/utf8, utf8/dictionary, dictionary/dictionary, every op, nulls both sides', () => {
  const r = rng(79);
  const scope = ctx.scope();
  const words = ORDER_ALPHABET;
  const dict = columnFromStrings(ctx, scope, [...words, null]);
  const dict2 = columnFromStrings(ctx, scope, [...words].reverse());
  for (let n = 0; n <= 129; n += n < 20 ? 1 : 9) {
    const xs = Array.from({ length: n }, () => (r() < 0.15 ? null : words[Math.floor(r() * words.length)]));
    // Codes into `dict`: some null rows, some rows pointing at its null entry.
    const codes = Array.from({ length: n }, () => Math.floor(r() * (words.length + 1)));
    const cvalid = codes.map(() => r() >= 0.1);
    const ys = codes.map((c, i) => (cvalid[i] ? (c < words.length ? words[c] : null) : null));
    const base = columnFromArray(ctx, scope, columnType('int16'), Int16Array.from(codes), cvalid);
    const dcol = new Column(ctx, scope, { type: dictionaryType(DType.I16), length: n, values: base.values, validity: base.validity, nullCount: base.nullCount, dictionary: dict });
    // The same strings as `xs` through a second, reversed dictionary with uint8 codes.
    const rev = [...words].reverse();
    const xb = columnFromArray(ctx, scope, columnType('uint8'), Uint8Array.from(xs, (x) => (x === null ? 0 : rev.indexOf(x))), xs.map((x) => x !== null));
    const xdict = new Column(ctx, scope, { type: dictionaryType(DType.U8), length: n, values: xb.values, validity: xb.validity, nullCount: xb.nullCount, dictionary: dict2 });
    const xutf = columnFromStrings(ctx, scope, xs);
    const yutf = columnFromStrings(ctx, scope, ys);
    for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      const want = xs.map((x, i) => (x === null || ys[i] === null ? null : HOLDS[op](byteOrder(x, ys[i] as string))));
      checkResult(cmp.compare(op, xutf, yutf), want, false, `utf8/utf8 n=${n} ${op}`);
      checkResult(cmp.compare(op, xutf, dcol), want, false, `utf8/dict n=${n} ${op}`);
      checkResult(cmp.compare(op, xdict, dcol), want, false, `dict/dict n=${n} ${op}`);
      checkResult(cmp.compare(op, xdict, yutf, { nullAsFalse: true }), want, true, `dict/utf8 n=${n} ${op} nullAsFalse`);
    }
  }
  scope.close();
});

test('utf8 eq/ne a string: empty strings, multi-byte UTF-8, nulls, long needles', () => {
  const r = rng(77);
  const scope = ctx.scope();
  const alphabet = ['', 'a', 'ab', 'é', '日本', '🎉', 'abcdefghij', 'abcdefghik', 'x'.repeat(300), 'x'.repeat(301)];
  for (let n = 0; n <= 129; n++) {
    const strs = Array.from({ length: n }, () => (r() < 0.15 ? null : alphabet[Math.floor(r() * alphabet.length)]));
    const col = columnFromStrings(ctx, scope, strs);
    for (const s of alphabet.concat(['nope', 'ab\u0000'])) {
      for (const op of ['eq', 'ne'] as const) {
        const want = strs.map((x) => (x === null ? null : op === 'eq' ? x === s : x !== s));
        checkResult(cmp.compare(op, col, s), want, false, `utf8 n=${n} ${op} ${JSON.stringify(s.slice(0, 12))}`);
        assert.is(cmp.countCompare(col, op, s), want.filter((w) => w === true).length);
      }
    }
  }
  scope.close();
});

test('dictionary vs a string: every op, missing and repeated dictionary entries, null entries', () => {
  const scope = ctx.scope();
  const dict = columnFromStrings(ctx, scope, ['red', 'green', '', 'blue', 'green', null]);
  const codes = [0, 1, 2, 3, 4, 5, 1, 0, 4, 3, 2];
  const valid = codes.map((_, i) => i % 5 !== 4);
  for (const [dt, C] of [[DType.I8, Int8Array], [DType.U16, Uint16Array], [DType.I32, Int32Array]] as const) {
    const base = columnFromArray(ctx, scope, { name: 'dictionary', dtype: dt }, C.from(codes), valid);
    const col = new Column(ctx, scope, { type: dictionaryType(dt), length: base.length, values: base.values, validity: base.validity, nullCount: base.nullCount, dictionary: dict });
    const words = ['red', 'green', '', 'blue', 'green', null];
    const order = (x: string, y: string) => Buffer.compare(Buffer.from(x), Buffer.from(y));
    const holds = { eq: (c: number) => c === 0, ne: (c: number) => c !== 0, lt: (c: number) => c < 0, le: (c: number) => c <= 0, gt: (c: number) => c > 0, ge: (c: number) => c >= 0 };
    for (const s of ['red', 'green', '', 'blue', 'purple']) {
      for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
        // Code 5 points at a null dictionary entry: those rows are null too.
        const want = codes.map((c, i) => (!valid[i] || words[c] === null ? null : holds[op](order(words[c] as string, s))));
        checkResult(cmp.compare(op, col, s), want, false, `dict ${DType[dt]} ${op} '${s}'`);
        checkResult(cmp.compare(op, col, s, { nullAsFalse: true }), want, true, `dict ${DType[dt]} ${op} '${s}' nullAsFalse`);
        assert.is(cmp.countCompare(col, op, s), want.filter((w) => w === true).length);
      }
    }
    const want = codes.map((c, i) => (!valid[i] || words[c] === null ? null : order(words[c] as string, 'blue') >= 0 && order(words[c] as string, 'purple') <= 0));
    checkResult(cmp.between(col, 'blue', 'purple'), want, false, `dict ${DType[dt]} between`);
  }
  scope.close();
});

test('and / or / andNot / not: Kleene logic over every null combination, lengths 0..129; countTrue', () => {
  const r = rng(4242);
  const scope = ctx.scope();
  const K = {
    and: (x: boolean | null, y: boolean | null) => (x === false || y === false ? false : x === null || y === null ? null : true),
    or: (x: boolean | null, y: boolean | null) => (x === true || y === true ? true : x === null || y === null ? null : false),
    andNot: (x: boolean | null, y: boolean | null) => K.and(x, y === null ? null : !y),
  };
  const rand = (n: number, nullRate: number) => Array.from({ length: n }, () => (r() < nullRate ? null : r() < 0.5));
  for (let n = 0; n <= 300; n += n < 129 ? 1 : 57) {
    for (const [ra, rb] of [[0, 0], [0.3, 0], [0, 0.3], [0.3, 0.3]]) {
      const xs = rand(n, ra), ys = rand(n, rb);
      // Null rows carry random value bits: the kernels must not trust them.
      const a = boolColumn(ctx, scope, xs, r() < 0.5), b = boolColumn(ctx, scope, ys, r() < 0.5);
      for (const op of ['and', 'or', 'andNot'] as const) {
        const want = xs.map((x, i) => K[op](x, ys[i]));
        checkResult(cmp[op](a, b), want, false, `${op} n=${n} ${ra}/${rb}`);
      }
      checkResult(cmp.not(a), xs.map((x) => (x === null ? null : !x)), false, `not n=${n}`);
      assert.is(cmp.countTrue(a), xs.filter((x) => x === true).length);
      checkResult(cmp.isNull(a), xs.map((x) => x === null), false, `isNull n=${n}`);
      checkResult(cmp.isNotNull(a), xs.map((x) => x !== null), false, `isNotNull n=${n}`);
    }
  }
  scope.close();
});

test('isNull / isNotNull on columns without a validity bitmap, and on utf8', () => {
  const scope = ctx.scope();
  for (const n of [0, 1, 8, 63, 64, 65, 200]) {
    const col = columnFromArray(ctx, scope, columnType('int16'), new Int16Array(n));
    checkResult(cmp.isNull(col), Array(n).fill(false), false, `isNull n=${n}`);
    checkResult(cmp.isNotNull(col), Array(n).fill(true), false, `isNotNull n=${n}`);
  }
  const s = columnFromStrings(ctx, scope, ['a', null, '']);
  assert.equal(boolsOf(cmp.isNull(s)), [false, true, false]);
  scope.close();
});

// ------------------------------------------------------------------------------------------------
// Canaries: kernels write exactly ceil(n/8) bytes of their output, never around it.

const GUARD = 64;
const CANARY = 0xa5;

function guarded(bytes: number): { p: number; check: (where: string) => void } {
  const scope = ctx.scope();
  const base = scope.alloc(bytes + 2 * GUARD + 7);
  const p = base + GUARD + 3; // not 8-aligned on purpose: stores must not assume alignment
  const u8 = ctx.mem.u8;
  u8.fill(CANARY, base, base + bytes + 2 * GUARD + 7);
  return {
    p,
    check(where: string) {
      for (let i = base; i < p; i++) if (u8[i] !== CANARY) assert.unreachable(`${where}: wrote before the output at -${p - i}`);
      for (let i = p + bytes; i < base + bytes + 2 * GUARD + 7; i++) if (u8[i] !== CANARY) assert.unreachable(`${where}: wrote after the output at +${i - p - bytes}`);
      scope.close();
    },
  };
}

test('canaries: compareScalar / compareColumns / countCompare / compareUtf8* / gatherBits / bitmapLogic write exactly ceil(n/8) bytes', () => {
  const r = rng(31337);
  const scope = ctx.scope();
  const k = ctx.kernel;
  for (let n = 0; n <= 129; n++) {
    const nb = Math.ceil(n / 8);
    for (const name of NUMERIC_TYPES) {
      const data = randomArray(name, n, r);
      const col = columnFromArray(ctx, scope, typeOf(name), data, randomValidity(n, r, 0.2));
      new DataView(ctx.mem.buffer).setBigUint64(ctx.scratch, 0n, true);
      new DataView(ctx.mem.buffer).setBigUint64(ctx.scratch + 8, 0xffffffffffffffffn, true);
      for (const op of [CmpOp.EQ, CmpOp.NE, CmpOp.LT, CmpOp.GE, CmpOp.BETWEEN]) {
        const g = guarded(nb);
        k.compareScalar(op, col.type.dtype, col.values, col.validity, n, ctx.scratch, g.p);
        g.check(`compareScalar ${name} op=${op} n=${n}`);
        if (op !== CmpOp.BETWEEN) {
          const h = guarded(nb);
          k.compareColumns(op, col.type.dtype, col.values, col.validity, col.values, 0, n, h.p);
          h.check(`compareColumns ${name} op=${op} n=${n}`);
        }
      }
    }
    const strs = columnFromStrings(ctx, scope, Array.from({ length: n }, (_, i) => (i % 3 ? 'ab' : null)));
    const g = guarded(nb);
    ctx.mem.u8.set([0x61, 0x62], ctx.scratch);
    k.compareUtf8(CmpOp.EQ, strs.offsets, strs.values, strs.validity, n, ctx.scratch, 2, g.p);
    g.check(`compareUtf8 n=${n}`);
    for (const op of [CmpOp.LT, CmpOp.BETWEEN]) {
      const u = guarded(nb);
      k.compareUtf8Scalar(op, strs.offsets, strs.values, strs.validity, n, ctx.scratch, 1, ctx.scratch, 2, u.p);
      u.check(`compareUtf8Scalar op=${op} n=${n}`);
    }
    const uc = guarded(nb);
    k.compareUtf8Columns(CmpOp.GE, strs.offsets, strs.values, strs.validity, strs.offsets, strs.values, 0, n, uc.p);
    uc.check(`compareUtf8Columns n=${n}`);
    const codes = columnFromArray(ctx, scope, columnType('uint8'), Uint8Array.from({ length: n }, (_, i) => i & 7), randomValidity(n, r, 0.2));
    const gb = guarded(nb);
    ctx.mem.u8[ctx.scratch + 16] = 0b10110101;
    k.gatherBits(DType.U8, codes.values, codes.validity, n, ctx.scratch + 16, gb.p);
    gb.check(`gatherBits n=${n}`);
    const a = boolColumn(ctx, scope, Array.from({ length: n }, () => (r() < 0.2 ? null : r() < 0.5)));
    for (const op of [BoolOp.AND, BoolOp.OR, BoolOp.ANDNOT, BoolOp.NOT]) {
      const v = guarded(nb), m = guarded(nb);
      k.bitmapLogic(op, a.values, a.validity, a.values, 0, n, v.p, m.p, 0);
      v.check(`bitmapLogic values op=${op} n=${n}`);
      m.check(`bitmapLogic validity op=${op} n=${n}`);
    }
  }
  scope.close();
});

test('canaries: input columns pointed into the middle of a poisoned buffer; inputs are not modified', () => {
  const r = rng(99);
  const scope = ctx.scope();
  for (const n of [0, 1, 63, 64, 65, 129, 200]) {
    // Values around the column are 1e300 / all-ones bitmap bytes: reading them would change the counts.
    const G = 128;
    const base = scope.alloc((n + 2 * G) * 8);
    const f = new Float64Array(ctx.mem.buffer, base, n + 2 * G).fill(1e300);
    const data = Float64Array.from({ length: n }, () => r() * 2 - 1);
    f.set(data, G);
    const vbase = scope.alloc(Math.ceil(n / 8) + 2 * G);
    ctx.mem.u8.fill(0xff, vbase, vbase + Math.ceil(n / 8) + 2 * G);
    const valid = randomValidity(n, r, 0.3);
    valid.forEach((v, i) => { if (!v) ctx.mem.u8[vbase + G + (i >>> 3)] &= ~(1 << (i & 7)); });
    const col = new Column(ctx, scope, { type: columnType('float64'), length: n, values: base + G * 8, validity: vbase + G, nullCount: valid.filter((v) => !v).length });
    const before = ctx.mem.u8.slice(base, base + (n + 2 * G) * 8);
    const want = Array.from(data, (x, i) => (valid[i] ? x > 0 : null));
    checkResult(cmp.gt(col, 0), want, false, `middle n=${n}`);
    assert.is(cmp.countCompare(col, 'gt', 0), want.filter((w) => w === true).length);
    checkResult(cmp.lt(col, col), want.map((w) => (w === null ? null : false)), false, `middle col∘col n=${n}`);
    assert.equal(ctx.mem.u8.slice(base, base + (n + 2 * G) * 8), before, 'input untouched');
  }
  scope.close();
});

// ------------------------------------------------------------------------------------------------
// Bad input: typed errors, thrown before anything is allocated or written.

/** Runs `f`, expecting `cls`, and checks that the scope allocated nothing meanwhile. */
function rejects(scope: ReturnType<Context['scope']>, f: () => unknown, cls: new (...a: never[]) => Error, msg: RegExp): void {
  const before = scope.alloc(64);
  assert.throws(f, (e: unknown) => e instanceof cls && msg.test((e as Error).message), `expected ${cls.name} matching ${msg}`);
  const after = scope.alloc(64);
  assert.is(after, before + 64, 'nothing was allocated by the rejected call');
}

test('bad input: mismatched lengths, type combos, unknown ops, non-bool logic inputs', () => {
  const scope = ctx.scope();
  const i32 = columnFromArray(ctx, scope, columnType('int32'), new Int32Array(10));
  const i32short = columnFromArray(ctx, scope, columnType('int32'), new Int32Array(9));
  const f64 = columnFromArray(ctx, scope, columnType('float64'), new Float64Array(10));
  const str = columnFromStrings(ctx, scope, ['a', 'b']);
  const bool = boolColumn(ctx, scope, Array(10).fill(true));
  const boolShort = boolColumn(ctx, scope, Array(9).fill(true));
  rejects(scope, () => cmp.eq(i32, i32short), LengthMismatchError, /eq.*10 vs 9/);
  rejects(scope, () => cmp.lt(i32, f64), UnsupportedTypeError, /lt.*int32.*float64/);
  rejects(scope, () => cmp.lt(str, i32short), UnsupportedTypeError, /lt.*utf8.*int32/);
  rejects(scope, () => cmp.between(str, 'a', 2), UnsupportedTypeError, /between.*utf8.*string.*number/);
  rejects(scope, () => cmp.eq(str, 1), UnsupportedTypeError, /eq.*utf8.*number/);
  rejects(scope, () => cmp.eq(i32, 'a'), UnsupportedTypeError, /eq.*int32.*string/);
  rejects(scope, () => cmp.eq(bool, bool), UnsupportedTypeError, /eq.*bool/);
  rejects(scope, () => cmp.gt(bool, 1), UnsupportedTypeError, /gt.*bool/);
  rejects(scope, () => cmp.between(str, 1, 2), UnsupportedTypeError, /between.*utf8/);
  rejects(scope, () => cmp.compare('like' as never, i32, 1), UnknownOpError, /like/);
  rejects(scope, () => cmp.and(bool, boolShort), LengthMismatchError, /and/);
  rejects(scope, () => cmp.or(bool, i32), UnsupportedTypeError, /or.*int32/);
  rejects(scope, () => cmp.not(i32), UnsupportedTypeError, /not.*int32/);
  rejects(scope, () => cmp.countTrue(i32), UnsupportedTypeError, /countTrue/);
  rejects(scope, () => cmp.countCompare(i32, 'gt', 'x'), UnsupportedTypeError, /gt.*int32.*string/);
  rejects(scope, () => cmp.eq(i32, null as never), UnsupportedTypeError, /eq.*null/);
  scope.close();
});

test('results go to opts.scope when given', () => {
  const s1 = ctx.scope();
  const s2 = ctx.scope();
  const col = columnFromArray(ctx, s1, columnType('uint8'), Uint8Array.from([1, 2, 3]));
  const res = cmp.gt(col, 1, { scope: s2 });
  assert.is(res.scope, s2);
  s1.close();
  assert.equal(boolsOf(res), [false, true, true]);
  s2.close();
});

test('seeded property: filter-style use — countCompare = countTrue(compare(nullAsFalse)) on large random columns', () => {
  const r = rng(2024);
  const scope = ctx.scope();
  for (let iter = 0; iter < 40; iter++) {
    const name = NUMERIC_TYPES[Math.floor(r() * NUMERIC_TYPES.length)];
    const n = Math.floor(r() * 5000);
    const data = randomArray(name, n, r);
    const valid = r() < 0.5 ? randomValidity(n, r, r()) : undefined;
    const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
    const s = pick(data, r);
    for (const op of OPS) {
      const want = Array.from(data as ArrayLike<Num>, (x, i) => (valid && !valid[i] ? false : ref(op, x, s))).filter(Boolean).length;
      assert.is(cmp.countCompare(col, op, s), want, `${name} n=${n} ${op}`);
      assert.is(cmp.countTrue(cmp.compare(op, col, s, { nullAsFalse: true })), want);
      assert.is(cmp.countTrue(cmp.compare(op, col, s)), want);
    }
  }
  scope.close();
});

test('allocColumn bool has room for the bitmap', () => {
  const scope = ctx.scope();
  const c = allocColumn(ctx, scope, columnType('bool'), 0);
  assert.is(c.length, 0);
  scope.close();
});

test.run();
