/**
 * A column in the arena: the engine's own handle to Arrow-layout buffers in shared memory.
 *
 * Buffers are byte addresses in the context's memory, 64-byte aligned, with offset 0 (import
 * normalizes sliced vectors). A column belongs to the scope it was allocated in and is valid until
 * that scope closes.
 *
 *   numeric / temporal   values: length × width bytes            validity: bitmap or 0 (= no nulls)
 *   bool                 values: bitmap of length bits
 *   utf8                 offsets: (length + 1) × i32, values: the UTF-8 bytes (offsets[length] of them)
 *   dictionary           values: the codes (its index type), dictionary: a utf8 column
 */
import { DType } from '../assembly/shared/codes.js';
import type { ArenaScope } from './memory/arena.js';
import type { Context } from './context.js';

export { DType };

export type TypeName =
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'float32' | 'float64'
  | 'bool'
  | 'date32' | 'date64' | 'timestamp'
  | 'utf8' | 'dictionary';

export type TimeUnit = 'second' | 'millisecond' | 'microsecond' | 'nanosecond';

export interface ColumnType {
  readonly name: TypeName;
  /** Physical element type of `values` (for utf8: U8 bytes; for dictionary: the code type). */
  readonly dtype: DType;
  /** Timestamp unit (timestamps only). */
  readonly unit?: TimeUnit;
  /** Timestamp time zone, or null (timestamps only). */
  readonly timezone?: string | null;
}

const PHYSICAL: Record<Exclude<TypeName, 'timestamp' | 'dictionary'>, DType> = {
  int8: DType.I8, int16: DType.I16, int32: DType.I32, int64: DType.I64,
  uint8: DType.U8, uint16: DType.U16, uint32: DType.U32, uint64: DType.U64,
  float32: DType.F32, float64: DType.F64, bool: DType.BOOL,
  date32: DType.I32, date64: DType.I64, utf8: DType.U8,
};

/** The column type for a name (timestamps: give the unit; dictionaries: use `dictionaryType`). */
export function columnType(name: Exclude<TypeName, 'dictionary' | 'timestamp'>): ColumnType;
export function columnType(name: 'timestamp', unit: TimeUnit, timezone?: string | null): ColumnType;
export function columnType(name: Exclude<TypeName, 'dictionary'>, unit?: TimeUnit, timezone: string | null = null): ColumnType {
  if (name === 'timestamp') return { name, dtype: DType.I64, unit: unit ?? 'millisecond', timezone };
  return { name, dtype: PHYSICAL[name] };
}

export function dictionaryType(codes: DType): ColumnType {
  return { name: 'dictionary', dtype: codes };
}

/** Bytes per element of a physical type (bool: 0 — bit-packed). */
export function byteWidth(d: DType): number {
  switch (d) {
    case DType.I8: case DType.U8: return 1;
    case DType.I16: case DType.U16: return 2;
    case DType.I32: case DType.U32: case DType.F32: return 4;
    case DType.I64: case DType.U64: case DType.F64: return 8;
    default: return 0;
  }
}

/** Inclusive value range of each integer physical type (scalar checks in arith and compare). */
export const INT_RANGE: Readonly<Partial<Record<DType, readonly [bigint, bigint]>>> = {
  [DType.I8]: [-(2n ** 7n), 2n ** 7n - 1n],
  [DType.I16]: [-(2n ** 15n), 2n ** 15n - 1n],
  [DType.I32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [DType.I64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [DType.U8]: [0n, 2n ** 8n - 1n],
  [DType.U16]: [0n, 2n ** 16n - 1n],
  [DType.U32]: [0n, 2n ** 32n - 1n],
  [DType.U64]: [0n, 2n ** 64n - 1n],
};

/**
 * Writes one value of a physical type at byte `offset` of `view`, little-endian (as wasm reads it):
 * kernel scalars and constants in scratch memory.
 */
export function putScalar(view: DataView, offset: number, d: DType, v: number | bigint): void {
  switch (d) {
    case DType.I8: view.setInt8(offset, Number(v)); break;
    case DType.I16: view.setInt16(offset, Number(v), true); break;
    case DType.I32: view.setInt32(offset, Number(v), true); break;
    case DType.I64: view.setBigInt64(offset, BigInt(v), true); break;
    case DType.U8: view.setUint8(offset, Number(v)); break;
    case DType.U16: view.setUint16(offset, Number(v), true); break;
    case DType.U32: view.setUint32(offset, Number(v), true); break;
    case DType.U64: view.setBigUint64(offset, BigInt(v), true); break;
    case DType.F32: view.setFloat32(offset, Number(v), true); break;
    default: view.setFloat64(offset, Number(v), true);
  }
}

export const isNumericType = (t: ColumnType): boolean =>
  t.name !== 'bool' && t.name !== 'utf8' && t.name !== 'dictionary';
export const isIntegerDType = (d: DType): boolean => d <= DType.U64;
export const isFloatDType = (d: DType): boolean => d === DType.F32 || d === DType.F64;
export const is64BitInt = (d: DType): boolean => d === DType.I64 || d === DType.U64;

/** A human name for errors: the logical type, with its unit where it has one. */
export function typeLabel(t: ColumnType): string {
  if (t.name === 'timestamp') return `timestamp[${t.unit}${t.timezone ? ', ' + t.timezone : ''}]`;
  if (t.name === 'dictionary') return `dictionary<${DType[t.dtype].toLowerCase()}, utf8>`;
  return t.name;
}

export interface ColumnInit {
  type: ColumnType;
  length: number;
  values: number;
  validity?: number;
  nullCount?: number;
  offsets?: number;
  dictionary?: Column;
  name?: string;
}

export class Column {
  readonly ctx: Context;
  readonly scope: ArenaScope;
  readonly type: ColumnType;
  readonly length: number;
  readonly values: number;
  /** Validity bitmap address, or 0 when the column has no nulls. */
  readonly validity: number;
  readonly nullCount: number;
  /** utf8 only: address of (length + 1) i32 offsets. */
  readonly offsets: number;
  /** dictionary only: the (utf8) dictionary the codes index. */
  readonly dictionary: Column | undefined;
  /** The column's name when it came from a table (used in error messages). */
  readonly name: string | undefined;

  constructor(ctx: Context, scope: ArenaScope, init: ColumnInit) {
    this.ctx = ctx;
    this.scope = scope;
    this.type = init.type;
    this.length = init.length;
    this.values = init.values;
    this.validity = init.validity ?? 0;
    this.nullCount = init.nullCount ?? 0;
    this.offsets = init.offsets ?? 0;
    this.dictionary = init.dictionary;
    this.name = init.name;
  }

  /** Bytes per value (0 for bool and utf8). */
  get width(): number {
    return this.type.name === 'utf8' ? 0 : byteWidth(this.type.dtype);
  }

  /** A label for errors: the name if known, else the type. */
  get label(): string {
    return this.name === undefined ? typeLabel(this.type) : `'${this.name}' (${typeLabel(this.type)})`;
  }

  /** Is row i valid (not null)? For tests and slow paths; kernels read the bitmap directly. */
  isValid(i: number): boolean {
    if (this.validity === 0) return true;
    return ((this.ctx.mem.u8[this.validity + (i >>> 3)] >>> (i & 7)) & 1) === 1;
  }
}
