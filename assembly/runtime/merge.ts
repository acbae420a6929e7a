// The merge half of the parallel sort (src/runtime/plan-sort.ts). Workers radix-sort runs of rows
// (assembly/sort radixPass, one run per morsel), then write each run's *sort keys* beside its row
// numbers (`sortKeys`); rounds of pairwise merges then turn the runs into one permutation. A merge
// reads and writes (key, row) pairs sequentially: merging row numbers alone would gather every
// compared key from the column at a random row — measured 5× slower than the single-thread sort
// at 10M rows, all of it cache misses.
//
// A merge of two runs is split over workers by merge path (Odeh et al. 2012; Green et al., "GPU
// merge path"): output position d of merge(A, B) takes the first corank(d) pairs of A and the
// first d − corank(d) of B, found by a binary search, so any output range [d0, d1) is an
// independent piece of work with no shared writes.
//
// Sort keys: unsigned and order-preserving, in K = u32 for values of ≤ 4 bytes, u64 for 8 — the
// transform of assembly/sort/radix.ts, `toKey` (signed: sign bit flipped in the value's own width;
// floats: −0 → +0, every NaN → one NaN above +Inf, then the sign trick), and DESCENDING inverts
// every bit of K. Nulls have no key: the host keeps them out of the merges (each run holds its
// nulls together at one end; a merge moves them as a block).
//
// Stability: run A always holds lower row numbers than run B (runs are adjacent row ranges, and
// each merge joins neighbours), so a tie takes A first — in every direction, like the radix pass.

import { DType, SortFlag } from '../shared/codes';
import { at } from '../util';
import { toKey } from '../sort/radix';

// @ts-ignore: decorator
@inline function keysDrive<T, K>(values: usize, perm: usize, n: i32, flags: i32, out: usize): void {
  const flip: K = (flags & SortFlag.DESCENDING) != 0 ? <K>-1 : 0;
  for (let i = 0; i < n; i++) {
    const row = load<i32>(at<i32>(perm, i));
    store<K>(at<K>(out, i), toKey<T, K>(load<T>(at<T>(values, row))) ^ flip);
  }
}

/**
 * sortKeys(dtype, values, perm, n, flags, out) → key bytes (4 or 8; −1: dtype not sortable here).
 * out[i] = the sort key of row perm[i], for n rows that must all be valid.
 */
export function sortKeys(dtype: i32, values: usize, perm: usize, n: i32, flags: i32, out: usize): i32 {
  switch (dtype) {
    case DType.I8: keysDrive<i8, u32>(values, perm, n, flags, out); return 4;
    case DType.I16: keysDrive<i16, u32>(values, perm, n, flags, out); return 4;
    case DType.I32: keysDrive<i32, u32>(values, perm, n, flags, out); return 4;
    case DType.I64: keysDrive<i64, u64>(values, perm, n, flags, out); return 8;
    case DType.U8: keysDrive<u8, u32>(values, perm, n, flags, out); return 4;
    case DType.U16: keysDrive<u16, u32>(values, perm, n, flags, out); return 4;
    case DType.U32: keysDrive<u32, u32>(values, perm, n, flags, out); return 4;
    case DType.U64: keysDrive<u64, u64>(values, perm, n, flags, out); return 8;
    case DType.F32: keysDrive<f32, u32>(values, perm, n, flags, out); return 4;
    case DType.F64: keysDrive<f64, u64>(values, perm, n, flags, out); return 8;
    default: return -1;
  }
}

/** Pairs of A among the first d outputs of merge(A, B): the smallest i with keyA[i] > keyB[d − i − 1]. */
// @ts-ignore: decorator
@inline function corank<K>(ka: usize, na: i32, kb: usize, nb: i32, d: i32): i32 {
  let lo = d > nb ? d - nb : 0;
  let hi = d < na ? d : na;
  while (lo < hi) {
    const i = (lo + hi) >>> 1;
    // lo ≤ i < hi ≤ min(d, na): A[i] exists, and j = d − i ∈ [1, nb], so B[j − 1] exists.
    if (load<K>(at<K>(ka, i)) <= load<K>(at<K>(kb, d - i - 1))) lo = i + 1;
    else hi = i;
  }
  return lo;
}

// @ts-ignore: decorator
@inline function mergeDrive<K>(keys: usize, rows: usize, a: i32, na: i32, b: i32, nb: i32, out: i32, d0: i32, d1: i32, keysOut: usize, rowsOut: usize): void {
  const ka = at<K>(keys, a), kb = at<K>(keys, b);
  const ra = at<i32>(rows, a), rb = at<i32>(rows, b);
  let i = corank<K>(ka, na, kb, nb, d0);
  let j = d0 - i;
  const i1 = corank<K>(ka, na, kb, nb, d1);
  const j1 = d1 - i1;
  let o = out + d0;
  while (i < i1 && j < j1) {
    const x = load<K>(at<K>(ka, i));
    const y = load<K>(at<K>(kb, j));
    // Ties take A (lower rows): stability.
    if (x <= y) {
      store<K>(at<K>(keysOut, o), x);
      store<i32>(at<i32>(rowsOut, o), load<i32>(at<i32>(ra, i)));
      i++;
    } else {
      store<K>(at<K>(keysOut, o), y);
      store<i32>(at<i32>(rowsOut, o), load<i32>(at<i32>(rb, j)));
      j++;
    }
    o++;
  }
  // One side ran out: the rest of the other is already in order.
  if (i < i1) {
    memory.copy(at<K>(keysOut, o), at<K>(ka, i), <usize>(i1 - i) * sizeof<K>());
    memory.copy(at<i32>(rowsOut, o), at<i32>(ra, i), <usize>(i1 - i) << 2);
  } else if (j < j1) {
    memory.copy(at<K>(keysOut, o), at<K>(kb, j), <usize>(j1 - j) * sizeof<K>());
    memory.copy(at<i32>(rowsOut, o), at<i32>(rb, j), <usize>(j1 - j) << 2);
  }
}

/**
 * mergeRuns(keyBytes, keys, rows, a, na, b, nb, out, d0, d1, keysOut, rowsOut) → 0 (−1: keyBytes
 * not 4 or 8). (keys, rows)[a, a + na) and [b, b + nb) are sorted runs (A's rows below B's);
 * outputs [d0, d1) of their stable merge go to (keysOut, rowsOut)[out + d0, out + d1).
 * 0 ≤ d0 ≤ d1 ≤ na + nb. Pieces with disjoint [d0, d1) write disjoint parts of the outputs.
 */
export function mergeRuns(keyBytes: i32, keys: usize, rows: usize, a: i32, na: i32, b: i32, nb: i32, out: i32, d0: i32, d1: i32, keysOut: usize, rowsOut: usize): i32 {
  assert(0 <= d0 && d0 <= d1 && d1 <= na + nb, 'mergeRuns: bad range');
  if (keyBytes == 4) mergeDrive<u32>(keys, rows, a, na, b, nb, out, d0, d1, keysOut, rowsOut);
  else if (keyBytes == 8) mergeDrive<u64>(keys, rows, a, na, b, nb, out, d0, d1, keysOut, rowsOut);
  else return -1;
  return 0;
}
