/**
 * Allocating columns in a scope, and building them from JS typed arrays (tests, generators, the
 * Arrow importer). Every buffer is 64-byte aligned; bitmaps are allocated whole bytes (the arena
 * rounds every allocation up to 64 bytes, so kernels may read a bitmap a u64 word at a time).
 */
import { Column, ColumnType, byteWidth } from './column.js';
import type { Context } from './context.js';
import { InvalidOptionError } from './errors.js';
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
