/**
 * The CSV parsing core, free of engine dependencies so the parse workers (csv-worker.ts) load it
 * alone: the tokenizer, the value parsers, inference, and `parseColumn` writing into any buffer.
 * The dialect and the design are described in csv.ts.
 */

/** Types a CSV column can be read as. */
export type CsvType =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'float32' | 'float64' | 'bool' | 'date32' | 'timestamp' | 'utf8';

export const LF = 10;
const CR = 13;
export const QUOTE = 34;
export const FLAG_QUOTED = 1;
export const FLAG_ESCAPED = 2;

const bitmapBytes = (n: number): number => Math.ceil(n / 8);

// ---- tokenizer ---------------------------------------------------------------------------------

/** Field offsets of the rows of one window: field f = row * ncols + column. */
export class Tokens {
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  flags = new Uint8Array(0);
  /** 1-based line of each row (quoted newlines and blank lines make it differ from the row count). */
  lines = new Int32Array(0);
  rows = 0;

  reserve(fields: number, rows: number): void {
    if (fields > this.starts.length) {
      const cap = Math.max(fields, this.starts.length * 2);
      const grow = <T extends Int32Array | Uint8Array>(a: T, C: new (n: number) => T): T => { const b = new C(cap); b.set(a); return b; };
      this.starts = grow(this.starts, Int32Array);
      this.ends = grow(this.ends, Int32Array);
      this.flags = grow(this.flags, Uint8Array);
    }
    if (rows > this.lines.length) {
      const b = new Int32Array(Math.max(rows, this.lines.length * 2));
      b.set(this.lines);
      this.lines = b;
    }
  }
}

export class RowError {
  constructor(readonly line: number, readonly column: number, readonly detail: string) {}
}

/**
 * Tokenizes the complete rows of buf[pos, limit) into `t` (at most maxRows rows). `ncols` < 0 means
 * "as many as the first row has" (the header line). Returns the offset after the last complete row
 * and the line number after it; throws RowError for a malformed row.
 */
export function tokenize(
  t: Tokens, buf: Uint8Array, pos: number, limit: number, final: boolean, delim: number, ncols: number, line: number, maxRows: number,
): { next: number; line: number; ncols: number } {
  let rows = 0;
  let i = pos;
  let done = pos;
  let width = ncols;
  let doneLine = line;
  t.reserve(1024 * Math.max(1, width), 1024);
  // The arrays in locals (reloaded after each reserve): the hot loop stores without property loads.
  let starts = t.starts, ends = t.ends, flags = t.flags;
  while (i < limit && rows < maxRows) {
    // Blank lines are skipped (the line still counts).
    const c0 = buf[i];
    if (c0 === LF) { i++; line++; done = i; doneLine = line; continue; }
    if (c0 === CR) {
      if (i + 1 < limit && buf[i + 1] === LF) { i += 2; line++; done = i; doneLine = line; continue; }
      if (i + 1 >= limit && !final) break;
    }
    if (starts.length < (rows + 1) * Math.max(1, width) + 1 || t.lines.length <= rows) {
      t.reserve((rows + 1) * Math.max(1, width) * 2 + 1024, rows * 2 + 1024);
      starts = t.starts; ends = t.ends; flags = t.flags;
    }
    const rowLine = line;
    let f = rows * width;
    let col = 0;
    let complete = false;
    for (;;) {
      let s = i;
      let e: number;
      let flag = 0;
      if (i < limit && buf[i] === QUOTE) {
        flag = FLAG_QUOTED;
        s = ++i;
        let closed = false;
        while (i < limit) {
          const c = buf[i];
          if (c === QUOTE) {
            if (i + 1 < limit && buf[i + 1] === QUOTE) { flag = FLAG_ESCAPED | FLAG_QUOTED; i += 2; continue; }
            if (i + 1 >= limit && !final) break; // might be the first of "" split by the window
            closed = true;
            break;
          }
          if (c === LF) line++;
          i++;
        }
        if (!closed) {
          if (final) throw new RowError(rowLine, col, 'unterminated quoted field');
          break; // incomplete row: wait for more bytes
        }
        e = i++;
        if (i < limit) {
          const c = buf[i];
          if (c !== delim && c !== LF && c !== CR) throw new RowError(rowLine, col, `unexpected '${String.fromCharCode(c)}' after a closing quote`);
        } else if (!final) break;
      } else {
        while (i < limit) {
          const c = buf[i];
          if (c === delim || c === LF) break;
          i++;
        }
        e = i;
        if (i >= limit && !final) break;
        if (e > s && buf[e - 1] === CR) e--; // CRLF
      }
      if (width >= 0) {
        if (col >= width) throw new RowError(rowLine, col, `more than ${width} fields`);
      } else if (f + 1 > starts.length) {
        t.reserve(f * 2 + 16, 1);
        starts = t.starts; ends = t.ends; flags = t.flags;
      }
      starts[f] = s;
      ends[f] = e;
      flags[f] = flag;
      f++;
      col++;
      if (i >= limit) { complete = true; break; } // end of input
      const c = buf[i];
      if (c === delim) { i++; continue; }
      if (c === CR) {
        if (i + 1 < limit && buf[i + 1] === LF) i++;
        else if (i + 1 >= limit && !final) break;
      }
      if (i < limit && buf[i] === LF) i++;
      complete = true;
      break;
    }
    if (!complete) break;
    if (width < 0) width = col;
    else if (col !== width) throw new RowError(rowLine, col, `${col} field${col === 1 ? '' : 's'}, expected ${width}`);
    t.lines[rows] = rowLine;
    rows++;
    line++;
    done = i;
    doneLine = line;
  }
  t.rows = rows;
  return { next: done, line: doneLine, ncols: width };
}

