import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, DType, columnType, dictionaryType } from '../../src/column.js';
import { columnFromArray, columnFromStrings, stringsOf, valuesView, type NumericArray } from '../../src/column-alloc.js';
import * as flt from '../../src/kernels/filter.js';
import * as cmp from '../../src/kernels/compare.js';
import { LengthMismatchError, OutOfRangeError, UnsupportedTypeError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf } from '../helpers/columns.js';
import { boolColumn, boolsOf, countNulls } from '../helpers/bools.js';

const ctx = Context.create({ maxBytes: 1 << 30 });
type Row = number | bigint | boolean | string | null;

/** The rows of any column as JS values (null rows → null). */
function rowsOf(col: Column): Row[] {
  if (col.type.name === 'bool') return boolsOf(col);
  if (col.type.name === 'utf8' || col.type.name === 'dictionary') return stringsOf(col);
  const v = valuesView(col);
  return Array.from({ length: col.length }, (_, i) => (col.isValid(i) ? v[i] : null));
}

/** Same rows, with Object.is for floats (filter must keep NaN and -0 as they are). */
function sameRows(got: Column, want: Row[], where: string): void {
  assert.is(got.length, want.length, `${where}: length`);
  const rows = rowsOf(got);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(rows[i], want[i])) assert.unreachable(`${where} row ${i}: got ${String(rows[i])}, want ${String(want[i])}`);
  }
  assert.is(got.nullCount, countNulls(got), `${where}: nullCount matches the bitmap`);
  assert.is(got.nullCount, want.filter((w) => w === null).length, `${where}: nullCount`);
  if (got.nullCount === 0) assert.is(got.validity, 0, `${where}: no bitmap without nulls`);
}

/** Selections with the shapes that take different kernel paths. */
function selections(n: number, r: () => number): Array<[string, Array<boolean | null>]> {
  return [
    ['all-true', Array(n).fill(true)],
    ['all-false', Array(n).fill(false)],
    ['random', Array.from({ length: n }, () => r() < 0.5)],
    ['sparse', Array.from({ length: n }, () => r() < 0.05)],
    ['dense', Array.from({ length: n }, () => r() < 0.95)],
    ['runs', Array.from({ length: n }, (_, i) => Math.floor(i / 70) % 2 === 0)],
    ['with-nulls', Array.from({ length: n }, () => (r() < 0.2 ? null : r() < 0.6))],
  ];
}

const keep = (sel: Array<boolean | null>) => (_: unknown, i: number) => sel[i] === true;

for (const name of NUMERIC_TYPES) {
  test(`filter ${name}: lengths 0..129 × selection shapes × nulls in the column`, () => {
    const r = rng(0xf11 + name.length * 17 + name.charCodeAt(0));
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      for (const nullRate of [0, 0.3]) {
        const data = randomArray(name, n, r);
        const valid = nullRate ? randomValidity(n, r, nullRate) : undefined;
        const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
        const rows = rowsOf(col);
        for (const [shape, sel] of selections(n, r)) {
          const got = flt.filter(col, boolColumn(ctx, scope, sel, r() < 0.5));
          sameRows(got, rows.filter(keep(sel)), `${name} n=${n} nulls=${nullRate} ${shape}`);
        }
      }
    }
    scope.close();
  });

  test(`take ${name}: lengths 0..129, repeated / reversed / null indices`, () => {
    const r = rng(0x7a4e + name.length * 19 + name.charCodeAt(1));
    const scope = ctx.scope();
    for (let n = 0; n <= 129; n++) {
      const data = randomArray(name, n, r);
      const valid = n % 2 ? randomValidity(n, r, 0.3) : undefined;
      const col = columnFromArray(ctx, scope, typeOf(name), data, valid);
      const rows = rowsOf(col);
      const m = Math.floor(r() * 140);
      const idx = n === 0 ? new Int32Array(0) : Int32Array.from({ length: m }, () => Math.floor(r() * n));
      const idxValid = r() < 0.5 ? randomValidity(idx.length, r, 0.2) : undefined;
      const got = flt.take(col, columnFromArray(ctx, scope, columnType('int32'), idx, idxValid));
      sameRows(got, Array.from(idx, (k, j) => (idxValid && !idxValid[j] ? null : rows[k])), `${name} n=${n} m=${idx.length}`);
      const rev = Int32Array.from({ length: n }, (_, j) => n - 1 - j);
      sameRows(flt.take(col, columnFromArray(ctx, scope, columnType('int32'), rev)), rows.slice().reverse(), `${name} n=${n} reversed`);
    }
    scope.close();
  });
}

