/**
 * The executor's view of the kernels: each plan operation as one call over columns, with the
 * engine's conventions (results in the given scope, SQL null semantics) applied in one place.
 */
import { Batch } from '../arrow/batch.js';
import { Column, byteWidth, columnType, typeLabel, type ColumnType } from '../column.js';
import { allocColumn, bitmapBytes, columnFromArray, columnFromStrings } from '../column-alloc.js';
import { InvalidOptionError, UnsupportedTypeError } from '../errors.js';
import * as agg from '../kernels/aggregate.js';
import { arith as arithKernel, type ArithOpName } from '../kernels/arith.js';
import { cast as castKernel } from '../kernels/cast.js';
import { and, between as betweenKernel, compare as compareKernel, decodeDictionary, isNotNull, isNull as isNullKernel, not as notKernel, or, type CompareOp } from '../kernels/compare.js';
import { filter as filterKernel, take as takeKernel } from '../kernels/filter.js';
import { groupBy, groupIds, type GroupAggOp } from '../kernels/groupby.js';
import { hashJoin } from '../kernels/join.js';
import { argsort as argsortKernel } from '../kernels/sort.js';
import type { ArenaScope } from '../memory/arena.js';
import type { Context } from '../context.js';
import { commonNumeric, type AggName, type LitValue, type Schema } from './expr.js';
import type { Step } from './plan.js';

export interface AggArg {
  name: string;
  op: AggName;
  col: Column | undefined;
}

/** Same buffers, another logical type of the same width (date32 ↔ int32, timestamp ↔ int64, …). */
function relabel(c: Column, type: ColumnType): Column {
  if (byteWidth(c.type.dtype) !== byteWidth(type.dtype) || c.type.name === 'utf8' || type.name === 'utf8') {
    throw new UnsupportedTypeError('relabel', [typeLabel(c.type), typeLabel(type)], 'only same-width numeric/temporal types');
  }
  return new Column(c.ctx, c.scope, { type, length: c.length, values: c.values, validity: c.validity, nullCount: c.nullCount, name: c.name });
}

/** Nulls become false: what WHERE keeps. */
function selection(c: Column, scope: ArenaScope): Column {
  if (c.validity === 0) return c;
  return and(c, isNotNull(c, { scope }), { scope });
}

/** Rows [start, start + n). Zero-copy when start is a multiple of 8 (bitmaps stay byte-aligned). */
function slice(c: Column, start: number, n: number, scope: ArenaScope): Column {
  if (start === 0 && n === c.length) return c;
  if (start % 8 === 0 && c.type.name !== 'bool') {
    const w = byteWidth(c.type.dtype);
    const nulls = c.validity === 0 ? 0 : countNulls(c, start, n);
    return new Column(c.ctx, c.scope, {
      type: c.type,
      length: n,
      values: c.type.name === 'utf8' ? c.values : c.values + start * w,
      offsets: c.type.name === 'utf8' ? c.offsets + start * 4 : 0,
      validity: nulls === 0 ? 0 : c.validity + start / 8,
      nullCount: nulls,
      dictionary: c.dictionary,
      name: c.name,
    });
  }
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = start + i;
  return takeKernel(c, columnFromArray(c.ctx, scope, columnType('int32'), idx), { scope });
}

function countNulls(c: Column, start: number, n: number): number {
  let nulls = 0;
  for (let i = start; i < start + n; i++) if (!c.isValid(i)) nulls++;
  return nulls;
}

