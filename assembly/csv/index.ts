// CSV: a SIMD structural scan over a window of raw bytes, then value parsing per column straight
// from the field offsets into the output columns. The host (src/engine/io/csv-kernel.ts) copies a
// window of whole rows into the arena, calls csvScan, allocates the columns, calls csvParse.
//
// The contract is "fast path or hand back": the kernel only accepts what it can do exactly like the
// JS tokenizer / parsers in src/engine/io/csv-parse.ts. Anything else — a malformed row, a quote in
// an unquoted field, a float that needs more than the exact fast path, a long integer, a bad value —
// is handed back to the host, which re-reads the window (scan) or the one field (parse) with the JS
// code and so gets the same values and the same errors, line and column included.
//
// Field positions (`pos`, u32 per entry, offsets into the window): entry r·ncols is the separator
// before row r (−1 for the first row: the window starts on a row), entry r·ncols + j + 1 the
// separator after field j. Row r's last separator is row r + 1's first, so a row costs ncols
// entries, not ncols + 1:
//
//   text:  a , b , c \n d , e , f \n
//   pos:   -1   1   3   5   7   9  11          field (r, j) = [pos[r·n + j] + 1, pos[r·n + j + 1])
//
// The last field of a row drops one trailing CR (CRLF); a field starting with '"' is quoted and its
// content is [s + 1, e − 1) (the scan guarantees the closing quote is there and inner quotes are
// doubled).

import { CsvKind, DType } from '../shared/codes';

const LF: u8 = 10;
const CR: u8 = 13;
const QUOTE: u8 = 34;

/** csvScan results below 0: the host reads the window with the JS tokenizer (ANOMALY) or retries with a larger `pos` (CAPACITY). */
const ANOMALY: i32 = -1;
const CAPACITY: i32 = -2;

// ---- the structural scan ------------------------------------------------------------------------

/** Bits of the 64 bytes at p equal to the byte splatted in `c` (bit i = byte i). */
// @ts-ignore: decorator
@inline function eqMask(p: usize, c: v128): u64 {
  const a = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(p), c));
  const b = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(p, 16), c));
  const d = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(p, 32), c));
  const e = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(p, 48), c));
  return a | (b << 16) | (d << 32) | (e << 48);
}

/**
 * Bit i = XOR of bits 0..i: 1 from an opening quote up to (not including) its closing quote. No
 * carry-less multiply in wasm, so the prefix XOR is six shift-XOR steps.
 */
