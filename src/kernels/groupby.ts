/**
 * Group-by with aggregates (assembly/groupby): `groupBy(keys, aggs)` groups the rows by the values
 * of one or more key columns and computes count / sum / min / max / mean of value columns per group.
 *
 * Keys: any key type of `hashColumns` (ints, floats, bool, temporal, dictionary codes, utf8).
 * Equal keys are compared as values, never just by hash: -0 and +0 are one key, all NaNs are one
 * key, and null is a key of its own (in each key column). Dictionary keys group by code.
 *
 * Two paths, chosen per call (`opts.path` forces one; the tests run both):
 *   dense  a single integer key whose valid values span ≤ 65536 values and ≤ 2 × rows: the key minus
 *          its minimum indexes the accumulators directly — no hashing, no probing, and for int32
 *          keys no group-id column at all (the aggregate pass reads the keys). int32 keys need no
 *          key-range pass either: the first aggregate folds into a window of slots that widens as
 *          keys leave it (denseWindow); other widths run one SIMD min/max pass first.
 *   hash   everything else: an open-addressing table (linear probing, load ≤ 1/2) assigns group
 *          ids; the table lives in the arena and grows by rehash when the kernel reports it full.
 *
 * Group order is unspecified: the hash path yields groups in order of first appearance, the dense
 * path in ascending key order with the null key last. Sort the result if order matters.
 *
 * Aggregates are null-aware: null values are skipped; a group with no valid value gets null (count:
 * 0). Result types: count → int64; sum → int64 (signed ints, temporal), uint64 (unsigned, wrapping),
 * float64 (floats); mean → float64; min / max → the value column's own type. Float min/max: NaN is
 * the largest value (max is NaN if any value is; min skips NaN unless all are), as in `aggregate`.
 * Float sums are plain per-group f64 sums (not compensated).
 *
 * Results are allocated in `opts.scope` or the first key's scope; intermediates live in a
 * temporary scope closed before returning. Dictionary key results share the input's dictionary.
 */
import { AggOp, TableOp } from '../../assembly/shared/codes.js';
import { Column, ColumnType, DType, byteWidth, columnType, isIntegerDType, isNumericType } from '../column.js';
import { bitmapBytes } from '../column-alloc.js';
import type { Context } from '../context.js';
import { InvalidOptionError, UnknownOpError, UnsupportedTypeError } from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import { assertInMemory, assertSameContext, assertSameLength } from './check.js';
import { take } from './filter.js';
import { assertKeys, writeKeyDescriptors } from './hash.js';
import { CURSOR_BYTES, Fold, WINDOW_SCRATCH_BYTES, foldWindow, midRow, type WindowTable } from './dense-window.js';
import { guard } from './module.js';

export type GroupAggOp = 'count' | 'sum' | 'min' | 'max' | 'mean';

export interface GroupAgg {
  op: GroupAggOp;
  col: Column;
}

export interface GroupByOptions {
  /** Scope for the results (default: the first key column's scope). */
  scope?: ArenaScope;
  /** 'auto' (default) picks dense for a single integer key with a small domain, else hash. */
  path?: 'auto' | 'dense' | 'hash';
  /** Hash path: initial table capacity (rounded up to a power of two ≥ 4). Small values force growth. */
  initialCapacity?: number;
}

export interface GroupByResult {
  /** One column per key column: the key values of each group. */
  keys: Column[];
  /** One column per aggregate, in the order given. */
  results: Column[];
  groups: number;
}

export interface GroupIdsResult {
  /** int32 per row: the row's group, 0 .. groups − 1, numbered in order of first appearance. */
  ids: Column;
  groups: number;
  /** int32 per group: its first row (gather the keys with `take(key, firstRow)`). */
  firstRow: Column;
}

const OPS: Record<GroupAggOp, AggOp> = {
  count: AggOp.COUNT, sum: AggOp.SUM, min: AggOp.MIN, max: AggOp.MAX, mean: AggOp.MEAN,
};

