/**
 * Comparisons and boolean logic (assembly/compare). Every result is a `bool` column: a bit-packed
 * Arrow bitmap, LSB first — a selection bitmap that `filter` takes directly.
 *
 * Nulls. SQL semantics by default: a comparison with a null input is null (result validity = AND of
 * the inputs' validities). With `nullAsFalse: true` the result has no validity and null rows are
 * simply false — what a filter wants (WHERE keeps rows whose predicate is true, not null). The value
 * bits of null rows are 0 in both cases, so a SQL-semantics result is also a valid selection.
 *
 * Boolean ops use Kleene (SQL three-valued) logic: false AND null = false, true OR null = true,
 * anything else with a null is null; NOT null = null.
 *
 * Scalars. Comparing a column with a scalar compares exact values, never a rounded scalar:
 *   - integer columns: a fractional scalar becomes the integer bound that keeps the meaning
 *     (x < 2.5 ⇔ x < 3, x ≤ 2.5 ⇔ x ≤ 2; x = 2.5 is false everywhere), and a scalar outside the
 *     type's range gives a constant result (int8 x < 300 is true on every valid row) instead of
 *     wrapping. bigint scalars are accepted (needed past 2^53 for 64-bit columns).
 *   - float32 columns with a scalar that is not a float32 (0.1): the nearest float32 bound on the
 *     correct side, so float32(0.1) < 0.1 stays true — the same answer as widening x to f64.
 *   - floats follow IEEE: NaN compares false except `ne`; a NaN scalar makes every valid row false
 *     (`ne`: true). bigint scalars on float columns are converted with Number() (rounded).
 *   - temporal columns (date32/date64/timestamp) compare their stored integers: pass days / ms / the
 *     timestamp unit as a number or bigint.
 *   - strings: utf8 and dictionary columns take every op (and between) against a string, and against
 *     another utf8 or dictionary column. The order is byte-wise over the UTF-8 bytes (memcmp, then
 *     the shorter string first) = code point order; for ASCII this is DuckDB's default collation
 *     (and for any UTF-8, DuckDB's binary order). No locale, no case folding. A dictionary column
 *     runs the predicate once per dictionary entry, then maps its codes to the entry's result
 *     (kernel `gatherBits`); a dictionary against a utf8 column (or another dictionary) is
 *     decoded to utf8 first (its strings gathered by code with `take`).
 * Column ∘ column needs the same type on both sides (cast first; strings: utf8 / dictionary mix);
 * bool ∘ bool comparisons are not supported (use and / or / not).
 */
import { BoolOp, CmpOp } from '../../assembly/shared/codes.js';
import { Column, DType, INT_RANGE, columnType, isNumericType, putScalar } from '../column.js';
import { allocColumn, bitmapBytes } from '../column-alloc.js';
import { OutOfRangeError, UnknownOpError, UnsupportedTypeError } from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import { min as aggMin, max as aggMax } from './aggregate.js';
import { cast } from './cast.js';
import { assertInMemory, assertSameContext, assertSameLength } from './check.js';
import { take } from './filter.js';
import { guard } from './module.js';
import { SCRATCH_BYTES } from '../context.js';

export type CompareOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export type CompareScalar = number | bigint | string;

export interface CompareOptions {
  /** Scope to allocate the result in (default: the first input column's scope). */
  scope?: ArenaScope;
  /** Null rows become false and the result has no validity (a filter's selection). Default false. */
  nullAsFalse?: boolean;
}

export interface LogicOptions {
  scope?: ArenaScope;
}

const OPS: Record<CompareOp, CmpOp> = { eq: CmpOp.EQ, ne: CmpOp.NE, lt: CmpOp.LT, le: CmpOp.LE, gt: CmpOp.GT, ge: CmpOp.GE };

function cmpOp(op: string): CmpOp {
  const c = (OPS as Record<string, CmpOp>)[op];
  if (c === undefined) throw new UnknownOpError(op, Object.keys(OPS));
  return c;
}

// ------------------------------------------------------------------------------------------------
// Scalars: what the kernel compares against, or a constant answer