// @ts-ignore: decorator
@inline function prefixXor(x: u64): u64 {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// Scan state carried from one 64-byte block to the next (module globals: per instance, so per
// thread; a kernel runs one call at a time on its thread — no allocation needed).
let inQuote: u64 = 0; // all ones when the previous block ended inside quotes
let prevSepOrClose: u64 = 0; // bit 0: the byte before this block was a separator, a closing quote or the window start
let prevClose: u64 = 0; // bit 0: the byte before was a closing quote
let prevCrAfterClose: u64 = 0; // bit 0: the byte before was a CR right after a closing quote
let k: i32 = 0; // next pos entry
let field: i32 = 0; // index in its row of the field the next separator ends
let prev: i32 = -1; // the last separator (or −1)
let rows: i32 = 0;
let lines: i32 = 0;
let blank = false; // a blank line after a row

/**
 * Handles one 64-byte block (bits past the window are 0 in every mask; `edge` has the bits of
 * positions where the window's end counts as "the next byte", i.e. the byte after the last one).
 * Returns false for an anomaly.
 */
// @ts-ignore: decorator
@inline function block(text: usize, base: i32, D: u64, L: u64, Q: u64, C: u64, valid: u64, edge: u64, ncols: i32, pos: usize, sizes: usize): bool {
  const inside = prefixXor(Q) ^ inQuote;
  inQuote = <u64>(<i64>inside >> 63);
  const open = Q & inside;
  const close = Q & ~inside;
  const seps = (D | L) & ~inside;
  // An opening quote starts a field (after a separator or the window start) or is the second quote
  // of a "" pair (right after a "closing" one). Anything else is a quote inside an unquoted field,
  // which the JS tokenizer reads as data: hand the window back.
  const sepOrClose = seps | close;
  if ((open & ~((sepOrClose << 1) | prevSepOrClose)) != 0) return false;
  prevSepOrClose = sepOrClose >> 63;
  // After a closing quote: a separator, the pair's second quote, or CR + LF (or the window's end).
  const afterClose = (close << 1) | prevClose;
  prevClose = close >> 63;
  if ((afterClose & valid & ~(seps | open | C)) != 0) return false;
  const crAfter = afterClose & C;
  if ((((crAfter << 1) | prevCrAfterClose) & ~L & (valid | edge)) != 0) return false;
  prevCrAfterClose = crAfter >> 63;
  lines += <i32>popcnt(L);
  let bits = seps;
  while (bits != 0) {
    const i = <i32>ctz(bits);
    bits &= bits - 1;
    const p = base + i;
    if (((L >> <u64>i) & 1) != 0) {
      if (field == 0 && (p - prev == 1 || (p - prev == 2 && load<u8>(text + <usize>(p - 1)) == CR))) {
        // A blank line (the JS tokenizer skips it). Before the first row it becomes the separator
        // before that row; after a row, that row's last entry is shared with the next row, so it
        // cannot move: blank lines are fine only at the end of the window (a file's trailing empty
        // line), and a row after one hands the window back.
        if (k == 1) store<i32>(pos, p);
        else blank = true;
        prev = p;
        continue;
      }
      if (blank) return false;
      if (field != ncols - 1) return false; // too few fields: the JS tokenizer names the line
      field = 0;
      rows++;
    } else {
      if (field == ncols - 1 || blank) return false; // too many fields, or a row after a blank line
      field++;
    }
    store<i32>(pos + (<usize>k << 2), p);
    const sz = sizes + (<usize>(field == 0 ? ncols - 1 : field - 1) << 2);
    store<i32>(sz, load<i32>(sz) + (p - prev - 1));
    prev = p;
    k++;
  }
  return true;
}

/**
 * Splits text[0, len) — whole rows, starting on a row — into fields. Writes `pos` (see the top of
 * the file; `cap` entries available) and, per column, the sum of its field lengths to sizes[j]
 * (i32, zeroed by the caller: an upper bound of a utf8 column's bytes). With `final` the last row
 * may lack its newline. Returns the row count (and out[0] = newlines seen + 1 for an unterminated
 * last row: the lines the window spans), ANOMALY, or CAPACITY (out[1] = bytes scanned before `pos`
 * ran out, so the host can size the retry).
 */
export function csvScan(text: usize, len: i32, delim: i32, ncols: i32, final: i32, pos: usize, cap: i32, sizes: usize, out: usize): i32 {
  if (ncols < 1 || cap < 1) return ANOMALY;
  inQuote = 0;
  prevSepOrClose = 1; // the window start is a row start
  prevClose = 0;
  prevCrAfterClose = 0;
  k = 1;
  field = 0;
  prev = -1;
  rows = 0;
  lines = 0;
  blank = false;
  store<i32>(pos, -1);
  const vd = i8x16.splat(<i8>delim), vl = i8x16.splat(LF), vq = i8x16.splat(QUOTE), vc = i8x16.splat(CR);
  let base = 0;
  for (; base + 64 <= len; base += 64) {
    // At most 64 separators per block. JUSTIFICATION: checked once per block instead of per store.
    if (k + 64 > cap) { store<i32>(out, base, 4); return CAPACITY; }
    const p = text + <usize>base;
    const Q = eqMask(p, vq);
    // CRs matter only right after a closing quote: skip their compare in blocks without quotes.
    const C = (Q | prevClose) != 0 ? eqMask(p, vc) : 0;
    if (!block(text, base, eqMask(p, vd), eqMask(p, vl), Q, C, <u64>-1, 0, ncols, pos, sizes)) return ANOMALY;
  }
  // Scalar tail: the same masks built byte by byte.
  const rem = len - base;
  if (rem > 0) {
    if (k + 64 > cap) { store<i32>(out, base, 4); return CAPACITY; }
    let D: u64 = 0, L: u64 = 0, Q: u64 = 0, C: u64 = 0;
    for (let i = 0; i < rem; i++) {
      const c = <i32>load<u8>(text + <usize>(base + i));
      const b: u64 = <u64>1 << <u64>i;
      if (c == delim) D |= b;
      else if (c == LF) L |= b;
      else if (c == QUOTE) Q |= b;
      else if (c == CR) C |= b;
    }
    const valid: u64 = (<u64>1 << <u64>rem) - 1;
    if (!block(text, base, D, L, Q, C, valid, valid + 1, ncols, pos, sizes)) return ANOMALY;
  } else if (prevCrAfterClose != 0) return ANOMALY; // "…"\r at the end: the JS tokenizer's business
  if (inQuote != 0) return ANOMALY; // unterminated quote
  if (prev + 1 < len) {
    // A last row without its newline: only in the final window (the host cuts others after a newline).
    if (final == 0 || field != ncols - 1 || blank) return ANOMALY;
    if (prev + 2 == len && load<u8>(text + <usize>prev + 1) == CR && field == 0) return ANOMALY; // a lone CR line
    if (k + 1 > cap) { store<i32>(out, len, 4); return CAPACITY; }
    store<i32>(pos + (<usize>k << 2), len);
    const sz = sizes + (<usize>(ncols - 1) << 2);
    store<i32>(sz, load<i32>(sz) + (len - prev - 1));
    rows++;
    lines++;
  } else if (field != 0) return ANOMALY;
  store<i32>(out, lines);
  return rows;
}

// ---- value parsing ------------------------------------------------------------------------------

// Column descriptor (one per column, 32 bytes, written by the host; `done`, `nulls`, `cursor` are
// updated by csvParse and the host):
//
//   +0  kind      a DType code (ints, floats, BOOL) or CsvKind (DATE32, UTF8)
//   +4  values    values buffer (bool: bitmap, zeroed by the host; utf8: bytes)
//   +8  validity  bitmap, all n bits set by the host; a null clears its bit
//   +12 offsets   utf8: i32 × (n + 1)
//   +16 done      rows parsed so far (the host bumps it past a field it handled)
//   +20 nulls     nulls so far
//   +24 cursor    utf8: bytes written so far
const C_KIND = 0, C_VALUES = 4, C_VALIDITY = 8, C_OFFSETS = 12, C_DONE = 16, C_NULLS = 20, C_CURSOR = 24;
const C_BYTES = 32;

/** Rows per block: every column of a block is parsed before the next block, so its text and pos stay in cache. */
const BLOCK_ROWS = 512;

/** 10^0 … 10^22: exact in f64 (static data, read-only). */
const POW10 = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);