/** Dense path bounds: auto takes a domain of ≤ DENSE_AUTO values (and ≤ 2 × rows); forced, ≤ DENSE_FORCED. */
const DENSE_AUTO = 65536;
const DENSE_FORCED = 1 << 24;
const REC_BYTES = 16;
/** Must match CHUNK in assembly/groupby/table.ts: rows hashed per batch. */
const HASH_CHUNK = 1024;
const TABLE_BYTES = 16;
const DEFAULT_CAPACITY = 1024;

/** Everything about an aggregate that is checked before any kernel runs (shared with src/runtime). */
export interface AggPlan {
  op: AggOp;
  name: GroupAggOp;
  col: Column;
  dtype: DType;
  outType: ColumnType;
}

export function planAggs(op: string, aggs: readonly GroupAgg[]): AggPlan[] {
  if (!Array.isArray(aggs)) throw new InvalidOptionError(`${op} aggs`, typeof aggs, 'an array of { op, col }');
  return aggs.map((a, i) => {
    const raw: unknown = a?.op;
    if (typeof raw !== 'string' || !Object.hasOwn(OPS, raw)) throw new UnknownOpError(String(raw), Object.keys(OPS));
    const name = raw as GroupAggOp;
    const col = a.col;
    if (!(col instanceof Column)) throw new InvalidOptionError(`${op} aggs[${i}].col`, typeof col, 'a Column');
    const aop = OPS[name];
    if (aop !== AggOp.COUNT && !isNumericType(col.type)) throw new UnsupportedTypeError(`${op} ${name}`, [col.label]);
    assertInMemory(op, col);
    const d = col.type.dtype;
    let outType: ColumnType;
    if (aop === AggOp.COUNT) outType = columnType('int64');
    else if (aop === AggOp.MEAN) outType = columnType('float64');
    else if (aop === AggOp.SUM) {
      outType = columnType(d === DType.F32 || d === DType.F64 ? 'float64' : d >= DType.U8 && d <= DType.U64 ? 'uint64' : 'int64');
    } else outType = col.type;
    // COUNT reads only the validity (any column type, bool and utf8 too); one instantiation serves it.
    return { op: aop, name, col, dtype: aop === AggOp.COUNT ? DType.U8 : d, outType };
  });
}

function checkInputs(op: string, keys: readonly Column[], aggs: readonly GroupAgg[], opts: GroupByOptions): AggPlan[] {
  assertKeys(op, keys);
  const plans = planAggs(op, aggs);
  assertSameContext(op, ...keys, ...plans.map((p) => p.col));
  assertSameLength(op, ...keys, ...plans.map((p) => p.col));
  const path = opts.path ?? 'auto';
  if (path !== 'auto' && path !== 'dense' && path !== 'hash') throw new InvalidOptionError('path', path, "'auto', 'dense' or 'hash'");
  if (opts.initialCapacity !== undefined && !(Number.isInteger(opts.initialCapacity) && opts.initialCapacity >= 1 && opts.initialCapacity <= 2 ** 30)) {
    throw new InvalidOptionError('initialCapacity', opts.initialCapacity, 'an integer from 1 to 2^30');
  }
  return plans;
}

const isDenseKeyType = (keys: readonly Column[]): boolean =>
  keys.length === 1 && keys[0].type.name !== 'utf8' && keys[0].type.name !== 'bool' && isIntegerDType(keys[0].type.dtype);

const SIGNED = new Set([DType.I8, DType.I16, DType.I32, DType.I64]);

/** The dense slot space of a single integer key, or undefined when the hash path should run. */
interface Dense {
  /** min of the valid keys (as a bigint: 64-bit keys), 0n when there is none. */
  min: bigint;
  /** Slots: one per value in [min, max], plus the null slot at the end. */
  nslots: number;
}