// ---- value parsers -----------------------------------------------------------------------------

/** Set by the parsers when the field is not a value of the type (module state: no allocation per field). */
let bad = false;
/** Set by parseTimestamp when the field carried a UTC offset or Z. */
let sawZone = false;

const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
export const latin1 = (buf: Uint8Array, s: number, e: number): string => Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|nan)$/i;

/** An integer of up to 15 digits as a Number; longer ones via BigInt (exact), NaN-free. */
function parseInteger(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let neg = false;
  const c = buf[i];
  if (c === 45) { neg = true; i++; } else if (c === 43) i++;
  if (i >= e || e - i > 15) return parseLongInteger(buf, s, e);
  let v = 0;
  for (; i < e; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) { bad = true; return 0; }
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** Beyond 15 digits: exact through BigInt, returned as a Number only when that is exact (else bigint path). */
let longValue = 0n;
function parseLongInteger(buf: Uint8Array, s: number, e: number): number {
  const str = latin1(buf, s, e);
  if (!/^[+-]?\d+$/.test(str)) { bad = true; return 0; }
  longValue = BigInt(str);
  return Number(longValue);
}

function parseFloat64(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let neg = false;
  let c = buf[i];
  if (c === 45) { neg = true; i++; } else if (c === 43) i++;
  let mant = 0;
  let digits = 0;
  let exp = 0;
  for (; i < e; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    mant = mant * 10 + d;
    digits++;
  }
  if (i < e && buf[i] === 46) {
    for (i++; i < e; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) break;
      mant = mant * 10 + d;
      digits++;
      exp--;
    }
  }
  if (digits === 0) return slowFloat(buf, s, e);
  if (i < e) {
    c = buf[i];
    if (c !== 101 && c !== 69) { bad = true; return 0; }
    i++;
    let eneg = false;
    if (i < e && (buf[i] === 45 || buf[i] === 43)) { eneg = buf[i] === 45; i++; }
    if (i >= e) { bad = true; return 0; }
    let x = 0;
    for (; i < e; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) { bad = true; return 0; }
      if (x < 100000) x = x * 10 + d;
    }
    exp += eneg ? -x : x;
  }
  // Exact fast path (Clinger): mant < 10^15 < 2^53 is exact, 10^|exp| ≤ 10^22 is exact, so one
  // IEEE multiply / divide gives the correctly rounded result. Anything else: the runtime's parser.
  if (digits > 15 || exp < -22 || exp > 22) return slowFloat(buf, s, e);
  const v = exp < 0 ? mant / POW10[-exp] : mant * POW10[exp];
  return neg ? -v : v;
}

