// The dense path of group-by: a single integer key whose values span a small domain [min, max] is
// its own perfect hash. Slot = key − min (nulls: one extra slot at the end), no hashing, no probing,
// no key comparison. The host first asks `keyRange` for the domain (one SIMD pass), then decides.
//
// Slot space: nslots = (max − min + 1) + 1; slot nslots − 1 is the null key's.
// The 8-byte `min` is passed by address (ctx.scratch) so that no i64 crosses the JS boundary.

import { DType } from '../shared/codes';
import { at, bit, lanes, word, tailWord, extreme } from '../util';

// @ts-ignore: decorator
@inline function widen<K>(x: K): u64 {
  return isSigned<K>() ? <u64><i64>x : <u64>x;
}

/** Lane 0 after folding all lanes with min (max = false) or max. */
// @ts-ignore: decorator
@inline function hfold<K>(max: bool, v: v128): K {
  v = max ? v128.max<K>(v, v128.shuffle<u8>(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7))
    : v128.min<K>(v, v128.shuffle<u8>(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  if (sizeof<K>() <= 4) {
    const s = v128.shuffle<u8>(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15);
    v = max ? v128.max<K>(v, s) : v128.min<K>(v, s);
  }
  if (sizeof<K>() <= 2) {
    const s = v128.shuffle<u8>(v, v, 2, 3, 0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    v = max ? v128.max<K>(v, s) : v128.min<K>(v, s);
  }
  if (sizeof<K>() == 1) {
    const s = v128.shuffle<u8>(v, v, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    v = max ? v128.max<K>(v, s) : v128.min<K>(v, s);
  }
  return v128.extract_lane<K>(v, 0);
}

/**
 * Min and max of the valid keys in one pass: whole valid 64-row blocks run SIMD min/max (two
 * accumulator pairs, folded once at the end), mixed blocks go element by element. 64-bit keys have
 * no SIMD min/max in wasm: they run the scalar loop for every block.
 */
// @ts-ignore: decorator
@inline function rangeOf<K>(keys: usize, validity: usize, n: i32, out: usize): i32 {
  let lo = extreme<K>(false);
  let hi = extreme<K>(true);
  let vlo0 = v128.splat<K>(lo), vlo1 = vlo0;
  let vhi0 = v128.splat<K>(hi), vhi1 = vhi0;
  let count = 0;
  const blocks = n >>> 6;
  for (let b = 0; b <= blocks; b++) {
    const bits = b < blocks ? word(validity, b) : tailWord(validity, n);
    const base = b << 6;
    // (A compile-time condition alone, so asc never compiles the SIMD body for 64-bit keys.)
    if (sizeof<K>() < 8) {
      if (bits == <u64>-1) {
        const L = lanes<K>();
        for (let i = 0; i < 64; i += 2 * L) {
          const x0 = v128.load(at<K>(keys, base + i));
          const x1 = v128.load(at<K>(keys, base + i + L));
          vlo0 = v128.min<K>(vlo0, x0);
          vhi0 = v128.max<K>(vhi0, x0);
          vlo1 = v128.min<K>(vlo1, x1);
          vhi1 = v128.max<K>(vhi1, x1);
        }
        count += 64;
        continue;
      }
    }
    let rest = bits;
    while (rest != 0) {
      const x = load<K>(at<K>(keys, base + <i32>ctz(rest)));
      rest &= rest - 1;
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
      count++;
    }
  }
  if (sizeof<K>() < 8) {
    const a = hfold<K>(false, v128.min<K>(vlo0, vlo1));
    const z = hfold<K>(true, v128.max<K>(vhi0, vhi1));
    lo = a < lo ? a : lo;
    hi = z > hi ? z : hi;
  }
  store<u64>(out, widen<K>(lo));
  store<u64>(out, widen<K>(hi), 8);
  return count;
}

/** Slot of row i (valid key): key − min, as i32. The host checked max − min < 2^31. */
// @ts-ignore: decorator
@inline function slotOf<K>(keys: usize, i: i32, min: u64): i32 {
  return <i32>(widen<K>(load<K>(at<K>(keys, i))) - min);
}

// @ts-ignore: decorator
@inline function slotsOf<K>(keys: usize, validity: usize, n: i32, minAt: usize, nslots: i32, out: usize): void {
  const min = load<u64>(minAt);
  const nullSlot = nslots - 1;
  for (let i = 0; i < n; i++) {
    const s = bit(validity, i) ? slotOf<K>(keys, i, min) : nullSlot;
    assert(<u32>s < <u32>nslots, 'denseSlots: key outside [min, max]');
    store<i32>(at<i32>(out, i), s);
  }
}

// @ts-ignore: decorator
@inline function idsOf<K>(keys: usize, validity: usize, n: i32, minAt: usize, nslots: i32, slotMap: usize, ids: usize, firstRow: usize): i32 {
  const min = load<u64>(minAt);
  const nullSlot = nslots - 1;
  for (let s = 0; s < nslots; s++) store<i32>(at<i32>(slotMap, s), -1);
  let groups = 0;
  for (let i = 0; i < n; i++) {
    const s = bit(validity, i) ? slotOf<K>(keys, i, min) : nullSlot;
    assert(<u32>s < <u32>nslots, 'denseGroupIds: key outside [min, max]');
    const p = at<i32>(slotMap, s);
    let g = load<i32>(p);
    if (g < 0) {
      g = groups++;
      store<i32>(p, g);
      store<i32>(at<i32>(firstRow, g), i);
    }
    store<i32>(at<i32>(ids, i), g);
  }
  return groups;
}

// @ts-ignore: decorator
@inline function keysOf<K>(map: usize, groups: i32, minAt: usize, nslots: i32, out: usize, outValidity: usize): i32 {
  const min = load<u64>(minAt);
  let nulls = 0;
  for (let g = 0; g < groups; g++) {
    const s = load<i32>(at<i32>(map, g));
    if (s == nslots - 1) {
      nulls++;
      store<K>(at<K>(out, g), 0);
    } else {
      store<K>(at<K>(out, g), <K>(min + <u64>s));
      const vb = outValidity + (<usize>g >>> 3);
      store<u8>(vb, <u8>(<i32>load<u8>(vb) | (1 << (g & 7))));
    }
  }
  return nulls;
}

// One dispatch per entry point; `op` selects which generic body the switch instantiates.
const RANGE = 0, SLOTS = 1, IDS = 2, KEYS = 3;

// Not @inline: one function per key type keeps each loop small for V8's optimizing compiler.
function run<K>(op: i32, keys: usize, validity: usize, n: i32, a: usize, nslots: i32, b: usize, c: usize, d: usize): i32 {
  if (op == RANGE) return rangeOf<K>(keys, validity, n, a);
  if (op == SLOTS) { slotsOf<K>(keys, validity, n, a, nslots, b); return 0; }
  if (op == IDS) return idsOf<K>(keys, validity, n, a, nslots, b, c, d);
  return keysOf<K>(keys, n, a, nslots, b, c);
}

function dispatch(op: i32, dtype: i32, keys: usize, validity: usize, n: i32, a: usize, nslots: i32, b: usize, c: usize, d: usize): i32 {
  switch (dtype) {
    case DType.I8: return run<i8>(op, keys, validity, n, a, nslots, b, c, d);
    case DType.I16: return run<i16>(op, keys, validity, n, a, nslots, b, c, d);
    case DType.I32: return run<i32>(op, keys, validity, n, a, nslots, b, c, d);
    case DType.I64: return run<i64>(op, keys, validity, n, a, nslots, b, c, d);
    case DType.U8: return run<u8>(op, keys, validity, n, a, nslots, b, c, d);
    case DType.U16: return run<u16>(op, keys, validity, n, a, nslots, b, c, d);
    case DType.U32: return run<u32>(op, keys, validity, n, a, nslots, b, c, d);
    case DType.U64: return run<u64>(op, keys, validity, n, a, nslots, b, c, d);
    default: return -1;
  }
}

/**
 * keyRange(dtype, keys, validity, n, out) → number of valid keys (−1: not an integer type).
 * Writes min and max of the valid keys, widened to 8 bytes (i64, or u64 bits for unsigned), at out
 * and out + 8. With no valid key, out is unspecified.
 */
export function keyRange(dtype: i32, keys: usize, validity: usize, n: i32, out: usize): i32 {
  return dispatch(RANGE, dtype, keys, validity, n, out, 0, 0, 0, 0);
}

/**
 * denseSlots(dtype, keys, validity, n, minAt, nslots, out) → 0 (−1: bad dtype). Writes each row's
 * slot (i32) to out: the input of `groupAccumulate` for keys that are not i32.
 */
export function denseSlots(dtype: i32, keys: usize, validity: usize, n: i32, minAt: usize, nslots: i32, out: usize): i32 {
  return dispatch(SLOTS, dtype, keys, validity, n, minAt, nslots, out, 0, 0);
}

/**
 * denseGroupIds(dtype, keys, validity, n, minAt, nslots, slotMap, ids, firstRow) → groups.
 * The dense path of `groupIds`: ids in order of first appearance, like the hash path. slotMap is
 * nslots × i32 of scratch; firstRow needs room for min(n, nslots) entries.
 */
export function denseGroupIds(dtype: i32, keys: usize, validity: usize, n: i32, minAt: usize, nslots: i32, slotMap: usize, ids: usize, firstRow: usize): i32 {
  return dispatch(IDS, dtype, keys, validity, n, minAt, nslots, slotMap, ids, firstRow);
}

/**
 * denseKeys(dtype, map, groups, minAt, nslots, out, outValidity) → null count. The key column of a
 * dense group-by: out[g] = min + map[g], null for the null slot. outValidity must be zeroed.
 */
export function denseKeys(dtype: i32, map: usize, groups: i32, minAt: usize, nslots: i32, out: usize, outValidity: usize): i32 {
  return dispatch(KEYS, dtype, map, 0, groups, minAt, nslots, out, outValidity, 0);
}
