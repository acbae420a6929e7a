// Key descriptors: how the host tells a kernel about several key columns at once (a kernel call
// cannot take an array). The host writes one 16-byte record per key column into the arena:
//
//   +0   kind      i32  DType code of a fixed-width key (BOOL: bit-packed), or KeyKind.UTF8
//   +4   values    u32  values (BOOL: the bitmap; UTF8: the bytes)
//   +8   validity  u32  validity bitmap, or 0 = no nulls
//   +12  offsets   u32  UTF8 only: (n + 1) i32 offsets
//
// and passes the address of the first record and the record count.

import { DType, KeyKind } from '../shared/codes';
import { at, bit } from '../util';
import { hashRange } from '../hash/index';

export const KEY_BYTES: usize = 16;
export const K_KIND: usize = 0;
export const K_VALUES: usize = 4;
export const K_VALIDITY: usize = 8;
const K_OFFSETS: usize = 12;

// @ts-ignore: decorator
@inline function field(keys: usize, k: i32, off: usize): usize {
  return <usize>load<u32>(keys + <usize>k * KEY_BYTES + off);
}

/** Hashes rows [start, start + m) of all key columns, combined, into out[0 .. m). */
export function hashKeys(keys: usize, nkeys: i32, start: i32, m: i32, out: usize): void {
  for (let k = 0; k < nkeys; k++) {
    const ok = hashRange(
      load<i32>(keys + <usize>k * KEY_BYTES + K_KIND),
      field(keys, k, K_VALUES), field(keys, k, K_VALIDITY), field(keys, k, K_OFFSETS),
      start, m, out, k > 0,
    );
    assert(ok, 'hashKeys: unknown key kind');
  }
}

/** Equal as keys: floats compare with -0 = +0 and NaN = NaN (the hash normalizes the same way). */
// @ts-ignore: decorator
@inline export function eqAt<T>(values: usize, a: i32, b: i32): bool {
  return eqAcross<T>(values, a, values, b);
}

/** eqAt across two columns of one type: row a of the values at pa, row b of those at pb (a join's two sides). */
// @ts-ignore: decorator
@inline export function eqAcross<T>(pa: usize, a: i32, pb: usize, b: i32): bool {
  const x = load<T>(at<T>(pa, a));
  const y = load<T>(at<T>(pb, b));
  if (isFloat<T>()) return x == y || (x != x && y != y);
  return x == y;
}

function bytesEqual(p: usize, q: usize, len: usize): bool {
  let i: usize = 0;
  // 8 bytes at a time while a whole word remains; both reads stay inside the two strings.
  for (; i + 8 <= len; i += 8) if (load<u64>(p + i) != load<u64>(q + i)) return false;
  for (; i < len; i++) if (load<u8>(p + i) != load<u8>(q + i)) return false;
  return true;
}

/** Do rows a and b have the same key in every key column? (Two nulls are the same key.) */
export function keysEqual(keys: usize, nkeys: i32, a: i32, b: i32): bool {
  return keysEqualAcross(keys, a, keys, b, nkeys);
}

/**
 * Row a under descriptors ka and row b under kb have the same key in every column (two nulls are
 * the same key). The two descriptor sets must have the same kinds column by column (a join's probe
 * and build keys after the host brought them to one type); the kinds are read from ka.
 */
// @ts-ignore: decorator
@inline export function keysEqualAcross(ka: usize, a: i32, kb: usize, b: i32, nkeys: i32): bool {
  for (let k = 0; k < nkeys; k++) {
    const va = bit(field(ka, k, K_VALIDITY), a);
    if (va != bit(field(kb, k, K_VALIDITY), b)) return false;
    if (!va) continue; // both null
    const pa = field(ka, k, K_VALUES);
    const pb = field(kb, k, K_VALUES);
    let eq = false;
    switch (load<i32>(ka + <usize>k * KEY_BYTES + K_KIND)) {
      case DType.I8: case DType.U8: eq = eqAcross<u8>(pa, a, pb, b); break;
      case DType.I16: case DType.U16: eq = eqAcross<u16>(pa, a, pb, b); break;
      case DType.I32: case DType.U32: eq = eqAcross<u32>(pa, a, pb, b); break;
      case DType.I64: case DType.U64: eq = eqAcross<u64>(pa, a, pb, b); break;
      case DType.F32: eq = eqAcross<f32>(pa, a, pb, b); break;
      case DType.F64: eq = eqAcross<f64>(pa, a, pb, b); break;
      case DType.BOOL: eq = bit(pa, a) == bit(pb, b); break;
      case KeyKind.UTF8: {
        const oa = field(ka, k, K_OFFSETS);
        const ob = field(kb, k, K_OFFSETS);
        const sa = load<i32>(at<i32>(oa, a));
        const sb = load<i32>(at<i32>(ob, b));
        const len = load<i32>(at<i32>(oa, a + 1)) - sa;
        eq = len == load<i32>(at<i32>(ob, b + 1)) - sb && bytesEqual(pa + <usize>sa, pb + <usize>sb, <usize>len);
        break;
      }
      default: assert(false, 'keysEqual: unknown key kind');
    }
    if (!eq) return false;
  }
  return true;
}