function slowFloat(buf: Uint8Array, s: number, e: number): number {
  const str = latin1(buf, s, e);
  if (!FLOAT_RE.test(str)) { bad = true; return 0; }
  const lower = str.toLowerCase().replace(/^\+/, '');
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  if (lower.endsWith('nan')) return NaN;
  return Number(str);
}

function parseBool(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  // ASCII letters | 0x20 → lower case.
  if (n === 4 && (buf[s] | 32) === 116 && (buf[s + 1] | 32) === 114 && (buf[s + 2] | 32) === 117 && (buf[s + 3] | 32) === 101) return 1;
  if (n === 5 && (buf[s] | 32) === 102 && (buf[s + 1] | 32) === 97 && (buf[s + 2] | 32) === 108 && (buf[s + 3] | 32) === 115 && (buf[s + 4] | 32) === 101) return 0;
  bad = true;
  return 0;
}

const digit = (buf: Uint8Array, i: number): number => {
  const d = buf[i] - 48;
  if (d < 0 || d > 9) bad = true;
  return d;
};

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** 'YYYY-MM-DD' at buf[s..s+10) → days since the epoch (sets `bad` if it is not one). */
function parseDateAt(buf: Uint8Array, s: number, e: number): number {
  if (e - s < 10 || buf[s + 4] !== 45 || buf[s + 7] !== 45) { bad = true; return 0; }
  const y = digit(buf, s) * 1000 + digit(buf, s + 1) * 100 + digit(buf, s + 2) * 10 + digit(buf, s + 3);
  const m = digit(buf, s + 5) * 10 + digit(buf, s + 6);
  const d = digit(buf, s + 8) * 10 + digit(buf, s + 9);
  if (m < 1 || m > 12 || d < 1 || d > MONTH_DAYS[m] || (m === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)))) bad = true;
  return daysFromCivil(y, m, d);
}

function parseDate(buf: Uint8Array, s: number, e: number): number {
  if (e - s !== 10) { bad = true; return 0; }
  return parseDateAt(buf, s, e);
}

/** ISO 8601 date-time → microseconds since the epoch, UTC (a Number: exact up to year ~2255, see writeI64). */
function parseTimestamp(buf: Uint8Array, s: number, e: number): number {
  const days = parseDateAt(buf, s, e);
  if (bad) return 0;
  let i = s + 10;
  let secs = 0;
  let micros = 0;
  if (i < e) {
    const sep = buf[i];
    if ((sep !== 84 && sep !== 32) || e - i < 6 || buf[i + 3] !== 58) { bad = true; return 0; }
    const hh = digit(buf, i + 1) * 10 + digit(buf, i + 2);
    const mm = digit(buf, i + 4) * 10 + digit(buf, i + 5);
    i += 6;
    let ss = 0;
    if (i < e && buf[i] === 58) {
      if (e - i < 3) { bad = true; return 0; }
      ss = digit(buf, i + 1) * 10 + digit(buf, i + 2);
      i += 3;
      if (i < e && (buf[i] === 46 || buf[i] === 44)) {
        i++;
        let scale = 100000;
        const f0 = i;
        for (; i < e; i++) {
          const d = buf[i] - 48;
          if (d < 0 || d > 9) break;
          micros += d * scale;
          scale = Math.floor(scale / 10); // digits past µs are dropped (truncation, like Arrow casts)
        }
        if (i === f0) { bad = true; return 0; }
      }
    }
    if (hh > 23 || mm > 59 || ss > 60) bad = true;
    secs = hh * 3600 + mm * 60 + ss;
    if (i < e) {
      const z = buf[i];
      if (z === 90 && i + 1 === e) sawZone = true;
      else if ((z === 43 || z === 45) && (e - i === 6 || e - i === 3 || e - i === 5)) {
        const oh = digit(buf, i + 1) * 10 + digit(buf, i + 2);
        let om = 0;
        if (e - i === 6) { if (buf[i + 3] !== 58) bad = true; om = digit(buf, i + 4) * 10 + digit(buf, i + 5); }
        else if (e - i === 5) om = digit(buf, i + 3) * 10 + digit(buf, i + 4);
        const off = (oh * 3600 + om * 60) * (z === 43 ? 1 : -1);
        secs -= off;
        sawZone = true;
      } else bad = true;
    }
  }
  return (days * 86400 + secs) * 1e6 + micros;
}