/** A constant column of n rows (a literal used where a column is needed: derive, aggregate). */
function broadcast(value: LitValue, type: ColumnType, n: number, scope: ArenaScope, like: Column): Column {
  const ctx = like.ctx;
  if (value === null) {
    const c = allocColumn(ctx, scope, type.name === 'dictionary' ? columnType('utf8') : type, n, { validity: true });
    if (c.type.name !== 'utf8') ctx.mem.u8.fill(0, c.values, c.values + n * byteWidth(c.type.dtype));
    else ctx.mem.i32.fill(0, c.offsets >>> 2, (c.offsets >>> 2) + n + 1);
    return new Column(ctx, scope, { type: c.type, length: n, values: c.values, offsets: c.offsets, validity: c.validity, nullCount: n });
  }
  if (typeof value === 'string') return columnFromStrings(ctx, scope, new Array<string>(n).fill(value));
  if (typeof value === 'boolean') return constBool(value, n, scope, like);
  const c = allocColumn(ctx, scope, type, n);
  const buf = ctx.mem.buffer;
  switch (type.dtype) {
    case 3: new BigInt64Array(buf, c.values, n).fill(BigInt(value)); break;
    case 7: new BigUint64Array(buf, c.values, n).fill(BigInt(value)); break;
    default: {
      const view = ({ 0: Int8Array, 1: Int16Array, 2: Int32Array, 4: Uint8Array, 5: Uint16Array, 6: Uint32Array, 8: Float32Array, 9: Float64Array } as unknown as Record<number, Float64ArrayConstructor>)[type.dtype];
      new view(buf, c.values, n).fill(Number(value));
    }
  }
  return c;
}

function constBool(value: boolean | null, n: number, scope: ArenaScope, like: Column): Column {
  const c = allocColumn(like.ctx, scope, columnType('bool'), n, { validity: value === null });
  if (value === true) {
    const u8 = like.ctx.mem.u8;
    u8.fill(0xff, c.values, c.values + bitmapBytes(n));
  }
  return value === null ? new Column(like.ctx, scope, { type: c.type, length: n, values: c.values, validity: c.validity, nullCount: n }) : c;
}

const GROUP_OPS = new Set<AggName>(['count', 'sum', 'min', 'max', 'mean']);

/**
 * Aggregates (with keys: hash/dense group-by; without: the scalar aggregate kernels). `count()`
 * without an argument counts rows.
 */
function aggregate(keys: readonly Column[], args: readonly AggArg[], rows: number, scope: ArenaScope, any: Column | undefined): { keys: Column[]; values: Column[] } {
  if (keys.length > 0 && args.some((a) => a.op === 'countDistinct')) return aggregateByIds(keys, args, scope);
  if (keys.length > 0) {
    for (const a of args) {
      if (!GROUP_OPS.has(a.op)) throw new InvalidOptionError(`agg ${a.name}`, a.op, 'count, sum, min, max, mean or countDistinct');
    }
    // count(*) counts rows, null keys included: COUNT reads only a column's validity, so count the
    // first key's buffers seen without their bitmap — every row is "valid" there.
    const k = keys[0];
    const rowsCol = new Column(k.ctx, k.scope, { type: k.type, length: k.length, values: k.values, offsets: k.offsets, dictionary: k.dictionary });
    const r = groupBy(keys, args.map((a) => ({ op: a.col === undefined ? 'count' : (a.op as GroupAggOp), col: a.col ?? rowsCol })), { scope });
    return { keys: r.keys, values: r.results };
  }
  const ctx = (any ?? args.find((a) => a.col)?.col)?.ctx;
  if (!ctx) throw new InvalidOptionError('agg', 'no input columns', 'at least one column in the input');
  const values = args.map((a) => {
    const c = a.col;
    let v: number | bigint | null;
    let t: ColumnType;
    switch (a.op) {
      case 'count': v = BigInt(c ? agg.count(c) : rows); t = columnType('int64'); break;
      case 'countDistinct': v = BigInt(countDistinct(c as Column, scope)); t = columnType('int64'); break;
      case 'mean': v = agg.mean(c as Column); t = columnType('float64'); break;
      case 'sum': {
        const s = agg.sum(c as Column);
        const ct = (c as Column).type;
        t = ct.name === 'float32' || ct.name === 'float64' ? columnType('float64') : ct.name === 'uint64' ? columnType('uint64') : columnType('int64');
        v = s === null ? null : t.name === 'float64' ? Number(s) : BigInt(s);
        break;
      }
      default: {
        const col = c as Column;
        v = a.op === 'min' ? agg.min(col) : agg.max(col);
        t = col.type;
      }
    }
    return scalarColumn(ctx, v, t, scope);
  });
  return { keys: [], values };
}

/**
 * Grouped aggregation through explicit group ids, for COUNT(DISTINCT x) per group: ids = groupIds(keys)
 * numbers the groups 0..G−1 in first-appearance order; every other aggregate groups by the ids (an
 * int32 key without nulls whose results come back in id order on either group-by path); the distinct
 * count of x per group counts the distinct (id, x) pairs whose x is not null.
 */
