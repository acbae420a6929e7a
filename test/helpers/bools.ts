/** Bool (bit-packed) test columns: build from JS booleans, read back as booleans / nulls. */
import { Column, columnType } from '../../src/column.js';
import { allocColumn } from '../../src/column-alloc.js';
import type { Context } from '../../src/context.js';
import type { ArenaScope } from '../../src/memory/arena.js';

/** A bool column of `vals` (null → a null row; its value bit is set to `nullBit` to catch kernels that read it). */
export function boolColumn(ctx: Context, scope: ArenaScope, vals: ReadonlyArray<boolean | null>, nullBit = true): Column {
  const n = vals.length;
  const hasNull = vals.includes(null);
  const col = allocColumn(ctx, scope, columnType('bool'), n, { validity: hasNull });
  const u8 = ctx.mem.u8;
  let nullCount = 0;
  vals.forEach((v, i) => {
    const bit = v === null ? nullBit : v;
    if (bit) u8[col.values + (i >>> 3)] |= 1 << (i & 7);
    if (v === null) nullCount++;
    else if (hasNull) u8[col.validity + (i >>> 3)] |= 1 << (i & 7);
  });
  return new Column(ctx, scope, { type: col.type, length: n, values: col.values, validity: col.validity, nullCount });
}

/** The rows of a bool column: true / false, or null where the row is null. */
export function boolsOf(col: Column): Array<boolean | null> {
  const u8 = col.ctx.mem.u8;
  return Array.from({ length: col.length }, (_, i) => (col.isValid(i) ? ((u8[col.values + (i >>> 3)] >>> (i & 7)) & 1) === 1 : null));
}

/** The raw value bits of a bool column (null rows included), as booleans. */
export function bitsOf(col: Column): boolean[] {
  const u8 = col.ctx.mem.u8;
  return Array.from({ length: col.length }, (_, i) => ((u8[col.values + (i >>> 3)] >>> (i & 7)) & 1) === 1);
}

/** Counts the null bits of a column's validity bitmap directly (to check a reported nullCount). */
export function countNulls(col: Column): number {
  let k = 0;
  for (let i = 0; i < col.length; i++) if (!col.isValid(i)) k++;
  return k;
}