// The value parsers return a sentinel the accepted syntax cannot produce when they hand a field
// back (locals and return values only: a module global written per field costs a memory store).
const NO_INT: i64 = i64.MIN_VALUE; // ≤ 18 digits never reach it
const NO_DATE: i32 = i32.MIN_VALUE;
const NO_BOOL: i32 = -1;
// NaN for floats: the fast path only makes finite values.

/** An integer of 1 to 18 digits with an optional sign (exact in i64); anything else → NO_INT. */
// @ts-ignore: decorator
@inline function parseI64(text: usize, s: i32, e: i32): i64 {
  let i = s;
  const c0 = load<u8>(text + <usize>i);
  const neg = c0 == 45;
  if (neg || c0 == 43) i++;
  // Longer integers go to the host (BigInt in the JS parser), like its > 15-digit path.
  if (i >= e || e - i > 18) return NO_INT;
  let v: i64 = 0;
  for (; i < e; i++) {
    const d = <u32>load<u8>(text + <usize>i) - 48;
    if (d > 9) return NO_INT;
    v = v * 10 + <i64>d;
  }
  return neg ? -v : v;
}

/**
 * Exactly the JS parser's fast path (csv-parse.ts parseFloat64), so results equal `Number()`:
 * digits [. digits] [e[±]digits] with ≤ 15 digits in all (the mantissa < 10^15 is exact) and a
 * decimal exponent within ±22 (10^|exp| is exact): one IEEE multiply or divide of two exact values
 * is correctly rounded (Clinger). Everything else — longer mantissas, big exponents, inf / nan,
 * malformed text — is not ok and goes to the host, which runs the JS parser on the field.
 */