/** The kernel op and bound(s) to run, or the constant every valid row gets. */
type Plan = { kind: 'const'; value: boolean } | { kind: 'kernel'; op: CmpOp; lo: number | bigint; hi: number | bigint };


/** Floor / ceil of a scalar as bigints (±Infinity: one past the type's range, which clamps right). */
function intBounds(s: number | bigint, range: readonly [bigint, bigint]): { floor: bigint; ceil: bigint; exact: boolean } {
  if (typeof s === 'bigint') return { floor: s, ceil: s, exact: true };
  if (s === Infinity) return { floor: range[1] + 1n, ceil: range[1] + 1n, exact: true };
  if (s === -Infinity) return { floor: range[0] - 1n, ceil: range[0] - 1n, exact: true };
  return { floor: BigInt(Math.floor(s)), ceil: BigInt(Math.ceil(s)), exact: Number.isInteger(s) };
}

function planInt(op: CmpOp, lo: number | bigint, hi: number | bigint, range: readonly [bigint, bigint]): Plan {
  const [min, max] = range;
  const k = (kop: CmpOp, a: bigint, b: bigint = 0n): Plan => ({ kind: 'kernel', op: kop, lo: a, hi: b });
  const c = (value: boolean): Plan => ({ kind: 'const', value });
  if ((typeof lo === 'number' && Number.isNaN(lo)) || (typeof hi === 'number' && Number.isNaN(hi))) return c(op === CmpOp.NE);
  const b = intBounds(lo, range);
  switch (op) {
    case CmpOp.EQ: return !b.exact || b.floor < min || b.floor > max ? c(false) : k(op, b.floor);
    case CmpOp.NE: return !b.exact || b.floor < min || b.floor > max ? c(true) : k(op, b.floor);
    case CmpOp.LT: return b.ceil <= min ? c(false) : b.ceil > max ? c(true) : k(op, b.ceil);
    case CmpOp.LE: return b.floor < min ? c(false) : b.floor >= max ? c(true) : k(op, b.floor);
    case CmpOp.GT: return b.floor >= max ? c(false) : b.floor < min ? c(true) : k(op, b.floor);
    case CmpOp.GE: return b.ceil <= min ? c(true) : b.ceil > max ? c(false) : k(op, b.ceil);
    default: {
      let l = b.ceil;
      let h = intBounds(hi, range).floor;
      if (l < min) l = min;
      if (h > max) h = max;
      if (l > h) return c(false);
      return l === min && h === max ? c(true) : k(op, l, h);
    }
  }
}

const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);

/** The next float32 above x (x a finite float32 or -Infinity). */
function nextF32(x: number): number {
  if (x === 0) return 2 ** -149;
  f32[0] = x;
  f32bits[0] += x > 0 ? 1 : -1;
  return f32[0];
}
const prevF32 = (x: number): number => -nextF32(-x);

/** Largest float32 ≤ s and smallest float32 ≥ s (s not itself a float32, not NaN). */
function f32Below(s: number): number {
  const f = Math.fround(s);
  return f <= s ? f : prevF32(f);
}
function f32Above(s: number): number {
  const f = Math.fround(s);
  return f >= s ? f : nextF32(f);
}

function planF32(op: CmpOp, lo: number, hi: number): Plan {
  const exact = (s: number) => Number.isNaN(s) || Math.fround(s) === s;
  if (op === CmpOp.BETWEEN) {
    return { kind: 'kernel', op, lo: exact(lo) ? lo : f32Above(lo), hi: exact(hi) ? hi : f32Below(hi) };
  }
  if (exact(lo)) return { kind: 'kernel', op, lo, hi: 0 };
  switch (op) {
    case CmpOp.EQ: return { kind: 'const', value: false };
    case CmpOp.NE: return { kind: 'const', value: true };
    // x < s ⇔ x ≤ (largest f32 below s); x > s ⇔ x ≥ (smallest f32 above s): s lies between them.
    case CmpOp.LT: case CmpOp.LE: return { kind: 'kernel', op: CmpOp.LE, lo: f32Below(lo), hi: 0 };
    default: return { kind: 'kernel', op: CmpOp.GE, lo: f32Above(lo), hi: 0 };
  }
}