// ---- inference ---------------------------------------------------------------------------------

const CAN_BOOL = 1;
const CAN_INT = 2;
const CAN_FLOAT = 4;
const CAN_DATE = 8;
const CAN_TS = 16;

export function inferColumn(t: Tokens, buf: Uint8Array, j: number, ncols: number): { type: CsvType; zone: boolean } {
  let can = CAN_BOOL | CAN_INT | CAN_FLOAT | CAN_DATE | CAN_TS;
  let any = false;
  let zone = false;
  for (let r = 0; r < t.rows && can !== 0; r++) {
    const f = r * ncols + j;
    const s = t.starts[f];
    const e = t.ends[f];
    if (s === e) continue;
    any = true;
    if (can & CAN_BOOL) { bad = false; parseBool(buf, s, e); if (bad) can &= ~CAN_BOOL; }
    if (can & CAN_INT) { bad = false; parseInteger(buf, s, e); if (bad) can &= ~CAN_INT; }
    if (can & CAN_FLOAT) { bad = false; parseFloat64(buf, s, e); if (bad) can &= ~CAN_FLOAT; }
    if (can & CAN_DATE) { bad = false; parseDate(buf, s, e); if (bad) can &= ~CAN_DATE; }
    if (can & CAN_TS) { bad = false; sawZone = false; parseTimestamp(buf, s, e); if (bad) can &= ~CAN_TS; else zone ||= sawZone; }
  }
  bad = false;
  if (!any) return { type: 'utf8', zone: false };
  if (can & CAN_BOOL) return { type: 'bool', zone };
  if (can & CAN_INT) return { type: 'int64', zone };
  if (can & CAN_FLOAT) return { type: 'float64', zone };
  if (can & CAN_DATE) return { type: 'date32', zone };
  if (can & CAN_TS) return { type: 'timestamp', zone };
  return { type: 'utf8', zone };
}

// ---- column builders ---------------------------------------------------------------------------

const INT_RANGE: Record<string, readonly [number, number]> = {
  int8: [-128, 127], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  uint8: [0, 255], uint16: [0, 65535], uint32: [0, 4294967295],
};

export class ParseError {
  constructor(readonly row: number, readonly detail: string) {}
}

/** Where parseColumn writes: the engine's memory (main thread) or a worker's own buffer. */
export interface Target {
  readonly buffer: ArrayBufferLike;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
}

/** Byte addresses of one column's buffers in a Target (values 8-aligned; utf8: offsets + values = bytes). */
export interface Slots {
  readonly values: number;
  readonly validity: number;
  readonly offsets: number;
}

/** Bytes of string data column j needs (utf8 columns: the sum of its field lengths, an upper bound after unescaping). */
export function dataBytesOf(t: Tokens, j: number, ncols: number): number {
  let n = 0;
  for (let r = 0, f = j; r < t.rows; r++, f += ncols) n += t.ends[f] - t.starts[f];
  return n;
}

/**
 * Parses column j of the tokenized rows into `at` (buffers sized for t.rows rows; the validity bitmap
 * is written whole). Returns the null count. Throws ParseError(row, …) at the first bad value.
 */
