/**
 * Builders for utf8 and dictionary test columns. utf8 columns come from `columnFromStrings`
 * (src/column-alloc.ts); dictionaries are built here on top of it.
 */
import { Column, DType, dictionaryType } from '../../src/column.js';
import { bitmapBytes, columnFromStrings } from '../../src/column-alloc.js';
import type { Context } from '../../src/context.js';
import type { ArenaScope } from '../../src/memory/arena.js';

function validityOf(ctx: Context, scope: ArenaScope, n: number, valid?: ArrayLike<boolean>): { validity: number; nullCount: number } {
  if (valid === undefined) return { validity: 0, nullCount: 0 };
  const validity = scope.calloc(bitmapBytes(n));
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) ctx.mem.u8[validity + (i >>> 3)] |= 1 << (i & 7);
    else nullCount++;
  }
  return nullCount === 0 ? { validity: 0, nullCount } : { validity, nullCount };
}

/** A utf8 column of `strings` (null entries are stored as empty strings and marked null). */
export const utf8Column = (ctx: Context, scope: ArenaScope, strings: ReadonlyArray<string | null>, name?: string): Column =>
  columnFromStrings(ctx, scope, strings, name);

/** A dictionary column: int32 (or the given code type) codes into a utf8 dictionary. */
export function dictionaryColumn(
  ctx: Context, scope: ArenaScope, dict: ReadonlyArray<string | null>, codes: ReadonlyArray<number | null>,
  codeType: DType = DType.I32,
): Column {
  const dictionary = utf8Column(ctx, scope, dict);
  const n = codes.length;
  const width = codeType === DType.I8 || codeType === DType.U8 ? 1 : codeType === DType.I16 || codeType === DType.U16 ? 2 : codeType === DType.I64 || codeType === DType.U64 ? 8 : 4;
  const values = scope.calloc(n * width);
  const dv = new DataView(ctx.mem.buffer);
  codes.forEach((c, i) => {
    const v = c ?? 0;
    const at = values + i * width;
    if (width === 1) dv.setInt8(at, v);
    else if (width === 2) dv.setInt16(at, v, true);
    else if (width === 4) dv.setInt32(at, v, true);
    else dv.setBigInt64(at, BigInt(v), true);
  });
  const { validity, nullCount } = validityOf(ctx, scope, n, codes.map((c) => c !== null));
  return new Column(ctx, scope, { type: dictionaryType(codeType), length: n, values, validity, nullCount, dictionary });
}

/** The strings of a utf8 column (null → null), decoded from the shared memory. */
export function readStrings(col: Column): Array<string | null> {
  const dec = new TextDecoder();
  const i32 = col.ctx.mem.i32;
  const out: Array<string | null> = [];
  for (let i = 0; i < col.length; i++) {
    if (!col.isValid(i)) { out.push(null); continue; }
    const a = i32[(col.offsets >>> 2) + i], b = i32[(col.offsets >>> 2) + i + 1];
    out.push(dec.decode(col.ctx.mem.u8.slice(col.values + a, col.values + b)));
  }
  return out;
}
