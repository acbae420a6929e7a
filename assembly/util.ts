// Small helpers every kernel family uses. Everything here is @inline: after inlining, binaryen
// folds the compile-time branches (sizeof<T>, isFloat<T>) so each instantiation is straight code.

/** Elements of T per 128-bit vector. */
// @ts-ignore: decorator
@inline export function lanes<T>(): i32 {
  return <i32>(16 / sizeof<T>());
}

/** Byte address of element i of a T column at p. */
// @ts-ignore: decorator
@inline export function at<T>(p: usize, i: i32): usize {
  return p + (<usize>i << alignof<T>());
}

/** Bit i of an Arrow validity/selection bitmap (LSB first). A null bitmap pointer means all set. */
// @ts-ignore: decorator
@inline export function bit(bitmap: usize, i: i32): bool {
  return bitmap == 0 || ((load<u8>(bitmap + (<usize>i >>> 3)) >>> (<u32>i & 7)) & 1) != 0;
}

/**
 * Bits [64·w, 64·w + 64) of a bitmap as a u64 (all ones for a null bitmap). Kernels walk nulls a
 * 64-element block at a time: a full word takes the SIMD path, an empty word is skipped, and only
 * mixed words go element by element — so the cost of nulls is proportional to how mixed they are.
 * Reads 8 bytes: callers use it only for whole blocks, and the host allocates bitmaps rounded up to
 * 64 bytes, so the read never leaves the bitmap's allocation.
 */
// @ts-ignore: decorator
@inline export function word(bitmap: usize, w: i32): u64 {
  return bitmap == 0 ? <u64>-1 : load<u64>(bitmap + (<usize>w << 3));
}

/** The trailing bits of a bitmap after the last whole 64-bit word: tail elements n & ~63 .. n. */
// @ts-ignore: decorator
@inline export function tailWord(bitmap: usize, n: i32): u64 {
  const rem = n & 63;
  if (rem == 0) return 0;
  const mask: u64 = (<u64>1 << <u64>rem) - 1;
  if (bitmap == 0) return mask;
  // Read byte by byte: the bitmap has only ceil(n/8) meaningful bytes here.
  let v: u64 = 0;
  const base = bitmap + (<usize>(n >>> 6) << 3);
  const bytes = (rem + 7) >>> 3;
  for (let k = 0; k < bytes; k++) v |= <u64>load<u8>(base + <usize>k) << (<u64>k << 3);
  return v & mask;
}

/**
 * Stores bitmap word b of an n-bit output: the whole 8 bytes, or (whole = false: the last, partial
 * word) only its ceil((n & 63) / 8) meaningful bytes — the output holds just ceil(n/8) bytes.
 */
// @ts-ignore: decorator
@inline export function putWord(out: usize, b: i32, w: u64, whole: bool, n: i32): void {
  const dst = out + (<usize>b << 3);
  if (whole) {
    store<u64>(dst, w);
    return;
  }
  const bytes = ((n & 63) + 7) >>> 3;
  for (let k = 0; k < bytes; k++) store<u8>(dst + <usize>k, <u8>(w >>> (<u64>k << 3)));
}

/** Smallest / largest representable T: the identity of MIN (max = false) / MAX (max = true). */
// @ts-ignore: decorator
@inline export function extreme<T>(max: bool): T {
  if (isFloat<T>()) return <T>(max ? -Infinity : Infinity);
  if (isSigned<T>()) {
    if (sizeof<T>() == 8) return <T>(max ? i64.MIN_VALUE : i64.MAX_VALUE);
    if (sizeof<T>() == 4) return <T>(max ? i32.MIN_VALUE : i32.MAX_VALUE);
    if (sizeof<T>() == 2) return <T>(max ? i16.MIN_VALUE : i16.MAX_VALUE);
    return <T>(max ? i8.MIN_VALUE : i8.MAX_VALUE);
  }
  return <T>(max ? 0 : -1);
}
