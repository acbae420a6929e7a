/**
 * argsort / sortColumn (assembly/sort): stable sorts over one or more key columns.
 *
 * Order, per key:
 *   - integers, dates, timestamps: numeric; bool: false < true;
 *   - floats: −Inf < … < −0 = +0 < … < +Inf < NaN. NaN is the largest value (so it comes first when
 *     descending), all NaNs are equal, and −0 equals +0 — equal values keep their input order;
 *   - utf8: by UTF-8 bytes (= code point order; a proper prefix first); dictionary: by the string
 *     each code stands for (the dictionary is sorted once, and its codes' ranks are radix sorted);
 *   - nulls last by default (Arrow's and DuckDB's default); `nullsFirst` puts them first. A row whose
 *     dictionary code points at a null dictionary entry is null too.
 * Descending reverses the order of values but not of ties: the sort is stable in every direction.
 *
 * Multi-key: the kernel sorts by one key at a time, least significant first, each pass stable over
 * the permutation the previous pass left (LSD over keys) — the result is the lexicographic order.
 *
 * Memory: the result lives in `opts.scope` (default: the first key's scope). Scratch — a second
 * permutation, two record buffers (8 bytes per row, 16 with a 64-bit key) and the digit
 * histograms — is taken from a temporary scope that is closed before returning, so a sort of n
 * rows needs about 4n + 4n + 2·8n bytes of headroom while it runs (2·16n with 64-bit keys).
 */
import { SortFlag } from '../../assembly/shared/codes.js';
import { Column, DType, byteWidth, columnType, isIntegerDType, isNumericType, typeLabel } from '../column.js';
import { allocColumn } from '../column-alloc.js';
import { InvalidOptionError, OutOfRangeError, UnsupportedTypeError } from '../errors.js';
import { ArenaScope } from '../memory/arena.js';
import { assertInMemory, assertSameContext, assertSameLength } from './check.js';
import { guard } from './module.js';

export interface ArgsortOptions {
  /** Largest first: one flag for every key, or one per key. Default false. */
  descending?: boolean | readonly boolean[];
  /** Nulls before values: one flag for every key, or one per key. Default false (nulls last). */
  nullsFirst?: boolean | readonly boolean[];
  /** Where the result is allocated. Default: the first key's scope. */
  scope?: ArenaScope;
}

export interface SortColumnOptions {
  descending?: boolean;
  nullsFirst?: boolean;
  scope?: ArenaScope;
}

/**
 * Radix digit width. 11-bit digits need fewer passes (3 for 32-bit keys, 6 for 64-bit) but their
 * 8 KiB histograms cost more to clear and prefix-sum than small inputs are worth, so small inputs
 * use 8. On 10M random rows (a loaded 2-core box, CPU time) the two were within 5% of each other:
 * i32 207 vs 217 ms, f64 502 vs 521 ms, 11 bits ahead — fewer passes, and records keep the write
 * streams per bucket at one.
 */
const digitBitsFor = (n: number): number => (n >= 1 << 16 ? 11 : 8);
const histBytes = (digitBits: number): number => Math.ceil(64 / digitBits) * (1 << digitBits) * 4;

type KeyKind = 'radix' | 'utf8' | 'dictionary';

function keyKind(op: string, col: Column): KeyKind {
  const t = col.type;
  if (isNumericType(t) || t.name === 'bool') return 'radix';
  if (t.name === 'utf8') return 'utf8';
  if (t.name === 'dictionary') {
    if (!isIntegerDType(t.dtype)) throw new UnsupportedTypeError(op, [col.label], 'dictionary codes must be integers');
    if (col.dictionary === undefined || col.dictionary.type.name !== 'utf8') {
      throw new UnsupportedTypeError(op, [col.label], 'only dictionaries of utf8 strings can be sorted');
    }
    return 'dictionary';
  }
  throw new UnsupportedTypeError(op, [col.label]);
}

