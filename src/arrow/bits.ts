/**
 * Bit-range copies for the Arrow importer: validity bitmaps and bool values arrive at any bit offset
 * (a sliced vector starts at bit `data.offset`; chunk k of a concatenation lands at bit `Σ len(<k)`),
 * and our columns keep them at bit 0 (see src/column.ts).
 *
 * Destinations are freshly `calloc`ed bitmaps, so partial bytes are OR-ed in and the bits past the
 * column's length stay 0. Whole destination bytes are written at once: with equal bit phase that is a
 * `set` (memcpy), otherwise one shift-and-merge of two source bytes per output byte — 8× fewer steps
 * than a per-bit loop, which matters at 10 M rows (1.25 MB of bitmap per column).
 */

/** Reads bit `i` of an LSB-first bitmap. */
export const getBit = (src: Uint8Array, i: number): number => (src[i >>> 3] >>> (i & 7)) & 1;

/**
 * ORs `n` bits of `src` starting at bit `srcBit` into `dst` starting at bit `dstBit`.
 * `dst` must be zero over the destination range (it is: callers calloc it).
 */
export function copyBits(src: Uint8Array, srcBit: number, dst: Uint8Array, dstBit: number, n: number): void {
  // Head: single bits until the destination is byte-aligned.
  while (n > 0 && (dstBit & 7) !== 0) {
    if (getBit(src, srcBit) === 1) dst[dstBit >>> 3] |= 1 << (dstBit & 7);
    srcBit++; dstBit++; n--;
  }
  // Body: whole destination bytes.
  const bytes = n >>> 3;
  const di = dstBit >>> 3;
  const si = srcBit >>> 3;
  const shift = srcBit & 7;
  if (shift === 0) {
    dst.set(src.subarray(si, si + bytes), di);
  } else {
    const back = 8 - shift;
    // Output byte k takes bits [srcBit + 8k, srcBit + 8k + 8): the high part of src[si + k] and the
    // low `shift` bits of src[si + k + 1], all inside the range the caller checked the source holds.
    for (let k = 0; k < bytes; k++) dst[di + k] = ((src[si + k] >>> shift) | (src[si + k + 1] << back)) & 0xff;
  }
  srcBit += bytes * 8;
  dstBit += bytes * 8;
  n -= bytes * 8;
  // Tail: the last < 8 bits.
  for (; n > 0; n--, srcBit++, dstBit++) {
    if (getBit(src, srcBit) === 1) dst[dstBit >>> 3] |= 1 << (dstBit & 7);
  }
}

/** Sets `n` bits of `dst` to 1 from bit `dstBit` (a chunk without nulls inside a column that has some). */
export function setBits(dst: Uint8Array, dstBit: number, n: number): void {
  while (n > 0 && (dstBit & 7) !== 0) {
    dst[dstBit >>> 3] |= 1 << (dstBit & 7);
    dstBit++; n--;
  }
  const bytes = n >>> 3;
  dst.fill(0xff, dstBit >>> 3, (dstBit >>> 3) + bytes);
  dstBit += bytes * 8;
  n -= bytes * 8;
  for (; n > 0; n--, dstBit++) dst[dstBit >>> 3] |= 1 << (dstBit & 7);
}