test('filter / take bool columns (bit-packed values and validity)', () => {
  const r = rng(55);
  const scope = ctx.scope();
  for (let n = 0; n <= 200; n++) {
    const vals = Array.from({ length: n }, () => (r() < 0.2 ? null : r() < 0.5));
    const col = boolColumn(ctx, scope, vals, r() < 0.5);
    for (const [shape, sel] of selections(n, r)) {
      sameRows(flt.filter(col, boolColumn(ctx, scope, sel)), vals.filter(keep(sel)), `bool n=${n} ${shape}`);
    }
    const idx = Int32Array.from({ length: n + 5 }, () => Math.floor(r() * Math.max(n, 1)));
    if (n > 0) sameRows(flt.take(col, columnFromArray(ctx, scope, columnType('int32'), idx)), Array.from(idx, (k) => vals[k]), `bool take n=${n}`);
  }
  scope.close();
});

const WORDS = ['', 'a', 'héllo', '日本語テキスト', '🎉🎉', 'x'.repeat(100), 'tab\tnew\nline', 'ab'];

test('filter / take utf8: empty strings, multi-byte UTF-8, nulls, runs', () => {
  const r = rng(808);
  const scope = ctx.scope();
  for (let n = 0; n <= 160; n++) {
    const strs = Array.from({ length: n }, () => (r() < 0.15 ? null : WORDS[Math.floor(r() * WORDS.length)]));
    const col = columnFromStrings(ctx, scope, strs);
    for (const [shape, sel] of selections(n, r)) {
      const got = flt.filter(col, boolColumn(ctx, scope, sel));
      sameRows(got, strs.filter(keep(sel)), `utf8 n=${n} ${shape}`);
      // Offsets are rebuilt from 0 and end at the byte count.
      assert.is(ctx.mem.i32[got.offsets >>> 2], 0);
    }
    const m = Math.floor(r() * 100);
    const idx = n === 0 ? new Int32Array(0) : Int32Array.from({ length: m }, () => Math.floor(r() * n));
    const idxValid = randomValidity(idx.length, r, 0.1);
    sameRows(flt.take(col, columnFromArray(ctx, scope, columnType('int32'), idx, idxValid)),
      Array.from(idx, (k, j) => (idxValid[j] ? strs[k] : null)), `utf8 take n=${n}`);
  }
  scope.close();
});

test('filter / take dictionary: codes compacted, dictionary kept', () => {
  const r = rng(909);
  const scope = ctx.scope();
  const dict = columnFromStrings(ctx, scope, ['red', 'green', '', 'blåbær']);
  for (const [dt, C] of [[DType.I8, Int8Array], [DType.U16, Uint16Array], [DType.I32, Int32Array], [DType.I64, BigInt64Array]] as const) {
    for (const n of [0, 1, 63, 64, 65, 130]) {
      const codes = Array.from({ length: n }, () => Math.floor(r() * 4));
      const arr = dt === DType.I64 ? BigInt64Array.from(codes.map(BigInt)) : (C as typeof Int32Array).from(codes);
      const base = columnFromArray(ctx, scope, { name: 'dictionary', dtype: dt }, arr as NumericArray, randomValidity(n, r, 0.2));
      const col = new Column(ctx, scope, { type: dictionaryType(dt), length: n, values: base.values, validity: base.validity, nullCount: base.nullCount, dictionary: dict });
      const rows = stringsOf(col);
      for (const [shape, sel] of selections(n, r)) {
        const got = flt.filter(col, boolColumn(ctx, scope, sel));
        assert.is(got.dictionary, dict);
        assert.is(got.type.dtype, dt);
        sameRows(got, rows.filter(keep(sel)), `dict ${DType[dt]} n=${n} ${shape}`);
      }
      const idx = Int32Array.from({ length: n }, () => Math.floor(r() * Math.max(n, 1)));
      if (n > 0) sameRows(flt.take(col, columnFromArray(ctx, scope, columnType('int32'), idx)), Array.from(idx, (k) => rows[k]), `dict take ${DType[dt]} n=${n}`);
    }
  }
  scope.close();
});

test('filter by a compare result: null predicate rows are dropped (SQL WHERE)', () => {
  const scope = ctx.scope();
  const col = columnFromArray(ctx, scope, columnType('float64'), Float64Array.from([1, 5, NaN, 7, -0, 9]), [true, true, true, false, true, true]);
  const got = flt.filter(col, cmp.gt(col, 4));
  sameRows(got, [5, 9], 'x > 4');
  const all = flt.filter(col, cmp.isNotNull(col));
  sameRows(all, [1, 5, NaN, -0, 9], 'isNotNull keeps NaN and -0 bit-exact');
  scope.close();
});

