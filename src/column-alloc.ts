/**
 * Allocating columns in a scope, and building them from JS typed arrays (tests, generators, the
 * Arrow importer). Every buffer is 64-byte aligned; bitmaps are allocated whole bytes (the arena
 * rounds every allocation up to 64 bytes, so kernels may read a bitmap a u64 word at a time).
 */
import { Column, ColumnType, byteWidth, columnType } from './column.js';
import type { Context } from './context.js';
import { InvalidOptionError, OutOfRangeError } from './errors.js';
import type { ArenaScope } from './memory/arena.js';

export type NumericArray =
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Float32Array | Float64Array;

export const bitmapBytes = (n: number): number => Math.ceil(n / 8);

export interface AllocOptions {
  /** Allocate a validity bitmap (all bits cleared: the caller sets them). */
  validity?: boolean;
  /** utf8: bytes of string data to reserve. */
  dataBytes?: number;
  name?: string;
}

/** A column of `length` elements with uninitialized values (and a zeroed validity bitmap if asked). */
export function allocColumn(ctx: Context, scope: ArenaScope, type: ColumnType, length: number, opts: AllocOptions = {}): Column {
  if (!Number.isInteger(length) || length < 0 || length > 0x7fffffff) {
    throw new InvalidOptionError('length', length, 'an integer from 0 to 2^31-1');
  }
  let values: number;
  let offsets = 0;
  if (type.name === 'bool') values = scope.calloc(bitmapBytes(length));
  else if (type.name === 'utf8') {
    offsets = scope.alloc((length + 1) * 4);
    values = scope.alloc(opts.dataBytes ?? 0);
  } else values = scope.alloc(length * byteWidth(type.dtype));
  const validity = opts.validity ? scope.calloc(bitmapBytes(length)) : 0;
  return new Column(ctx, scope, { type, length, values, validity, offsets, name: opts.name });
}

/**
 * A numeric column holding a copy of `data`. `valid` (optional) marks nulls: a boolean per row, or
 * an Arrow-layout bitmap (Uint8Array, LSB first) with `nullCount` counted here.
 */
export function columnFromArray(
  ctx: Context,
  scope: ArenaScope,
  type: ColumnType,
  data: NumericArray,
  valid?: ArrayLike<boolean> | Uint8Array,
  name?: string,
): Column {
  const n = data.length;
  const width = byteWidth(type.dtype);
  if (width !== data.BYTES_PER_ELEMENT) {
    throw new InvalidOptionError('data', data.constructor.name, `a typed array of ${width}-byte elements for ${type.name}`);
  }
  const values = scope.alloc(n * width);
  ctx.mem.u8.set(new Uint8Array(data.buffer, data.byteOffset, n * width), values);
  let validity = 0;
  let nullCount = 0;
  if (valid !== undefined) {
    validity = scope.calloc(bitmapBytes(n));
    const u8 = ctx.mem.u8;
    const packed = valid instanceof Uint8Array && valid.length === bitmapBytes(n);
    for (let i = 0; i < n; i++) {
      const ok = packed ? ((valid[i >>> 3] >>> (i & 7)) & 1) === 1 : Boolean(valid[i]);
      if (ok) u8[validity + (i >>> 3)] |= 1 << (i & 7);
      else nullCount++;
    }
    if (nullCount === 0) validity = 0;
  }
  return new Column(ctx, scope, { type, length: n, values, validity, nullCount, name });
}

/** A typed-array view of a numeric column's values over the current buffer (invalid after growth). */
export function valuesView(col: Column): NumericArray {
  const buf = col.ctx.mem.buffer;
  const n = col.length;
  switch (col.type.dtype) {
    case 0: return new Int8Array(buf, col.values, n);
    case 1: return new Int16Array(buf, col.values, n);
    case 2: return new Int32Array(buf, col.values, n);
    case 3: return new BigInt64Array(buf, col.values, n);
    case 4: return new Uint8Array(buf, col.values, n);
    case 5: return new Uint16Array(buf, col.values, n);
    case 6: return new Uint32Array(buf, col.values, n);
    case 7: return new BigUint64Array(buf, col.values, n);
    case 8: return new Float32Array(buf, col.values, n);
    case 9: return new Float64Array(buf, col.values, n);
    default: throw new InvalidOptionError('column', col.type.name, 'a numeric column');
  }
}

