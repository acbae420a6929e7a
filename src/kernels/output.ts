/**
 * Output columns of element-wise kernels (arith, cast): where the result goes, and its validity.
 *
 * A result is either allocated fresh — in `opts.scope`, else in the first input's scope — or
 * written into a caller-provided column `opts.into` (preallocated buffers, in-place updates, and
 * the canary tests that surround an output with guard bytes). All checks run before anything is
 * allocated or written, so a rejected call leaves memory untouched.
 *
 * Validity: the result bitmap is the AND of the inputs' bitmaps (kernel `validityAnd`), and ops
 * that can produce nulls by themselves (integer x / 0, out-of-range casts) clear more bits. When no
 * input has a bitmap and the op cannot produce nulls, no bitmap is written at all (validity 0).
 * When a bitmap was written but ends with no nulls, the result still reports validity 0 — the
 * bitmap is simply left unused in the scope (ceil(n/8) bytes).
 */
import { Column, ColumnType, byteWidth, typeLabel } from '../column.js';
import { bitmapBytes } from '../column-alloc.js';
import { InvalidOptionError, LengthMismatchError, UnsupportedTypeError } from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import { assertInMemory } from './check.js';

export interface OutputOptions {
  /** Scope to allocate the result in (default: the first input column's scope). */
  scope?: ArenaScope;
  /**
   * Write the result into this column's buffers instead of allocating: it must have the result's
   * type and length. Its `values` may be an input's values exactly (in place) where the op allows
   * it, never a partial overlap. If the result needs a bitmap and `into.validity` is 0, one is
   * allocated in `opts.scope` / the input's scope. Returns a new Column over the same buffers.
   */
  into?: Column;
}

/** Where a kernel writes: values and (0 or) the result bitmap, plus how to build the Column after. */
export interface Output {
  values: number;
  validity: number;
  finish(validCount: number, nulledByOp: number): Column;
}

const overlaps = (p: number, pBytes: number, q: number, qBytes: number): boolean =>
  pBytes > 0 && qBytes > 0 && p < q + qBytes && q < p + pBytes;

/**
 * Checks `opts.into` against the result (type, length, memory, overlap with inputs). `inPlaceOk`:
 * exact aliasing of an input's values is allowed (same-width element-wise ops).
 */
export function checkInto(op: string, type: ColumnType, n: number, inputs: readonly Column[], opts: OutputOptions, inPlaceOk: boolean): void {
  const into = opts.into;
  if (into === undefined) return;
  if (!(into instanceof Column)) throw new InvalidOptionError(`${op} into`, typeof into, 'a Column');
  if (into.ctx !== inputs[0].ctx) {
    throw new UnsupportedTypeError(op, [typeLabel(into.type)], 'the `into` column belongs to a different engine');
  }
  if (into.type.name !== type.name || into.type.dtype !== type.dtype || into.type.unit !== type.unit) {
    throw new UnsupportedTypeError(op, [typeLabel(type), typeLabel(into.type)], `the \`into\` column must have the result type ${typeLabel(type)}`);
  }
  if (into.length !== n) throw new LengthMismatchError(op, [n, into.length]);
  assertInMemory(op, into);
  const w = byteWidth(type.dtype);
  for (const c of inputs) {
    const cw = byteWidth(c.type.dtype);
    const same = into.values === c.values && w === cw;
    if (!(inPlaceOk && same) && overlaps(into.values, n * w, c.values, n * cw)) {
      throw new InvalidOptionError(`${op} into`, `values at ${into.values}`, inPlaceOk
        ? "buffers that are an input's own values or do not overlap any input"
        : 'buffers that do not overlap the input');
    }
    if (into.validity !== 0 && c.validity !== 0 && into.validity !== c.validity &&
        overlaps(into.validity, bitmapBytes(n), c.validity, bitmapBytes(n))) {
      throw new InvalidOptionError(`${op} into`, `validity at ${into.validity}`, "a bitmap that is an input's own or does not overlap any input's");
    }
  }
}

/**
 * Allocates (or adopts from `opts.into`, already checked by checkInto) the result's buffers.
 * `needValidity`: some input has a bitmap, or the op may null rows itself.
 */
export function prepareOutput(type: ColumnType, n: number, inputs: readonly Column[], needValidity: boolean, opts: OutputOptions): Output {
  const first = inputs[0];
  const into = opts.into;
  // A bitmap added to an `into` column lives as long as the column's own buffers (its scope).
  const scope = opts.scope ?? (into ? into.scope : first.scope);
  const values = into ? into.values : scope.alloc(n * byteWidth(type.dtype));
  // validityAnd writes every byte of the bitmap, so a plain (uninitialized) allocation is enough.
  const validity = !needValidity ? 0 : into && into.validity !== 0 ? into.validity : scope.alloc(bitmapBytes(n));
  const name = into?.name;
  return {
    values,
    validity,
    finish(validCount: number, nulledByOp: number): Column {
      const nullCount = validity === 0 ? 0 : n - validCount + nulledByOp;
      return new Column(first.ctx, into ? into.scope : scope, {
        type, length: n, values, validity: nullCount === 0 ? 0 : validity, nullCount, name,
      });
    },
  };
}
