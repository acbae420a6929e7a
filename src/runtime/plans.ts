/**
 * Job specs: what the Runtime runs. Each plans its root tasks on the submitting thread (validating
 * everything a kernel will touch first, as the single-thread wrappers in src/kernels do) and merges
 * the workers' per-morsel partials once every task finished.
 *
 *   aggregateJob('sum', col)  count / sum / min / max / mean over a column, morsel-parallel
 *   noopJob()                 one task calling the no-op kernel (the tiny-task unit)
 *   trapJob(kind)             one task whose kernel traps (fault-path tests)
 *   exitJob()                 one task that ends its worker thread (dead-worker tests)
 *   spinJob(rows, us)         a range job that busy-waits per morsel and counts each morsel run
 *   keyRangeJob(key)          min / max of an integer key column, morsel-parallel
 *   groupAccJob(…)            dense group-by aggregate over a known key range, one table per morsel
 *   groupBySum(rt, key, val)  a parallel `GROUP BY key, SUM(val)` in one pass (GROUP_WINDOW: each
 *                             morsel folds into its own moving key window), merged here by key
 *   filter(rt, col, sel)      a parallel filter: selected rows per morsel, then each morsel copies
 *                             its rows to its prefix-sum offset
 */
import { AggOp, TableOp } from '../../assembly/shared/codes.js';
import { Column, DType, byteWidth, is64BitInt, isFloatDType, isNumericType, typeLabel } from '../column.js';
import { InvalidOptionError, UnsupportedTypeError } from '../errors.js';
import { assertInMemory } from '../kernels/check.js';
import { WINDOW_SCRATCH_BYTES, sampleWindow } from '../kernels/dense-window.js';
import { guard } from '../kernels/module.js';
import { valuesView } from '../column-alloc.js';
import type { Context } from '../context.js';
import type { ArenaScope } from '../memory/arena.js';
import type { SharedMemory } from '../memory/shared-memory.js';
import {
  AGG_PARTIAL_BYTES, KEY_RANGE_PARTIAL_BYTES, Op, WINDOW_INFO_BYTES, WI_ANY, WI_BASE, WI_FIRST, WI_LAST, WI_RECORDS, WI_STATE, WI_TABLE, WI_WIDTH,
  WS_DONE, WS_TOO_WIDE,
} from './ops.js';
import { groupBy } from './plan-groupby.js';
import type { JobSpec, Runtime, RunOptions } from './runtime.js';

export type Scalar = number | bigint | null;
export type AggregateName = 'count' | 'sum' | 'min' | 'max' | 'mean';

const AGG_OPS: Record<AggregateName, AggOp> = {
  count: AggOp.COUNT, sum: AggOp.SUM, min: AggOp.MIN, max: AggOp.MAX, mean: AggOp.SUM,
};

interface AggState {
  partials: number;
  morsels: number;
  dtype: DType;
}

/**
 * count / sum / min / max / mean over one column, split into morsels that run on every worker.
 * Same results and result types as src/kernels/aggregate.ts (float sums may differ in the last
 * bits: each morsel is compensated, and morsel sums are merged with compensation in row order).
 */
export function aggregateJob(name: AggregateName, col: Column): JobSpec<Scalar, AggState> {
  const op = AGG_OPS[name];
  if (op === undefined) throw new InvalidOptionError('aggregate', name, 'count, sum, min, max or mean');
  return {
    name,
    plan(p) {
      if (op !== AggOp.COUNT && !isNumericType(col.type)) throw new UnsupportedTypeError(name, [typeLabel(col.type)]);
      if (col.ctx.mem.memory !== p.mem.memory) {
        throw new UnsupportedTypeError(name, [typeLabel(col.type)], 'the column belongs to another engine');
      }
      assertInMemory(name, col);
      // COUNT of non-numeric columns reads only the bitmap (as src/kernels/aggregate.ts does).
      const dtype = op === AggOp.COUNT ? DType.U8 : col.type.dtype;
      const width = op === AggOp.COUNT ? 1 : byteWidth(dtype);
      const n = col.length;
      const morsels = Math.ceil(n / p.morselRows);
      const partials = morsels === 0 ? 0 : p.alloc(morsels * AGG_PARTIAL_BYTES);
      if (n > 0) {
        p.task(Op.AGGREGATE, {
          start: 0, end: n, a0: col.values, a1: col.validity, a2: partials,
          p0: dtype, p1: op, p2: p.morselRows, p3: width,
        });
      }
      return { partials, morsels, dtype: col.type.dtype };
    },
    finish(s, mem) {
      return merge(name, s, mem);
    },
  };
}

