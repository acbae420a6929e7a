// Parallel LSD radix sort (src/runtime/plan-sort.ts): the single-thread sort's passes
// (assembly/sort/radix.ts) with every pass split over morsels — per-morsel digit histograms, one
// prefix sum over (digit, morsel) on the host, and per-morsel scatters to disjoint places. Each
// morsel scatters its records in order to its own slice of every bucket, so every pass is stable,
// and so is the sort. Same records as the single-thread sort: (key, row) with the key in the high
// half of a u64 for ≤ 4-byte values (8 bytes), or key u64 + row u32 + pad (16 bytes).
//
// Keys are assembly/sort's `toKey` (the single-thread sort's order), inverted for DESCENDING. Nulls
// get no record: `sortBuild` writes their rows straight to their block of the result.

import { DType, SortFlag } from '../shared/codes';
import { at, bit } from '../util';
import { toKey } from '../sort/radix';

// @ts-ignore: decorator
@inline function putRec<K>(recs: usize, i: i32, key: K, row: i32): void {
  if (sizeof<K>() == 4) store<u64>(recs + (<usize>i << 3), (<u64>key << 32) | <u64><u32>row);
  else {
    const p = recs + (<usize>i << 4);
    store<u64>(p, <u64>key);
    store<i32>(p, row, 8);
  }
}

/** Digit width of the parallel passes (as the single-thread sort's for large inputs). */
const BITS: i32 = 11;

// @ts-ignore: decorator
@inline function buildDrive<T, K>(values: usize, validity: usize, s: i32, e: i32, flags: i32, recs: usize, validAt: i32, perm: usize, nullAt: i32, hist: usize): void {
  const flip: K = (flags & SortFlag.DESCENDING) != 0 ? <K>-1 : 0;
  const passes = (<i32>(sizeof<K>() << 3) + BITS - 1) / BITS;
  const mask: K = (<K>1 << <K>BITS) - 1;
  memory.fill(hist, 0, <usize>(passes << BITS) << 2);
  let v = validAt;
  let z = nullAt;
  for (let row = s; row < e; row++) {
    if (bit(validity, row)) {
      const k = toKey<T, K>(load<T>(at<T>(values, row))) ^ flip;
      putRec<K>(recs, v++, k, row);
      // Every digit's count (this morsel's share of the key's global histograms): the host learns
      // up front which passes have one bucket for all keys (skipped) and which is the last.
      for (let p = 0; p < passes; p++) {
        const slot = hist + ((<usize>(p << BITS) + <usize>((k >> <K>(p * BITS)) & mask)) << 2);
        store<u32>(slot, load<u32>(slot) + 1);
      }
    } else store<i32>(at<i32>(perm, z++), row);
  }
}

/**
 * sortBuild(dtype, values, validity, s, e, flags, recs, validAt, perm, nullAt, hist) → record bytes
 * (8 or 16; −1: dtype not sortable here). Rows [s, e): valid ones become records recs[validAt, …)
 * in row order, null ones go to perm[nullAt, …) in row order; hist (passes × 2^11 u32, passes = 3
 * for 8-byte records, 6 for 16) gets the digit counts of this morsel's keys for every pass.
 */
export function sortBuild(dtype: i32, values: usize, validity: usize, s: i32, e: i32, flags: i32, recs: usize, validAt: i32, perm: usize, nullAt: i32, hist: usize): i32 {
  switch (dtype) {
    case DType.I8: buildDrive<i8, u32>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 8;
    case DType.I16: buildDrive<i16, u32>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 8;
    case DType.I32: buildDrive<i32, u32>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 8;
    case DType.I64: buildDrive<i64, u64>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 16;
    case DType.U8: buildDrive<u8, u32>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 8;
    case DType.U16: buildDrive<u16, u32>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 8;
    case DType.U32: buildDrive<u32, u32>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 8;
    case DType.U64: buildDrive<u64, u64>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 16;
    case DType.F32: buildDrive<f32, u32>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 8;
    case DType.F64: buildDrive<f64, u64>(values, validity, s, e, flags, recs, validAt, perm, nullAt, hist); return 16;
    default: return -1;
  }
}

/** Digit of record i: bits [shift, shift + bits) of its key. */
// @ts-ignore: decorator
@inline function digitAt(recBytes: i32, recs: usize, i: i32, shift: i32, mask: u32): u32 {
  // 8-byte records hold the key in the high 32 bits.
  return recBytes == 8
    ? <u32>(load<u64>(recs + (<usize>i << 3)) >>> <u64>(shift + 32)) & mask
    : <u32>(load<u64>(recs + (<usize>i << 4)) >>> <u64>shift) & mask;
}

/** radixHist(recBytes, recs, s, e, shift, bits, hist): hist[0 .. 2^bits) = digit counts of records [s, e). */
export function radixHist(recBytes: i32, recs: usize, s: i32, e: i32, shift: i32, bits: i32, hist: usize): void {
  const mask: u32 = (<u32>1 << <u32>bits) - 1;
  memory.fill(hist, 0, <usize>(1 << bits) << 2);
  if (recBytes == 8) for (let i = s; i < e; i++) { const d = digitAt(8, recs, i, shift, mask); store<u32>(hist + (<usize>d << 2), load<u32>(hist + (<usize>d << 2)) + 1); }
  else for (let i = s; i < e; i++) { const d = digitAt(16, recs, i, shift, mask); store<u32>(hist + (<usize>d << 2), load<u32>(hist + (<usize>d << 2)) + 1); }
}

// @ts-ignore: decorator
@inline function scatterDrive(recBytes: i32, rowsOnly: bool, src: usize, s: i32, e: i32, shift: i32, mask: u32, offsets: usize, dst: usize): void {
  for (let i = s; i < e; i++) {
    const d = digitAt(recBytes, src, i, shift, mask);
    const slot = offsets + (<usize>d << 2);
    const pos = load<u32>(slot);
    store<u32>(slot, pos + 1);
    if (rowsOnly) {
      const row = recBytes == 8 ? <i32>load<u32>(src + (<usize>i << 3)) : load<i32>(src + (<usize>i << 4), 8);
      store<i32>(dst + (<usize>pos << 2), row);
    } else if (recBytes == 8) {
      store<u64>(dst + (<usize>pos << 3), load<u64>(src + (<usize>i << 3)));
    } else {
      // 16-byte record: one v128 move.
      v128.store(dst + (<usize>pos << 4), v128.load(src + (<usize>i << 4)));
    }
  }
}

/**
 * radixScatter(recBytes, src, s, e, shift, bits, offsets, dst, rowsOnly): records [s, e) of src go,
 * in order, to dst at offsets[digit]++ — whole records, or (rowsOnly, the last pass) just their
 * row numbers as i32. offsets are this morsel's starts per digit (the host's prefix sums).
 */
export function radixScatter(recBytes: i32, src: usize, s: i32, e: i32, shift: i32, bits: i32, offsets: usize, dst: usize, rowsOnly: i32): void {
  const mask: u32 = (<u32>1 << <u32>bits) - 1;
  if (recBytes == 8) {
    if (rowsOnly != 0) scatterDrive(8, true, src, s, e, shift, mask, offsets, dst);
    else scatterDrive(8, false, src, s, e, shift, mask, offsets, dst);
  } else {
    if (rowsOnly != 0) scatterDrive(16, true, src, s, e, shift, mask, offsets, dst);
    else scatterDrive(16, false, src, s, e, shift, mask, offsets, dst);
  }
}