/** One flag per key from a boolean or a boolean array of exactly that length. */
function flagsOption(name: string, v: boolean | readonly boolean[] | undefined, keys: number): boolean[] {
  if (v === undefined) return new Array<boolean>(keys).fill(false);
  if (typeof v === 'boolean') return new Array<boolean>(keys).fill(v);
  if (Array.isArray(v) && v.length === keys && v.every((x) => typeof x === 'boolean')) return [...v];
  throw new InvalidOptionError(name, v, `a boolean or an array of ${keys} boolean${keys === 1 ? '' : 's'} (one per key)`);
}

/** utf8 data check beyond assertInMemory: offsets[0] ≥ 0 and the bytes up to offsets[n] in memory. */
function assertUtf8InMemory(op: string, col: Column): void {
  const dv = new DataView(col.ctx.mem.buffer);
  const first = dv.getInt32(col.offsets, true);
  const last = dv.getInt32(col.offsets + col.length * 4, true);
  const limit = col.ctx.mem.byteLength;
  if (first < 0 || last < first) throw new OutOfRangeError(op, `offsets of ${col.label} [first, last] = [${first}, ${last}]; first`, first, last);
  if (col.values + last > limit) throw new OutOfRangeError(op, `data end of ${col.label}`, col.values + last, limit);
}

/** The first row whose offsets decrease (the kernel only says that one does). */
function badOffsetRow(col: Column): number {
  const dv = new DataView(col.ctx.mem.buffer);
  for (let i = 0; i < col.length; i++) {
    if (dv.getInt32(col.offsets + (i + 1) * 4, true) < dv.getInt32(col.offsets + i * 4, true)) return i;
  }
  return -1;
}

function checkKey(op: string, col: Column): KeyKind {
  const kind = keyKind(op, col);
  assertInMemory(op, col);
  if (kind === 'utf8') assertUtf8InMemory(op, col);
  if (kind === 'dictionary') {
    const dict = col.dictionary as Column;
    if (dict.ctx !== col.ctx) throw new UnsupportedTypeError(op, [col.label], 'the dictionary belongs to another engine');
    assertInMemory(op, dict);
    assertUtf8InMemory(op, dict);
  }
  return kind;
}

/** Scratch shared by every pass of one argsort. */
interface Scratch {
  perm: number;
  tmpPerm: number;
  /** Records (radix) or u64 prefixes (utf8); tmpKeys the same size. */
  keys: number;
  tmpKeys: number;
  hist: number;
  digitBits: number;
}

function runUtf8(op: string, col: Column, s: Scratch, flags: number): void {
  const { kernel } = col.ctx;
  const r = guard(op, () => kernel.utf8Pass(col.offsets, col.values, col.validity, col.length, s.perm, s.tmpPerm, s.keys, s.tmpKeys, flags));
  if (r === -2) {
    const row = badOffsetRow(col);
    throw new OutOfRangeError(op, `offsets of ${col.label} decrease at row`, row, col.length);
  }
}

/**
 * Ranks of a dictionary's entries in string order (equal strings share a rank), as a u32 array in
 * `scope`. Null entries get no rank of their own: the caller turns rows that use them into nulls.
 */
function dictionaryRanks(op: string, dict: Column, scope: ArenaScope): { ranks: number; count: number; bits: number } {
  const ctx = dict.ctx;
  const m = dict.length;
  const s: Scratch = {
    perm: scope.alloc(m * 4), tmpPerm: scope.alloc(m * 4), keys: scope.alloc(m * 8), tmpKeys: scope.alloc(m * 8),
    hist: 0, digitBits: 0,
  };
  runUtf8(op, dict, s, SortFlag.IDENTITY);
  const ranks = scope.calloc(m * 4);
  const u8 = ctx.mem.u8;
  const i32 = ctx.mem.i32;
  const u32 = ctx.mem.u32;
  const sameString = (a: number, b: number): boolean => {
    const oa = i32[(dict.offsets >>> 2) + a], la = i32[(dict.offsets >>> 2) + a + 1] - oa;
    const ob = i32[(dict.offsets >>> 2) + b], lb = i32[(dict.offsets >>> 2) + b + 1] - ob;
    if (la !== lb) return false;
    for (let k = 0; k < la; k++) if (u8[dict.values + oa + k] !== u8[dict.values + ob + k]) return false;
    return true;
  };
  let rank = -1;
  let prev = -1;
  for (let i = 0; i < m; i++) {
    const e = i32[(s.perm >>> 2) + i];
    if (!dict.isValid(e)) continue; // nulls sorted last; their rank is never read
    if (prev < 0 || !sameString(prev, e)) rank++;
    u32[(ranks >>> 2) + e] = rank;
    prev = e;
  }
  const bits = rank <= 0 ? 0 : 32 - Math.clz32(rank);
  return { ranks, count: m, bits };
}

