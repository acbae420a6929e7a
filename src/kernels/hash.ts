/**
 * Row hashes over one or more key columns (assembly/hash): a u64 (or u32) per row, equal for rows
 * whose keys are equal — floats normalized (-0 = +0, every NaN alike), nulls a fixed hash, strings
 * by their bytes. Several columns combine left to right (the order matters).
 *
 * Key types: every integer width, float32/64, bool, date32/64, timestamp, dictionary (its codes:
 * equal strings under different codes hash differently) and utf8.
 *
 * The hash is stable across threads and runs of the same build, but not a format: do not persist it.
 */
import { KeyKind } from '../../assembly/shared/codes.js';
import { Column, columnType } from '../column.js';
import { InvalidOptionError, OutOfRangeError, UnsupportedTypeError } from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import { assertInMemory, assertSameContext, assertSameLength } from './check.js';
import { guard } from './module.js';

export interface HashOptions {
  /** 64 (default): uint64 hashes; 32: uint32 (the two halves xor-ed). */
  bits?: 32 | 64;
  /** Scope to allocate the result in (default: the first column's scope). */
  scope?: ArenaScope;
}

/** The key descriptor kind of a column (a DType code, or KeyKind.UTF8); throws for types keys cannot have. */
export function keyKind(op: string, col: Column): number {
  const t = col.type;
  if (t.name === 'utf8') return KeyKind.UTF8;
  if (!(t.dtype >= 0 && t.dtype <= 10)) throw new UnsupportedTypeError(op, [col.label], 'not a key type');
  return t.dtype; // bool: DType.BOOL, the kernels read the bit-packed values
}

/**
 * Checks a list of key columns: a non-empty array of Columns of one engine, equal lengths, key
 * types, every byte a kernel reads inside the memory (utf8: offsets and the string data they span).
 */
/**
 * Writes one 16-byte key descriptor per key column (kind, values, validity, offsets; the layout is in
 * assembly/groupby/keys.ts) into `scope` and returns its address: how the group-by kernels see keys.
 */
export function writeKeyDescriptors(op: string, scope: ArenaScope, keys: readonly Column[]): number {
  const desc = scope.alloc(keys.length * 16);
  const u32 = keys[0].ctx.mem.u32;
  keys.forEach((c, i) => {
    const w = (desc >>> 2) + i * 4;
    u32[w] = keyKind(op, c);
    u32[w + 1] = c.values;
    u32[w + 2] = c.validity;
    u32[w + 3] = c.offsets;
  });
  return desc;
}

export function assertKeys(op: string, keys: readonly Column[]): void {
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => !(k instanceof Column))) {
    throw new InvalidOptionError(`${op} keys`, Array.isArray(keys) ? `${keys.length} entries` : typeof keys, 'a non-empty array of Columns');
  }
  assertSameContext(op, ...keys);
  assertSameLength(op, ...keys);
  for (const k of keys) {
    keyKind(op, k);
    assertInMemory(op, k);
    if (k.type.name === 'utf8') assertUtf8Data(op, k);
  }
}

/** The string data of a utf8 column (first..last offset) lies in memory; offsets are trusted beyond that. */
export function assertUtf8Data(op: string, col: Column): void {
  const i32 = col.ctx.mem.i32;
  const first = i32[col.offsets >>> 2];
  const last = i32[(col.offsets >>> 2) + col.length];
  const limit = col.ctx.mem.byteLength;
  if (first < 0 || last < first || col.values + last > limit) throw new OutOfRangeError(op, 'string data end', col.values + last, limit);
}

/** Hashes each row of `keys` (one or more columns of equal length) into a uint64 (or uint32) column. */
export function hashColumns(keys: readonly Column[], opts: HashOptions = {}): Column {
  const op = 'hash';
  const bits = opts.bits ?? 64;
  if (bits !== 32 && bits !== 64) throw new InvalidOptionError('bits', bits, '32 or 64');
  assertKeys(op, keys);
  const first = keys[0];
  const { ctx } = first;
  const n = first.length;
  const scope = opts.scope ?? first.scope;
  const out = scope.alloc(n * (bits / 8));
  // 32-bit output: hash into u64 in a temporary scope, then fold into the result.
  const tmp = bits === 32 ? ctx.scope() : undefined;
  try {
    const h = tmp ? tmp.alloc(n * 8) : out;
    keys.forEach((k, i) => {
      const r = guard(op, () => ctx.kernel.hashColumn(keyKind(op, k), k.values, k.validity, k.offsets, n, h, i > 0 ? 1 : 0));
      if (r !== 0) throw new UnsupportedTypeError(op, [k.label]);
    });
    if (tmp) guard(op, () => ctx.kernel.hashFold32(h, out, n));
  } finally {
    tmp?.close();
  }
  return new Column(ctx, scope, { type: columnType(bits === 64 ? 'uint64' : 'uint32'), length: n, values: out });
}
