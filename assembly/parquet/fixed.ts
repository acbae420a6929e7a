// Fixed-width values of a Parquet page: dictionary gathers, placing dense (non-null) values at
// their rows, and widening integer-backed decimals. One generic body per kernel, dispatched by byte
// width (the kernels move bytes, they never look at the type); 16-byte values are v128.

import { bitsAt, lowMask } from './bits';

const MALFORMED: i32 = -1;
const BAD_WIDTH: i32 = -3;

// ---- gather -------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function gatherDrive<T>(idx: usize, n: usize, dict: usize, dictLen: u32, out: usize): i32 {
  // Blocks of 16 indices: one SIMD check (the unsigned max of the block against dictLen; an
  // unsigned compare also rejects negative indices), then 16 unchecked loads — each index was
  // just checked, and the block is in L1 for the second read.
  const limit = i32x4.splat(dictLen);
  let i: usize = 0;
  for (; i + 16 <= n; i += 16) {
    const p = idx + (i << 2);
    const m = i32x4.max_u(i32x4.max_u(v128.load(p), v128.load(p, 16)), i32x4.max_u(v128.load(p, 32), v128.load(p, 48)));
    if (v128.any_true(i32x4.ge_u(m, limit))) return MALFORMED;
    const o = out + i * sizeof<T>();
    for (let j: usize = 0; j < 16; j++) {
      store<T>(o + j * sizeof<T>(), load<T>(dict + <usize>load<u32>(p + (j << 2)) * sizeof<T>()));
    }
  }
  for (; i < n; i++) {
    const a = load<u32>(idx + (i << 2));
    if (a >= dictLen) return MALFORMED;
    store<T>(out + i * sizeof<T>(), load<T>(dict + <usize>a * sizeof<T>()));
  }
  return 0;
}

/**
 * pqGather(width, idx, n, dict, dictLen, out) → 0; −1 some idx[i] ≥ dictLen (unsigned: outputs
 * before the bad block of 16 are written, none after); −3 width not 1/2/4/8/16.
 */
export function pqGather(width: i32, idx: usize, n: i32, dict: usize, dictLen: i32, out: usize): i32 {
  if (n < 0 || dictLen < 0) return MALFORMED;
  const m = <usize>n;
  const len = <u32>dictLen;
  switch (width) {
    case 1: return gatherDrive<u8>(idx, m, dict, len, out);
    case 2: return gatherDrive<u16>(idx, m, dict, len, out);
    case 4: return gatherDrive<u32>(idx, m, dict, len, out);
    case 8: return gatherDrive<u64>(idx, m, dict, len, out);
    case 16: return gatherDrive<v128>(idx, m, dict, len, out);
    default: return BAD_WIDTH;
  }
}

// ---- spread -------------------------------------------------------------------------------------

/**
 * Rows [0, n) of out from the dense values: 64 rows per validity window. An all-valid window is
 * one block copy, an all-null one a zero fill, a mixed one zero-fills and then stores each set
 * bit's value (cost ∝ its set bits). The dense array is read only at the k < popcount positions,
 * so never past its end.
 */
// @ts-ignore: decorator
@inline function spreadDrive<T>(dense: usize, validity: usize, bitOffset: usize, n: usize, out: usize): i32 {
  const vEnd = validity + ((bitOffset + n + 7) >>> 3);
  let k: usize = 0;
  for (let r: usize = 0; r < n; r += 64) {
    const cnt = <u32>min<usize>(64, n - r);
    const bits = bitsAt(validity, bitOffset + r, vEnd) & lowMask(cnt);
    const o = out + r * sizeof<T>();
    if (bits == lowMask(cnt)) {
      memory.copy(o, dense + k * sizeof<T>(), <usize>cnt * sizeof<T>());
      k += cnt;
      continue;
    }
    memory.fill(o, 0, <usize>cnt * sizeof<T>());
    let rest = bits;
    while (rest != 0) {
      store<T>(o + <usize>ctz(rest) * sizeof<T>(), load<T>(dense + k * sizeof<T>()));
      k++;
      rest &= rest - 1;
    }
  }
  return <i32>k;
}

/** pqSpread(width, dense, validity, bitOffset, n, out) → dense values consumed; −3 bad width. */
export function pqSpread(width: i32, dense: usize, validity: usize, bitOffset: i32, n: i32, out: usize): i32 {
  if (n < 0 || bitOffset < 0) return MALFORMED;
  const b = <usize>bitOffset;
  const m = <usize>n;
  switch (width) {
    case 1: return spreadDrive<u8>(dense, validity, b, m, out);
    case 2: return spreadDrive<u16>(dense, validity, b, m, out);
    case 4: return spreadDrive<u32>(dense, validity, b, m, out);
    case 8: return spreadDrive<u64>(dense, validity, b, m, out);
    case 16: return spreadDrive<v128>(dense, validity, b, m, out);
    default: return BAD_WIDTH;
  }
}

// ---- widen --------------------------------------------------------------------------------------

/** n signed T → 16-byte LE two's complement (decimal128): low 8 bytes the value, high 8 its sign. */
// @ts-ignore: decorator
@inline function widenDrive<T>(src: usize, n: usize, dst: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const v = <i64>load<T>(src + i * sizeof<T>());
    store<i64>(dst + (i << 4), v);
    store<i64>(dst + (i << 4), v >> 63, 8);
  }
}

/** pqWiden(srcWidth, src, n, dst) → 0; −3 srcWidth not 4 or 8. */
export function pqWiden(srcWidth: i32, src: usize, n: i32, dst: usize): i32 {
  if (n < 0) return MALFORMED;
  if (srcWidth == 4) widenDrive<i32>(src, <usize>n, dst);
  else if (srcWidth == 8) widenDrive<i64>(src, <usize>n, dst);
  else return BAD_WIDTH;
  return 0;
}