// @ts-ignore: decorator
@inline function parseF64(text: usize, s: i32, e: i32): f64 {
  let i = s;
  const c0 = load<u8>(text + <usize>i);
  const neg = c0 == 45;
  if (neg || c0 == 43) i++;
  let mant: i64 = 0;
  let digits = 0;
  let exp = 0;
  let c: u32 = 0;
  for (; i < e; i++) {
    c = <u32>load<u8>(text + <usize>i) - 48;
    if (c > 9) break;
    mant = mant * 10 + <i64>c;
    digits++;
  }
  if (i < e && c == <u32>(46 - 48)) {
    for (i++; i < e; i++) {
      const d = <u32>load<u8>(text + <usize>i) - 48;
      if (d > 9) break;
      mant = mant * 10 + <i64>d;
      digits++;
      exp--;
    }
  }
  if (digits == 0 || digits > 15) return NaN;
  if (i < e) {
    const ch = load<u8>(text + <usize>i);
    if (ch != 101 && ch != 69) return NaN;
    i++;
    let eneg = false;
    if (i < e) {
      const sg = load<u8>(text + <usize>i);
      if (sg == 45 || sg == 43) { eneg = sg == 45; i++; }
    }
    if (i >= e) return NaN;
    let x = 0;
    for (; i < e; i++) {
      const d = <u32>load<u8>(text + <usize>i) - 48;
      if (d > 9) return NaN;
      if (x < 100000) x = x * 10 + <i32>d;
    }
    exp += eneg ? -x : x;
  }
  if (exp < -22 || exp > 22) return NaN;
  const m = <f64>mant;
  const v = exp < 0 ? m / load<f64>(POW10 + (<usize>(-exp) << 3)) : m * load<f64>(POW10 + (<usize>exp << 3));
  return neg ? -v : v;
}

/** 'YYYY-MM-DD' → days since 1970-01-01 (proleptic Gregorian, Hinnant's days_from_civil); NO_DATE if not one. */
// @ts-ignore: decorator
@inline function parseDate(text: usize, s: i32, e: i32): i32 {
  if (e - s != 10) return NO_DATE;
  // SWAR: the 8 bytes "YYYY-MM-" and the 2 of "DD" at once. XOR with "0000-00-" maps digits to
  // 0..9 and the dashes to 0; a digit byte then has a zero high nibble and (x + 6) stays below 16
  // (no carry between bytes, since every high nibble is zero by then).
  const w = load<u64>(text + <usize>s) ^ 0x2d30302d30303030;
  const dd = <u32>load<u16>(text + <usize>(s + 8)) ^ 0x3030;
  if ((w & 0xff0000ff00000000) != 0) return NO_DATE; // the dashes (bytes 4 and 7)
  if ((w & 0x00f0f000f0f0f0f0) != 0 || ((w + 0x0006060006060606) & 0x0010100010101010) != 0) return NO_DATE;
  if ((dd & 0xf0f0) != 0 || ((dd + 0x0606) & 0x1010) != 0) return NO_DATE;
  let y = <i32>(w & 0xff) * 1000 + <i32>((w >> 8) & 0xff) * 100 + <i32>((w >> 16) & 0xff) * 10 + <i32>((w >> 24) & 0xff);
  const m = <i32>((w >> 40) & 0xff) * 10 + <i32>((w >> 48) & 0xff);
  const d = <i32>(dd & 0xff) * 10 + <i32>(dd >> 8);
  const leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m < 1 || m > 12 || d < 1) return NO_DATE;
  // 31 for Jan, Mar, May, Jul, Aug, Oct, Dec: odd months up to July, even ones after.
  const dim = m == 2 ? (leap ? 29 : 28) : 30 + ((m + (m >> 3)) & 1);
  if (d > dim) return NO_DATE;
  y -= m <= 2 ? 1 : 0;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/** true / false in any case (ASCII | 0x20 lowers a letter). */