function planScalar(opName: string, op: CmpOp, col: Column, lo: unknown, hi: unknown): Plan {
  const ok = (s: unknown) => typeof s === 'number' || typeof s === 'bigint';
  if (!isNumericType(col.type) || !ok(lo) || (op === CmpOp.BETWEEN && !ok(hi))) {
    throw new UnsupportedTypeError(opName, [col.label, scalarLabel(lo)]);
  }
  const d = col.type.dtype;
  const range = INT_RANGE[d];
  if (range) return planInt(op, lo as number | bigint, (hi ?? 0) as number | bigint, range);
  const l = Number(lo);
  const h = Number(hi ?? 0);
  return d === DType.F32 ? planF32(op, l, h) : { kind: 'kernel', op, lo: l, hi: h };
}

const scalarLabel = (s: unknown): string => (typeof s === 'string' ? 'string' : typeof s === 'bigint' ? 'bigint' : typeof s === 'number' ? 'number' : s === null ? 'null' : typeof s);

/** Writes the plan's bound(s) into the scratch (+0, +8) in the column's physical type. */
function writeScalars(col: Column, lo: number | bigint, hi: number | bigint): number {
  const at = col.ctx.scratch;
  const dv = new DataView(col.ctx.mem.buffer, at, 16);
  const put = (off: number, v: number | bigint) => putScalar(dv, off, col.type.dtype, v);
  put(0, lo);
  put(8, hi);
  return at;
}

// ------------------------------------------------------------------------------------------------
// Results

/** Allocates a bool result; `withValidity` adds an (uninitialized) bitmap the kernel fills. */
function boolResult(col: Column, scope: ArenaScope, n: number, withValidity: boolean): { values: number; validity: number } {
  const out = allocColumn(col.ctx, scope, columnType('bool'), n);
  return { values: out.values, validity: withValidity ? scope.alloc(bitmapBytes(n)) : 0 };
}

function finish(col: Column, scope: ArenaScope, n: number, values: number, validity: number, nullCount: number): Column {
  return new Column(col.ctx, scope, { type: columnType('bool'), length: n, values, validity: nullCount === 0 ? 0 : validity, nullCount });
}

/** Copies bitmap `src` (n bits) to `dst` with the padding bits cleared; returns its popcount. */
function copyBitmap(col: Column, opName: string, src: number, dst: number, n: number): number {
  return guard(opName, () => col.ctx.kernel.bitmapLogic(BoolOp.AND, src, 0, src, 0, n, dst, 0, 0));
}

/** Fills a bitmap of n bits with ones (padding bits cleared). */
function fillOnes(col: Column, p: number, n: number): void {
  const u8 = col.ctx.mem.u8;
  u8.fill(0xff, p, p + (n >>> 3));
  if (n & 7) u8[p + (n >>> 3)] = (1 << (n & 7)) - 1;
}

/** The result of a constant plan: `value` on every valid row. */
function constResult(opName: string, col: Column, value: boolean, opts: CompareOptions): Column {
  const n = col.length;
  const scope = opts.scope ?? col.scope;
  const keepNulls = !opts.nullAsFalse && col.validity !== 0;
  const { values, validity } = boolResult(col, scope, n, keepNulls);
  if (value) {
    if (col.validity !== 0) copyBitmap(col, opName, col.validity, values, n);
    else fillOnes(col, values, n);
  }
  if (keepNulls) copyBitmap(col, opName, col.validity, validity, n);
  return finish(col, scope, n, values, validity, keepNulls ? col.nullCount : 0);
}

/** Runs a scalar compare plan into a fresh result column. */
function runPlan(opName: string, col: Column, plan: Plan, opts: CompareOptions): Column {
  if (plan.kind === 'const') return constResult(opName, col, plan.value, opts);
  const n = col.length;
  const scope = opts.scope ?? col.scope;
  const keepNulls = !opts.nullAsFalse && col.validity !== 0;
  const { values, validity } = boolResult(col, scope, n, keepNulls);
  const scalars = writeScalars(col, plan.lo, plan.hi);
  const { kernel } = col.ctx;
  const r = guard(opName, () => kernel.compareScalar(plan.op, col.type.dtype, col.values, col.validity, n, scalars, values));
  if (r < 0) throw new UnsupportedTypeError(opName, [col.label]);
  if (keepNulls) copyBitmap(col, opName, col.validity, validity, n);
  return finish(col, scope, n, values, validity, keepNulls ? col.nullCount : 0);
}

