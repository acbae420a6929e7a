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