test('seeded property: filter(col, sel) = take(col, positions of sel) on large random columns', () => {
  const r = rng(31415);
  const scope = ctx.scope();
  for (let iter = 0; iter < 30; iter++) {
    const name = NUMERIC_TYPES[Math.floor(r() * NUMERIC_TYPES.length)];
    const n = Math.floor(r() * 20000);
    const data = randomArray(name, n, r);
    const col = columnFromArray(ctx, scope, typeOf(name), data, r() < 0.5 ? randomValidity(n, r, r() * 0.5) : undefined);
    const density = r();
    const runLen = 1 + Math.floor(r() * 300);
    const sel = Array.from({ length: n }, (_, i) => Math.floor(i / runLen) % 2 === 0 ? r() < density : r() < 1 - density);
    const pos = sel.flatMap((s, i) => (s ? [i] : []));
    const f = flt.filter(col, boolColumn(ctx, scope, sel));
    const t = flt.take(col, columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(pos)));
    const where = `${name} n=${n} density=${density.toFixed(2)} runs=${runLen}`;
    sameRows(f, rowsOf(t), where);
    sameRows(f, rowsOf(col).filter(keep(sel)), where);
  }
  scope.close();
});

test('large dense selection: whole-block copies agree with the per-bit path (100k rows)', () => {
  const r = rng(1);
  const scope = ctx.scope();
  const n = 100_000;
  const data = Float64Array.from({ length: n }, (_, i) => i);
  const col = columnFromArray(ctx, scope, columnType('float64'), data);
  const sel = Array.from({ length: n }, (_, i) => i % 1000 !== 999 || r() < 0.5);
  sameRows(flt.filter(col, boolColumn(ctx, scope, sel)), Array.from(data).filter(keep(sel)), 'dense 100k');
  scope.close();
});

// ------------------------------------------------------------------------------------------------
// Canaries: kernels write exactly their output, never around it.

const GUARD = 64;
const CANARY = 0x5a;

function guarded(bytes: number): { p: number; check: (where: string) => void } {
  const scope = ctx.scope();
  const total = bytes + 2 * GUARD + 8;
  const base = scope.alloc(total);
  const p = base + GUARD + 8; // 8-aligned (values), with guard bytes on both sides
  const u8 = ctx.mem.u8;
  u8.fill(CANARY, base, base + total);
  return {
    p,
    check(where: string) {
      for (let i = base; i < p; i++) if (u8[i] !== CANARY) assert.unreachable(`${where}: wrote before the output`);
      for (let i = p + bytes; i < base + total; i++) if (u8[i] !== CANARY) assert.unreachable(`${where}: wrote after the output at +${i - p - bytes}`);
      scope.close();
    },
  };
}

test('canaries: filterFixed / filterBits / filterUtf8 / takeFixed / takeBits / takeUtf8 stay inside their output', () => {
  const r = rng(2718);
  const scope = ctx.scope();
  const k = ctx.kernel;
  for (let n = 0; n <= 129; n++) {
    const sel = boolColumn(ctx, scope, Array.from({ length: n }, () => (r() < 0.1 ? null : r() < (n % 3) / 2)));
    const m = k.popcount(sel.values, sel.validity, n);
    for (const w of [1, 2, 4, 8]) {
      const src = scope.alloc(n * w);
      const g = guarded(m * w);
      assert.is(k.filterFixed(w, src, n, sel.values, sel.validity, g.p), m);
      g.check(`filterFixed w=${w} n=${n}`);
    }
    const bits = boolColumn(ctx, scope, Array.from({ length: n }, () => r() < 0.5));
    const gb = guarded(Math.ceil(m / 8));
    k.filterBits(bits.values, n, sel.values, sel.validity, gb.p);
    gb.check(`filterBits n=${n}`);
    const strs = columnFromStrings(ctx, scope, Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]));
    const bytes = k.filterUtf8Size(strs.offsets, n, sel.values, sel.validity);
    const go = guarded((m + 1) * 4), gd = guarded(bytes);
    k.filterUtf8(strs.offsets, strs.values, n, sel.values, sel.validity, go.p, gd.p);
    go.check(`filterUtf8 offsets n=${n}`);
    gd.check(`filterUtf8 bytes n=${n}`);
    if (n > 0) {
      const idx = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from({ length: n }, () => Math.floor(r() * n)), randomValidity(n, r, 0.2));
      for (const w of [1, 2, 4, 8]) {
        const src = scope.alloc(n * w);
        const g = guarded(n * w);
        k.takeFixed(w, src, n, idx.values, idx.validity, n, g.p);
        g.check(`takeFixed w=${w} n=${n}`);
      }
      const gt = guarded(Math.ceil(n / 8));
      k.takeBits(bits.values, n, idx.values, idx.validity, n, gt.p);
      gt.check(`takeBits n=${n}`);
      k.takeUtf8Size(strs.offsets, n, idx.values, idx.validity, n, ctx.scratch);
      const tb = Number(new DataView(ctx.mem.buffer).getBigUint64(ctx.scratch, true));
      const to = guarded((n + 1) * 4), td = guarded(tb);
      k.takeUtf8(strs.offsets, strs.values, n, idx.values, idx.validity, n, to.p, td.p);
      to.check(`takeUtf8 offsets n=${n}`);
      td.check(`takeUtf8 bytes n=${n}`);
    }
  }
  scope.close();
});