function aggregateByIds(keys: readonly Column[], args: readonly AggArg[], scope: ArenaScope): { keys: Column[]; values: Column[] } {
  const g = groupIds(keys, { scope });
  const ids = g.ids;
  const ctx = ids.ctx;
  const keysOut = keys.map((k) => takeKernel(k, g.firstRow, { scope }));
  const plain = args.filter((a) => a.op !== 'countDistinct');
  const r = plain.length
    ? groupBy([ids], plain.map((a) => ({ op: (a.col === undefined ? 'count' : a.op) as GroupAggOp, col: a.col ?? ids })), { scope })
    : undefined;
  const idView = () => new Int32Array(ctx.mem.buffer, ids.values, ids.length);
  let next = 0;
  const values = args.map((a) => {
    if (a.op !== 'countDistinct') return r!.results[next++];
    const x = a.col as Column;
    const pairs = groupIds([ids, x], { scope });
    const first = new Int32Array(ctx.mem.buffer, pairs.firstRow.values, pairs.groups);
    const id = idView();
    const counts = new BigInt64Array(g.groups);
    for (let p = 0; p < pairs.groups; p++) {
      const row = first[p];
      if (x.isValid(row)) counts[id[row]]++;
    }
    return columnFromArray(ctx, scope, columnType('int64'), counts);
  });
  return { keys: keysOut, values };
}

function countDistinct(c: Column, scope: ArenaScope): number {
  if (c.length === 0) return 0;
  const g = groupIds([c], { scope });
  // Null is a group of its own in groupIds; COUNT(DISTINCT) ignores it.
  return c.nullCount > 0 ? g.groups - 1 : g.groups;
}

function scalarColumn(ctx: Column['ctx'], v: number | bigint | null, t: ColumnType, scope: ArenaScope): Column {
  const valid = [v !== null];
  switch (t.name) {
    case 'float64': return columnFromArray(ctx, scope, t, Float64Array.of(v === null ? 0 : Number(v)), valid);
    case 'float32': return columnFromArray(ctx, scope, t, Float32Array.of(v === null ? 0 : Number(v)), valid);
    case 'int64': case 'date64': case 'timestamp': return columnFromArray(ctx, scope, t, BigInt64Array.of(v === null ? 0n : BigInt(v)), valid);
    case 'uint64': return columnFromArray(ctx, scope, t, BigUint64Array.of(v === null ? 0n : BigInt(v)), valid);
    case 'int32': case 'date32': return columnFromArray(ctx, scope, t, Int32Array.of(v === null ? 0 : Number(v)), valid);
    case 'int16': return columnFromArray(ctx, scope, t, Int16Array.of(v === null ? 0 : Number(v)), valid);
    case 'int8': return columnFromArray(ctx, scope, t, Int8Array.of(v === null ? 0 : Number(v)), valid);
    case 'uint32': return columnFromArray(ctx, scope, t, Uint32Array.of(v === null ? 0 : Number(v)), valid);
    case 'uint16': return columnFromArray(ctx, scope, t, Uint16Array.of(v === null ? 0 : Number(v)), valid);
    case 'uint8': return columnFromArray(ctx, scope, t, Uint8Array.of(v === null ? 0 : Number(v)), valid);
    default: throw new UnsupportedTypeError('aggregate', [typeLabel(t)]);
  }
}

/**
 * Hash join: the right side is the build side (kernels/join: the group-by hash table over the right
 * keys, probed with the left keys in wasm). Null keys never match (SQL). Output rows follow the left
 * side's order; each left row's matches follow the right side's order.
 */
function join(left: Batch, step: Extract<Step, { kind: 'join' }>, right: Batch, scope: ArenaScope): Batch {
  const keys = step.on.map(([l, r]) => joinKeys(left.column(l), right.column(r), scope));
  const pairs = hashJoin(keys.map(([l]) => l), keys.map(([, r]) => r), { how: step.how, scope });
  const out: Array<[string, Column]> = [];
  // Only the columns something downstream reads (plan.ts pruneJoins); the rest are never gathered.
  const kept = (name: string) => !step.keep || step.keep.has(name);
  for (const [name, c] of left) if (kept(name)) out.push([name, takeKernel(c, pairs.probe, { scope })]);
  const sameNamed = new Set(step.on.filter(([l, r]) => l === r).map(([, r]) => r));
  for (const [name, c] of right) if (!sameNamed.has(name) && kept(name)) out.push([name, takeKernel(c, pairs.build, { scope })]);
  return new Batch(out, pairs.length);
}

