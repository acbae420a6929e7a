/**
 * filter / take (assembly/filter): compact a column by a selection bitmap, or gather it by an index
 * list. Every column layout: numeric and temporal (by byte width), bool (bit-packed), utf8 (two
 * passes: byte count, then copy + rebuilt offsets), dictionary (the codes; the dictionary is kept).
 *
 * Selection: a bool column of the same length; a row is kept when its bit is set and it is not null
 * (a compare result with SQL nulls works as is). Indices: an int32 column; a null index gives a null
 * row; any other index outside [0, length) is an OutOfRangeError naming its position — thrown by a
 * check pass before anything is allocated or written.
 *
 * The result is allocated in `opts.scope` or the input's scope. Its validity bitmap is compacted /
 * gathered alongside and dropped when no null remains; nullCount is exact.
 *
 * A dictionary result points at the input's dictionary column (not copied): with `opts.scope`
 * different from the input's, the input's scope must outlive the result.
 */
import { Column, byteWidth, typeLabel } from '../column.js';
import { bitmapBytes } from '../column-alloc.js';
import { OutOfRangeError, UnsupportedTypeError } from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import { assertInMemory, assertSameContext, assertSameLength } from './check.js';
import { guard } from './module.js';

export interface FilterOptions {
  /** Scope to allocate the result in (default: the input column's scope). */
  scope?: ArenaScope;
}

const MAX_BYTES = 0x7fffffff;

/** utf8 offsets and string data (first..last offset) lie in memory. Offsets are trusted beyond that. */
function assertColumn(op: string, col: Column): void {
  assertInMemory(op, col);
  if (col.type.name === 'utf8') {
    const i32 = col.ctx.mem.i32;
    const first = i32[col.offsets >>> 2];
    const last = i32[(col.offsets >>> 2) + col.length];
    const limit = col.ctx.mem.byteLength;
    if (first < 0 || last < first || col.values + last > limit) throw new OutOfRangeError(op, 'string data end', col.values + last, limit);
  }
  if (col.type.name === 'dictionary' && col.dictionary === undefined) {
    throw new UnsupportedTypeError(op, [typeLabel(col.type)], 'the dictionary column has no dictionary');
  }
}

/** Builds the result column; a validity bitmap with no nulls left is dropped. */
function result(col: Column, scope: ArenaScope, length: number, values: number, offsets: number, validity: number, nullCount: number): Column {
  return new Column(col.ctx, scope, {
    type: col.type, length, values, offsets, validity: nullCount === 0 ? 0 : validity, nullCount,
    dictionary: col.dictionary, name: col.name,
  });
}

/** Keeps the rows of `col` whose `selection` bit is set (and not null). */
export function filter(col: Column, selection: Column, opts: FilterOptions = {}): Column {
  const op = 'filter';
  if (!(selection instanceof Column) || selection.type.name !== 'bool') {
    throw new UnsupportedTypeError(op, [col.label, selection instanceof Column ? selection.label : typeof selection], 'the selection must be a bool column');
  }
  assertSameContext(op, col, selection);
  assertSameLength(op, col, selection);
  assertColumn(op, col);
  assertInMemory(op, selection);
  const { kernel } = col.ctx;
  const n = col.length;
  const sel = selection.values;
  const selValid = selection.validity;
  const m = guard(op, () => kernel.popcount(sel, selValid, n));
  const scope = opts.scope ?? col.scope;

  let values: number;
  let offsets = 0;
  if (col.type.name === 'bool') {
    values = scope.alloc(bitmapBytes(m));
    guard(op, () => kernel.filterBits(col.values, n, sel, selValid, values));
  } else if (col.type.name === 'utf8') {
    const bytes = guard(op, () => kernel.filterUtf8Size(col.offsets, n, sel, selValid)) >>> 0;
    offsets = scope.alloc((m + 1) * 4);
    values = scope.alloc(bytes);
    guard(op, () => kernel.filterUtf8(col.offsets, col.values, n, sel, selValid, offsets, values));
  } else {
    const w = byteWidth(col.type.dtype);
    values = scope.alloc(m * w);
    const r = guard(op, () => kernel.filterFixed(w, col.values, n, sel, selValid, values));
    if (r !== m) throw new UnsupportedTypeError(op, [col.label]);
  }
  let validity = 0;
  let nullCount = 0;
  if (col.validity !== 0) {
    validity = scope.alloc(bitmapBytes(m));
    nullCount = m - guard(op, () => kernel.filterBits(col.validity, n, sel, selValid, validity));
  }
  return result(col, scope, m, values, offsets, validity, nullCount);
}

/** Row j of the result is row `indices[j]` of `col` (null where the index is null). */
export function take(col: Column, indices: Column, opts: FilterOptions = {}): Column {
  const op = 'take';
  if (!(indices instanceof Column) || indices.type.name !== 'int32') {
    throw new UnsupportedTypeError(op, [col.label, indices instanceof Column ? indices.label : typeof indices], 'indices must be an int32 column');
  }
  assertSameContext(op, col, indices);
  assertColumn(op, col);
  assertInMemory(op, indices);
  const { kernel, scratch } = col.ctx;
  const n = col.length;
  const m = indices.length;
  const idx = indices.values;
  const idxValid = indices.validity;
  const bad = guard(op, () => kernel.takeCheck(idx, idxValid, m, n));
  if (bad >= 0) throw new OutOfRangeError(op, `indices[${bad}]`, col.ctx.mem.i32[(idx >>> 2) + bad], n);
  const scope = opts.scope ?? col.scope;

  let values: number;
  let offsets = 0;
  if (col.type.name === 'bool') {
    values = scope.alloc(bitmapBytes(m));
    guard(op, () => kernel.takeBits(col.values, n, idx, idxValid, m, values));
  } else if (col.type.name === 'utf8') {
    guard(op, () => kernel.takeUtf8Size(col.offsets, n, idx, idxValid, m, scratch));
    const bytes = Number(new DataView(col.ctx.mem.buffer, scratch, 8).getBigUint64(0, true));
    if (bytes > MAX_BYTES) throw new OutOfRangeError(op, 'utf8 result bytes', bytes, MAX_BYTES);
    offsets = scope.alloc((m + 1) * 4);
    values = scope.alloc(bytes);
    guard(op, () => kernel.takeUtf8(col.offsets, col.values, n, idx, idxValid, m, offsets, values));
  } else {
    const w = byteWidth(col.type.dtype);
    values = scope.alloc(m * w);
    const r = guard(op, () => kernel.takeFixed(w, col.values, n, idx, idxValid, m, values));
    if (r !== m) throw new UnsupportedTypeError(op, [col.label]);
  }
  let validity = 0;
  let nullCount = 0;
  if (col.validity !== 0 || idxValid !== 0) {
    validity = scope.alloc(bitmapBytes(m));
    nullCount = m - guard(op, () => kernel.takeBits(col.validity, n, idx, idxValid, m, validity));
  }
  return result(col, scope, m, values, offsets, validity, nullCount);
}

