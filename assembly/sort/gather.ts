// The gather that `sortColumn` needs: out[i] = in[idx[i]] for a permutation idx the sort kernels
// just produced (so every index is in range and the kernel does not re-check them). Private to the
// sort family; the general `take` (with index checks, nullable indices) lives in assembly/filter.

import { DType } from '../shared/codes';
import { at } from '../util';

// @ts-ignore: decorator
@inline function bitAt(bitmap: usize, i: i32): u64 {
  return <u64>((load<u8>(bitmap + (<usize>i >>> 3)) >>> (<u32>i & 7)) & 1);
}

/**
 * Gathers the bits idx[0..n) of `src` into `dst`, 64 at a time, and returns how many are set.
 * Whole words are stored as u64; the tail is stored byte by byte, so exactly ceil(n / 8) bytes of
 * `dst` are written.
 */
function gatherBits(src: usize, idx: usize, n: i32, dst: usize): i32 {
  let set = 0;
  const words = n >>> 6;
  for (let w = 0; w < words; w++) {
    let v: u64 = 0;
    const base = w << 6;
    for (let b = 0; b < 64; b++) v |= bitAt(src, load<i32>(at<i32>(idx, base + b))) << <u64>b;
    store<u64>(dst + (<usize>w << 3), v);
    set += <i32>popcnt(v);
  }
  const rem = n & 63;
  if (rem != 0) {
    let v: u64 = 0;
    const base = words << 6;
    for (let b = 0; b < rem; b++) v |= bitAt(src, load<i32>(at<i32>(idx, base + b))) << <u64>b;
    set += <i32>popcnt(v);
    const bytes = (rem + 7) >>> 3;
    for (let k = 0; k < bytes; k++) store<u8>(dst + (<usize>words << 3) + <usize>k, <u8>(v >> (<u64>k << 3)));
  }
  return set;
}

// @ts-ignore: decorator
@inline function gatherValues<T>(src: usize, idx: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) store<T>(at<T>(dst, i), load<T>(at<T>(src, load<i32>(at<i32>(idx, i)))));
}

/**
 * sortGather(dtype, values, validity, idx, n, out, outValidity) → valid count of the output
 * (n without a validity bitmap; −1 for an unknown type). Bool values are bit-gathered.
 */
export function sortGather(dtype: i32, values: usize, validity: usize, idx: usize, n: i32, out: usize, outValidity: usize): i32 {
  switch (dtype) {
    case DType.I8: case DType.U8: gatherValues<u8>(values, idx, n, out); break;
    case DType.I16: case DType.U16: gatherValues<u16>(values, idx, n, out); break;
    case DType.I32: case DType.U32: case DType.F32: gatherValues<u32>(values, idx, n, out); break;
    case DType.I64: case DType.U64: case DType.F64: gatherValues<u64>(values, idx, n, out); break;
    case DType.BOOL: gatherBits(values, idx, n, out); break;
    default: return -1;
  }
  return validity == 0 ? n : gatherBits(validity, idx, n, outValidity);
}

/**
 * Gathers a utf8 column: outOffsets (n + 1) and the bytes, in idx order. A permutation moves every
 * string once, so the host sizes outData as offsets[n] − offsets[0]. Returns the valid count.
 */
export function sortGatherUtf8(
  offsets: usize, data: usize, validity: usize, idx: usize, n: i32, outOffsets: usize, outData: usize, outValidity: usize,
): i32 {
  let pos = 0;
  store<i32>(outOffsets, 0);
  for (let i = 0; i < n; i++) {
    const r = load<i32>(at<i32>(idx, i));
    const o = load<i32>(at<i32>(offsets, r));
    const len = load<i32>(at<i32>(offsets, r + 1)) - o;
    memory.copy(outData + <usize>pos, data + <usize>o, <usize>len);
    pos += len;
    store<i32>(at<i32>(outOffsets, i + 1), pos);
  }
  return validity == 0 ? n : gatherBits(validity, idx, n, outValidity);
}