/** The end of a utf8 column's string data, checked to lie in memory (offsets are trusted beyond that). */
function assertUtf8InMemory(opName: string, col: Column): void {
  assertInMemory(opName, col);
  const i32 = col.ctx.mem.i32;
  const first = i32[col.offsets >>> 2];
  const last = i32[(col.offsets >>> 2) + col.length];
  const limit = col.ctx.mem.byteLength;
  if (first < 0 || last < first || col.values + last > limit) throw new OutOfRangeError(opName, 'string data end', col.values + last, limit);
}

/** The bytes of the scalar string(s): in the scratch when they fit, else in `scope` (freed with the result). */
function putStrings(col: Column, scope: ArenaScope, strs: readonly string[]): Array<{ at: number; len: number }> {
  const enc = new TextEncoder();
  const bytes = strs.map((x) => enc.encode(x));
  const total = bytes.reduce((t, x) => t + x.length, 0);
  let at = total <= SCRATCH_BYTES ? col.ctx.scratch : scope.alloc(total);
  return bytes.map((x) => {
    col.ctx.mem.u8.set(x, at);
    const r = { at, len: x.length };
    at += x.length;
    return r;
  });
}

/** utf8 column `op` a string (BETWEEN: lo ≤ s ≤ hi), byte-wise order. */
function compareUtf8(opName: string, op: CmpOp, col: Column, lo: string, hi: string, opts: CompareOptions): Column {
  assertUtf8InMemory(opName, col);
  const n = col.length;
  const scope = opts.scope ?? col.scope;
  const keepNulls = !opts.nullAsFalse && col.validity !== 0;
  const { values, validity } = boolResult(col, scope, n, keepNulls);
  const [l, h] = putStrings(col, scope, op === CmpOp.BETWEEN ? [lo, hi] : [lo]);
  const { kernel } = col.ctx;
  const r = guard(opName, () => kernel.compareUtf8Scalar(op, col.offsets, col.values, col.validity, n, l.at, l.len, h?.at ?? 0, h?.len ?? 0, values));
  if (r < 0) throw new UnsupportedTypeError(opName, [col.label, 'string']);
  if (keepNulls) copyBitmap(col, opName, col.validity, validity, n);
  return finish(col, scope, n, values, validity, keepNulls ? col.nullCount : 0);
}

/** The dictionary of a dictionary column, checked: in memory, and every valid code indexes it. */
function checkedDictionary(opName: string, col: Column): Column {
  const dict = col.dictionary;
  if (dict === undefined) throw new UnsupportedTypeError(opName, [col.label], 'the dictionary column has no dictionary');
  codeTypeName(col.type.dtype);
  assertInMemory(opName, col);
  assertUtf8InMemory(opName, dict);
  // gatherBits reads bit `code` of a per-entry bitmap: a code past the dictionary would read
  // another allocation's bytes. Imported columns are checked already; this covers hand-built ones.
  if (col.length > col.nullCount) {
    const asCodes = codesOf(col);
    const lo = aggMin(asCodes);
    const hi = aggMax(asCodes);
    if (Number(lo) < 0 || Number(hi) >= dict.length) throw new OutOfRangeError(opName, 'dictionary code', Number(Number(lo) < 0 ? lo : hi), dict.length);
  }
  return dict;
}

/** The codes of a dictionary column as a plain integer column (same buffers). */
function codesOf(col: Column): Column {
  return new Column(col.ctx, col.scope, { type: columnType(codeTypeName(col.type.dtype)), length: col.length, values: col.values, validity: col.validity, nullCount: col.nullCount });
}

/**
 * dictionary column `op` string(s): the predicate runs once over the dictionary (SQL nulls: a null
 * entry gives a null result), then `gatherBits` maps each row's code to its entry's bit — values,
 * and validity when the dictionary has null entries. Repeated strings need nothing special.
 */
