// Hashing: one u64 per row over one key column, or several combined (hash = combine(hash, next)).
//
// Keys that compare equal hash equal: floats are normalized first (-0 → +0, every NaN → one NaN),
// nulls hash to NULL_HASH whatever bytes sit under them, and strings hash their bytes only (never
// the bytes past their end). The functions are ours: a multiply–xorshift finalizer for fixed-width
// values, and for strings a two-lane multiply–rotate loop over 16-byte blocks with overlapping
// loads for the tail (the shape wyhash and xxHash use; constants are our own random odd numbers).
//
// Not cryptographic, not seeded per process: group-by compares the actual keys on every tag match,
// so a collision costs a probe, never a wrong answer.
//
// Scalar on purpose: wasm SIMD has no 64-bit lane multiply that x86 runs natively (V8 emulates
// i64x2.mul with three 32-bit multiplies and shuffles), so a 2-lane vector hash is no faster than
// the scalar loop, whose multiplies pipeline at one per cycle.

import { DType, KeyKind } from '../shared/codes';
import { at, bit } from '../util';

// Random odd constants, each with about half its bits set (what a multiplicative mixer wants).
const C1: u64 = 0xabc3fbf4d5d86009;
const C2: u64 = 0xf32c0e98e783060d;
const C3: u64 = 0x855fbf03c7a8b1fd;
const C4: u64 = 0x9284dcc6d45b5519;
const C5: u64 = 0x8f1165b7ced3a325;
/** The hash of a null key (any fixed value works; this one is just not the hash of a small int). */
export const NULL_HASH: u64 = 0xa11755c1d883739f;

/** Bijective 64-bit finalizer: every input bit affects every output bit (two multiply–xorshift rounds). */
// @ts-ignore: decorator
@inline function mix64(x: u64): u64 {
  x ^= x >>> 32;
  x *= C1;
  x ^= x >>> 29;
  x *= C2;
  x ^= x >>> 32;
  return x;
}

/**
 * Combines the hash so far with the next column's hash. Not symmetric (the running hash is
 * multiplied first), so (a, b) and (b, a) hash differently.
 */
// @ts-ignore: decorator
@inline function combine(acc: u64, h: u64): u64 {
  return mix64(acc * C3 ^ h);
}

/** The 64 bits a fixed-width value hashes by: ints sign/zero-extend, floats are normalized first. */
// @ts-ignore: decorator
@inline function keyBits<T>(x: T): u64 {
  if (isFloat<T>()) {
    // x == 0 is true for -0 too; x != x only for NaN. Both map to one representative.
    if (sizeof<T>() == 8) {
      const f = <f64>x;
      return f == 0 ? 0 : f != f ? 0x7ff8000000000000 : reinterpret<u64>(f);
    }
    const f = <f32>x;
    return f == 0 ? 0 : f != f ? 0x7fc00000 : <u64>reinterpret<u32>(f);
  }
  if (isSigned<T>()) return <u64><i64>x;
  return <u64>x;
}

/** Hash of one fixed-width key value. */
// @ts-ignore: decorator
@inline function hashValue<T>(x: T): u64 {
  return mix64(keyBits<T>(x) ^ C4);
}

// @ts-ignore: decorator
@inline function rotl64(x: u64, k: u64): u64 {
  return rotl<u64>(x, k);
}

/** One 8-byte step of a lane of the string hash. */
// @ts-ignore: decorator
@inline function round(acc: u64, w: u64): u64 {
  return rotl64(acc ^ (w * C2), 31) * C1;
}

/** Folds the last (up to) 16 bytes, as the words a and b, into h. */
// @ts-ignore: decorator
@inline function finish(h: u64, a: u64, b: u64): u64 {
  return mix64(mix64(h ^ a) ^ (b * C5));
}

/**
 * Hash of `len` bytes at p. Every load lies inside [p, p + len): short strings read overlapping
 * words from both ends, long ones end with the last 16 bytes (overlapping the loop's last block).
 * Which bytes are read is a function of len alone, and len is mixed into the seed, so equal
 * strings hash equal and every byte of the string affects the result.
 */
export function hashBytes(p: usize, len: u32): u64 {
  const h: u64 = C4 ^ (<u64>len * C3);
  if (len <= 16) {
    let a: u64 = 0;
    let b: u64 = 0;
    if (len >= 8) {
      a = load<u64>(p);
      b = load<u64>(p + len - 8);
    } else if (len >= 4) {
      a = <u64>load<u32>(p);
      b = <u64>load<u32>(p + len - 4);
    } else if (len > 0) {
      // 1..3 bytes: first, middle and last cover them all.
      a = (<u64>load<u8>(p) << 16) | (<u64>load<u8>(p + (len >>> 1)) << 8) | <u64>load<u8>(p + len - 1);
    }
    return finish(h, a, b);
  }
  // Two independent lanes, so the two multiply chains overlap in the pipeline.
  let v1 = h;
  let v2 = h ^ C5;
  const last = p + len - 16;
  let q = p;
  while (q < last) {
    v1 = round(v1, load<u64>(q));
    v2 = round(v2, load<u64>(q, 8));
    q += 16;
  }
  return finish(v1 ^ rotl64(v2, 27), load<u64>(last), load<u64>(last, 8));
}