function merge(name: AggregateName, s: AggState, mem: SharedMemory): Scalar {
  const dv = new DataView(mem.buffer);
  let count = 0;
  for (let m = 0; m < s.morsels; m++) count += dv.getInt32(s.partials + m * AGG_PARTIAL_BYTES + 8, true);
  if (name === 'count') return count;
  if (count === 0) return null;
  const float = isFloatDType(s.dtype);
  const signed = s.dtype === DType.I8 || s.dtype === DType.I16 || s.dtype === DType.I32 || s.dtype === DType.I64;
  const wide = (b: bigint) => (is64BitInt(s.dtype) ? b : Number(b));
  if (name === 'sum' || name === 'mean') {
    let result: number | bigint;
    if (float) {
      // Neumaier over the morsel sums, in row order: deterministic whatever the schedule was.
      let sum = 0;
      let comp = 0;
      for (let m = 0; m < s.morsels; m++) {
        const at = s.partials + m * AGG_PARTIAL_BYTES;
        if (dv.getInt32(at + 8, true) === 0) continue;
        const x = dv.getFloat64(at, true);
        const t = sum + x;
        comp += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
        sum = t;
      }
      result = Number.isFinite(sum) ? sum + comp : sum;
    } else {
      let sum = 0n;
      for (let m = 0; m < s.morsels; m++) sum += dv.getBigInt64(s.partials + m * AGG_PARTIAL_BYTES, true);
      // Wrapping at 64 bits, as the kernel does; unsigned sums are u64 bits.
      result = signed ? BigInt.asIntN(64, sum) : BigInt.asUintN(64, sum);
    }
    if (name === 'mean') return Number(result) / count;
    return typeof result === 'bigint' ? wide(result) : result;
  }
  // min / max: the same total order as the kernel (MAX: NaN wins; MIN: NaN only if all are NaN).
  const max = name === 'max';
  if (float) {
    let best = max ? -Infinity : Infinity;
    let sawNaN = false;
    let sawNumber = false;
    for (let m = 0; m < s.morsels; m++) {
      const at = s.partials + m * AGG_PARTIAL_BYTES;
      if (dv.getInt32(at + 8, true) === 0) continue;
      const x = dv.getFloat64(at, true);
      if (Number.isNaN(x)) { sawNaN = true; continue; }
      sawNumber = true;
      if (max ? x > best : x < best) best = x;
    }
    if (max) return sawNaN ? NaN : best;
    return sawNumber ? best : NaN;
  }
  let best: bigint | undefined;
  for (let m = 0; m < s.morsels; m++) {
    const at = s.partials + m * AGG_PARTIAL_BYTES;
    if (dv.getInt32(at + 8, true) === 0) continue;
    const x = signed ? dv.getBigInt64(at, true) : dv.getBigUint64(at, true);
    if (best === undefined || (max ? x > best : x < best)) best = x;
  }
  return wide(best!);
}

export const sumJob = (col: Column) => aggregateJob('sum', col);

/** One task that calls the no-op kernel: the unit of the tiny-task benchmark. */
export function noopJob(): JobSpec<void, void> {
  return NOOP;
}

const NOOP: JobSpec<void, void> = {
  name: 'noop',
  short: true,
  plan(p) {
    p.task(Op.NOOP);
  },
  finish() {},
};

