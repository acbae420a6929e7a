// Codes shared by the AssemblyScript kernels and the TypeScript host. This file is compiled by both
// asc and tsc, so it holds plain enums only (no i32/usize, no imports).

/**
 * Physical element types as the kernels see them. Logical Arrow types map onto these on import
 * (Date32 → I32, Date64/Timestamp → I64, Dictionary → its index type, Utf8 → offsets I32 + bytes).
 */
export enum DType {
  I8 = 0,
  I16 = 1,
  I32 = 2,
  I64 = 3,
  U8 = 4,
  U16 = 5,
  U32 = 6,
  U64 = 7,
  F32 = 8,
  F64 = 9,
  /** Bit-packed booleans (Arrow layout, LSB first). */
  BOOL = 10,
}

/** Aggregates (assembly/aggregate). */
export enum AggOp {
  COUNT = 0,
  SUM = 1,
  MIN = 2,
  MAX = 3,
  /** Arithmetic mean as f64 (assembly/groupby; the scalar `mean` is SUM / count on the host). */
  MEAN = 4,
}

/** Operations on a dense group-by window table (assembly/groupby `denseTable`). */
export enum TableOp {
  BYTES = 0,
  INIT = 1,
  USED = 2,
  MOVE = 3,
  EXPAND = 4,
}

/**
 * Key column kinds in a key descriptor (assembly/groupby, assembly/hash): a fixed-width key uses its
 * DType code; these are the kinds that are not a DType.
 */
export enum KeyKind {
  /** offsets (i32 × (n + 1)) + UTF-8 bytes. */
  UTF8 = 32,
}

/** Sort flags (assembly/sort): one bit each, or-ed into the `flags` argument of the sort kernels. */
export enum SortFlag {
  /** Largest first. The order-preserving key is inverted, so the sort stays stable. */
  DESCENDING = 1,
  /** Nulls before the valid values (default: after). */
  NULLS_FIRST = 2,
  /** The input permutation is 0..n-1 and is not read (the first key of a multi-key sort). */
  IDENTITY = 4,
}

/** Comparisons (assembly/compare). BETWEEN is lo ≤ x ≤ hi (inclusive), against two scalars. */
export enum CmpOp {
  EQ = 0,
  NE = 1,
  LT = 2,
  LE = 3,
  GT = 4,
  GE = 5,
  BETWEEN = 6,
}

/** Boolean ops over bitmaps (assembly/compare `bitmapLogic`), Kleene logic when inputs have nulls. */
export enum BoolOp {
  AND = 0,
  OR = 1,
  /** a AND NOT b */
  ANDNOT = 2,
  /** NOT a (b is ignored) */
  NOT = 3,
}

/** Element-wise arithmetic (assembly/arith). */
export enum ArithOp {
  ADD = 0,
  SUB = 1,
  MUL = 2,
  DIV = 3,
  NEG = 4,
  ABS = 5,
}

/** Which operands of a binary arith kernel are columns; a scalar operand points at 8 bytes of ctx.scratch. */
export enum ArithShape {
  COLUMN_COLUMN = 0,
  COLUMN_SCALAR = 1,
  SCALAR_COLUMN = 2,
}

/** Temporal rescaling in castScale (assembly/cast): multiply by the factor, or floor-divide by it. */
export enum ScaleMode {
  MULTIPLY = 0,
  DIVIDE = 1,
}

/**
 * CSV column kinds (assembly/csv) that are not a DType: ints, floats and BOOL use their DType code.
 */
export enum CsvKind {
  /** YYYY-MM-DD → days since the epoch (i32). */
  DATE32 = 16,
  /** offsets (i32 × (n + 1)) + bytes. */
  UTF8 = 32,
}
