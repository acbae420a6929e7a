// The validity of an element-wise result: the AND of its inputs' validity bitmaps.

import { word, tailWord } from '../util';

/**
 * validityAnd(a, b, out, n) → number of set bits written (the result's valid count).
 *
 * out[0 .. ceil(n/8)) = a AND b over bits [0, n), with the unused high bits of the last byte cleared
 * (Arrow asks for that, and it makes the bitmap comparable byte by byte). `a` or `b` may be 0 —
 * "no bitmap, all valid" — so b = 0 copies a, and a = b = 0 writes all ones (used before a kernel
 * that then clears bits: integer division by zero, out-of-range casts).
 *
 * Writes exactly ceil(n/8) bytes: whole 64-bit words for whole 64-element blocks, then the tail byte
 * by byte, so a bitmap the caller placed in the middle of a bigger buffer is not overrun (the arena
 * rounds allocations up to 64 bytes, but a user-provided `into` column need not be). `out` may equal
 * `a` or `b`: each word is read before it is written.
 *
 * Cost: n/64 word operations — noise next to the element loops, so no SIMD here.
 */
export function validityAnd(a: usize, b: usize, out: usize, n: i32): i32 {
  const words = n >>> 6;
  let count: i32 = 0;
  for (let w = 0; w < words; w++) {
    const v = word(a, w) & word(b, w);
    store<u64>(out + (<usize>w << 3), v);
    count += <i32>popcnt(v);
  }
  const rem = n & 63;
  if (rem != 0) {
    const v = tailWord(a, n) & tailWord(b, n); // both masked to the rem live bits
    count += <i32>popcnt(v);
    const base = out + (<usize>words << 3);
    const bytes = (rem + 7) >>> 3;
    for (let k = 0; k < bytes; k++) store<u8>(base + <usize>k, <u8>(v >>> (<u64>k << 3)));
  }
  return count;
}

/**
 * Clears bit i of a bitmap; returns 1 if it was set (a valid row became null), else 0. For the rare
 * per-row nulls an op introduces (x / 0, out-of-range casts): a byte read-modify-write.
 */
// @ts-ignore: decorator
@inline export function clearBit(bitmap: usize, i: i32): i32 {
  const p = bitmap + (<usize>i >>> 3);
  const m = <u8>(1 << <u8>(i & 7));
  const b = load<u8>(p);
  store<u8>(p, b & ~m);
  return (b & m) != 0 ? 1 : 0;
}