/** One task whose kernel traps: kind 0 `unreachable`, 1 an out-of-bounds load. */
export function trapJob(kind: 0 | 1 = 0): JobSpec<void, void> {
  return { name: 'trap', plan: (p) => p.task(Op.TRAP, { p0: kind }), finish() {} };
}

/** One task that ends the worker thread running it (tests of the dead-worker path). */
export function exitJob(): JobSpec<void, void> {
  return { name: 'exit', plan: (p) => p.task(Op.EXIT), finish() {} };
}

/**
 * One task whose worker exits right after taking it off a queue, before running it (tests of the
 * claim-on-pop protocol: the job must fail with WorkerDiedError, not stay pending).
 */
export function dieUnclaimedJob(): JobSpec<void, void> {
  return { name: 'dieUnclaimed', plan: (p) => p.task(Op.DIE_UNCLAIMED), finish() {} };
}

/**
 * A range job over `rows` rows that busy-waits `microsPerMorsel` per morsel and counts how many
 * times each morsel ran. Resolves with the per-morsel run counts (all 1 when nothing was lost or
 * run twice; 0s after a cancel).
 */
export function spinJob(rows: number, microsPerMorsel: number, morselRows?: number): JobSpec<Int32Array, { counts: number; morsels: number }> {
  return {
    name: 'spin',
    plan(p) {
      const mr = morselRows ?? p.morselRows;
      const morsels = Math.ceil(rows / mr);
      const counts = p.calloc(Math.max(4, morsels * 4));
      if (rows > 0) p.task(Op.SPIN, { start: 0, end: rows, a2: counts, p2: mr, x0: microsPerMorsel });
      return { counts, morsels };
    },
    finish(s, mem) {
      return new Int32Array(mem.buffer, s.counts, s.morsels).slice();
    },
  };
}

// ---- group-by ------------------------------------------------------------------------------------

export interface KeyRange {
  min: bigint;
  max: bigint;
  /** Valid (non-null) keys. */
  valid: number;
}

interface RangeState {
  partials: number;
  morsels: number;
  signed: boolean;
}

const SIGNED_INTS = new Set([DType.I8, DType.I16, DType.I32, DType.I64]);

/** Min and max of an integer key column (null when no key is valid), morsel-parallel. */
export function keyRangeJob(key: Column): JobSpec<KeyRange | null, RangeState> {
  const name = 'keyRange';
  return {
    name,
    plan(p) {
      if (!(key.type.dtype <= DType.U64) || !isNumericType(key.type)) throw new UnsupportedTypeError(name, [typeLabel(key.type)], 'integer keys only');
      assertInMemory(name, key);
      const n = key.length;
      const morsels = Math.ceil(n / p.morselRows);
      const partials = morsels === 0 ? 0 : p.alloc(morsels * KEY_RANGE_PARTIAL_BYTES);
      if (n > 0) {
        p.task(Op.KEY_RANGE, {
          start: 0, end: n, a0: key.values, a1: key.validity, a2: partials,
          p0: key.type.dtype, p2: p.morselRows, p3: byteWidth(key.type.dtype),
        });
      }
      return { partials, morsels, signed: SIGNED_INTS.has(key.type.dtype) };
    },
    finish(s, mem) {
      const dv = new DataView(mem.buffer);
      let r: KeyRange | null = null;
      for (let m = 0; m < s.morsels; m++) {
        const at = s.partials + m * KEY_RANGE_PARTIAL_BYTES;
        const valid = dv.getInt32(at + 16, true);
        if (valid === 0) continue;
        const lo = s.signed ? dv.getBigInt64(at, true) : dv.getBigUint64(at, true);
        const hi = s.signed ? dv.getBigInt64(at + 8, true) : dv.getBigUint64(at + 8, true);
        if (r === null) r = { min: lo, max: hi, valid };
        else {
          if (lo < r.min) r.min = lo;
          if (hi > r.max) r.max = hi;
          r.valid += valid;
        }
      }
      return r;
    },
  };
}