/**
 * The validity of a dictionary column as the sort sees it: a row is null if its code is null or
 * its code names a null dictionary entry. Only built when the dictionary has nulls (rare); a plain
 * loop, since it is off the hot path.
 */
function dictionaryValidity(op: string, col: Column, scope: ArenaScope): number {
  const dict = col.dictionary as Column;
  if (dict.validity === 0) return col.validity;
  const n = col.length;
  const bitmap = scope.calloc(Math.ceil(n / 8));
  const codes = codeArray(col);
  const u8 = col.ctx.mem.u8;
  for (let i = 0; i < n; i++) {
    if (!col.isValid(i)) continue;
    const c = Number(codes[i]);
    if (!(c >= 0 && c < dict.length)) throw new OutOfRangeError(op, `dictionary code of ${col.label} at row ${i}`, c, dict.length);
    if (dict.isValid(c)) u8[bitmap + (i >>> 3)] |= 1 << (i & 7);
  }
  return bitmap;
}

function codeArray(col: Column): ArrayLike<number | bigint> {
  const buf = col.ctx.mem.buffer;
  const n = col.length;
  switch (col.type.dtype) {
    case DType.I8: return new Int8Array(buf, col.values, n);
    case DType.I16: return new Int16Array(buf, col.values, n);
    case DType.I32: return new Int32Array(buf, col.values, n);
    case DType.I64: return new BigInt64Array(buf, col.values, n);
    case DType.U8: return new Uint8Array(buf, col.values, n);
    case DType.U16: return new Uint16Array(buf, col.values, n);
    case DType.U32: return new Uint32Array(buf, col.values, n);
    default: return new BigUint64Array(buf, col.values, n);
  }
}

function runDictionary(op: string, col: Column, s: Scratch, flags: number, scope: ArenaScope): void {
  const { kernel } = col.ctx;
  const dict = col.dictionary as Column;
  const { ranks, count, bits } = dictionaryRanks(op, dict, scope);
  const validity = dictionaryValidity(op, col, scope);
  const r = guard(op, () =>
    kernel.radixRankPass(col.type.dtype, col.values, validity, ranks, count, bits, col.length,
      s.perm, s.tmpPerm, s.keys, s.tmpKeys, s.hist, flags, s.digitBits));
  if (r === -2) {
    const codes = codeArray(col);
    for (let i = 0; i < col.length; i++) {
      const c = Number(codes[i]);
      if (col.isValid(i) && !(c >= 0 && c < count)) {
        throw new OutOfRangeError(op, `dictionary code of ${col.label} at row ${i}`, c, count);
      }
    }
  }
  if (r < 0) throw new UnsupportedTypeError(op, [col.label]);
}

/**
 * The stable sort permutation of the rows of `keys` (the first key most significant): an int32
 * column p such that row p[0] comes first. Validates everything before any kernel runs.
 */
export function argsort(keys: Column | readonly Column[], opts: ArgsortOptions = {}): Column {
  return argsortAs('argsort', keys, opts);
}