function compareDictionary(opName: string, op: CmpOp, col: Column, lo: string, hi: string, opts: CompareOptions): Column {
  const dict = checkedDictionary(opName, col);
  const n = col.length;
  const scope = opts.scope ?? col.scope;
  const { kernel } = col.ctx;
  const tmp = col.ctx.scope();
  try {
    const perEntry = compareUtf8(opName, op, dict, lo, hi, { scope: tmp });
    const nullEntries = perEntry.validity !== 0;
    const keepNulls = !opts.nullAsFalse && (col.validity !== 0 || nullEntries);
    const { values, validity } = boolResult(col, scope, n, keepNulls);
    guard(opName, () => kernel.gatherBits(col.type.dtype, col.values, col.validity, n, perEntry.values, values));
    let nulls = 0;
    if (keepNulls) {
      const valid = nullEntries
        ? guard(opName, () => kernel.gatherBits(col.type.dtype, col.values, col.validity, n, perEntry.validity, validity))
        : copyBitmap(col, opName, col.validity, validity, n);
      nulls = n - valid;
    }
    return finish(col, scope, n, values, validity, nulls);
  } finally {
    tmp.close();
  }
}

/** Two string columns (utf8 or dictionary, any mix): byte-wise order, SQL nulls. */
function compareStrings(opName: string, op: CmpOp, a: Column, b: Column, opts: CompareOptions): Column {
  const tmp = a.ctx.scope();
  try {
    const x = a.type.name === 'dictionary' ? decodeDictionary(opName, a, tmp) : a;
    const y = b.type.name === 'dictionary' ? decodeDictionary(opName, b, tmp) : b;
    assertUtf8InMemory(opName, x);
    assertUtf8InMemory(opName, y);
    const n = a.length;
    const scope = opts.scope ?? a.scope;
    const keepNulls = !opts.nullAsFalse && (x.validity !== 0 || y.validity !== 0);
    const { values, validity } = boolResult(a, scope, n, keepNulls);
    const { kernel } = a.ctx;
    const r = guard(opName, () => kernel.compareUtf8Columns(op, x.offsets, x.values, x.validity, y.offsets, y.values, y.validity, n, values));
    if (r < 0) throw new UnsupportedTypeError(opName, [a.label, b.label]);
    let nulls = 0;
    if (keepNulls) {
      const va = x.validity !== 0 ? x.validity : y.validity;
      const vb = y.validity !== 0 ? y.validity : x.validity;
      nulls = n - guard(opName, () => kernel.bitmapLogic(BoolOp.AND, va, 0, vb, 0, n, validity, 0, 0));
    }
    return finish(a, scope, n, values, validity, nulls);
  } finally {
    tmp.close();
  }
}

/**
 * A dictionary column as the utf8 column it stands for (the dictionary gathered by the codes; a null
 * code or a null entry is a null row), allocated in `scope`.
 */
export function decodeDictionary(opName: string, col: Column, scope: ArenaScope): Column {
  const dict = checkedDictionary(opName, col);
  const codes = codesOf(col);
  const idx = col.type.dtype === DType.I32 ? codes : cast(codes, columnType('int32'), { scope });
  return take(dict, idx, { scope });
}

const CODE_TYPES: Partial<Record<DType, 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64'>> = {
  [DType.I8]: 'int8', [DType.I16]: 'int16', [DType.I32]: 'int32', [DType.I64]: 'int64',
  [DType.U8]: 'uint8', [DType.U16]: 'uint16', [DType.U32]: 'uint32', [DType.U64]: 'uint64',
};
function codeTypeName(d: DType) {
  const t = CODE_TYPES[d];
  if (t === undefined) throw new UnsupportedTypeError('compare', [DType[d]], 'dictionary codes must be integers');
  return t;
}

function sameType(a: Column, b: Column): boolean {
  return a.type.name === b.type.name && a.type.dtype === b.type.dtype && a.type.unit === b.type.unit;
}

// ------------------------------------------------------------------------------------------------
// Public API

/**
 * `a op b` row by row: b is a column of the same type and length, or a scalar (see the module doc
 * for scalar rules). Returns a bool column.
 */