/** Per-group sums in ascending key order; a null key, if any, is the last group. */
export interface GroupSums {
  groups: number;
  keys: Int32Array;
  /** True when the last group is the null key's (its `keys` entry is 0). */
  nullKeyGroup: boolean;
  /** Sum per group: number for float values, bigint (wrapping at 64 bits) for integers; null when no value was valid. */
  sums: Array<number | bigint | null>;
}

interface GroupState {
  tables: number;
  tableBytes: number;
  morsels: number;
  nslots: number;
  min: number;
  dtype: DType;
}

/** The most slots the parallel dense path takes (the domain of the keys + 1 for null). */
export const GROUP_MAX_SLOTS = 65537;
const REC_BYTES = 16;
/** Slot counts up to this use 4 interleaved partial tables per morsel (as src/kernels/groupby.ts). */
const PARTS_MAX_SLOTS = 256;

/**
 * Dense group-by SUM over an int32 key whose values lie in [min, min + nslots − 2]: every morsel
 * fills its own accumulator table (no sharing, no atomics); the tables are merged here in morsel
 * order. Morsels are bigger than the runtime's default when the column is long, so that merging
 * (morsels × slots records) stays small next to the scan.
 */
export function groupAccJob(key: Column, value: Column, min: number, nslots: number): JobSpec<GroupSums, GroupState> {
  const name = 'groupBySum';
  return {
    name,
    plan(p) {
      if (key.type.dtype !== DType.I32 || key.type.name !== 'int32') throw new UnsupportedTypeError(name, [typeLabel(key.type), typeLabel(value.type)], 'parallel group-by takes int32 keys');
      if (!isNumericType(value.type)) throw new UnsupportedTypeError(name, [typeLabel(key.type), typeLabel(value.type)]);
      if (key.length !== value.length) throw new InvalidOptionError('value', value.length, `a column of ${key.length} rows like the key`);
      if (!(nslots >= 2 && nslots <= GROUP_MAX_SLOTS)) throw new InvalidOptionError('nslots', nslots, `2 to ${GROUP_MAX_SLOTS}`);
      assertInMemory(name, key);
      assertInMemory(name, value);
      const n = key.length;
      // Morsel rows: a power of two ≥ the runtime's, with at most ~64 morsels.
      const mr = Math.max(p.morselRows, 2 ** Math.ceil(Math.log2(Math.max(1, n / 64))));
      const morsels = Math.ceil(n / mr);
      const parts = nslots <= PARTS_MAX_SLOTS ? 4 : 1;
      const tableBytes = parts * nslots * REC_BYTES;
      const tables = morsels === 0 ? 0 : p.alloc(morsels * tableBytes);
      if (n > 0) {
        p.task(Op.GROUP_ACC, {
          start: 0, end: n, a0: key.values, a1: key.validity, a2: tables, a3: value.values,
          p0: value.type.dtype, p1: AggOp.SUM, p2: mr, p3: byteWidth(value.type.dtype),
          x0: min, x1: nslots, x2: value.validity, x3: tableBytes,
        });
      }
      return { tables, tableBytes, morsels, nslots, min, dtype: value.type.dtype };
    },
    finish(s, mem) {
      const { nslots, morsels, tableBytes } = s;
      const i32 = new Int32Array(mem.buffer);
      const f64 = new Float64Array(mem.buffer);
      const float = isFloatDType(s.dtype);
      const signed = SIGNED_INTS.has(s.dtype);
      const seen = new Uint8Array(nslots);
      const valid = new Uint8Array(nslots);
      const fsum = new Float64Array(nslots);
      // Integer sums as two float64 halves (lo: unsigned 32 bits, hi: signed 32 bits) — exact for
      // fewer than 2^21 morsels, and far cheaper than a BigInt add per record.
      const lo = new Float64Array(float ? 0 : nslots);
      const hi = new Float64Array(float ? 0 : nslots);
      for (let m = 0; m < morsels; m++) {
        const base = s.tables + m * tableBytes;
        for (let slot = 0; slot < nslots; slot++) {
          const rec = base + slot * REC_BYTES;
          const w = rec >>> 2;
          if (i32[w + 2] === 0) continue; // no row of this morsel has this key
          seen[slot] = 1;
          if (i32[w + 3] === 0) continue; // rows, but every value null
          valid[slot] = 1;
          if (float) fsum[slot] += f64[rec >>> 3];
          else {
            lo[slot] += i32[w] >>> 0;
            hi[slot] += i32[w + 1];
          }
        }
      }
      let groups = 0;
      for (let slot = 0; slot < nslots; slot++) groups += seen[slot];
      const keys = new Int32Array(groups);
      const sums: Array<number | bigint | null> = new Array(groups);
      let g = 0;
      for (let slot = 0; slot < nslots; slot++) {
        if (!seen[slot]) continue;
        keys[g] = slot === nslots - 1 ? 0 : s.min + slot;
        if (!valid[slot]) sums[g] = null;
        else if (float) sums[g] = fsum[slot];
        else {
          const bits = (BigInt(hi[slot]) << 32n) + BigInt(lo[slot]);
          sums[g] = signed ? BigInt.asIntN(64, bits) : BigInt.asUintN(64, bits);
        }
        g++;
      }
      return { groups, keys, nullKeyGroup: seen[nslots - 1] === 1, sums };
    },
  };
}