function argsortAs(op: string, keys: Column | readonly Column[], opts: ArgsortOptions): Column {
  const list: readonly Column[] = keys instanceof Column ? [keys] : keys;
  if (!Array.isArray(list) || list.length === 0 || !list.every((c) => c instanceof Column)) {
    throw new InvalidOptionError('keys', Array.isArray(list) ? `${list.length} items` : typeof keys, 'a Column or a non-empty array of Columns');
  }
  const desc = flagsOption('descending', opts.descending, list.length);
  const nullsFirst = flagsOption('nullsFirst', opts.nullsFirst, list.length);
  if (opts.scope !== undefined && !(opts.scope instanceof ArenaScope)) {
    throw new InvalidOptionError('scope', typeof opts.scope, 'an ArenaScope');
  }
  assertSameContext(op, ...list);
  assertSameLength(op, ...list);
  const kinds = list.map((c) => checkKey(op, c));

  const first = list[0];
  const ctx = first.ctx;
  const n = first.length;
  const out = allocColumn(ctx, opts.scope ?? first.scope, columnType('int32'), n);
  // Radix records are 8 bytes (32-bit key + row) or 16 (64-bit key + row + pad); utf8 prefixes 8.
  const recBytes = list.some((c, k) => kinds[k] === 'radix' && byteWidth(c.type.dtype) === 8) ? 16 : 8;
  const tmp = ctx.scope();
  try {
    const digitBits = digitBitsFor(n);
    const s: Scratch = {
      perm: out.values,
      tmpPerm: tmp.alloc(n * 4),
      keys: tmp.alloc(n * recBytes),
      tmpKeys: tmp.alloc(n * recBytes),
      hist: tmp.alloc(histBytes(digitBits)),
      digitBits,
    };
    // Least significant key first; the first pass starts from the identity permutation.
    for (let k = list.length - 1; k >= 0; k--) {
      const col = list[k];
      const flags = (desc[k] ? SortFlag.DESCENDING : 0) | (nullsFirst[k] ? SortFlag.NULLS_FIRST : 0) |
        (k === list.length - 1 ? SortFlag.IDENTITY : 0);
      if (kinds[k] === 'utf8') runUtf8(op, col, s, flags);
      else if (kinds[k] === 'dictionary') runDictionary(op, col, s, flags, tmp);
      else {
        const r = guard(op, () =>
          ctx.kernel.radixPass(col.type.dtype, col.values, col.validity, n, s.perm, s.tmpPerm, s.keys, s.tmpKeys, s.hist, flags, digitBits));
        if (r < 0) throw new UnsupportedTypeError(op, [col.label]);
      }
    }
  } finally {
    tmp.close();
  }
  return out;
}


/** `col` sorted (stable): a new column in `opts.scope` (default: `col.scope`) with the same type. */
export function sortColumn(col: Column, opts: SortColumnOptions = {}): Column {
  const op = 'sort';
  if (!(col instanceof Column)) throw new InvalidOptionError('col', typeof col, 'a Column');
  for (const name of ['descending', 'nullsFirst'] as const) {
    if (opts[name] !== undefined && typeof opts[name] !== 'boolean') throw new InvalidOptionError(name, opts[name], 'a boolean');
  }
  const scope = opts.scope ?? col.scope;
  const ctx = col.ctx;
  const n = col.length;
  const tmp = ctx.scope();
  try {
    const perm = argsortAs(op, col, { descending: opts.descending, nullsFirst: opts.nullsFirst, scope: tmp });
    if (col.type.name === 'utf8') {
      const dv = new DataView(ctx.mem.buffer);
      const bytes = dv.getInt32(col.offsets + n * 4, true) - dv.getInt32(col.offsets, true);
      const res = allocColumn(ctx, scope, col.type, n, { dataBytes: bytes, validity: col.validity !== 0, name: col.name });
      const valid = guard(op, () =>
        ctx.kernel.sortGatherUtf8(col.offsets, col.values, col.validity, perm.values, n, res.offsets, res.values, res.validity));
      return withNulls(res, n - valid, col);
    }
    const res = allocColumn(ctx, scope, col.type, n, { validity: col.validity !== 0, name: col.name });
    const valid = guard(op, () => ctx.kernel.sortGather(col.type.dtype, col.values, col.validity, perm.values, n, res.values, res.validity));
    if (valid < 0) throw new UnsupportedTypeError(op, [typeLabel(col.type)]);
    return withNulls(res, n - valid, col);
  } finally {
    tmp.close();
  }
}

/** The allocated result with its null count (and the input's dictionary, which codes still index). */
function withNulls(res: Column, nullCount: number, src: Column): Column {
  return new Column(res.ctx, res.scope, {
    type: res.type, length: res.length, values: res.values, offsets: res.offsets, name: res.name,
    validity: nullCount === 0 ? 0 : res.validity, nullCount, dictionary: src.dictionary,
  });
}