function densePlan(op: string, keys: readonly Column[], path: 'auto' | 'dense' | 'hash'): Dense | undefined {
  if (path === 'hash') return undefined;
  const key = keys[0];
  if (!isDenseKeyType(keys)) {
    if (path === 'dense') throw new InvalidOptionError('path', 'dense', 'a single integer key column (dense path)');
    return undefined;
  }
  const { ctx } = key;
  const scratch = ctx.scratch;
  const n = key.length;
  const valid = guard(op, () => ctx.kernel.keyRange(key.type.dtype, key.values, key.validity, n, scratch));
  if (valid < 0) throw new UnsupportedTypeError(op, [key.label]);
  let min = 0n;
  let span = 0n; // number of distinct key values the domain can hold
  if (valid > 0) {
    const dv = new DataView(ctx.mem.buffer, scratch, 16);
    const signed = SIGNED.has(key.type.dtype);
    min = signed ? dv.getBigInt64(0, true) : dv.getBigUint64(0, true);
    const max = signed ? dv.getBigInt64(8, true) : dv.getBigUint64(8, true);
    span = max - min + 1n;
  }
  if (path === 'auto' && (span > BigInt(DENSE_AUTO) || span > 2n * BigInt(n))) return undefined;
  if (span > BigInt(DENSE_FORCED)) {
    throw new InvalidOptionError('path', 'dense', `a key domain of at most ${DENSE_FORCED} values (this one spans ${span})`);
  }
  return { min, nslots: Number(span) + 1 };
}

/** Writes min (8 bytes) to scratch for the dense kernels that read it by address. */
function putMin(ctx: Context, min: bigint): number {
  new DataView(ctx.mem.buffer, ctx.scratch, 8).setBigUint64(0, BigInt.asUintN(64, min), true);
  return ctx.scratch;
}

/** A result column for `groups` rows, built after the kernel reports its null count. */
function resultColumn(ctx: Context, scope: ArenaScope, type: ColumnType, groups: number, values: number, validity: number, nullCount: number, dictionary?: Column): Column {
  return new Column(ctx, scope, { type, length: groups, values, validity: nullCount === 0 ? 0 : validity, nullCount, dictionary });
}

/** Runs one aggregate over rows whose slot is keys[i] − min, then writes its per-group results. */
function aggregateSlots(
  op: string, ctx: Context, tmp: ArenaScope, out: ArenaScope, p: AggPlan,
  slotKeys: number, slotValid: number, min: number, nslots: number, n: number, map: number, groups: number, acc?: number,
): Column {
  if (acc === undefined) {
    const a = tmp.alloc(nslots * REC_BYTES);
    const r = guard(op, () => ctx.kernel.groupAccumulate(p.op, p.dtype, slotKeys, slotValid, min, nslots, 1, p.col.values, p.col.validity, n, a));
    if (r !== 0) throw new UnsupportedTypeError(`${op} ${p.name}`, [p.col.label]);
    acc = a;
  }
  const values = out.alloc(groups * byteWidth(p.outType.dtype));
  const validity = p.op === AggOp.COUNT ? 0 : out.calloc(bitmapBytes(groups));
  const accAt = acc;
  const nulls = guard(op, () => ctx.kernel.groupFinish(p.op, p.dtype, accAt, map, groups, values, validity));
  return resultColumn(ctx, out, p.outType, groups, values, validity, nulls);
}