/** Stores h for row j of the output, or combines it into what is there. */
// @ts-ignore: decorator
@inline function put(out: usize, j: i32, h: u64, combineWith: bool): void {
  const o = out + (<usize>j << 3);
  store<u64>(o, combineWith ? combine(load<u64>(o), h) : h);
}

// @ts-ignore: decorator
@inline function hashFixedRange<T>(values: usize, validity: usize, start: i32, m: i32, out: usize, comb: bool): void {
  if (validity == 0) {
    // No nulls: the tight loop (no bitmap reads).
    for (let j = 0; j < m; j++) put(out, j, hashValue<T>(load<T>(at<T>(values, start + j))), comb);
  } else {
    for (let j = 0; j < m; j++) {
      const i = start + j;
      put(out, j, bit(validity, i) ? hashValue<T>(load<T>(at<T>(values, i))) : NULL_HASH, comb);
    }
  }
}

// @ts-ignore: decorator
@inline function hashUtf8Range(offsets: usize, bytes: usize, validity: usize, start: i32, m: i32, out: usize, comb: bool): void {
  for (let j = 0; j < m; j++) {
    const i = start + j;
    let h = NULL_HASH;
    if (bit(validity, i)) {
      const s = load<i32>(at<i32>(offsets, i));
      const e = load<i32>(at<i32>(offsets, i + 1));
      h = hashBytes(bytes + <usize>s, <u32>(e - s));
    }
    put(out, j, h, comb);
  }
}

// @ts-ignore: decorator
@inline function hashBoolRange(bits: usize, validity: usize, start: i32, m: i32, out: usize, comb: bool): void {
  for (let j = 0; j < m; j++) {
    const i = start + j;
    put(out, j, bit(validity, i) ? hashValue<u8>(bit(bits, i) ? 1 : 0) : NULL_HASH, comb);
  }
}

function fixedRange<T>(values: usize, validity: usize, start: i32, m: i32, out: usize, comb: bool): void {
  // Two instantiations, so the combine branch is folded out of the loop.
  if (comb) hashFixedRange<T>(values, validity, start, m, out, true);
  else hashFixedRange<T>(values, validity, start, m, out, false);
}

/**
 * Hashes rows [start, start + m) of one key column into out[0 .. m) (u64 each); with `comb`, combines
 * into the hashes already there. `kind` is a DType (BOOL: values = the bit-packed bitmap) or
 * KeyKind.UTF8 (values = the bytes).
 * Returns false for an unknown kind. The type dispatch of this family, used by group-by as well.
 */
export function hashRange(kind: i32, values: usize, validity: usize, offsets: usize, start: i32, m: i32, out: usize, comb: bool): bool {
  switch (kind) {
    case DType.I8: fixedRange<i8>(values, validity, start, m, out, comb); break;
    case DType.I16: fixedRange<i16>(values, validity, start, m, out, comb); break;
    case DType.I32: fixedRange<i32>(values, validity, start, m, out, comb); break;
    case DType.I64: fixedRange<i64>(values, validity, start, m, out, comb); break;
    case DType.U8: fixedRange<u8>(values, validity, start, m, out, comb); break;
    case DType.U16: fixedRange<u16>(values, validity, start, m, out, comb); break;
    case DType.U32: fixedRange<u32>(values, validity, start, m, out, comb); break;
    case DType.U64: fixedRange<u64>(values, validity, start, m, out, comb); break;
    case DType.F32: fixedRange<f32>(values, validity, start, m, out, comb); break;
    case DType.F64: fixedRange<f64>(values, validity, start, m, out, comb); break;
    case DType.BOOL:
      // Bit-packed: hashed as the u8 0 / 1 (so a bool key and a u8 key of 0/1 hash alike — harmless).
      if (comb) hashBoolRange(values, validity, start, m, out, true);
      else hashBoolRange(values, validity, start, m, out, false);
      break;
    case KeyKind.UTF8:
      if (comb) hashUtf8Range(offsets, values, validity, start, m, out, true);
      else hashUtf8Range(offsets, values, validity, start, m, out, false);
      break;
    default: return false;
  }
  return true;
}

/**
 * hashColumn(kind, values, validity, offsets, n, out, combine) → 0, or −1 for an unknown kind.
 * Writes n u64 hashes to out; with combine ≠ 0 folds this column into the hashes already in out
 * (the host hashes the first key column with combine = 0, every further one with combine = 1).
 */
export function hashColumn(kind: i32, values: usize, validity: usize, offsets: usize, n: i32, out: usize, comb: i32): i32 {
  return hashRange(kind, values, validity, offsets, 0, n, out, comb != 0) ? 0 : -1;
}

/**
 * Narrows n u64 hashes at src to u32 at dst (hi ^ lo, so both halves count). dst may equal src: the
 * write to dst[i] (bytes 4i..4i+4) never reaches a src element not yet read (bytes ≥ 8i).
 */
export function hashFold32(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const h = load<u64>(at<u64>(src, i));
    store<u32>(at<u32>(dst, i), <u32>(h >>> 32) ^ <u32>h);
  }
}
