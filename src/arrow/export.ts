/**
 * Arrow export: columns → apache-arrow Vectors / Tables whose buffers are VIEWS of the shared memory
 * (no copy). Each Data is built with `makeData` over typed arrays of the exact `ArrayType` on
 * `ctx.mem.buffer`, an explicit `nullCount` (arrow-js caches it, so it is never recounted from
 * memory a kernel might still write) and the validity bitmap as a view, or none when there are no nulls.
 *
 * Types come back as they were imported (src/arrow/import.ts): date32 → DateDay, date64 →
 * DateMillisecond, timestamp → Timestamp(unit, time zone), dictionary → Dictionary<Utf8, its index
 * type>. utf8 exports as Utf8 (also what came in as LargeUtf8 or Utf8View), float16 came in widened
 * and leaves as Float32. A dictionary gets a fresh dictionary id per export.
 *
 * When to export, and for how long the result is good:
 *   - export after the kernels that write the column have finished: the views are live memory, and
 *     the nullCount given to arrow-js is the column's at export time;
 *   - the vector is valid while the column's scope is open — closing it hands the bytes to the next
 *     allocation, and the views then show whatever is written there;
 *   - views are made over the buffer object current at export time. After `memory.grow` they still
 *     work (they alias the same memory) but keep their old length — which covers every column that
 *     existed when they were made; export again to see columns allocated after the growth.
 */
import {
  Bool, type Data, DataType, DateDay, DateMillisecond, Dictionary, Field, Float32, Float64,
  Int16, Int32, Int64, Int8, RecordBatch, Schema, Struct, Table, Timestamp, TimeUnit as ArrowTimeUnit,
  Uint16, Uint32, Uint64, Uint8, Utf8, Vector, makeData,
} from 'apache-arrow';
import { Column, DType, byteWidth, type ColumnType, type TimeUnit } from '../column.js';
import { bitmapBytes } from '../column-alloc.js';
import { InvalidOptionError, OutOfRangeError, ScopeClosedError } from '../errors.js';
import { Batch, type BatchInit } from './batch.js';

const UNITS: Record<TimeUnit, ArrowTimeUnit> = {
  second: ArrowTimeUnit.SECOND,
  millisecond: ArrowTimeUnit.MILLISECOND,
  microsecond: ArrowTimeUnit.MICROSECOND,
  nanosecond: ArrowTimeUnit.NANOSECOND,
};

/** The Arrow integer type for a physical integer type (dictionary indices). */
function intType(d: DType): DataType {
  switch (d) {
    case DType.I8: return new Int8();
    case DType.I16: return new Int16();
    case DType.I32: return new Int32();
    case DType.I64: return new Int64();
    case DType.U8: return new Uint8();
    case DType.U16: return new Uint16();
    case DType.U32: return new Uint32();
    case DType.U64: return new Uint64();
    default: throw new InvalidOptionError('dictionary index type', DType[d], 'an integer type');
  }
}

/** The Arrow type a column exports as (dictionaries: a fresh Dictionary<Utf8, index> each call). */
export function arrowType(type: ColumnType): DataType {
  switch (type.name) {
    case 'int8': case 'int16': case 'int32': case 'int64':
    case 'uint8': case 'uint16': case 'uint32': case 'uint64':
      return intType(type.dtype);
    case 'float32': return new Float32();
    case 'float64': return new Float64();
    case 'bool': return new Bool();
    case 'date32': return new DateDay();
    case 'date64': return new DateMillisecond();
    case 'timestamp': return new Timestamp(UNITS[type.unit ?? 'millisecond'], type.timezone ?? null);
    case 'utf8': return new Utf8();
    case 'dictionary': return new Dictionary(new Utf8(), intType(type.dtype) as Int32);
  }
}

/** The column as an arrow-js Data over views of the shared memory. */
export function exportData(col: Column): Data {
  if (!col.scope.open) throw new ScopeClosedError(col.scope.id);
  const mem = col.ctx.mem;
  const buf = mem.buffer;
  const n = col.length;
  // Checked before any view is made: a bad address would otherwise surface as a RangeError from a
  // typed-array constructor (or, worse, a view of the wrong bytes). Empty buffers may sit anywhere.
  const inMemory = (what: string, addr: number, bytes: number): void => {
    if (bytes === 0 && addr >= 0 && addr <= buf.byteLength) return;
    if (!(addr > 0 && addr + bytes <= buf.byteLength)) throw new OutOfRangeError('export', `${col.label} ${what} end`, addr + bytes, buf.byteLength);
  };
  let nullBitmap: Uint8Array | undefined;
  if (col.validity !== 0 && col.nullCount > 0) {
    inMemory('validity', col.validity, bitmapBytes(n));
    nullBitmap = new Uint8Array(buf, col.validity, bitmapBytes(n));
  }
  const nullCount = nullBitmap ? col.nullCount : 0;
  const type = arrowType(col.type);
  switch (col.type.name) {
    case 'bool':
      inMemory('values', col.values, bitmapBytes(n));
      return makeData({ type: type as Bool, length: n, nullCount, nullBitmap, data: new Uint8Array(buf, col.values, bitmapBytes(n)) });
    case 'utf8': {
      inMemory('offsets', col.offsets, (n + 1) * 4);
      const valueOffsets = new Int32Array(buf, col.offsets, n + 1);
      const bytes = valueOffsets[n];
      inMemory('values', col.values, bytes);
      return makeData({ type: type as Utf8, length: n, nullCount, nullBitmap, valueOffsets, data: new Uint8Array(buf, col.values, bytes) });
    }
    case 'dictionary': {
      if (col.dictionary === undefined) throw new InvalidOptionError('column', col.label, 'a dictionary column with its dictionary');
      const t = type as Dictionary;
      inMemory('codes', col.values, n * byteWidth(col.type.dtype));
      const Codes = t.indices.ArrayType as unknown as new (b: ArrayBufferLike, o: number, n: number) => Int32Array;
      const data = new Codes(buf, col.values, n);
      return makeData({ type: t, length: n, nullCount, nullBitmap, data, dictionary: exportVector(col.dictionary) });
    }
    default: {
      // Every numeric and temporal type: its ArrayType (BigInt64Array for int64/date64/timestamp).
      inMemory('values', col.values, n * byteWidth(col.type.dtype));
      const Ctor = type.ArrayType as new (b: ArrayBufferLike, o: number, n: number) => ArrayBufferView;
      return makeData({ type, length: n, nullCount, nullBitmap, data: new Ctor(buf, col.values, n) } as never);
    }
  }
}

/** The column as an arrow-js Vector over views of the shared memory (see the module doc for lifetime). */
export function exportVector(col: Column): Vector {
  return new Vector([exportData(col)]);
}

/**
 * Named columns (a Batch, a Map / entries, or a plain object) as an arrow-js Table of one record
 * batch, fields in the given order and nullable.
 */
export function exportTable(columns: Batch | BatchInit): Table {
  const batch = columns instanceof Batch ? columns : new Batch(columns);
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const [name, col] of batch) {
    const data = exportData(col);
    fields.push(new Field(name, data.type, true));
    children.push(data);
  }
  const schema = new Schema(fields);
  const data = makeData({ type: new Struct(fields), length: batch.length, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, data)]);
}

/** A Batch as an arrow-js Table (the inverse of `importTable`). */
export function exportBatch(batch: Batch): Table {
  return exportTable(batch);
}
