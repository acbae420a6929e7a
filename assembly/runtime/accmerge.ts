// Merging per-morsel group-by accumulators (src/runtime plans: parallel groupBy). Every morsel
// accumulates its rows into its own table of 16-byte records (assembly/groupby/accumulate.ts, whose
// layout this file reads: +0 value 8 bytes, +8 rows i32, +12 valid i32); the merge folds record i
// of a partial table into record map[i] of the final table — the same record, so the final table
// goes to `groupFinish` exactly as a single-thread accumulation would.
//
// What a fold is, per op (the partial and final records start from the same identities, written by
// groupAccumulate with n = 0, so an empty partial record folds in as a no-op):
//   SUM, MEAN   value += (f64 for float values and for MEAN of 64-bit ints, else i64 — the same
//               bits as the u64 wrap-around sum); COUNT, MEAN rows/valid += (exact counters)
//   MIN, MAX    the same comparison as the row step (NaN largest; MIN skips NaN unless all are)
//   COUNT, SUM, MIN, MAX rows/valid are presence flags (0/1): OR them
//
// The value's kind is all that matters, not its width: records hold every value widened to 8
// bytes. One dispatch turns (op, dtype) into a kind; the loop is generic over the kind.

import { AggOp, DType } from '../shared/codes';
import { at } from '../util';

const REC_SHIFT: usize = 4;

// @ts-ignore: decorator
@inline function fold<V>(op: i32, src: usize, dst: usize): void {
  if (op == AggOp.SUM || op == AggOp.MEAN) {
    store<V>(dst, load<V>(dst) + load<V>(src));
  } else if (op == AggOp.MIN || op == AggOp.MAX) {
    const m = load<V>(dst);
    const x = load<V>(src);
    if (isFloat<V>()) store<V>(dst, (op == AggOp.MIN ? x < m || m != m : x > m || x != x) ? x : m);
    else store<V>(dst, (op == AggOp.MIN ? x < m : x > m) ? x : m);
  }
  if (op == AggOp.COUNT || op == AggOp.MEAN) {
    store<i32>(dst, load<i32>(dst, 8) + load<i32>(src, 8), 8);
    store<i32>(dst, load<i32>(dst, 12) + load<i32>(src, 12), 12);
  } else {
    store<i32>(dst, load<i32>(dst, 8) | load<i32>(src, 8), 8);
    store<i32>(dst, load<i32>(dst, 12) | load<i32>(src, 12), 12);
  }
}

// @ts-ignore: decorator
@inline function mergeAll<V>(op: i32, src: usize, map: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    const s = src + (<usize>i << REC_SHIFT);
    // A slot no row of this morsel reached holds the identities: skip it (dense tables are mostly these).
    if (load<i32>(s, 8) == 0) continue;
    const g = map == 0 ? i : load<i32>(at<i32>(map, i));
    fold<V>(op, s, dst + (<usize>g << REC_SHIFT));
  }
}

function mergeOp<V>(op: i32, src: usize, map: usize, n: i32, dst: usize): i32 {
  switch (op) {
    case AggOp.COUNT: mergeAll<V>(AggOp.COUNT, src, map, n, dst); return 0;
    case AggOp.SUM: mergeAll<V>(AggOp.SUM, src, map, n, dst); return 0;
    case AggOp.MEAN: mergeAll<V>(AggOp.MEAN, src, map, n, dst); return 0;
    case AggOp.MIN: mergeAll<V>(AggOp.MIN, src, map, n, dst); return 0;
    case AggOp.MAX: mergeAll<V>(AggOp.MAX, src, map, n, dst); return 0;
    default: return -1;
  }
}

/**
 * accMerge(op, dtype, src, map, n, dst) → 0 (−1: bad op or type). Folds the n records at src into
 * dst: record i into dst record map[i] (map = 0: record i). Several src records may map to one dst
 * record; the caller runs merges into one dst table on one thread at a time (or over disjoint slot
 * ranges), since folds are plain read-modify-writes.
 */
export function accMerge(op: i32, dtype: i32, src: usize, map: usize, n: i32, dst: usize): i32 {
  if (op == AggOp.COUNT) return mergeOp<i64>(op, src, map, n, dst);
  const float = dtype == DType.F32 || dtype == DType.F64;
  const wide64 = dtype == DType.I64 || dtype == DType.U64;
  // MEAN of 64-bit ints sums in f64 (accumulate.ts meanInF64).
  if (float || (op == AggOp.MEAN && wide64)) return mergeOp<f64>(op, src, map, n, dst);
  switch (dtype) {
    case DType.I8: case DType.I16: case DType.I32: case DType.I64: return mergeOp<i64>(op, src, map, n, dst);
    case DType.U8: case DType.U16: case DType.U32: case DType.U64: return mergeOp<u64>(op, src, map, n, dst);
    default: return -1;
  }
}