// @ts-ignore: decorator
@inline function parseBool(text: usize, s: i32, e: i32): i32 {
  const n = e - s;
  const w = load<u32>(text + <usize>s) | 0x20202020;
  if (n == 4 && w == 0x65757274) return 1; // "true"
  if (n == 5 && w == 0x736c6166 && (load<u8>(text + <usize>(s + 4)) | 0x20) == 101) return 0; // "fals" + "e"
  return NO_BOOL;
}

/** Clears row r's validity bit. */
// @ts-ignore: decorator
@inline function setNull(validity: usize, r: i32): void {
  const a = validity + (<usize>r >>> 3);
  store<u8>(a, load<u8>(a) & ~(<u8>1 << <u8>(r & 7)));
}

/**
 * Field (r, j) with CRLF and the quotes stripped, packed in one u64 so it stays in locals:
 * bit 63 = quoted, bits 32..62 = start, bits 0..31 = end (offsets < 2^31).
 */
// @ts-ignore: decorator
@inline function bounds(text: usize, pos: usize, ncols: i32, j: i32, r: i32): u64 {
  const f = pos + (<usize>(r * ncols + j) << 2);
  let s = load<i32>(f) + 1;
  let e = load<i32>(f, 4);
  if (j == ncols - 1 && e > s && load<u8>(text + <usize>(e - 1)) == CR) e--;
  // JUSTIFICATION: the scan accepted the window only if every field starting with '"' ends with
  // one, so [s + 1, e − 1) is the content and e − 1 ≥ s + 1.
  const quoted = e > s && load<u8>(text + <usize>s) == QUOTE;
  if (quoted) { s++; e--; }
  return (quoted ? <u64>1 << 63 : 0) | (<u64>s << 32) | <u64><u32>e;
}

/**
 * Rows [from, to) of a fixed-width column of kind K stored as T. Returns −1, or the first row whose
 * field the kernel cannot take (the host parses it with the JS code and resumes after it).
 */
// @ts-ignore: decorator
@inline function fixedRun<T>(kind: i32, text: usize, pos: usize, ncols: i32, j: i32, from: i32, to: i32, col: usize): i32 {
  const values = load<u32>(col, C_VALUES);
  const validity = load<u32>(col, C_VALIDITY);
  let nulls = 0;
  let r = from;
  for (; r < to; r++) {
    const b = bounds(text, pos, ncols, j, r);
    const s = <i32>((b >> 32) & 0x7fffffff), e = <i32>b;
    if (s == e) {
      // Empty (or "") = null in every column kind but utf8.
      if (kind != DType.BOOL) store<T>(<usize>values + (<usize>r << alignof<T>()), <T>0);
      setNull(validity, r);
      nulls++;
      continue;
    }
    if (kind == DType.F64 || kind == DType.F32) {
      const v = parseF64(text, s, e);
      if (isNaN(v)) break;
      store<T>(<usize>values + (<usize>r << alignof<T>()), <T>v);
    } else if (kind == CsvKind.DATE32) {
      const v = parseDate(text, s, e);
      if (v == NO_DATE) break;
      store<T>(<usize>values + (<usize>r << alignof<T>()), <T>v);
    } else if (kind == DType.BOOL) {
      const v = parseBool(text, s, e);
      if (v == NO_BOOL) break;
      if (v != 0) {
        const a = <usize>values + (<usize>r >>> 3);
        store<u8>(a, load<u8>(a) | (<u8>1 << <u8>(r & 7)));
      }
    } else {
      const v = parseI64(text, s, e);
      if (v == NO_INT) break;
      // Out of the type's range: the host's parser reports it.
      if (kind == DType.U64) { if (v < 0) break; }
      else if (sizeof<T>() < 8) { if (v < <i64>extremeLo<T>() || v > <i64>extremeHi<T>()) break; }
      store<T>(<usize>values + (<usize>r << alignof<T>()), <T>v);
    }
  }
  store<i32>(col, load<i32>(col, C_NULLS) + nulls, C_NULLS);
  store<i32>(col, r, C_DONE);
  return r < to ? r : -1;
}