/** Groups rows by `keys` and computes `aggs` per group. */
export function groupBy(keys: readonly Column[], aggs: readonly GroupAgg[], opts: GroupByOptions = {}): GroupByResult {
  const op = 'groupBy';
  const plans = checkInputs(op, keys, aggs, opts);
  const first = keys[0];
  const { ctx } = first;
  const n = first.length;
  const out = opts.scope ?? first.scope;
  const path = opts.path ?? 'auto';
  const windowed = path !== 'hash' && isDenseKeyType(keys) && first.type.dtype === DType.I32;
  const dense = windowed ? undefined : densePlan(op, keys, path);
  const tmp = ctx.scope();
  try {
    if (windowed) {
      const firstPlan = plans[0] ?? countRows(first);
      const w = denseWindow(op, ctx, tmp, first, firstPlan, path === 'dense' ? DENSE_FORCED : Math.min(DENSE_AUTO, 2 * n));
      if (w) return groupByDense(op, ctx, tmp, out, first, plans, w);
      if (path === 'dense') throw tooWide(op, first);
    }
    if (dense) return groupByDense(op, ctx, tmp, out, first, plans, denseSlotKeys(op, ctx, tmp, first, plans[0] ?? countRows(first), dense));
    const { ids, groups, firstRow } = groupIdsHash(op, ctx, tmp, tmp, keys, opts);
    const rows = new Column(ctx, tmp, { type: columnType('int32'), length: groups, values: firstRow });
    const keyCols = keys.map((k) => take(k, rows, { scope: out }));
    // Group ids are slots 0 .. groups − 1; the extra slot at the end (the null key's on the dense
    // path) stays empty: ids are never null.
    const results = plans.map((p) => aggregateSlots(op, ctx, tmp, out, p, ids, 0, 0, groups + 1, n, 0, groups));
    return { keys: keyCols, results, groups };
  } finally {
    tmp.close();
  }
}

/**
 * The dense slot space of a group-by: slot = key − min over the i32 keys at `keys` (null keys: the
 * last slot), and the first aggregate's records at `acc`, already folded.
 */
interface DenseSlots {
  keys: number;
  kvalid: number;
  /** Key of slot 0 (the i32 slot keys' own min is then `slotMin`). */
  min: bigint;
  slotMin: number;
  nslots: number;
  acc: number;
}

/** COUNT over the key itself: the aggregate whose records tell which slots exist when there is none. */
const countRows = (key: Column): AggPlan => ({ op: AggOp.COUNT, name: 'count', col: key, dtype: DType.U8, outType: columnType('int64') });

/** Keys of any integer width after `keyRange`: an i32 slot column, then the first aggregate. */
function denseSlotKeys(op: string, ctx: Context, tmp: ArenaScope, key: Column, first: AggPlan, d: Dense): DenseSlots {
  const n = key.length;
  const { nslots } = d;
  let keys = key.values;
  let kvalid = key.validity;
  let slotMin = Number(d.min);
  if (key.type.dtype !== DType.I32) {
    // Fused reads are int32 only (one instantiation per value type); other widths get a slot column.
    const slots = tmp.alloc(n * 4);
    const minAt = putMin(ctx, d.min);
    const r = guard(op, () => ctx.kernel.denseSlots(key.type.dtype, key.values, key.validity, n, minAt, nslots, slots));
    if (r !== 0) throw new UnsupportedTypeError(op, [key.label]);
    keys = slots;
    kvalid = 0;
    slotMin = 0;
  }
  const acc = tmp.alloc(nslots * REC_BYTES);
  const r0 = guard(op, () => ctx.kernel.groupAccumulate(first.op, first.dtype, keys, kvalid, slotMin, nslots, 1, first.col.values, first.col.validity, n, acc));
  if (r0 !== 0) throw new UnsupportedTypeError(`${op} ${first.name}`, [first.col.label]);
  return { keys, kvalid, min: d.min, slotMin, nslots, acc };
}

/**
 * The dense path over int32 keys in one pass (README "Fused window"; dense-window.ts): no key-range
 * pass first. The first aggregate folds rows into a window table that starts empty and moves into a
 * wider one whenever a 64-row block leaves it (at most ~log2(limit) moves, each ≤ limit slots).
 * Returns undefined when the keys span more than `limit` values (the rows folded so far are then
 * wasted: at most one accumulation pass).
 */