/** The dense limit of `groupBySum`: the single-thread kernel's auto rule (≤ 65 536 values and ≤ 2 × rows). */
const DENSE_AUTO = 65536;

/**
 * `GROUP BY key, SUM(value)` on the workers, int32 keys, in one pass over the rows (README
 * "groupBySum"): every morsel folds its rows into its own dense window table (Op.GROUP_WINDOW;
 * kernels/dense-window.ts) — no key-range pass first — and the tables are merged here by absolute
 * key, in morsel order (so the float rounding does not depend on the schedule). Keys whose valid
 * values span more than min(65 536, 2 × rows) — the single-thread kernel's dense rule — take the
 * GROUP_HASH plan instead (plan-groupby.ts), with the groups then sorted by key. Groups come in
 * ascending key order, the null key last.
 */
export async function groupBySum(rt: Runtime, key: Column, value: Column, opts: RunOptions = {}): Promise<GroupSums> {
  const name = 'groupBySum';
  const types = () => [typeLabel(key.type), typeLabel(value.type)];
  if (key.type.dtype !== DType.I32 || key.type.name !== 'int32') throw new UnsupportedTypeError(name, types(), 'parallel group-by takes int32 keys');
  if (!isNumericType(value.type)) throw new UnsupportedTypeError(name, types());
  if (key.length !== value.length) throw new InvalidOptionError('value', value.length, `a column of ${key.length} rows like the key`);
  if (key.ctx.mem.memory !== rt.ctx.mem.memory || value.ctx.mem.memory !== rt.ctx.mem.memory) {
    throw new UnsupportedTypeError(name, types(), 'the columns belong to another engine');
  }
  assertInMemory(name, key);
  assertInMemory(name, value);
  const { ctx } = key;
  const k = ctx.kernel;
  const n = key.length;
  const dtype = value.type.dtype;
  const limit = Math.min(DENSE_AUTO, 2 * n);
  const tableBytes = (width: number): number => {
    const b = k.denseTable(TableOp.BYTES, AggOp.SUM, dtype, 0, 0, width + 1, 0, 0, 0);
    if (b < 0) throw new UnsupportedTypeError(name, types());
    return b;
  };
  // Partials live here until merged; the workers allocate their moved tables in it.
  const tmp = ctx.scope();
  try {
    const scratch = tmp.alloc(WINDOW_SCRATCH_BYTES);
    const first = guard(name, () => sampleWindow(k, ctx.mem, key.values, key.validity, n, limit, scratch));
    // The first rows alone already span too much: the hash plan, having folded nothing.
    if (first === null) return await hashSums(rt, key, value, opts);
    // Morsel rows: a power of two ≥ the runtime's, about 16 morsels per thread (workers + the
    // submitter). Each morsel's table costs the merge ~4 µs (its ~1000 used records come from
    // another core's cache: 39 morsels at 10 M rows took 0.17 ms, 10 took 0.07 ms); fewer, bigger
    // morsels leave a thread idle longer at the end when the other lags (load from elsewhere).
    const target = 16 * (rt.workers + 1);
    const mr = Math.max(rt.morselRows, 2 ** Math.ceil(Math.log2(Math.max(1, n / target))));
    const morsels = Math.ceil(n / mr);
    // Every morsel starts in a table of its own at the sampled window, a cache line apart.
    const stride = Math.ceil(tableBytes(first.width) / 64) * 64;
    const info = tmp.calloc(Math.max(1, morsels) * WINDOW_INFO_BYTES);
    const tables = tmp.alloc(Math.max(1, morsels) * stride);
    const i32 = ctx.mem.i32;
    for (let m = 0; m < morsels; m++) {
      const w = (info + m * WINDOW_INFO_BYTES) >>> 2;
      i32[w + WI_TABLE] = tables + m * stride;
      i32[w + WI_BASE] = first.base;
      i32[w + WI_WIDTH] = first.width;
    }
    if (n > 0) {
      await rt.run<void, void>({
        name,
        plan(p) {
          p.task(Op.GROUP_WINDOW, {
            start: 0, end: n, a0: key.values, a1: key.validity, a2: info, a3: value.values,
            p0: dtype, p1: AggOp.SUM, p2: mr, p3: byteWidth(dtype), x0: tmp.root, x1: limit, x2: value.validity,
          });
        },
        finish() {},
      }, opts);
    }
    const merged = mergeWindows(ctx, tmp, info, morsels, dtype, limit, types());
    return merged ?? (await hashSums(rt, key, value, opts));
  } finally {
    tmp.close();
  }
}

