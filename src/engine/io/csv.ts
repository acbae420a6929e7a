/**
 * CSV in and out.
 *
 * Reading is byte-level: no string per field. A chunk of the file (default 16 MiB) sits in one Buffer;
 *
 *   1. `tokenize` walks its bytes once and records, for every field of every complete row, the start
 *      and end offsets and whether it was quoted / holds doubled quotes ("" → ");
 *   2. each column is then parsed from those offsets straight into its buffers in the engine's memory
 *      (allocColumn in the batch's scope): integers and dates by digit arithmetic, floats by the exact
 *      fast path (≤ 15 significant digits and a power of ten ≤ 22 — one IEEE multiply or divide of
 *      two exact values, so correctly rounded) with `Number()` on the rare rest, strings by copying
 *      bytes (unescaping only fields that need it).
 *
 * An incomplete last row is carried over to the next chunk, so every chunk is a batch of whole rows:
 * `engine.scan` streams chunk by chunk; `engine.read` keeps every chunk's batch.
 *
 * Dialect: RFC 4180 — a header row (optional), one-byte delimiter (default ','), '"' quotes with ""
 * inside, newlines inside quoted fields, LF or CRLF line ends, blank lines skipped. An empty unquoted
 * field is null; a quoted empty field ("") is the empty string in a utf8 column and null elsewhere.
 *
 * Types: an explicit `schema` names a type per column; the others are inferred from the first
 * `inferRows` rows (default 10 000): bool (true/false, any case) → int64 → float64 → date32
 * (YYYY-MM-DD) → timestamp[µs] (ISO 8601, 'T' or ' ', optional fraction, optional Z / ±HH:MM —
 * normalized to UTC, and the column's time zone is 'UTC' when the sample carries offsets) → utf8.
 * A later value that does not parse as the column's type is a FileFormatError naming the file, the
 * line and the column (pass an explicit schema to widen it) — the contract Polars' and DuckDB's
 * sampling readers have too. Strings are copied as bytes; they are not validated as UTF-8.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { DataType, DateUnit, TimeUnit as ArrowTimeUnit, type Table, type Timestamp, type Vector } from 'apache-arrow';
import { Batch } from '../../arrow/batch.js';
import { Column, columnType, type ColumnType, type TypeName } from '../../column.js';
import { allocColumn, bitmapBytes } from '../../column-alloc.js';
import type { Context } from '../../context.js';
import { AetherError, InvalidOptionError } from '../../errors.js';
import type { ArenaScope } from '../../memory/arena.js';
import type { Schema } from '../expr.js';
import { FileFormatError } from './ipc.js';

/** Types a CSV column can be read as. */
export type CsvType =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'float32' | 'float64' | 'bool' | 'date32' | 'timestamp' | 'utf8';

export interface CsvReadOptions {
  /** One byte (default ','). */
  delimiter?: string;
  /** The first line names the columns (default true). Without it columns are column_1, column_2, … (or the schema's keys, in order). */
  header?: boolean;
  /** Types for some or all columns, by name; the rest are inferred. */
  schema?: Readonly<Record<string, CsvType>>;
  /** Rows sampled for type inference (default 10 000). */
  inferRows?: number;
  /** Bytes per chunk — rows per batch follow from it (default 16 MiB). */
  chunkBytes?: number;
}

export interface CsvWriteOptions {
  delimiter?: string;
  /** Write a header row (default true). */
  header?: boolean;
}

/** Where bytes come from: a file path, or bytes already in hand (labelled for errors). */
export type CsvInput = string | { readonly bytes: Uint8Array; readonly name: string };

const LF = 10;
const CR = 13;
const QUOTE = 34;
const CSV_TYPES: readonly CsvType[] = [
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'bool', 'date32', 'timestamp', 'utf8',
];
const DEFAULT_CHUNK = 16 << 20;
const FLAG_QUOTED = 1;
const FLAG_ESCAPED = 2;

// ---- options -----------------------------------------------------------------------------------