test('canaries: column and selection pointed into the middle of poisoned buffers', () => {
  const r = rng(4);
  const scope = ctx.scope();
  for (const n of [0, 1, 63, 64, 65, 129, 200]) {
    const G = 128;
    const base = scope.alloc((n + 2 * G) * 4);
    const all = new Int32Array(ctx.mem.buffer, base, n + 2 * G).fill(-7);
    const data = Int32Array.from({ length: n }, (_, i) => i);
    all.set(data, G);
    const sbase = scope.alloc(Math.ceil(n / 8) + 2 * G);
    ctx.mem.u8.fill(0xff, sbase, sbase + Math.ceil(n / 8) + 2 * G);
    const sel = Array.from({ length: n }, () => r() < 0.5);
    sel.forEach((v, i) => { if (!v) ctx.mem.u8[sbase + G + (i >>> 3)] &= ~(1 << (i & 7)); });
    const col = new Column(ctx, scope, { type: columnType('int32'), length: n, values: base + G * 4 });
    const selection = new Column(ctx, scope, { type: columnType('bool'), length: n, values: sbase + G });
    const before = ctx.mem.u8.slice(base, base + (n + 2 * G) * 4);
    sameRows(flt.filter(col, selection), Array.from(data).filter(keep(sel)), `middle n=${n}`);
    assert.equal(ctx.mem.u8.slice(base, base + (n + 2 * G) * 4), before, 'input untouched');
  }
  scope.close();
});

// ------------------------------------------------------------------------------------------------
// Bad input

function rejects(scope: ReturnType<Context['scope']>, f: () => unknown, cls: new (...a: never[]) => Error, msg: RegExp): void {
  const before = scope.alloc(64);
  assert.throws(f, (e: unknown) => e instanceof cls && msg.test((e as Error).message), `expected ${cls.name} matching ${msg}`);
  assert.is(scope.alloc(64), before + 64, 'nothing was allocated by the rejected call');
}

test('bad input: selection not bool, lengths differ, indices not int32, index out of range', () => {
  const scope = ctx.scope();
  const col = columnFromArray(ctx, scope, columnType('int16'), Int16Array.from([1, 2, 3, 4]));
  const sel3 = boolColumn(ctx, scope, [true, false, true]);
  const u8sel = columnFromArray(ctx, scope, columnType('uint8'), Uint8Array.from([1, 0, 1, 1]));
  rejects(scope, () => flt.filter(col, u8sel), UnsupportedTypeError, /filter.*int16.*uint8.*bool/);
  rejects(scope, () => flt.filter(col, sel3), LengthMismatchError, /filter.*4 vs 3/);
  rejects(scope, () => flt.filter(col, null as never), UnsupportedTypeError, /filter/);
  const i64idx = columnFromArray(ctx, scope, columnType('int64'), BigInt64Array.from([0n]));
  rejects(scope, () => flt.take(col, i64idx), UnsupportedTypeError, /take.*int64.*int32/);
  const idx = (xs: number[], valid?: boolean[]) => columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(xs), valid);
  const past = idx([0, 3, 4, 1]);
  const neg = idx([0, -1]);
  rejects(scope, () => flt.take(col, past), OutOfRangeError, /take.*indices\[2\] 4 .*bound 4/);
  rejects(scope, () => flt.take(col, neg), OutOfRangeError, /take.*indices\[1\] -1/);
  // A null index may hold anything: it is not checked, and gives a null row.
  const nullBad = idx([2, 99], [true, false]);
  sameRows(flt.take(col, nullBad), [3, null], 'null index');
  const strs = columnFromStrings(ctx, scope, ['a', 'b']);
  const bad2 = idx([2]);
  rejects(scope, () => flt.take(strs, bad2), OutOfRangeError, /indices\[0\] 2/);
  scope.close();
});

test('results go to opts.scope when given; take of an empty column with no indices', () => {
  const s1 = ctx.scope();
  const s2 = ctx.scope();
  const col = columnFromStrings(ctx, s1, ['x', null, 'zz']);
  const f = flt.filter(col, boolColumn(ctx, s1, [true, true, false]), { scope: s2 });
  assert.is(f.scope, s2);
  s1.close();
  assert.equal(stringsOf(f), ['x', null]);
  s2.close();
  const s3 = ctx.scope();
  const empty = columnFromArray(ctx, s3, columnType('float32'), new Float32Array(0));
  assert.is(flt.take(empty, columnFromArray(ctx, s3, columnType('int32'), new Int32Array(0))).length, 0);
  s3.close();
});

test.run();
