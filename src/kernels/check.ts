/**
 * Host-side checks that run before any kernel: a kernel trusts its pointers and lengths (that is
 * what makes its loops tight), so everything it will touch is proven to lie inside the memory here.
 */
import { Column, byteWidth, typeLabel } from '../column.js';
import { LengthMismatchError, OutOfRangeError, UnsupportedTypeError } from '../errors.js';

/** Bytes a column's buffers span: [values, values + valueBytes), [validity, …), [offsets, …). */
export function assertInMemory(op: string, col: Column): void {
  const limit = col.ctx.mem.byteLength;
  const n = col.length;
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new OutOfRangeError(op, 'length', n, 0x7fffffff);
  const span = (what: string, ptr: number, bytes: number) => {
    if (ptr < 0 || ptr + bytes > limit) throw new OutOfRangeError(op, `${what} end`, ptr + bytes, limit);
  };
  if (col.type.name === 'bool') span('values', col.values, Math.ceil(n / 8));
  else if (col.type.name === 'utf8') span('offsets', col.offsets, (n + 1) * 4);
  else span('values', col.values, n * byteWidth(col.type.dtype));
  if (col.validity !== 0) span('validity', col.validity, Math.ceil(n / 8));
}

export function assertSameLength(op: string, ...cols: Column[]): void {
  const n = cols[0].length;
  if (cols.some((c) => c.length !== n)) throw new LengthMismatchError(op, cols.map((c) => c.length));
}

export function assertSameContext(op: string, ...cols: Column[]): void {
  const ctx = cols[0].ctx;
  if (cols.some((c) => c.ctx !== ctx)) {
    throw new UnsupportedTypeError(op, cols.map((c) => typeLabel(c.type)), 'columns belong to different engines');
  }
}
