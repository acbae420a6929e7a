/**
 * Casts (assembly/cast): between every numeric type, and between the temporal types and integers.
 *
 * Numeric rules:
 * - int → int that holds every value (wider, or same signedness and width): exact, never null.
 * - int → int that cannot (narrower, or signed ↔ unsigned): values outside the target range become
 *   NULL (null-on-overflow). Arrow's "safe" cast raises on the first such value instead; a null
 *   keeps the rest of the batch and marks exactly the rows that did not fit. Valid values that fit
 *   are exact.
 * - float → int: truncation toward zero (2.9 → 2, -2.9 → -2); NaN, ±Infinity and values whose
 *   truncation is outside the target range become NULL.
 * - int/float → float: IEEE round-to-nearest (int64 → float64 above 2^53 rounds; float64 → float32
 *   rounds and overflows to ±Infinity); never null. NaN stays NaN.
 *
 * Temporal types (stored as integers: date32 days, date64 milliseconds, timestamp in its unit):
 * - temporal → temporal converts the unit: to a finer unit multiplies (overflowing int64 → NULL);
 *   to a coarser unit divides rounding toward −∞, so a time maps to the day/second containing it
 *   (timestamp[ms] -1 → date32 -1, i.e. 1969-12-31); date32 results outside int32 → NULL. The same
 *   unit (date64 ↔ timestamp[ms], a timezone change) is a copy. Timezones are labels: instants are
 *   UTC and are not shifted.
 * - temporal ↔ integer reinterprets the stored count (date32 ↔ int32 days, timestamp ↔ int64 ticks)
 *   with the numeric rules above (e.g. int64 → date32 out of int32 range → NULL).
 * - temporal ↔ float, and anything with bool/utf8/dictionary, is an UnsupportedTypeError.
 *
 * Nulls in the input stay null. The result goes to a new column in `opts.scope` (default: the
 * input's scope) or into `opts.into`, which must not overlap the input (a widening cast in place
 * would overwrite values before reading them).
 */
import { ScaleMode } from '../../assembly/shared/codes.js';
import {
  Column, ColumnType, DType, byteWidth, columnType, isFloatDType, typeLabel, type TypeName,
} from '../column.js';
import { InvalidOptionError, UnsupportedTypeError } from '../errors.js';
import { assertInMemory } from './check.js';
import { guard } from './module.js';
import { checkInto, prepareOutput, type OutputOptions } from './output.js';

export type CastOptions = OutputOptions;

const NUMERIC_NAMES = new Set<TypeName>(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64']);
const TEMPORAL_NAMES = new Set<TypeName>(['date32', 'date64', 'timestamp']);

/** Nanoseconds per stored tick (all exact integers < 2^53). */
function nsPerTick(t: ColumnType): number {
  if (t.name === 'date32') return 86_400 * 1e9;
  if (t.name === 'date64') return 1e6;
  switch (t.unit) {
    case 'second': return 1e9;
    case 'millisecond': return 1e6;
    case 'microsecond': return 1e3;
    case 'nanosecond': return 1;
    default: throw new InvalidOptionError('timestamp unit', t.unit, "'second', 'millisecond', 'microsecond' or 'nanosecond'");
  }
}

const isSignedDType = (d: DType): boolean => d === DType.I8 || d === DType.I16 || d === DType.I32 || d === DType.I64;

/** Can a value of `from` be unrepresentable in `to`? Mirrors canFail<F, T> in assembly/cast. */
export function castCanFail(from: DType, to: DType): boolean {
  if (isFloatDType(to)) return false;
  if (isFloatDType(from)) return true;
  if (isSignedDType(from) === isSignedDType(to)) return byteWidth(from) > byteWidth(to);
  if (isSignedDType(from)) return true;
  return byteWidth(from) >= byteWidth(to);
}

function resolveType(to: ColumnType | TypeName): ColumnType {
  if (typeof to !== 'string') return to;
  if (to === 'timestamp') return columnType('timestamp', 'millisecond');
  if (to === 'dictionary') return { name: 'dictionary', dtype: DType.I32 };
  if (!NUMERIC_NAMES.has(to) && !TEMPORAL_NAMES.has(to) && to !== 'bool' && to !== 'utf8') {
    throw new InvalidOptionError('cast to', to, 'a type name (int8 … float64, date32, date64, timestamp) or a ColumnType');
  }
  return columnType(to);
}

type Plan =
  | { kind: 'numeric'; mayNull: boolean }
  | { kind: 'scale'; mode: ScaleMode; factor: number };

function plan(from: ColumnType, to: ColumnType): Plan {
  const fromTemporal = TEMPORAL_NAMES.has(from.name), toTemporal = TEMPORAL_NAMES.has(to.name);
  if (toTemporal) nsPerTick(to); // validates a timestamp's unit first: a bad unit is the caller's real mistake
  const ok = (t: ColumnType, temporal: boolean) => temporal || NUMERIC_NAMES.has(t.name);
  if (!ok(from, fromTemporal) || !ok(to, toTemporal)) {
    throw new UnsupportedTypeError('cast', [typeLabel(from), typeLabel(to)]);
  }
  if ((fromTemporal && isFloatDType(to.dtype)) || (toTemporal && isFloatDType(from.dtype))) {
    throw new UnsupportedTypeError('cast', [typeLabel(from), typeLabel(to)], 'temporal values convert to and from integers only');
  }
  if (fromTemporal && toTemporal) {
    const f = nsPerTick(from), t = nsPerTick(to);
    if (f > t) return { kind: 'scale', mode: ScaleMode.MULTIPLY, factor: f / t };
    if (f < t) return { kind: 'scale', mode: ScaleMode.DIVIDE, factor: t / f };
  }
  return { kind: 'numeric', mayNull: castCanFail(from.dtype, to.dtype) };
}

/**
 * `col` converted to `to` (a ColumnType, or a type name; 'timestamp' means timestamp[ms] — pass
 * `columnType('timestamp', unit, tz)` for another unit). Always a new column (or `opts.into`).
 */
export function cast(col: Column, to: ColumnType | TypeName, opts: CastOptions = {}): Column {
  if (!(col instanceof Column)) throw new InvalidOptionError('cast column', typeof col, 'a Column');
  const type = resolveType(to);
  const p = plan(col.type, type);
  assertInMemory('cast', col);
  const n = col.length;
  checkInto('cast', type, n, [col], opts, false);

  const needValidity = col.validity !== 0 || p.kind === 'scale' || p.mayNull;
  const out = prepareOutput(type, n, [col], needValidity, opts);
  const { kernel } = col.ctx;
  // The result bitmap starts as a copy of the input's (or all ones); the kernel clears more bits.
  const valid = out.validity === 0 ? n : guard('cast', () => kernel.validityAnd(col.validity, 0, out.validity, n));
  const nulled = p.kind === 'scale'
    ? guard('cast', () => kernel.castScale(col.type.dtype, type.dtype, p.mode, col.values, out.values, out.validity, n, p.factor))
    : guard('cast', () => kernel.castNumeric(col.type.dtype, type.dtype, col.values, out.values, out.validity, n));
  if (nulled < 0) throw new UnsupportedTypeError('cast', [typeLabel(col.type), typeLabel(type)], 'no kernel for this pair');
  return out.finish(valid, nulled);
}