/**
 * Folds the morsels' tables into per-key sums, morsel by morsel in morsel order (a key's float sum:
 * its morsel sums added in row order, whatever ran where). Null when a morsel's keys, or all of them
 * together, span more than `limit` (the caller takes the hash plan). Each morsel's 16-byte records
 * (RECORDS: +0 sum, +8 rows, +12 valid) fold into the final table with the kernel's accMerge, its
 * used key slots [FIRST, LAST] at their absolute keys' slots, then its null slot.
 */
function mergeWindows(ctx: Context, tmp: ArenaScope, info: number, morsels: number, dtype: DType, limit: number, types: string[]): GroupSums | null {
  const name = 'groupBySum';
  const k = ctx.kernel;
  let i32 = ctx.mem.i32;
  let lo = Infinity;
  let hi = -Infinity;
  for (let m = 0; m < morsels; m++) {
    const w = (info + m * WINDOW_INFO_BYTES) >>> 2;
    const state = i32[w + WI_STATE];
    if (state === WS_TOO_WIDE) return null;
    // The job resolved, so every morsel ran (an abort or a trap rejected it before we got here).
    if (state !== WS_DONE) throw new Error(`groupBySum: morsel ${m} did not run`);
    if (i32[w + WI_ANY] === 0) continue;
    lo = Math.min(lo, i32[w + WI_BASE] + i32[w + WI_FIRST]);
    hi = Math.max(hi, i32[w + WI_BASE] + i32[w + WI_LAST]);
  }
  const span = hi < lo ? 0 : hi - lo + 1;
  if (span > limit) return null;
  // Slots 0 .. span − 1: the keys lo .. hi; slot span: the null key.
  const nslots = span + 1;
  const final = tmp.alloc(nslots * REC_BYTES);
  const merge = (src: number, n: number, dst: number): void => {
    if (guard(name, () => k.runtimeAccMerge(AggOp.SUM, dtype, src, 0, n, dst)) !== 0) throw new UnsupportedTypeError(name, types);
  };
  guard(name, () => k.groupAccumulate(AggOp.SUM, dtype, 0, 0, 0, nslots, 1, 0, 0, 0, final));
  i32 = ctx.mem.i32;
  for (let m = 0; m < morsels; m++) {
    const w = (info + m * WINDOW_INFO_BYTES) >>> 2;
    const records = i32[w + WI_RECORDS];
    const width = i32[w + WI_WIDTH];
    if (i32[w + WI_ANY] !== 0) {
      const first = i32[w + WI_FIRST];
      merge(records + first * REC_BYTES, i32[w + WI_LAST] - first + 1, final + (i32[w + WI_BASE] + first - lo) * REC_BYTES);
    }
    merge(records + width * REC_BYTES, 1, final + span * REC_BYTES);
  }
  i32 = ctx.mem.i32;
  const float = isFloatDType(dtype);
  const signed = SIGNED_INTS.has(dtype);
  const dv = new DataView(ctx.mem.buffer);
  let groups = 0;
  for (let slot = 0; slot < nslots; slot++) if (i32[((final + slot * REC_BYTES) >>> 2) + 2] !== 0) groups++;
  const keys = new Int32Array(groups);
  const sums: Array<number | bigint | null> = new Array(groups);
  let g = 0;
  for (let slot = 0; slot < nslots; slot++) {
    const rec = final + slot * REC_BYTES;
    if (i32[(rec >>> 2) + 2] === 0) continue; // no row has this key
    keys[g] = slot === span ? 0 : lo + slot;
    if (i32[(rec >>> 2) + 3] === 0) sums[g] = null; // rows, but every value null
    else if (float) sums[g] = dv.getFloat64(rec, true);
    else sums[g] = signed ? dv.getBigInt64(rec, true) : dv.getBigUint64(rec, true);
    g++;
  }
  return { groups, keys, nullKeyGroup: i32[((final + span * REC_BYTES) >>> 2) + 2] !== 0, sums };
}