interface Dialect {
  delim: number;
  header: boolean;
  schema: Readonly<Record<string, CsvType>>;
  inferRows: number;
  chunkBytes: number;
}

function dialectOf(o: CsvReadOptions = {}): Dialect {
  if (o === null || typeof o !== 'object') throw new InvalidOptionError('csv', o, 'an object of CSV options');
  const d = o.delimiter ?? ',';
  if (typeof d !== 'string' || d.length !== 1 || d.charCodeAt(0) > 127 || d === '"' || d === '\n' || d === '\r') {
    throw new InvalidOptionError('csv.delimiter', d, 'one ASCII character other than a quote or a line break');
  }
  const schema = o.schema ?? {};
  if (schema === null || typeof schema !== 'object') throw new InvalidOptionError('csv.schema', schema, 'an object { column: type }');
  for (const [k, t] of Object.entries(schema)) {
    if (!CSV_TYPES.includes(t)) throw new InvalidOptionError(`csv.schema.${k}`, t, CSV_TYPES.map((x) => `'${x}'`).join(', '));
  }
  const inferRows = o.inferRows ?? 10_000;
  if (!Number.isInteger(inferRows) || inferRows < 1) throw new InvalidOptionError('csv.inferRows', inferRows, 'a positive integer');
  const chunkBytes = o.chunkBytes ?? DEFAULT_CHUNK;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > 1 << 30) throw new InvalidOptionError('csv.chunkBytes', chunkBytes, 'an integer from 1 to 2^30');
  if (o.header !== undefined && typeof o.header !== 'boolean') throw new InvalidOptionError('csv.header', o.header, 'true or false');
  return { delim: d.charCodeAt(0), header: o.header ?? true, schema, inferRows, chunkBytes };
}

// ---- chunked byte source -----------------------------------------------------------------------

/**
 * Hands out windows of the input that end on whole rows: `fill()` makes sure `buf[pos, limit)`
 * holds the unconsumed bytes plus up to chunkBytes more (growing the buffer when one row is larger
 * than a chunk), `final` says the window reaches the end of the input.
 */
class ChunkReader {
  buf: Uint8Array;
  pos = 0;
  limit = 0;
  final = false;
  /** File offset of buf[0] (for nothing but diagnostics). */
  #fh: FileHandle | undefined;
  #filePos = 0;
  readonly #bytes: Uint8Array | undefined;

  private constructor(readonly name: string, readonly chunk: number, fh: FileHandle | undefined, bytes: Uint8Array | undefined) {
    this.#fh = fh;
    this.#bytes = bytes;
    this.buf = bytes ?? new Uint8Array(0);
  }

  static async open(input: CsvInput, chunk: number): Promise<ChunkReader> {
    if (typeof input !== 'string') {
      if (!(input.bytes instanceof Uint8Array)) throw new InvalidOptionError('input', typeof input.bytes, 'a Uint8Array');
      return new ChunkReader(input.name, chunk, undefined, input.bytes);
    }
    let fh: FileHandle;
    try {
      fh = await open(input, 'r');
    } catch (e) {
      throw new FileFormatError(input, `cannot open: ${(e as Error).message}`);
    }
    return new ChunkReader(input, chunk, fh, undefined);
  }

