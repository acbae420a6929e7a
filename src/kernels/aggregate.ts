/**
 * count / sum / min / max / mean over one column (assembly/aggregate). Null-aware: nulls are skipped;
 * an aggregate over no valid values is null (count: 0).
 *
 * Result types: float columns → number. Integer sums are exact in the kernel (i64, wrapping at 2^63);
 * 64-bit integer columns return bigint, narrower ones return number (exact up to 2^53). Temporal
 * columns return their stored integer (days, ms, or the timestamp unit).
 */
import { AggOp } from '../../assembly/shared/codes.js';
import { Column, DType, is64BitInt, isFloatDType, isNumericType, typeLabel } from '../column.js';
import { UnsupportedTypeError } from '../errors.js';
import { assertInMemory } from './check.js';
import { guard } from './module.js';

export type Scalar = number | bigint | null;

function run(opName: string, op: AggOp, col: Column): { count: number; out: number } {
  if (op !== AggOp.COUNT && !isNumericType(col.type)) throw new UnsupportedTypeError(opName, [typeLabel(col.type)]);
  assertInMemory(opName, col);
  const { kernel, scratch } = col.ctx;
  // COUNT of bool/utf8/dictionary only reads the validity bitmap: run it as U8 over the bitmap bits.
  const dtype = op === AggOp.COUNT ? DType.U8 : col.type.dtype;
  const count = guard(opName, () => kernel.aggregate(op, dtype, col.values, col.validity, col.length, scratch));
  return { count, out: scratch };
}

function readScalar(col: Column, out: number, wide: 'sum' | 'extreme'): Scalar {
  const d = col.type.dtype;
  const dv = new DataView(col.ctx.mem.buffer, out, 8);
  if (isFloatDType(d)) return dv.getFloat64(0, true);
  const signed = d === DType.I8 || d === DType.I16 || d === DType.I32 || d === DType.I64;
  const big = wide === 'sum' && !signed ? dv.getBigUint64(0, true) : signed ? dv.getBigInt64(0, true) : dv.getBigUint64(0, true);
  return is64BitInt(d) ? big : Number(big);
}

/** Number of non-null values. */
export function count(col: Column): number {
  return run('count', AggOp.COUNT, col).count;
}

export function sum(col: Column): Scalar {
  const r = run('sum', AggOp.SUM, col);
  return r.count === 0 ? null : readScalar(col, r.out, 'sum');
}

export function min(col: Column): Scalar {
  const r = run('min', AggOp.MIN, col);
  return r.count === 0 ? null : readScalar(col, r.out, 'extreme');
}

export function max(col: Column): Scalar {
  const r = run('max', AggOp.MAX, col);
  return r.count === 0 ? null : readScalar(col, r.out, 'extreme');
}

/** Arithmetic mean as a float64 (integer sums are exact before the one division). */
export function mean(col: Column): number | null {
  const r = run('mean', AggOp.SUM, col);
  if (r.count === 0) return null;
  const s = readScalar(col, r.out, 'sum') as number | bigint;
  return Number(s) / r.count;
}
