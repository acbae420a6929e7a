/**
 * UTF-8 validation of string columns (assembly/utf8) from the host's side. Free of engine imports,
 * so the Parquet decoder workers and the CSV parse workers hold just these exports over their own
 * kernel instances.
 *
 * A string column is valid when every value is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no sequence cut short). Checked on the whole data buffer at
 * once plus one byte per value start (see utf8Values): ~10+ GB/s on ASCII text.
 */

/** The raw exports (a subset of KernelExports). */
export interface Utf8Kernel {
  /** −1 when data[0, len) is well-formed UTF-8, else the offset of the first byte of the first ill-formed sequence; −3 len < 0. */
  utf8Valid(data: number, len: number): number;
  /**
   * −1 when every value of an Arrow utf8 column (int32 offsets[0 .. n) over data[0, len)) is
   * well-formed, else the data offset of an ill-formed sequence (the first one of the bytes, or the
   * first value starting with a continuation byte); −3 n or len < 0. Offsets outside [0, len) are not read.
   */
  utf8Values(offsets: number, n: number, data: number, len: number): number;
}

/**
 * The row holding byte `at` of a utf8 column: the last i < rows with offsets[i] ≤ at and a
 * non-empty value (binary search over the monotone offsets; empty values share their offset with
 * the next value, which is the one holding the byte). `i32` is a view of the memory holding the
 * offsets, `offsets` their byte address.
 */
export function rowOfByte(i32: Int32Array, offsets: number, rows: number, at: number): number {
  const base = offsets >>> 2;
  // Largest i in [0, rows) with offsets[i] ≤ at: the values before it end at or before `at`.
  let lo = 0, hi = rows - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (i32[base + mid] <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Validates a utf8 column: −1 when valid, else the row (0-based) of an ill-formed value.
 * `offsets` / `data`: byte addresses of its int32 offsets[0 .. rows] (offsets[0] = 0, as the
 * readers build them) and its bytes in the kernel's memory; `i32` a view of that memory.
 */
export function invalidUtf8Row(k: Utf8Kernel, i32: Int32Array, offsets: number, rows: number, data: number): number {
  if (rows <= 0) return -1;
  const at = k.utf8Values(offsets, rows, data, i32[(offsets >>> 2) + rows]);
  return at < 0 ? -1 : rowOfByte(i32, offsets, rows, at);
}

/**
 * The detail of an error about one ill-formed value: where it goes wrong (`at`: the offset
 * utf8Valid gave for the value alone, −1 when not known) and its first bytes in hex.
 */
export function utf8Detail(value: Uint8Array, at: number): string {
  const hex = Array.from(value.subarray(0, 24), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `not valid UTF-8 (${at >= 0 ? `an invalid sequence at its byte ${at}: ` : ''}${hex}${value.length > 24 ? ' …' : ''})`;
}

/**
 * A JS check of a utf8 column's buffers outside any kernel memory (the CSV reader's JS parse
 * workers): −1 when every value is well-formed, else the first ill-formed row. `isUtf8` is Node's
 * (simdutf); the value starts are checked as utf8Values does.
 */
export function invalidUtf8RowJs(isUtf8: (b: Uint8Array) => boolean, data: Uint8Array, offsets: Int32Array, rows: number): number {
  const len = offsets[rows];
  const whole = data.subarray(0, len);
  if (isUtf8(whole)) {
    let ok = true;
    for (let i = 0; i < rows && ok; i++) ok = offsets[i] >= len || (whole[offsets[i]] & 0xc0) !== 0x80;
    if (ok) return -1;
  }
  for (let i = 0; i < rows; i++) if (!isUtf8(whole.subarray(offsets[i], offsets[i + 1]))) return i;
  return -1;
}