/**
 * A pair of join keys brought to one physical kind, so equal values hash and compare equal: numbers
 * to their common type (int8 = int32, int = float), strings to utf8 unless both sides share one
 * dictionary (then the codes are the keys: import gives equal strings one code).
 */
function joinKeys(l: Column, r: Column, scope: ArenaScope): [Column, Column] {
  const str = (c: Column) => c.type.name === 'utf8' || c.type.name === 'dictionary';
  if (str(l) || str(r)) {
    if (l.type.name === 'dictionary' && r.type.name === 'dictionary' && l.dictionary === r.dictionary && l.type.dtype === r.type.dtype) return [l, r];
    const utf8 = (c: Column) => (c.type.name === 'dictionary' ? decodeDictionary('join', c, scope) : c);
    return [utf8(l), utf8(r)];
  }
  if (l.type.name === r.type.name && l.type.unit === r.type.unit) return [l, r];
  const t = commonNumeric(l.type, r.type);
  const to = (c: Column) => (c.type.name === t.name ? c : castKernel(c, t, { scope }));
  return [to(l), to(r)];
}

function argsort(keys: Column[], descending: boolean[], nullsFirst: boolean[], scope: ArenaScope): Column {
  return argsortKernel(keys, { descending, nullsFirst, scope });
}

/**
 * Zero-length columns of a schema: what a source without batches (a table with none, an IPC file
 * with only a schema, a header-only CSV, a Parquet file without row groups) reads as, so every step
 * runs on it like on any batch and the result keeps the schema. Dictionaries get an empty dictionary.
 */
function emptyBatch(ctx: Context, schema: Schema, scope: ArenaScope): Batch {
  const cols: Array<[string, Column]> = [];
  const empty = (type: ColumnType, name?: string) => {
    const c = allocColumn(ctx, scope, type, 0, { dataBytes: 0, name });
    if (type.name === 'utf8') ctx.mem.i32[c.offsets >>> 2] = 0;
    return c;
  };
  for (const [name, type] of schema) {
    if (type.name === 'dictionary') cols.push([name, new Column(ctx, scope, { type, length: 0, values: scope.alloc(0), dictionary: empty(columnType('utf8')), name })]);
    else cols.push([name, empty(type, name)]);
  }
  return new Batch(cols, 0);
}

export const ops = {
  relabel,
  selection,
  filter: (c: Column, sel: Column, scope: ArenaScope) => filterKernel(c, sel, { scope }),
  take: (c: Column, idx: Column, scope: ArenaScope) => takeKernel(c, idx, { scope }),
  slice,
  broadcast,
  constBool,
  arith: (op: ArithOpName, a: Column | number | bigint, b: Column | number | bigint | undefined, scope: ArenaScope) => arithKernel(op, a, b, { scope }),
  cast: (c: Column, t: ColumnType, scope: ArenaScope) => castKernel(c, t, { scope }),
  compare: (op: CompareOp, a: Column, b: Column | LitValue, scope: ArenaScope) => {
    if (b === null) throw new UnsupportedTypeError(op, [a.label, 'null'], 'comparing with null is always null; use isNull()');
    if (typeof b === 'boolean') throw new UnsupportedTypeError(op, [a.label, 'bool'], 'compare bool columns with and / or / not');
    return compareKernel(op, a, b, { scope });
  },
  between: (c: Column, lo: LitValue, hi: LitValue, scope: ArenaScope) => betweenKernel(c, lo as number | bigint, hi as number | bigint, { scope }),
  logic: (op: 'and' | 'or', a: Column, b: Column, scope: ArenaScope) => (op === 'and' ? and(a, b, { scope }) : or(a, b, { scope })),
  not: (c: Column, scope: ArenaScope) => notKernel(c, { scope }),
  isNull: (c: Column, negate: boolean, scope: ArenaScope) => (negate ? isNotNull(c, { scope }) : isNullKernel(c, { scope })),
  aggregate,
  argsort,
  join,
  emptyBatch,
};