/** The hash plan (GROUP_HASH, plan-groupby.ts) for keys too wide for the dense one, as GroupSums in key order. */
async function hashSums(rt: Runtime, key: Column, value: Column, opts: RunOptions): Promise<GroupSums> {
  const tmp = key.ctx.scope();
  try {
    const r = await groupBy(rt, [key], [{ op: 'sum', col: value }], { ...opts, path: 'hash', scope: tmp });
    const kc = r.keys[0];
    const sc = r.results[0];
    const kv = new Int32Array(key.ctx.mem.buffer, kc.values, r.groups);
    const sv = valuesView(sc) as ArrayLike<number | bigint>;
    const bit = (c: Column, i: number) => c.validity === 0 || ((key.ctx.mem.u8[c.validity + (i >>> 3)] >>> (i & 7)) & 1) === 1;
    const order = Array.from({ length: r.groups }, (_, g) => g);
    // Ascending key, the null key last (the dense path's order).
    const nullKey = (g: number) => !bit(kc, g);
    order.sort((a, b) => (nullKey(a) ? 1 : 0) - (nullKey(b) ? 1 : 0) || kv[a] - kv[b]);
    const keys = Int32Array.from(order, (g) => (nullKey(g) ? 0 : kv[g]));
    const sums = order.map((g) => (bit(sc, g) ? sv[g] : null));
    return { groups: r.groups, keys, nullKeyGroup: r.groups > 0 && nullKey(order[r.groups - 1]), sums };
  } finally {
    tmp.close();
  }
}

// ---- filter, group-by, sort: their own files ---------------------------------------------------

export { filter, type ParallelFilterOptions } from './plan-filter.js';
export { argsort, type ParallelArgsortOptions } from './plan-sort.js';
export { groupBy, type ParallelGroupByOptions, type ParallelGroupByResult } from './plan-groupby.js';