export function compare(op: CompareOp, a: Column, b: Column | CompareScalar, opts: CompareOptions = {}): Column {
  const c = cmpOp(op);
  if (b instanceof Column) {
    assertSameContext(op, a, b);
    if (isString(a) && isString(b)) {
      assertSameLength(op, a, b);
      return compareStrings(op, c, a, b, opts);
    }
    if (!sameType(a, b) || !isNumericType(a.type)) throw new UnsupportedTypeError(op, [a.label, b.label]);
    assertSameLength(op, a, b);
    assertInMemory(op, a);
    assertInMemory(op, b);
    const n = a.length;
    const scope = opts.scope ?? a.scope;
    const keepNulls = !opts.nullAsFalse && (a.validity !== 0 || b.validity !== 0);
    const { values, validity } = boolResult(a, scope, n, keepNulls);
    const { kernel } = a.ctx;
    const r = guard(op, () => kernel.compareColumns(c, a.type.dtype, a.values, a.validity, b.values, b.validity, n, values));
    if (r < 0) throw new UnsupportedTypeError(op, [a.label, b.label]);
    let nulls = 0;
    if (keepNulls) {
      const va = a.validity !== 0 ? a.validity : b.validity;
      const vb = b.validity !== 0 ? b.validity : a.validity;
      nulls = n - guard(op, () => kernel.bitmapLogic(BoolOp.AND, va, 0, vb, 0, n, validity, 0, 0));
    }
    return finish(a, scope, n, values, validity, nulls);
  }
  if (typeof b === 'string') return compareString(op, c, a, b, '', opts);
  const plan = planScalar(op, c, a, b, 0);
  assertInMemory(op, a);
  return runPlan(op, a, plan, opts);
}

export const eq = (a: Column, b: Column | CompareScalar, opts?: CompareOptions): Column => compare('eq', a, b, opts);
export const ne = (a: Column, b: Column | CompareScalar, opts?: CompareOptions): Column => compare('ne', a, b, opts);
export const lt = (a: Column, b: Column | CompareScalar, opts?: CompareOptions): Column => compare('lt', a, b, opts);
export const le = (a: Column, b: Column | CompareScalar, opts?: CompareOptions): Column => compare('le', a, b, opts);
export const gt = (a: Column, b: Column | CompareScalar, opts?: CompareOptions): Column => compare('gt', a, b, opts);
export const ge = (a: Column, b: Column | CompareScalar, opts?: CompareOptions): Column => compare('ge', a, b, opts);

/** A utf8 or dictionary column `op` a string (BETWEEN: lo ≤ x ≤ hi). */
function compareString(opName: string, op: CmpOp, a: Column, lo: string, hi: string, opts: CompareOptions): Column {
  if (a.type.name === 'utf8') return compareUtf8(opName, op, a, lo, hi, opts);
  if (a.type.name === 'dictionary') return compareDictionary(opName, op, a, lo, hi, opts);
  throw new UnsupportedTypeError(opName, [a.label, 'string']);
}

const isString = (c: Column) => c.type.name === 'utf8' || c.type.name === 'dictionary';

/**
 * lo ≤ x ≤ hi (inclusive both ends); lo > hi gives false everywhere. Numeric / temporal columns with
 * number / bigint bounds; utf8 / dictionary columns with string bounds (byte-wise order).
 */
export function between(col: Column, lo: number | bigint | string, hi: number | bigint | string, opts: CompareOptions = {}): Column {
  if (typeof lo === 'string' || typeof hi === 'string') {
    if (typeof lo !== 'string' || typeof hi !== 'string') throw new UnsupportedTypeError('between', [col.label, scalarLabel(lo), scalarLabel(hi)]);
    return compareString('between', CmpOp.BETWEEN, col, lo, hi, opts);
  }
  const plan = planScalar('between', CmpOp.BETWEEN, col, lo, hi);
  assertInMemory('between', col);
  return runPlan('between', col, plan, opts);
}