// @ts-ignore: decorator
@inline function extremeLo<T>(): i64 {
  if (!isSigned<T>()) return 0;
  return sizeof<T>() == 1 ? -128 : sizeof<T>() == 2 ? -32768 : -2147483648;
}

// @ts-ignore: decorator
@inline function extremeHi<T>(): i64 {
  if (isSigned<T>()) return sizeof<T>() == 1 ? 127 : sizeof<T>() == 2 ? 32767 : 2147483647;
  return sizeof<T>() == 1 ? 255 : sizeof<T>() == 2 ? 65535 : 4294967295;
}

/** Copies n bytes (16 at a time, then bytes: never past either end). */
// @ts-ignore: decorator
@inline function copyBytes(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) v128.store(dst + <usize>i, v128.load(src + <usize>i));
  for (; i < n; i++) store<u8>(dst + <usize>i, load<u8>(src + <usize>i));
}

/** Rows [from, to) of a utf8 column: offsets + bytes, "" unescaped in quoted fields. Always completes. */
function utf8Run(text: usize, pos: usize, ncols: i32, j: i32, from: i32, to: i32, col: usize): void {
  const data = <usize>load<u32>(col, C_VALUES);
  const validity = load<u32>(col, C_VALIDITY);
  const offsets = <usize>load<u32>(col, C_OFFSETS);
  let p = load<i32>(col, C_CURSOR);
  let nulls = 0;
  if (from == 0) store<i32>(offsets, 0);
  for (let r = from; r < to; r++) {
    const b = bounds(text, pos, ncols, j, r);
    const quoted = (b >> 63) != 0;
    const s = <i32>((b >> 32) & 0x7fffffff), e = <i32>b;
    if (s == e && !quoted) {
      setNull(validity, r);
      nulls++;
    } else if (quoted && memchrQuote(text, s, e)) {
      // JUSTIFICATION: the scan checked that inner quotes come in pairs, so skipping the byte after
      // each quote drops exactly the escape.
      for (let i = s; i < e; i++) {
        const c = load<u8>(text + <usize>i);
        store<u8>(data + <usize>p, c);
        p++;
        if (c == QUOTE) i++;
      }
    } else {
      copyBytes(data + <usize>p, text + <usize>s, e - s);
      p += e - s;
    }
    store<i32>(offsets + (<usize>(r + 1) << 2), p);
  }
  store<i32>(col, p, C_CURSOR);
  store<i32>(col, load<i32>(col, C_NULLS) + nulls, C_NULLS);
  store<i32>(col, to, C_DONE);
}

// @ts-ignore: decorator
@inline function memchrQuote(text: usize, s: i32, e: i32): bool {
  for (let i = s; i < e; i++) if (load<u8>(text + <usize>i) == QUOTE) return true;
  return false;
}