function denseWindow(op: string, ctx: Context, tmp: ArenaScope, key: Column, p: AggPlan, limit: number): DenseSlots | undefined {
  const k = ctx.kernel;
  const n = key.length;
  const bytes = (nslots: number): number => {
    const r = k.denseTable(TableOp.BYTES, p.op, p.dtype, 0, 0, nslots, 0, 0, 0);
    if (r < 0) throw new UnsupportedTypeError(`${op} ${p.name}`, [p.col.label]);
    return r;
  };
  const t: WindowTable = { acc: tmp.alloc(bytes(1)), base: 0, width: 0 };
  guard(op, () => k.denseTable(TableOp.INIT, p.op, p.dtype, t.acc, 0, 1, 0, 0, 0));
  // The kernel's two row ranges (see denseAccumulate): [a, aEnd) and [b, n), split half-way.
  const cur = tmp.alloc(CURSOR_BYTES);
  const mid = midRow(n);
  ctx.mem.i32.set([0, mid, mid], cur >>> 2);
  const scratch = tmp.alloc(WINDOW_SCRATCH_BYTES);
  const r = guard(op, () => foldWindow(k, ctx.mem, (b) => tmp.alloc(b), p.op, p.dtype, key.values, key.validity, p.col.values, p.col.validity, n, limit, t, cur, scratch));
  if (r === Fold.REFUSED) throw new UnsupportedTypeError(`${op} ${p.name}`, [p.col.label]);
  if (r === Fold.TOO_WIDE) return undefined;
  // The standard 16-byte records that denseMap and groupFinish read.
  const nslots = t.width + 1;
  const records = tmp.alloc(nslots * REC_BYTES);
  guard(op, () => k.denseTable(TableOp.EXPAND, p.op, p.dtype, t.acc, t.base, nslots, records, 0, 0));
  return { keys: key.values, kvalid: key.validity, min: BigInt(t.base), slotMin: t.base, nslots, acc: records };
}

/** The error of a forced dense path whose keys span too many values (exact span from `keyRange`). */
function tooWide(op: string, key: Column): InvalidOptionError {
  const { ctx } = key;
  const valid = guard(op, () => ctx.kernel.keyRange(key.type.dtype, key.values, key.validity, key.length, ctx.scratch));
  const dv = new DataView(ctx.mem.buffer, ctx.scratch, 16);
  const span = valid > 0 ? dv.getBigInt64(8, true) - dv.getBigInt64(0, true) + 1n : 0n;
  return new InvalidOptionError('path', 'dense', `a key domain of at most ${DENSE_FORCED} values (this one spans ${span})`);
}

function groupByDense(op: string, ctx: Context, tmp: ArenaScope, out: ArenaScope, key: Column, plans: AggPlan[], d: DenseSlots): GroupByResult {
  const n = key.length;
  const { nslots, acc } = d;
  const map = tmp.alloc(nslots * 4);
  const groups = guard(op, () => ctx.kernel.denseMap(acc, nslots, map));

  const keyValues = out.alloc(groups * byteWidth(key.type.dtype));
  const keyValidity = out.calloc(bitmapBytes(groups));
  const minAt = putMin(ctx, d.min);
  const keyNulls = guard(op, () => ctx.kernel.denseKeys(key.type.dtype, map, groups, minAt, nslots, keyValues, keyValidity));
  const keyCol = resultColumn(ctx, out, key.type, groups, keyValues, keyValidity, keyNulls, key.dictionary);

  const results = plans.map((p, i) =>
    aggregateSlots(op, ctx, tmp, out, p, d.keys, d.kvalid, d.slotMin, nslots, n, map, groups, i === 0 ? acc : undefined));
  return { keys: [keyCol], results, groups };
}