/** True where the row is null (any column type); the result has no nulls. */
export function isNull(col: Column, opts: LogicOptions = {}): Column {
  assertInMemory('isNull', col);
  const n = col.length;
  const scope = opts.scope ?? col.scope;
  const { values } = boolResult(col, scope, n, false);
  if (col.validity !== 0) guard('isNull', () => col.ctx.kernel.bitmapLogic(BoolOp.NOT, col.validity, 0, 0, 0, n, values, 0, 0));
  return finish(col, scope, n, values, 0, 0);
}

/** True where the row is not null (any column type); the result has no nulls. */
export function isNotNull(col: Column, opts: LogicOptions = {}): Column {
  assertInMemory('isNotNull', col);
  const n = col.length;
  const scope = opts.scope ?? col.scope;
  const { values } = boolResult(col, scope, n, false);
  if (col.validity !== 0) copyBitmap(col, 'isNotNull', col.validity, values, n);
  else fillOnes(col, values, n);
  return finish(col, scope, n, values, 0, 0);
}

function assertBool(opName: string, ...cols: Column[]): void {
  for (const c of cols) if (c.type.name !== 'bool') throw new UnsupportedTypeError(opName, cols.map((x) => x.label), 'boolean ops take bool columns');
}

function logic(opName: string, op: BoolOp, a: Column, b: Column | undefined, opts: LogicOptions): Column {
  const cols = b === undefined ? [a] : [a, b];
  assertBool(opName, ...cols);
  assertSameContext(opName, ...cols);
  assertSameLength(opName, ...cols);
  cols.forEach((c) => assertInMemory(opName, c));
  const n = a.length;
  const scope = opts.scope ?? a.scope;
  const withNulls = cols.some((c) => c.validity !== 0);
  const { values, validity } = boolResult(a, scope, n, withNulls);
  const { kernel, scratch } = a.ctx;
  const bb = b ?? a;
  guard(opName, () => kernel.bitmapLogic(op, a.values, a.validity, bb.values, bb.validity, n, values, validity, withNulls ? scratch : 0));
  const nulls = withNulls ? n - a.ctx.mem.i32[scratch >>> 2] : 0;
  return finish(a, scope, n, values, validity, nulls);
}

/** Kleene AND of two bool columns. */
export const and = (a: Column, b: Column, opts: LogicOptions = {}): Column => logic('and', BoolOp.AND, a, b, opts);
/** Kleene OR of two bool columns. */
export const or = (a: Column, b: Column, opts: LogicOptions = {}): Column => logic('or', BoolOp.OR, a, b, opts);
/** a AND NOT b (Kleene). */
export const andNot = (a: Column, b: Column, opts: LogicOptions = {}): Column => logic('andNot', BoolOp.ANDNOT, a, b, opts);
/** NOT a (null stays null). */
export const not = (a: Column, opts: LogicOptions = {}): Column => logic('not', BoolOp.NOT, a, undefined, opts);

/** Number of rows that are true (null rows do not count). */
export function countTrue(col: Column): number {
  assertBool('countTrue', col);
  assertInMemory('countTrue', col);
  return guard('countTrue', () => col.ctx.kernel.popcount(col.values, col.validity, col.length));
}

/**
 * How many rows satisfy `col op scalar` (null rows do not count), without materializing the bitmap
 * for numeric and temporal columns (fused compare + popcount). utf8 / dictionary columns compare
 * into a temporary bitmap in a scope of their own, closed before returning.
 */
export function countCompare(col: Column, op: CompareOp, scalar: CompareScalar): number {
  const c = cmpOp(op);
  if (typeof scalar === 'string') {
    const tmp = col.ctx.scope();
    try {
      return countTrue(compare(op, col, scalar, { scope: tmp, nullAsFalse: true }));
    } finally {
      tmp.close();
    }
  }
  const plan = planScalar(op, c, col, scalar, 0);
  assertInMemory(op, col);
  if (plan.kind === 'const') return plan.value ? col.length - (col.validity === 0 ? 0 : col.nullCount) : 0;
  const scalars = writeScalars(col, plan.lo, plan.hi);
  const { kernel } = col.ctx;
  const r = guard(op, () => kernel.countCompare(plan.op, col.type.dtype, col.values, col.validity, col.length, scalars));
  if (r < 0) throw new UnsupportedTypeError(op, [col.label]);
  return r;
}