const utf8Encoder = new TextEncoder();

/**
 * A utf8 column holding `strings` (UTF-8 encoded; null entries are stored as empty strings and
 * marked null in the validity bitmap, which exists only when some entry is null).
 */
export function columnFromStrings(ctx: Context, scope: ArenaScope, strings: ReadonlyArray<string | null>, name?: string): Column {
  const n = strings.length;
  const parts = strings.map((s) => (s === null ? null : utf8Encoder.encode(s)));
  const total = parts.reduce((a, p) => a + (p === null ? 0 : p.length), 0);
  if (total > 0x7fffffff) throw new InvalidOptionError('strings', `${total} bytes of UTF-8`, 'at most 2^31-1 bytes (utf8 offsets are int32)');
  const col = allocColumn(ctx, scope, columnType('utf8'), n, { dataBytes: total, validity: parts.includes(null), name });
  const u8 = ctx.mem.u8;
  const i32 = ctx.mem.i32;
  const o = col.offsets >>> 2;
  let pos = 0;
  let nullCount = 0;
  i32[o] = 0;
  for (let i = 0; i < n; i++) {
    const p = parts[i];
    if (p === null) nullCount++;
    else {
      u8.set(p, col.values + pos);
      pos += p.length;
      if (col.validity !== 0) u8[col.validity + (i >>> 3)] |= 1 << (i & 7);
    }
    i32[o + i + 1] = pos;
  }
  return new Column(ctx, scope, {
    type: col.type, length: n, values: col.values, offsets: col.offsets, validity: col.validity, nullCount, name,
  });
}

/**
 * The strings of a utf8 or dictionary column (null rows → null). The bytes are copied out of the
 * shared memory first: TextDecoder refuses views of a SharedArrayBuffer, and a copy cannot change
 * under us while we decode. Call it when no kernel writes into these buffers.
 */
export function stringsOf(col: Column): Array<string | null> {
  if (col.type.name === 'dictionary') {
    const dict = col.dictionary;
    if (dict === undefined) throw new InvalidOptionError('column', col.label, 'a dictionary column with its dictionary');
    const words = stringsOf(dict);
    const codes = valuesView(col);
    const out: Array<string | null> = new Array(col.length);
    for (let i = 0; i < col.length; i++) {
      if (!col.isValid(i)) { out[i] = null; continue; }
      const c = Number(codes[i]);
      if (!(c >= 0 && c < words.length)) throw new OutOfRangeError('stringsOf', `dictionary code at row ${i}`, c, words.length);
      out[i] = words[c];
    }
    return out;
  }
  if (col.type.name !== 'utf8') throw new InvalidOptionError('column', col.label, 'a utf8 or dictionary column');
  const n = col.length;
  const limit = col.ctx.mem.byteLength;
  if (col.offsets < 0 || col.offsets + (n + 1) * 4 > limit) throw new OutOfRangeError('stringsOf', 'offsets end', col.offsets + (n + 1) * 4, limit);
  const offs = col.ctx.mem.i32.slice(col.offsets >>> 2, (col.offsets >>> 2) + n + 1);
  const first = offs[0];
  const last = offs[n];
  if (first < 0 || last < first || col.values + last > limit) throw new OutOfRangeError('stringsOf', 'string data end', col.values + last, limit);
  const bytes = Buffer.from(col.ctx.mem.u8.slice(col.values + first, col.values + last).buffer);
  const out: Array<string | null> = new Array(n);
  for (let i = 0; i < n; i++) {
    const a = offs[i] - first;
    const b = offs[i + 1] - first;
    if (a < 0 || b < a || b > bytes.length) throw new OutOfRangeError('stringsOf', `offsets[${i + 1}]`, offs[i + 1], last);
    out[i] = col.isValid(i) ? bytes.toString('utf8', a, b) : null;
  }
  return out;
}