  /** Makes more bytes available after the unconsumed ones; false at the end of the input. */
  async fill(): Promise<boolean> {
    if (this.final) return false;
    if (this.#bytes) {
      // In-memory input: the window slides over the bytes; nothing is copied.
      const end = Math.min(this.#bytes.length, this.limit + Math.max(this.chunk, this.limit - this.pos));
      this.limit = end;
      this.final = end === this.#bytes.length;
      return true;
    }
    const keep = this.limit - this.pos;
    const want = Math.max(this.chunk, keep);
    if (this.buf.length < keep + want) {
      const next = Buffer.allocUnsafe(keep + want);
      next.set(this.buf.subarray(this.pos, this.limit), 0);
      this.buf = next;
    } else if (this.pos > 0) this.buf.copyWithin(0, this.pos, this.limit);
    this.pos = 0;
    this.limit = keep;
    // Read keep + want, not the whole buffer: a buffer grown once (a long row, the inference sample)
    // must not make every later batch bigger.
    const target = keep + want;
    while (this.limit < target) {
      const { bytesRead } = await this.#fh!.read(this.buf, this.limit, target - this.limit, this.#filePos);
      if (bytesRead === 0) {
        this.final = true;
        break;
      }
      this.#filePos += bytesRead;
      this.limit += bytesRead;
    }
    return true;
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }
}

// ---- tokenizer ---------------------------------------------------------------------------------

/** Field offsets of the rows of one window: field f = row * ncols + column. */
class Tokens {
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

class RowError {
  constructor(readonly line: number, readonly column: number, readonly detail: string) {}
}

/**
 * Tokenizes the complete rows of buf[pos, limit) into `t` (at most maxRows rows). `ncols` < 0 means
 * "as many as the first row has" (the header line). Returns the offset after the last complete row
 * and the line number after it; throws RowError for a malformed row.
 */
function tokenize(
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
const latin1 = (buf: Uint8Array, s: number, e: number): string => Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
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

function inferColumn(t: Tokens, buf: Uint8Array, j: number, ncols: number): { type: CsvType; zone: boolean } {
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

function columnTypeFor(t: CsvType, zone: boolean): ColumnType {
  if (t === 'timestamp') return columnType('timestamp', 'microsecond', zone ? 'UTC' : null);
  return columnType(t as Exclude<TypeName, 'dictionary' | 'timestamp'>);
}

// ---- column builders ---------------------------------------------------------------------------

const INT_RANGE: Record<string, readonly [number, number]> = {
  int8: [-128, 127], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  uint8: [0, 255], uint16: [0, 65535], uint32: [0, 4294967295],
};

class ParseError {
  constructor(readonly row: number, readonly detail: string) {}
}

/** Parses column j of the tokenized rows into a new column in `scope`. Throws ParseError(row, …). */
function buildColumn(
  ctx: Context, scope: ArenaScope, t: Tokens, buf: Uint8Array, j: number, ncols: number, name: string, type: ColumnType, csvType: CsvType,
): Column {
  const n = t.rows;
  const { starts, ends, flags } = t;
  let dataBytes = 0;
  if (csvType === 'utf8') for (let r = 0, f = j; r < n; r++, f += ncols) dataBytes += ends[f] - starts[f];
  const col = allocColumn(ctx, scope, type, n, { validity: true, dataBytes, name });
  // Views after the allocation: it may have grown the memory (a new buffer).
  const mem = ctx.mem;
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
  return new Column(ctx, scope, {
    type, length: n, values: col.values, offsets: col.offsets, validity: nulls > 0 ? col.validity : 0, nullCount: nulls, name,
  });
}

// ---- the reader --------------------------------------------------------------------------------

export interface CsvLayout {
  names: string[];
  csvTypes: CsvType[];
  schema: Schema;
}

/**
 * A CSV file opened for reading: `layout` is known after `open()` (header + inferred types), then
 * `batches()` yields one Batch per chunk of rows. Each run of a scan opens a new reader.
 */
export class CsvReader {
  readonly #ctx: Context;
  readonly #d: Dialect;
  readonly #src: ChunkReader;
  readonly #tok = new Tokens();
  #layout: CsvLayout | undefined;
  #line = 1;
  #ncols = -1;
  #headerNames: string[] | undefined;
  /** Rows tokenized by open() (the inference sample), handed out first. */
  #pending = false;

  private constructor(ctx: Context, d: Dialect, src: ChunkReader) {
    this.#ctx = ctx;
    this.#d = d;
    this.#src = src;
  }

  get name(): string {
    return this.#src.name;
  }

  /**
   * Opens the input and reads the header and the inference sample. `layout` (from an earlier open of
   * the same file — a scan's next run) fixes the names and types instead of inferring them again.
   */
  static async open(ctx: Context, input: CsvInput, opts?: CsvReadOptions, layout?: CsvLayout): Promise<CsvReader> {
    const d = dialectOf(opts);
    const src = await ChunkReader.open(input, d.chunkBytes);
    const r = new CsvReader(ctx, d, src);
    try {
      await r.#start(layout);
      return r;
    } catch (e) {
      await src.close();
      throw e;
    }
  }

  get layout(): CsvLayout {
    return this.#layout!;
  }

  #error(e: unknown, column?: number): never {
    if (e instanceof RowError) {
      const names = this.#layout?.names ?? this.#headerNames;
      throw new FileFormatError(this.name, e.detail, undefined, e.line, names ? names[e.column] : column !== undefined ? `column_${column + 1}` : undefined);
    }
    throw e;
  }

  /** Reads the header and the inference sample. */
  async #start(known?: CsvLayout): Promise<void> {
    const src = this.#src;
    const d = this.#d;
    let names: string[] | undefined;
    // Header: one row of any width.
    if (d.header) {
      for (;;) {
        if (!(await src.fill())) break;
        const h = this.#tokenize(-1, 1);
        if (h.rows === 1) {
          names = [];
          for (let k = 0; k < this.#ncols; k++) {
            const s = this.#tok.starts[k], e = this.#tok.ends[k];
            names.push(unescape(src.buf, s, e, this.#tok.flags[k]));
          }
          break;
        }
        if (src.final) break;
      }
      if (!names) throw new FileFormatError(this.name, 'empty file: no header row');
      this.#headerNames = names;
      const seen = new Set<string>();
      names = names.map((n, k) => {
        let v = n === '' ? `column_${k + 1}` : n;
        while (seen.has(v)) v = `${v}_`;
        seen.add(v);
        return v;
      });
    }
    // Sample: the first inferRows rows (fewer if the input ends).
    // The sample must not depend on the chunk size (or inference would): while it is short of
    // inferRows and the input goes on, re-tokenize it from its start in a larger window.
    this.#tok.rows = 0;
    let sampleAt = src.pos;
    const sampleLine = this.#line;
    const sampleCols = this.#ncols;
    for (;;) {
      if (src.limit > src.pos) {
        this.#tokenize(this.#ncols, d.inferRows);
        if (this.#tok.rows >= d.inferRows) break;
      }
      if (src.final) break;
      src.pos = sampleAt;
      this.#line = sampleLine;
      this.#ncols = sampleCols;
      await src.fill();
      sampleAt = src.pos; // a file window moves its unconsumed bytes to the front
    }
    if (this.#ncols < 0) {
      if (!names) {
        if (this.#tok.rows === 0) {
          const keys = Object.keys(d.schema);
          if (keys.length === 0) throw new FileFormatError(this.name, 'empty file: no rows and no schema');
          this.#ncols = keys.length;
        }
      } else this.#ncols = names.length;
    }
    const ncols = this.#ncols;
    if (!names) {
      const keys = Object.keys(d.schema);
      names = keys.length === ncols ? keys : Array.from({ length: ncols }, (_, k) => `column_${k + 1}`);
    }
    for (const k of Object.keys(d.schema)) {
      if (!names.includes(k)) throw new InvalidOptionError('csv.schema', k, `a column of ${this.name}: ${names.map((x) => `'${x}'`).join(', ')}`);
    }
    if (known) {
      if (known.names.length !== names.length || known.names.some((n, k) => n !== names![k])) {
        throw new FileFormatError(this.name, `columns changed since the file was opened: ${names.join(', ')}`);
      }
      this.#layout = known;
      this.#pending = this.#tok.rows > 0;
      return;
    }
    const csvTypes: CsvType[] = [];
    const schema = new Map<string, ColumnType>();
    names.forEach((name, j) => {
      const given = d.schema[name];
      const inf = given ?? inferColumn(this.#tok, src.buf, j, ncols);
      const t = typeof inf === 'string' ? { type: inf, zone: false } : inf;
      csvTypes.push(t.type);
      schema.set(name, columnTypeFor(t.type, t.zone));
    });
    this.#layout = { names, csvTypes, schema };
    this.#pending = this.#tok.rows > 0;
  }

  /** Tokenizes from src.pos; advances it past the complete rows. */
  #tokenize(ncols: number, maxRows: number): Tokens {
    const src = this.#src;
    let r;
    try {
      r = tokenize(this.#tok, src.buf, src.pos, src.limit, src.final, this.#d.delim, ncols, this.#line, maxRows);
    } catch (e) {
      this.#error(e);
    }
    src.pos = r.next;
    this.#line = r.line;
    this.#ncols = r.ncols;
    return this.#tok;
  }

  /** The tokenized rows as a Batch in `scope`. */
  #batch(scope: ArenaScope): Batch {
    const { names, csvTypes, schema } = this.#layout!;
    const cols: Array<[string, Column]> = [];
    for (let j = 0; j < names.length; j++) {
      try {
        cols.push([names[j], buildColumn(this.#ctx, scope, this.#tok, this.#src.buf, j, names.length, names[j], schema.get(names[j])!, csvTypes[j])]);
      } catch (e) {
        if (e instanceof ParseError) {
          throw new FileFormatError(this.name, `${e.detail}${this.#d.schema[names[j]] ? '' : ` (type inferred from the first ${this.#d.inferRows} rows; pass { csv: { schema: { ${JSON.stringify(names[j])}: 'utf8' } } } to widen it)`}`, undefined, this.#tok.lines[e.row], names[j]);
        }
        throw e;
      }
    }
    return new Batch(cols, this.#tok.rows);
  }

  /** One Batch per chunk of rows; each in the scope `scopeFor()` returns (called once per batch). */
  async *batches(scopeFor: () => ArenaScope, signal?: AbortSignal): AsyncGenerator<Batch> {
    try {
      const ncols = this.#layout!.names.length;
      if (this.#pending) {
        this.#pending = false;
        yield this.#batch(scopeFor());
      }
      for (;;) {
        signal?.throwIfAborted();
        if (this.#src.pos >= this.#src.limit && this.#src.final) break;
        await this.#src.fill();
        const t = this.#tokenize(ncols, 0x7fffffff);
        if (t.rows > 0) yield this.#batch(scopeFor());
        else if (this.#src.final) {
          // The final window always completes its last row or throws; never spin on leftovers.
          if (this.#src.pos < this.#src.limit) throw new FileFormatError(this.name, 'trailing bytes that form no row', undefined, this.#line);
          break;
        }
      }
    } finally {
      await this.#src.close();
    }
  }

  async close(): Promise<void> {
    await this.#src.close();
  }
}

function unescape(buf: Uint8Array, s: number, e: number, flag: number): string {
  const raw = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');
  return flag & FLAG_ESCAPED ? raw.replace(/""/g, '"') : raw;
}

/** The schema a CSV file reads as (header + inference), without reading past the sample. */
export async function readCsvSchema(ctx: Context, input: CsvInput, opts?: CsvReadOptions): Promise<CsvLayout> {
  const r = await CsvReader.open(ctx, input, opts);
  await r.close();
  return r.layout;
}

// ---- writer ------------------------------------------------------------------------------------

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

function formatDate(days: number): string {
  return new Date(days * 86400000).toISOString().slice(0, 10);
}

function formatTimestamp(v: bigint | number, unit: ArrowTimeUnit, zoned: boolean): string {
  const big = typeof v === 'bigint' ? v : BigInt(v);
  const per = unit === ArrowTimeUnit.SECOND ? 1n : unit === ArrowTimeUnit.MILLISECOND ? 1000n : unit === ArrowTimeUnit.MICROSECOND ? 1000000n : 1000000000n;
  let secs = big / per;
  let frac = big % per;
  if (frac < 0n) { frac += per; secs -= 1n; }
  const d = new Date(Number(secs) * 1000);
  if (Number.isNaN(d.getTime())) return String(v);
  const base = `${d.getUTCFullYear().toString().padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const digits = per === 1n ? 0 : per.toString().length - 1;
  const f = digits > 0 && frac !== 0n ? '.' + frac.toString().padStart(digits, '0').replace(/0+$/, '') : '';
  return base + f + (zoned ? 'Z' : '');
}

/** A cell formatter for one column of a Table (RFC 4180 quoting for strings). */
function formatterFor(v: Vector, delim: string): (i: number) => string {
  const type = v.type as DataType;
  const needs = new RegExp(`[${delim === ']' ? '\\]' : delim.replace(/[\\^-]/g, '\\$&')}"\\r\\n]`);
  const quote = (s: string): string => (s === '' || needs.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  if (DataType.isDate(type)) {
    const day = type.unit === DateUnit.DAY;
    return (i) => {
      const x = v.get(i);
      if (x === null) return '';
      const ms = typeof x === 'number' ? x : x instanceof Date ? x.getTime() : Number(x);
      return formatDate(day && typeof x === 'number' && Math.abs(x) < 1e8 ? x : Math.floor(ms / 86400000));
    };
  }
  if (DataType.isTimestamp(type)) {
    const t = type as Timestamp;
    const data = v.data;
    return (i) => {
      if (!v.isValid(i)) return '';
      // Raw storage (arrow-js converts timestamps to ms Numbers in get(); read the int64 itself).
      let k = i;
      for (const d of data) {
        if (k < d.length) return formatTimestamp((d.values as BigInt64Array)[k], t.unit, t.timezone != null);
        k -= d.length;
      }
      return '';
    };
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type) || DataType.isDictionary(type)) {
    return (i) => {
      const x = v.get(i);
      return x === null ? '' : quote(String(x));
    };
  }
  if (DataType.isFloat(type)) {
    return (i) => {
      const x = v.get(i) as number | null;
      if (x === null) return '';
      return Number.isFinite(x) ? String(x) : Number.isNaN(x) ? 'NaN' : x > 0 ? 'inf' : '-inf';
    };
  }
  return (i) => {
    const x = v.get(i);
    return x === null ? '' : String(x);
  };
}

/** Writes a Table as CSV (RFC 4180: quotes around fields holding the delimiter, quotes or line breaks). Returns bytes written. */
export async function writeCsv(path: string, table: Table, opts: CsvWriteOptions = {}): Promise<number> {
  const delim = opts.delimiter ?? ',';
  if (typeof delim !== 'string' || delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
    throw new InvalidOptionError('csv.delimiter', delim, 'one character other than a quote or a line break');
  }
  const out = createWriteStream(path);
  let bytes = 0;
  const write = (s: string): Promise<void> | void => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) return new Promise<void>((res) => out.once('drain', () => res()));
  };
  const done = new Promise<void>((res, rej) => { out.once('finish', res); out.once('error', rej); });
  try {
    const names = table.schema.fields.map((f) => f.name);
    if (opts.header ?? true) {
      const q = (s: string) => (s === '' || new RegExp(`[${delim}"\\r\\n]`).test(s) ? `"${s.replace(/"/g, '""')}"` : s);
      await write(names.map(q).join(delim) + '\n');
    }
    for (const batch of table.batches) {
      const fmts = names.map((_, j) => formatterFor(batch.getChildAt(j)!, delim));
      const lines: string[] = [];
      for (let i = 0; i < batch.numRows; i++) {
        let line = '';
        for (let j = 0; j < fmts.length; j++) line += (j ? delim : '') + fmts[j](i);
        lines.push(line);
        if (lines.length === 8192) { await write(lines.join('\n') + '\n'); lines.length = 0; }
      }
      if (lines.length) await write(lines.join('\n') + '\n');
    }
  } catch (e) {
    out.destroy();
    throw e instanceof AetherError ? e : new FileFormatError(path, `cannot write: ${(e as Error).message}`);
  }
  out.end();
  await done;
  return bytes;
}