/** The hash path: ids (int32 × n) and firstRow (int32 × groups, possibly more allocated) in `where`. */
function groupIdsHash(op: string, ctx: Context, tmp: ArenaScope, where: ArenaScope, keys: readonly Column[], opts: GroupByOptions): { ids: number; groups: number; firstRow: number } {
  const n = keys[0].length;
  const k = ctx.kernel;
  const desc = writeKeyDescriptors(op, tmp, keys);
  let u32 = ctx.mem.u32;
  let capacity = 4;
  const want = opts.initialCapacity ?? Math.min(DEFAULT_CAPACITY, 2 * n);
  while (capacity < want) capacity *= 2;
  // Table record (layout in assembly/groupby/table.ts): slots, capacity, groups, firstRow.
  const table = tmp.alloc(TABLE_BYTES);
  let firstRow = tmp.alloc((capacity / 2) * 4);
  const slots = tmp.calloc(capacity * 8);
  u32 = ctx.mem.u32;
  u32[table >>> 2] = slots;
  u32[(table >>> 2) + 1] = capacity;
  u32[(table >>> 2) + 2] = 0;
  u32[(table >>> 2) + 3] = firstRow;
  const ids = where.alloc(n * 4);
  const hashes = tmp.alloc(HASH_CHUNK * 8);
  let row = 0;
  for (;;) {
    const from = row;
    row = guard(op, () => k.groupIdsHash(desc, keys.length, from, n, table, ids, hashes));
    if (row >= n) break;
    // Full: twice the slots (rehashed by the kernel) and twice the firstRow room (copied here).
    const newCapacity = capacity * 2;
    const newSlots = tmp.calloc(newCapacity * 8);
    const newFirst = tmp.alloc((newCapacity / 2) * 4);
    guard(op, () => k.groupRehash(table, newSlots, newCapacity));
    const u8 = ctx.mem.u8;
    u8.copyWithin(newFirst, firstRow, firstRow + (capacity / 2) * 4);
    ctx.mem.u32[(table >>> 2) + 3] = newFirst;
    firstRow = newFirst;
    capacity = newCapacity;
  }
  const groups = ctx.mem.u32[(table >>> 2) + 2];
  if (where !== tmp) {
    const kept = where.alloc(groups * 4);
    ctx.mem.u8.copyWithin(kept, firstRow, firstRow + groups * 4);
    firstRow = kept;
  }
  return { ids, groups, firstRow };
}

/**
 * Group ids per row (in order of first appearance) and each group's first row; the building block
 * for joins and multi-pass aggregation. Uses the dense path for a single small-domain integer key.
 */
export function groupIds(keys: readonly Column[], opts: GroupByOptions = {}): GroupIdsResult {
  const op = 'groupIds';
  checkInputs(op, keys, [], opts);
  const first = keys[0];
  const { ctx } = first;
  const n = first.length;
  const out = opts.scope ?? first.scope;
  const int32 = columnType('int32');
  const dense = densePlan(op, keys, opts.path ?? 'auto');
  const tmp = ctx.scope();
  try {
    if (dense) {
      const ids = out.alloc(n * 4);
      const firstRow = out.alloc(Math.min(n, dense.nslots) * 4);
      const slotMap = tmp.alloc(dense.nslots * 4);
      const minAt = putMin(ctx, dense.min);
      const groups = guard(op, () => ctx.kernel.denseGroupIds(first.type.dtype, first.values, first.validity, n, minAt, dense.nslots, slotMap, ids, firstRow));
      if (groups < 0) throw new UnsupportedTypeError(op, [first.label]);
      return {
        ids: new Column(ctx, out, { type: int32, length: n, values: ids }),
        groups,
        firstRow: new Column(ctx, out, { type: int32, length: groups, values: firstRow }),
      };
    }
    const r = groupIdsHash(op, ctx, tmp, out, keys, opts);
    return {
      ids: new Column(ctx, out, { type: int32, length: n, values: r.ids }),
      groups: r.groups,
      firstRow: new Column(ctx, out, { type: int32, length: r.groups, values: r.firstRow }),
    };
  } finally {
    tmp.close();
  }
}

/** `groupBy([key], [{ op: 'sum', col: value }])`, shaped for the common case. */
export function groupBySum(key: Column, value: Column, opts: GroupByOptions = {}): { keys: Column; sums: Column; groups: number } {
  const r = groupBy([key], [{ op: 'sum', col: value }], opts);
  return { keys: r.keys[0], sums: r.results[0], groups: r.groups };
}
