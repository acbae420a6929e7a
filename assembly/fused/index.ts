// Fused pipelines (src/engine/fused.ts): the two steps of a morsel's dense group-by that no other
// family has — combining several small-domain key columns into one slot per row, and folding the
// filter's selection into that slot. Everything else a fused morsel does (compare, bitmap logic,
// arith, cast, aggregate, groupAccumulate) reuses the other families' kernels on morsel-sized
// ranges, so their loops stay the one implementation of each op.
//
// Slot of a row for keys k0..kK−1 (each with domain [min_k, min_k + card_k) plus a null code card_k):
//
//   slot = Σ_k stride_k · (valid_k ? key_k − min_k : card_k)      stride_0 = 1, stride_k+1 = stride_k · (card_k + 1)
//
// and a row the filter dropped gets the `dead` slot (one past the last real one): groupAccumulate
// then runs unmasked — the dead slot's record is simply never read — which is cheaper than a
// masked accumulate because the per-row loop has no bitmap test at all.

import { DType } from '../shared/codes';
import { at, bit } from '../util';

/**
 * One key's contribution, added to (or, when `first`, stored into) out[i].
 *
 * JUSTIFICATION for the unchecked key − min: the host took min and max of this very range of the
 * key column with keyRange and sized card from them, so 0 ≤ key − min < card for every valid row;
 * the debug build asserts it. Null rows use code card.
 */