export function parseColumn(mem: Target, at: Slots, t: Tokens, buf: Uint8Array, j: number, ncols: number, csvType: CsvType): number {
  const n = t.rows;
  const { starts, ends, flags } = t;
  const col = at;
  const u8 = mem.u8;
  const vbase = col.validity;
  let nulls = 0;
  const fail = (r: number, s: number, e: number): never => {
    throw new ParseError(r, `cannot parse '${latin1(buf, s, Math.min(e, s + 40))}' as ${csvType}`);
  };
  // All rows start valid (whole bytes of 1s, the tail bits past n left 0 like every bitmap here);
  // a null clears its bit — no read-modify-write per valid row.
  u8.fill(0xff, vbase, vbase + (n >>> 3));
  if (n & 7) u8[vbase + (n >>> 3)] = (1 << (n & 7)) - 1;
  const clear = (r: number): void => {
    u8[vbase + (r >>> 3)] &= ~(1 << (r & 7));
  };
  const isNull = (f: number): boolean => starts[f] === ends[f] && (csvType !== 'utf8' || (flags[f] & FLAG_QUOTED) === 0);
  bad = false;
  switch (csvType) {
    case 'float64':
    case 'float32': {
      const out = csvType === 'float64' ? new Float64Array(mem.buffer, col.values, n) : new Float32Array(mem.buffer, col.values, n);
      for (let r = 0, f = j; r < n; r++, f += ncols) {
        const s = starts[f], e = ends[f];
        if (s === e) { out[r] = 0; nulls++; clear(r); continue; }
        const v = parseFloat64(buf, s, e);
        if (bad) fail(r, s, e);
        out[r] = v;
      }
      break;
    }
    case 'int64':
    case 'uint64':
    case 'date32':
    case 'timestamp': {
      const is64 = csvType !== 'date32';
      const i32 = mem.i32;
      const base = col.values >>> 2;
      const unsigned = csvType === 'uint64';
      const ts = csvType === 'timestamp';
      for (let r = 0, f = j; r < n; r++, f += ncols) {
        const s = starts[f], e = ends[f];
        if (s === e) { if (is64) { i32[base + 2 * r] = 0; i32[base + 2 * r + 1] = 0; } else i32[base + r] = 0; nulls++; clear(r); continue; }
        if (!is64) {
          const v = parseDate(buf, s, e);
          if (bad) fail(r, s, e);
          i32[base + r] = v;
        } else {
          const v = ts ? parseTimestamp(buf, s, e) : parseInteger(buf, s, e);
          if (bad || (unsigned && v < 0)) fail(r, s, e);
          if (Number.isSafeInteger(v)) {
            // Two's complement halves of a safe integer: >>> 0 is the value mod 2^32, floor(v / 2^32)
            // the high word (negative values included); exact because |v| < 2^53.
            i32[base + 2 * r] = v >>> 0;
            i32[base + 2 * r + 1] = Math.floor(v / 4294967296);
          } else {
            const big = ts ? BigInt(Math.round(v)) : longValue;
            if (!ts && (unsigned ? big > 0xffffffffffffffffn : big > 0x7fffffffffffffffn || big < -0x8000000000000000n)) fail(r, s, e);
            new BigInt64Array(mem.buffer, col.values + 8 * r, 1)[0] = BigInt.asIntN(64, big);
          }
        }
      }
      break;
    }
    case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32': {
      const C = { int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array }[csvType] as Int32ArrayConstructor;
      const out = new C(mem.buffer as unknown as ArrayBuffer, col.values, n);
      const [lo, hi] = INT_RANGE[csvType];
      for (let r = 0, f = j; r < n; r++, f += ncols) {
        const s = starts[f], e = ends[f];
        if (s === e) { out[r] = 0; nulls++; clear(r); continue; }
        const v = parseInteger(buf, s, e);
        if (bad || v < lo || v > hi) fail(r, s, e);
        out[r] = v;
      }
      break;
    }
    case 'bool': {
      u8.fill(0, col.values, col.values + bitmapBytes(n));
      for (let r = 0, f = j; r < n; r++, f += ncols) {
        const s = starts[f], e = ends[f];
        if (s === e) { nulls++; clear(r); continue; }
        const v = parseBool(buf, s, e);
        if (bad) fail(r, s, e);
        if (v) u8[col.values + (r >>> 3)] |= 1 << (r & 7);
      }
      break;
    }
    case 'utf8': {
      const i32 = mem.i32;
      const ob = col.offsets >>> 2;
      let p = col.values;
      i32[ob] = 0;
      for (let r = 0, f = j; r < n; r++, f += ncols) {
        const s = starts[f], e = ends[f];
        if (isNull(f)) { nulls++; clear(r); }
        else {
            if (flags[f] & FLAG_ESCAPED) {
            for (let k = s; k < e; k++) {
              u8[p++] = buf[k];
              if (buf[k] === QUOTE) k++; // "" → "
            }
          } else if (e - s < 128) {
            // Short strings: a byte loop beats creating a subarray view per field.
            for (let k = s; k < e; k++) u8[p++] = buf[k];
          } else {
            u8.set(buf.subarray(s, e), p);
            p += e - s;
          }
        }
        i32[ob + r + 1] = p - col.values;
      }
      break;
    }
  }
  return nulls;
}