/** The one type dispatch: rows [from, to) of the column at `col`. −1 done, else the row to hand back; −2 unknown kind. */
function run(text: usize, pos: usize, ncols: i32, j: i32, from: i32, to: i32, col: usize): i32 {
  switch (load<i32>(col, C_KIND)) {
    case DType.I8: return fixedRun<i8>(DType.I8, text, pos, ncols, j, from, to, col);
    case DType.I16: return fixedRun<i16>(DType.I16, text, pos, ncols, j, from, to, col);
    case DType.I32: return fixedRun<i32>(DType.I32, text, pos, ncols, j, from, to, col);
    case DType.I64: return fixedRun<i64>(DType.I64, text, pos, ncols, j, from, to, col);
    case DType.U8: return fixedRun<u8>(DType.U8, text, pos, ncols, j, from, to, col);
    case DType.U16: return fixedRun<u16>(DType.U16, text, pos, ncols, j, from, to, col);
    case DType.U32: return fixedRun<u32>(DType.U32, text, pos, ncols, j, from, to, col);
    case DType.U64: return fixedRun<u64>(DType.U64, text, pos, ncols, j, from, to, col);
    case DType.F32: return fixedRun<f32>(DType.F32, text, pos, ncols, j, from, to, col);
    case DType.F64: return fixedRun<f64>(DType.F64, text, pos, ncols, j, from, to, col);
    case DType.BOOL: return fixedRun<u8>(DType.BOOL, text, pos, ncols, j, from, to, col);
    case CsvKind.DATE32: return fixedRun<i32>(CsvKind.DATE32, text, pos, ncols, j, from, to, col);
    case CsvKind.UTF8: utf8Run(text, pos, ncols, j, from, to, col); return -1;
  }
  return -2;
}

/**
 * Parses rows [0, n) of columns [j0, j1) described at `cols` (ncols records, see above), block by
 * block. Columns are independent, so two threads may parse disjoint column ranges of one window at
 * once. Resumable: each column continues from its `done`. Returns 0 when those columns are done, 1
 * when a field needs the host (out[0] = column, out[1] = row; the host handles it, bumps `done`,
 * calls again), −2 for an unknown kind.
 */
export function csvParse(text: usize, pos: usize, ncols: i32, n: i32, cols: usize, j0: i32, j1: i32, out: usize): i32 {
  for (let b0 = 0; b0 < n; b0 += BLOCK_ROWS) {
    const b1 = min(n, b0 + BLOCK_ROWS);
    for (let j = j0; j < j1; j++) {
      const col = cols + <usize>(j * C_BYTES);
      const from = load<i32>(col, C_DONE);
      if (from >= b1) continue;
      const r = run(text, pos, ncols, j, from, b1, col);
      if (r == -2) return -2;
      if (r >= 0) {
        store<i32>(out, j);
        store<i32>(out, r, 4);
        return 1;
      }
    }
  }
  return 0;
}

// ---- window cuts ---------------------------------------------------------------------------------

/**
 * The end of the last whole row in text[0, len) by quote parity (what csv.ts rowCut did with
 * indexOf, without a JS call per quote): just after a newline with an even number of '"' before
 * it; with `final`, len itself when the count is even. −1 if none within 64 newlines of the end.
 * Parity is only a guess when a quote sits inside an unquoted field; csvScan then hands the window
 * back and the host re-reads from there with the JS tokenizer.
 */
export function csvRowCut(text: usize, len: i32, final: i32): i32 {
  const vq = i8x16.splat(QUOTE);
  let q = 0;
  let i = 0;
  for (; i + 64 <= len; i += 64) q += <i32>popcnt(eqMask(text + <usize>i, vq));
  for (; i < len; i++) if (load<u8>(text + <usize>i) == QUOTE) q++;
  let odd = q & 1;
  if (final != 0) return odd != 0 ? -1 : len;
  let end = len;
  for (let tries = 0; tries < 64; tries++) {
    // The last newline before `end`, counting the quotes passed on the way.
    let p = end - 1;
    let passed = 0;
    while (p >= 0) {
      const c = load<u8>(text + <usize>p);
      if (c == LF) break;
      if (c == QUOTE) passed++;
      p--;
    }
    if (p < 0) return -1;
    odd ^= passed & 1; // now: parity of [0, p)
    if (odd == 0) return p + 1;
    end = p;
  }
  return -1;
}