// @ts-ignore: decorator
@inline function addKey<K>(keys: usize, validity: usize, n: i32, min: i64, card: i32, stride: i32, out: usize, first: bool): void {
  if (validity == 0) {
    // No nulls in this range: no bitmap test per row (the common case, and 2x faster).
    for (let i = 0; i < n; i++) {
      const k = isSigned<K>() ? <i64>load<K>(at<K>(keys, i)) : <i64><u64>load<K>(at<K>(keys, i));
      const code = <i32>(k - min);
      assert(<u32>code < <u32>card, 'fusedSlots: key outside [min, max]');
      const p = at<i32>(out, i);
      store<i32>(p, (first ? 0 : load<i32>(p)) + code * stride);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    let code = card;
    if (bit(validity, i)) {
      const k = isSigned<K>() ? <i64>load<K>(at<K>(keys, i)) : <i64><u64>load<K>(at<K>(keys, i));
      code = <i32>(k - min);
      assert(<u32>code < <u32>card, 'fusedSlots: key outside [min, max]');
    }
    const p = at<i32>(out, i);
    store<i32>(p, (first ? 0 : load<i32>(p)) + code * stride);
  }
}

// @ts-ignore: decorator
@inline function byFirst<K>(keys: usize, validity: usize, n: i32, min: i64, card: i32, stride: i32, out: usize, first: i32): void {
  if (first != 0) addKey<K>(keys, validity, n, min, card, stride, out, true);
  else addKey<K>(keys, validity, n, min, card, stride, out, false);
}

/**
 * fusedSlots(dtype, keys, validity, n, minAt, card, stride, out, first) → 0 (−1: not an integer
 * dtype). minAt: the key's minimum as 8 bytes (i64, or u64 bits) — no i64 crosses the JS boundary.
 */
export function fusedSlots(dtype: i32, keys: usize, validity: usize, n: i32, minAt: usize, card: i32, stride: i32, out: usize, first: i32): i32 {
  const min = load<i64>(minAt);
  switch (dtype) {
    case DType.I8: byFirst<i8>(keys, validity, n, min, card, stride, out, first); return 0;
    case DType.I16: byFirst<i16>(keys, validity, n, min, card, stride, out, first); return 0;
    case DType.I32: byFirst<i32>(keys, validity, n, min, card, stride, out, first); return 0;
    case DType.I64: byFirst<i64>(keys, validity, n, min, card, stride, out, first); return 0;
    case DType.U8: byFirst<u8>(keys, validity, n, min, card, stride, out, first); return 0;
    case DType.U16: byFirst<u16>(keys, validity, n, min, card, stride, out, first); return 0;
    case DType.U32: byFirst<u32>(keys, validity, n, min, card, stride, out, first); return 0;
    case DType.U64: byFirst<u64>(keys, validity, n, min, card, stride, out, first); return 0;
    default: return -1;
  }
}

/**
 * fusedMaskSlots(slots, sel, n, dead) → rows kept. slots[i] = dead wherever selection bit i is 0,
 * in place. 64 rows per selection word: an all-ones word (most rows, for Q1) is skipped outright,
 * an all-zero word is one SIMD fill.
 */
export function fusedMaskSlots(slots: usize, sel: usize, n: i32, dead: i32): i32 {
  let kept = 0;
  const d = i32x4.splat(dead);
  const blocks = n >>> 6;
  for (let b = 0; b < blocks; b++) {
    const w = load<u64>(sel + (<usize>b << 3));
    const base = at<i32>(slots, b << 6);
    kept += <i32>popcnt(w);
    if (w == <u64>-1) continue;
    if (w == 0) {
      for (let j: usize = 0; j < 256; j += 16) v128.store(base + j, d);
      continue;
    }
    let rest = ~w;
    while (rest != 0) {
      store<i32>(base + (<usize>ctz(rest) << 2), dead);
      rest &= rest - 1;
    }
  }
  for (let i = blocks << 6; i < n; i++) {
    if (bit(sel, i)) kept++;
    else store<i32>(at<i32>(slots, i), dead);
  }
  return kept;
}

/**
 * fusedGroupSums(slots, n, nslots, cols, ncols, acc): per-slot sums of ncols f64 columns with no
 * nulls, plus the row count per slot — the keyed SUM/MEAN of a fused group-by in one pass instead of
 * one groupAccumulate per column (which re-reads the slots and pays a loop per column).
 *
 * cols: ncols u32 column addresses. acc: 4 × nslots × (ncols + 1) f64, written here (zeroed first);
 * on return part 0 holds the result: acc[s·(ncols+1) + c] = Σ col_c over rows of slot s, and
 * acc[s·(ncols+1) + ncols] = rows of slot s (exact: n < 2^31).
 *
 * Why 4 parts: row i goes to part i & 3, so a run of rows in the same slot (the common case with
 * Q1's 4 groups) does not wait on the previous row's store (store-to-load forwarding, ~5 cycles);
 * with tiny nslots all 4 parts stay in L1.
 *
 * JUSTIFICATION for the unchecked slot addressing: slots come from fusedSlots/fusedMaskSlots of
 * this morsel, all < nslots (the dead slot included in nslots); the debug build asserts it.
 */
export function fusedGroupSums(slots: usize, n: i32, nslots: i32, cols: usize, ncols: i32, acc: usize): void {
  const w = <usize>(ncols + 1) << 3;
  const part = <usize>nslots * w;
  memory.fill(acc, 0, part * 4);
  const cend = cols + (<usize>ncols << 2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    for (let r = 0; r < 4; r++) {
      const s = load<i32>(at<i32>(slots, i + r));
      assert(<u32>s < <u32>nslots, 'fusedGroupSums: slot out of range');
      const rec = acc + <usize>r * part + <usize>s * w;
      let p = rec;
      const off = <usize>(i + r) << 3;
      for (let c = cols; c < cend; c += 4) {
        store<f64>(p, load<f64>(p) + load<f64>(<usize>load<u32>(c) + off));
        p += 8;
      }
      store<f64>(p, load<f64>(p) + 1.0);
    }
  }
  for (; i < n; i++) {
    const s = load<i32>(at<i32>(slots, i));
    assert(<u32>s < <u32>nslots, 'fusedGroupSums: slot out of range');
    let p = acc + <usize>s * w;
    const off = <usize>i << 3;
    for (let c = cols; c < cend; c += 4) {
      store<f64>(p, load<f64>(p) + load<f64>(<usize>load<u32>(c) + off));
      p += 8;
    }
    store<f64>(p, load<f64>(p) + 1.0);
  }
  for (let r: usize = 1; r < 4; r++) {
    const src = acc + r * part;
    for (let o: usize = 0; o < part; o += 8) store<f64>(acc + o, load<f64>(acc + o) + load<f64>(src + o));
  }
}
