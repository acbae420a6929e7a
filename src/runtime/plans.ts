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
 */
import { AggOp } from '../../assembly/shared/codes.js';
import { Column, DType, byteWidth, is64BitInt, isFloatDType, isNumericType, typeLabel } from '../column.js';
import { InvalidOptionError, UnsupportedTypeError } from '../errors.js';
import { assertInMemory } from '../kernels/check.js';
import type { SharedMemory } from '../memory/shared-memory.js';
import { AGG_PARTIAL_BYTES, Op } from './ops.js';
import type { JobSpec } from './runtime.js';

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
