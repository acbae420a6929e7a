/**
 * Arrow import: apache-arrow Vectors / Tables / RecordBatches → columns in the arena.
 *
 * One copy at most. A single-chunk buffer that already lies in this context's memory (see
 * resident.ts), 64-byte aligned and starting at bit 0, is used in place; anything else is copied once
 * into the caller's scope, normalized to our layout (src/column.ts): offset 0, bitmaps at bit 0,
 * utf8 offsets starting at 0, chunks concatenated.
 *
 * arrow-js conventions this relies on (apache-arrow 21, `Data.slice` and the `get` visitor):
 *   - fixed-width `values`, utf8 `valueOffsets` and view `values` are already sliced: element 0 of the
 *     typed array is row 0 of the Data, whatever `data.offset` is;
 *   - `data.offset` applies to bitmaps only: the validity bitmap and bool values start at bit `offset`;
 *   - utf8 `values` (the bytes) are never sliced: offsets index them absolutely.
 *
 * Type mapping (Arrow → ours; export gives back the left column except where noted):
 *   Int8…Int64, Uint8…Uint64, Float32/64      → the same (Int64 stays BigInt64Array on export)
 *   Float16                                   → float32, widened exactly (exports as Float32)
 *   Bool                                      → bool
 *   Date32 (DateDay) / Date64 (DateMillisecond)→ date32 / date64
 *   Timestamp(unit, tz)                       → timestamp with the unit and time zone
 *   Utf8, LargeUtf8, Utf8View                 → utf8 (exports as Utf8; LargeUtf8 only if < 2 GiB)
 *   Dictionary<index, Utf8|LargeUtf8|Utf8View>→ dictionary: codes in the index type + a utf8 column
 * Anything else (Null, Binary, Decimal, Time, Duration, Interval, List, Struct, Map, Union, …)
 * throws ArrowImportError naming the column and type.
 *
 * Dictionaries across chunks: when every chunk carries the same dictionary object (one IPC dictionary,
 * or a Table built from one vector) the codes are concatenated as they are. When they differ —
 * replacement dictionaries or deltas (arrow-js hands each batch the dictionary as of that batch) —
 * the dictionaries are unified in first-seen order (each string once) and every chunk's codes are
 * re-encoded through a per-dictionary remap. A single dictionary that holds a string twice (Arrow
 * allows it) is deduplicated the same way, so equal strings always share one code: group-by, joins
 * and countDistinct work on codes. When
 * the unified dictionary outgrows the index type, the codes widen (int8 → int16 → int32, uint8 →
 * uint16 → uint32) and the exported type says so.
 *
 * Lifetimes: copied columns live in `scope`. A zero-copy column *borrows* the source's memory: it is
 * valid while both `scope` and whatever owns the source buffers (usually another scope) are open —
 * pass `{ copy: true }` when the source may go first. On error, what was already allocated stays in
 * `scope` until it closes.
 */
import {
  Data, DataType, DateUnit, Precision, RecordBatch, Table, TimeUnit as ArrowTimeUnit, Vector,
  type Dictionary, type Int, type Timestamp,
} from 'apache-arrow';
import {
  Column, DType, byteWidth, columnType, dictionaryType, type ColumnType, type TimeUnit,
} from '../column.js';
import { bitmapBytes } from '../column-alloc.js';
import type { Context } from '../context.js';
import { ArrowImportError } from '../errors.js';
import { take } from '../kernels/filter.js';
import { groupIds } from '../kernels/groupby.js';
import type { ArenaScope } from '../memory/arena.js';
import { Batch } from './batch.js';
import { copyBits, getBit, setBits } from './bits.js';
import { residentAddress } from './resident.js';

export interface ImportOptions {
  /** The column's name (kept on the Column, used in errors). */
  name?: string;
  /** Always copy, even when the buffers are already in this memory (default false: borrow them). */
  copy?: boolean;
}

/** What `importVector` accepts: a Vector, one Data, or the chunks of one column. */
export type ArrowColumnInput = Vector | Data | readonly Data[];

const MAX_ROWS = 0x7fffffff;
/** Utf8View: a 16-byte view per row; strings up to 12 bytes live inline after the length. */
const VIEW_BYTES = 16;
const VIEW_INLINE = 12;

const UNITS: Record<number, TimeUnit> = {
  [ArrowTimeUnit.SECOND]: 'second',
  [ArrowTimeUnit.MILLISECOND]: 'millisecond',
  [ArrowTimeUnit.MICROSECOND]: 'microsecond',
  [ArrowTimeUnit.NANOSECOND]: 'nanosecond',
};

/** Imports one column. See the module doc for types, chunks, zero-copy and lifetimes. */
export function importVector(ctx: Context, scope: ArenaScope, input: ArrowColumnInput, opts: ImportOptions = {}): Column {
  const { chunks, type } = chunksOf(input, opts.name);
  return new Importer(ctx, scope, opts.name, type, opts.copy === true).column(chunks);
}

/** Imports every column of a Table or RecordBatch (all batches concatenated) into a Batch. */
export function importTable(ctx: Context, scope: ArenaScope, table: Table | RecordBatch, opts: Omit<ImportOptions, 'name'> = {}): Batch {
  const fields = table.schema.fields;
  const cols: Array<[string, Column]> = [];
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i].name;
    const child = table.getChildAt(i);
    const chunks = child ? child.data : [];
    cols.push([name, new Importer(ctx, scope, name, fields[i].type, opts.copy === true).column(chunks)]);
  }
  return new Batch(cols, table.numRows);
}

function chunksOf(input: ArrowColumnInput, name: string | undefined): { chunks: readonly Data[]; type: DataType } {
  if (input instanceof Vector) return { chunks: input.data, type: input.type };
  if (input instanceof Data) return { chunks: [input], type: input.type };
  if (Array.isArray(input) && input.length > 0 && input.every((d) => d instanceof Data)) {
    return { chunks: input, type: input[0].type };
  }
  throw new ArrowImportError(name, typeof input, 'expected an apache-arrow Vector, Data or a non-empty array of Data');
}

type Kind = 'fixed' | 'float16' | 'bool' | 'strings' | 'dictionary';

interface Plan {
  kind: Kind;
  type: ColumnType;
}

/** The column type an Arrow type imports as (throws ArrowImportError for types we cannot take). */
export function columnTypeOf(type: DataType, name?: string): ColumnType {
  return planFor(type, name).type;
}

/** Our type for an Arrow type, or ArrowImportError. */
function planFor(type: DataType, name: string | undefined): Plan {
  const reject = (detail: string): never => { throw new ArrowImportError(name, String(type), detail); };
  if (DataType.isInt(type)) {
    const t = type as Int;
    const key = `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}` as 'int8';
    return { kind: 'fixed', type: columnType(key) };
  }
  if (DataType.isFloat(type)) {
    switch (type.precision) {
      case Precision.HALF: return { kind: 'float16', type: columnType('float32') };
      case Precision.SINGLE: return { kind: 'fixed', type: columnType('float32') };
      case Precision.DOUBLE: return { kind: 'fixed', type: columnType('float64') };
    }
  }
  if (DataType.isBool(type)) return { kind: 'bool', type: columnType('bool') };
  if (DataType.isDate(type)) {
    return { kind: 'fixed', type: columnType(type.unit === DateUnit.DAY ? 'date32' : 'date64') };
  }
  if (DataType.isTimestamp(type)) {
    const t = type as Timestamp;
    return { kind: 'fixed', type: columnType('timestamp', UNITS[t.unit], t.timezone ?? null) };
  }
  if (isString(type)) return { kind: 'strings', type: columnType('utf8') };
  if (DataType.isDictionary(type)) {
    const t = type as Dictionary;
    if (!isString(t.dictionary)) reject(`dictionary values must be strings (Utf8, LargeUtf8, Utf8View), not ${t.dictionary}`);
    return { kind: 'dictionary', type: dictionaryType(indexDType(t.indices)) };
  }
  return reject('no engine type for it (supported: ints, floats, bool, date, timestamp, utf8 / large utf8 / utf8 view, dictionary<utf8>)');
}

const isString = (t: DataType): boolean => DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isUtf8View(t);

function indexDType(t: Int): DType {
  switch (t.bitWidth) {
    case 8: return t.isSigned ? DType.I8 : DType.U8;
    case 16: return t.isSigned ? DType.I16 : DType.U16;
    case 32: return t.isSigned ? DType.I32 : DType.U32;
    default: return t.isSigned ? DType.I64 : DType.U64;
  }
}

/** Nulls in one chunk: 0 when it has no (or an empty) bitmap, else arrow's count (it popcounts once). */
function chunkNulls(d: Data): number {
  const bm = d.nullBitmap;
  if (!bm || bm.length === 0) return 0;
  const n = d.nullCount;
  return n > 0 ? n : 0;
}

type Codes = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

/** One column's import: the context, the scope, the name and Arrow type (for errors). */
class Importer {
  readonly #label: string;

  constructor(
    readonly ctx: Context,
    readonly scope: ArenaScope,
    readonly name: string | undefined,
    readonly arrowType: DataType,
    readonly copy: boolean,
  ) {
    this.#label = String(arrowType);
  }

  #fail(detail: string): never {
    throw new ArrowImportError(this.name, this.#label, detail);
  }

  /** Address of bytes already in place (single chunk, resident, aligned), or -1 to copy. */
  #borrow(chunks: readonly Data[], view: ArrayBufferView | null | undefined, byteStart: number, byteLength: number): number {
    if (this.copy || chunks.length !== 1) return -1;
    return residentAddress(this.ctx, view, byteStart, byteLength);
  }

  /**
   * A resident bitmap of n bits at byte `bitStart / 8`, borrowed only if the bits past n in its last
   * byte are 0 — what a copied bitmap guarantees (a slice of a longer bitmap has its neighbours' bits
   * there, and a kernel that counts whole bytes would see them).
   */
  #borrowBitmap(chunks: readonly Data[], view: Uint8Array | null | undefined, bitStart: number, n: number): number {
    if (bitStart % 8 !== 0) return -1;
    const addr = this.#borrow(chunks, view, bitStart >>> 3, bitmapBytes(n));
    if (addr < 0 || n % 8 === 0) return addr;
    return this.ctx.mem.u8[addr + (n >>> 3)] >>> (n & 7) === 0 ? addr : -1;
  }

  column(chunks: readonly Data[]): Column {
    const plan = planFor(this.arrowType, this.name);
    let n = 0;
    for (const d of chunks) n += d.length;
    if (n > MAX_ROWS) this.#fail(`${n} rows is more than a column holds (2^31-1)`);
    const { validity, nullCount } = this.#validity(chunks, n);
    const init = { type: plan.type, length: n, validity, nullCount, name: this.name };
    switch (plan.kind) {
      case 'fixed':
        return new Column(this.ctx, this.scope, { ...init, values: this.#fixed(chunks, n, byteWidth(plan.type.dtype)) });
      case 'float16':
        return new Column(this.ctx, this.scope, { ...init, values: this.#float16(chunks, n) });
      case 'bool':
        return new Column(this.ctx, this.scope, { ...init, values: this.#bool(chunks, n) });
      case 'strings':
        return new Column(this.ctx, this.scope, { ...init, ...this.#strings(chunks, n) });
      case 'dictionary':
        return this.#dictionary(chunks, n, init.validity, init.nullCount);
    }
  }

  /** The validity bitmap at bit 0 (borrowed when the single chunk's starts on a byte), or 0 without nulls. */
  #validity(chunks: readonly Data[], n: number): { validity: number; nullCount: number } {
    const nulls = chunks.map(chunkNulls);
    const nullCount = nulls.reduce((a, b) => a + b, 0);
    if (nullCount === 0) return { validity: 0, nullCount: 0 };
    for (const d of chunks) {
      if (d.nullBitmap && d.nullBitmap.length > 0 && d.nullBitmap.length * 8 < d.offset + d.length) {
        this.#fail(`validity bitmap holds ${d.nullBitmap.length * 8} bits, needs ${d.offset + d.length}`);
      }
    }
    const bytes = bitmapBytes(n);
    const d0 = chunks[0];
    const addr = this.#borrowBitmap(chunks, d0.nullBitmap, d0.offset, n);
    if (addr >= 0) return { validity: addr, nullCount };
    const validity = this.scope.calloc(bytes);
    const dst = this.ctx.mem.u8.subarray(validity, validity + bytes);
    let pos = 0;
    chunks.forEach((d, i) => {
      if (nulls[i] === 0) setBits(dst, pos, d.length);
      else copyBits(d.nullBitmap, d.offset, dst, pos, d.length);
      pos += d.length;
    });
    return { validity, nullCount };
  }

  /** Fixed-width values: borrowed, or the chunks' bytes back to back. */
  #fixed(chunks: readonly Data[], n: number, width: number): number {
    for (const d of chunks) {
      const v = d.values as ArrayBufferView | undefined;
      if (d.length > 0 && (!v || v.byteLength < d.length * width)) {
        this.#fail(`values buffer holds ${v?.byteLength ?? 0} bytes, needs ${d.length * width}`);
      }
    }
    const borrowed = this.#borrow(chunks, chunks[0]?.values as ArrayBufferView, 0, n * width);
    if (borrowed >= 0) return borrowed;
    const values = this.scope.alloc(n * width);
    const u8 = this.ctx.mem.u8;
    let at = values;
    for (const d of chunks) {
      const v = d.values as ArrayBufferView;
      const bytes = d.length * width;
      if (bytes > 0) u8.set(new Uint8Array(v.buffer, v.byteOffset, bytes), at);
      at += bytes;
    }
    return values;
  }

  /** Float16 → float32, exactly (every half is a float). */
  #float16(chunks: readonly Data[], n: number): number {
    const values = this.scope.alloc(n * 4);
    const out = new Float32Array(this.ctx.mem.buffer, values, n);
    let pos = 0;
    for (const d of chunks) {
      const h = d.values as Uint16Array;
      if (d.length > 0 && (!h || h.length < d.length)) this.#fail(`values buffer holds ${h?.length ?? 0} halfs, needs ${d.length}`);
      for (let i = 0; i < d.length; i++) out[pos + i] = halfToFloat(h[i]);
      pos += d.length;
    }
    return values;
  }

  /** Bool values: a bitmap at bit 0 (borrowed when the single chunk's starts on a byte). */
  #bool(chunks: readonly Data[], n: number): number {
    for (const d of chunks) {
      const v = d.values as Uint8Array | undefined;
      if (d.length > 0 && (!v || v.length * 8 < d.offset + d.length)) {
        this.#fail(`bool values hold ${(v?.length ?? 0) * 8} bits, need ${d.offset + d.length}`);
      }
    }
    const bytes = bitmapBytes(n);
    const d0 = chunks[0];
    const addr = d0 ? this.#borrowBitmap(chunks, d0.values as Uint8Array, d0.offset, n) : -1;
    if (addr >= 0) return addr;
    const values = this.scope.calloc(bytes);
    const dst = this.ctx.mem.u8.subarray(values, values + bytes);
    let pos = 0;
    for (const d of chunks) {
      if (d.length > 0) copyBits(d.values as Uint8Array, d.offset, dst, pos, d.length);
      pos += d.length;
    }
    return values;
  }

  /** Utf8 / LargeUtf8 / Utf8View → (length + 1) i32 offsets from 0 and the bytes. */
  #strings(chunks: readonly Data[], n: number): { offsets: number; values: number } {
    if (DataType.isUtf8View(this.arrowType) || (chunks[0] && DataType.isUtf8View(chunks[0].type))) return this.#views(chunks, n);
    // Validate every chunk's offsets: kernels trust them (monotonic, inside the bytes).
    let total = 0;
    for (const d of chunks) {
      if (d.length === 0) continue;
      const off = d.valueOffsets as Int32Array | BigInt64Array;
      const bytes = d.values as Uint8Array;
      if (!off || off.length < d.length + 1) this.#fail(`offsets hold ${off?.length ?? 0} entries, need ${d.length + 1}`);
      let prev = Number(off[0]);
      if (prev < 0) this.#fail(`offset ${prev} is negative`);
      for (let i = 1; i <= d.length; i++) {
        const o = Number(off[i]);
        if (o < prev) this.#fail(`offsets decrease at row ${i - 1} (${prev} → ${o})`);
        prev = o;
      }
      if (prev > (bytes?.length ?? 0)) this.#fail(`offsets reach byte ${prev}, the data holds ${bytes?.length ?? 0}`);
      total += prev - Number(off[0]);
    }
    if (total > MAX_ROWS) this.#fail(`${total} bytes of strings is more than i32 offsets address`);

    const d0 = chunks[0];
    if (d0 && d0.length > 0 && d0.valueOffsets instanceof Int32Array && d0.valueOffsets[0] === 0) {
      const offsets = this.#borrow(chunks, d0.valueOffsets, 0, (n + 1) * 4);
      const values = offsets >= 0 ? this.#borrow(chunks, d0.values as Uint8Array, 0, total) : -1;
      // Empty strings only (total 0) have no bytes to borrow: any 64-aligned address will do.
      if (offsets >= 0 && (values >= 0 || total === 0)) return { offsets, values: values >= 0 ? values : this.scope.alloc(0) };
    }

    const offsets = this.scope.alloc((n + 1) * 4);
    const values = this.scope.alloc(total);
    const u8 = this.ctx.mem.u8;
    const out = new Int32Array(this.ctx.mem.buffer, offsets, n + 1);
    let row = 0;
    let base = 0;
    for (const d of chunks) {
      if (d.length === 0) continue;
      const off = d.valueOffsets as Int32Array | BigInt64Array;
      const start = Number(off[0]);
      for (let i = 0; i < d.length; i++) out[row + i] = base + Number(off[i]) - start;
      const end = Number(off[d.length]);
      if (end > start) u8.set((d.values as Uint8Array).subarray(start, end), values + base);
      base += end - start;
      row += d.length;
    }
    out[n] = base;
    return { offsets, values };
  }

  /**
   * Utf8View → our utf8 layout. A view is 16 bytes: i32 length, then either the string inline (≤ 12
   * bytes) or a 4-byte prefix, i32 buffer index and i32 offset into `variadicBuffers`. Null rows
   * become empty strings (their views carry no meaning). Two passes: sizes (and checks), then bytes.
   */
  #views(chunks: readonly Data[], n: number): { offsets: number; values: number } {
    let total = 0;
    const words: Int32Array[] = [];
    for (const d of chunks) {
      const views = d.values as Uint8Array;
      if (d.length > 0 && (!views || views.length < d.length * VIEW_BYTES)) {
        this.#fail(`views buffer holds ${views?.length ?? 0} bytes, needs ${d.length * VIEW_BYTES}`);
      }
      const w = viewWords(views, d.length);
      words.push(w);
      const bufs = d.variadicBuffers;
      const bm = chunkNulls(d) > 0 ? d.nullBitmap : undefined;
      for (let i = 0; i < d.length; i++) {
        if (bm && getBit(bm, d.offset + i) === 0) continue;
        const size = w[4 * i];
        if (size < 0) this.#fail(`row ${i}: negative string length ${size}`);
        if (size > VIEW_INLINE) {
          const b = w[4 * i + 2];
          const off = w[4 * i + 3];
          const data = bufs[b];
          if (!data) this.#fail(`row ${i}: view points at data buffer ${b}, there are ${bufs.length}`);
          if (off < 0 || off + size > data.length) this.#fail(`row ${i}: view bytes [${off}, ${off + size}) outside data buffer ${b} (${data.length} bytes)`);
        }
        total += size;
      }
    }
    if (total > MAX_ROWS) this.#fail(`${total} bytes of strings is more than i32 offsets address`);

    const offsets = this.scope.alloc((n + 1) * 4);
    const values = this.scope.alloc(total);
    const u8 = this.ctx.mem.u8;
    const out = new Int32Array(this.ctx.mem.buffer, offsets, n + 1);
    let row = 0;
    let pos = values;
    chunks.forEach((d, c) => {
      const views = d.values as Uint8Array;
      const w = words[c];
      const bufs = d.variadicBuffers;
      const bm = chunkNulls(d) > 0 ? d.nullBitmap : undefined;
      for (let i = 0; i < d.length; i++) {
        out[row + i] = pos - values;
        if (bm && getBit(bm, d.offset + i) === 0) continue;
        const size = w[4 * i];
        if (size <= VIEW_INLINE) {
          for (let k = 0, from = 16 * i + 4; k < size; k++) u8[pos + k] = views[from + k];
        } else {
          const src = bufs[w[4 * i + 2]];
          const off = w[4 * i + 3];
          // Short copies by hand: a subarray + set costs more than the bytes below ~64.
          if (size < 64) for (let k = 0; k < size; k++) u8[pos + k] = src[off + k];
          else u8.set(src.subarray(off, off + size), pos);
        }
        pos += size;
      }
      row += d.length;
    });
    out[n] = pos - values;
    return { offsets, values };
  }

  /** Dictionary<index, string>: a utf8 dictionary column and the codes (see the module doc). */
  #dictionary(chunks: readonly Data[], n: number, validity: number, nullCount: number): Column {
    const arrowType = this.arrowType as Dictionary;
    let dtype = indexDType(arrowType.indices);
    const dicts: Vector[] = [];
    for (const d of chunks) {
      const dict = d.dictionary;
      if (!dict) {
        if (d.length > 0) this.#fail('a chunk has no dictionary');
        continue;
      }
      if (!dicts.includes(dict)) dicts.push(dict);
    }
    const dictName = this.name;
    let dictionary: Column;
    let codes: number;
    if (dicts.length <= 1) {
      // One dictionary for every chunk: import it as it is and keep the codes.
      dictionary = dicts.length === 1
        ? new Importer(this.ctx, this.scope, dictName, dicts[0].type, this.copy).column(dicts[0].data)
        : new Importer(this.ctx, this.scope, dictName, arrowType.dictionary, this.copy).column([]);
      codes = this.#fixed(chunks, n, byteWidth(dtype));
      this.#checkCodes(codeView(this.ctx, dtype, codes, n), validity, dictionary.length);
      const dedup = dedupDictionary(this.ctx, this.scope, dictionary);
      if (dedup) {
        // Arrow allows a dictionary to hold a string twice; grouping, joins and countDistinct work on
        // codes, so equal strings must have one code. Rare: only then are the codes copied (through
        // the unify path's remapCodes; the codes were checked above, so none is out of range).
        const src = codeView(this.ctx, dtype, codes, n);
        codes = this.scope.alloc(n * byteWidth(dtype));
        remapCodes(src, n, validity === 0 ? undefined : this.ctx.mem.u8.subarray(validity, validity + bitmapBytes(n)), 0, dedup.remap, codeView(this.ctx, dtype, codes, n), 0);
        dictionary = dedup.dictionary;
      }
    } else {
      // Several dictionaries: unify (first-seen order, each string once) and remap the codes.
      const merged: Array<string | null> = [];
      const seen = new Map<string, number>();
      let nullCode = -1;
      const remaps = new Map<Vector, Int32Array>();
      for (const dict of dicts) {
        if (!isString(dict.type)) this.#fail(`dictionary values must be strings, a chunk has ${dict.type}`);
        const remap = new Int32Array(dict.length);
        for (let j = 0; j < dict.length; j++) {
          const s = dict.get(j) as string | null;
          let code = s === null ? nullCode : seen.get(s) ?? -1;
          if (code < 0) {
            code = merged.length;
            merged.push(s);
            if (s === null) nullCode = code; else seen.set(s, code);
          }
          remap[j] = code;
        }
        remaps.set(dict, remap);
      }
      dtype = widenIndex(dtype, merged.length - 1);
      if (dtype < 0) this.#fail(`the unified dictionary has ${merged.length} entries, more than any index type holds`);
      dictionary = stringColumn(this.ctx, this.scope, merged, dictName);
      codes = this.scope.alloc(n * byteWidth(dtype));
      const out = codeView(this.ctx, dtype, codes, n);
      let row = 0;
      for (const d of chunks) {
        if (d.length === 0) continue;
        const src = d.values as Codes;
        if (!src || src.length < d.length) this.#fail(`codes buffer holds ${src?.length ?? 0} entries, needs ${d.length}`);
        const bad = remapCodes(src, d.length, chunkNulls(d) > 0 ? d.nullBitmap : undefined, d.offset, remaps.get(d.dictionary!)!, out, row);
        if (bad >= 0) this.#fail(`row ${row + bad}: code ${src[bad]} outside its dictionary (${remaps.get(d.dictionary!)!.length} entries)`);
        row += d.length;
      }
    }
    return new Column(this.ctx, this.scope, {
      type: dictionaryType(dtype), length: n, values: codes, validity, nullCount, dictionary, name: this.name,
    });
  }

  /** Every valid row's code indexes the dictionary (kernels look codes up unchecked). */
  #checkCodes(codes: Codes, validity: number, size: number): void {
    const u8 = this.ctx.mem.u8;
    // Out of range is fine in a null row (its code means nothing): validity is looked at only then.
    const isNull = (i: number): boolean => validity !== 0 && ((u8[validity + (i >>> 3)] >>> (i & 7)) & 1) === 0;
    if (codes instanceof BigInt64Array || codes instanceof BigUint64Array) {
      for (let i = 0; i < codes.length; i++) {
        const c = Number(codes[i]);
        if (!(c >= 0 && c < size) && !isNull(i)) this.#fail(`row ${i}: code ${c} outside the dictionary (${size} entries)`);
      }
      return;
    }
    const c32 = codes as Int32Array;
    for (let i = 0; i < c32.length; i++) {
      const c = c32[i];
      if (!(c >= 0 && c < size) && !isNull(i)) this.#fail(`row ${i}: code ${c} outside the dictionary (${size} entries)`);
    }
  }
}

/**
 * The views of `n` rows as i32 words (4 per view). Little-endian like the views themselves (wasm
 * and every host Node runs on are little-endian). Copied only if the views are not 4-byte aligned.
 */
function viewWords(views: Uint8Array | undefined, n: number): Int32Array {
  if (!views || n === 0) return new Int32Array(0);
  if (views.byteOffset % 4 === 0) return new Int32Array(views.buffer, views.byteOffset, n * 4);
  return new Int32Array(views.slice(0, n * VIEW_BYTES).buffer);
}

/**
 * out[at + i] = remap[src[i]] for the n codes of one chunk (0 in null rows). Returns the first row
 * whose code is outside `remap`, or -1. BigInt codes (64-bit index types) go through Number().
 */
function remapCodes(src: Codes, n: number, nulls: Uint8Array | undefined, bitOffset: number, remap: Int32Array, out: Codes, at: number): number {
  const bigIn = src instanceof BigInt64Array || src instanceof BigUint64Array;
  const bigOut = out instanceof BigInt64Array || out instanceof BigUint64Array;
  if (!bigIn && !bigOut) {
    // The common case, kept monomorphic-friendly: plain number codes in and out.
    const s = src as Int32Array;
    const o = out as Int32Array;
    for (let i = 0; i < n; i++) {
      if (nulls !== undefined && getBit(nulls, bitOffset + i) === 0) { o[at + i] = 0; continue; }
      const c = s[i];
      if (!(c >= 0 && c < remap.length)) return i;
      o[at + i] = remap[c];
    }
    return -1;
  }
  for (let i = 0; i < n; i++) {
    let code = 0;
    if (nulls === undefined || getBit(nulls, bitOffset + i) === 1) {
      const c = Number(src[i]);
      if (!(c >= 0 && c < remap.length)) return i;
      code = remap[c];
    }
    if (bigOut) (out as BigInt64Array)[at + i] = BigInt(code);
    else (out as Int32Array)[at + i] = code;
  }
  return -1;
}

/** A typed view of `n` codes of type `dtype` at `addr` (over the current buffer). */
function codeView(ctx: Context, dtype: DType, addr: number, n: number): Codes {
  const buf = ctx.mem.buffer;
  switch (dtype) {
    case DType.I8: return new Int8Array(buf, addr, n);
    case DType.I16: return new Int16Array(buf, addr, n);
    case DType.I32: return new Int32Array(buf, addr, n);
    case DType.I64: return new BigInt64Array(buf, addr, n);
    case DType.U8: return new Uint8Array(buf, addr, n);
    case DType.U16: return new Uint16Array(buf, addr, n);
    case DType.U32: return new Uint32Array(buf, addr, n);
    default: return new BigUint64Array(buf, addr, n);
  }
}

/** The index type itself if `maxCode` fits, else the next wider of the same signedness; -1 if none. */
function widenIndex(dtype: DType, maxCode: number): DType {
  const ladder = dtype === DType.I8 || dtype === DType.I16 || dtype === DType.I32 || dtype === DType.I64
    ? [[DType.I8, 0x7f], [DType.I16, 0x7fff], [DType.I32, 0x7fffffff], [DType.I64, Number.MAX_SAFE_INTEGER]]
    : [[DType.U8, 0xff], [DType.U16, 0xffff], [DType.U32, 0xffffffff], [DType.U64, Number.MAX_SAFE_INTEGER]];
  for (const [d, max] of ladder) if (byteWidth(d) >= byteWidth(dtype) && maxCode <= max) return d;
  return -1 as DType;
}

/**
 * When `dict` holds some string (or null) more than once: the dictionary with each entry once, in
 * first-seen order, and the remap old code → new code. One hash pass in the kernel (groupIds numbers
 * entries by first appearance, so a dictionary without duplicates is recognised by its group count).
 */
function dedupDictionary(ctx: Context, scope: ArenaScope, dict: Column): { dictionary: Column; remap: Int32Array } | undefined {
  if (dict.length < 2) return undefined;
  const tmp = ctx.scope();
  try {
    const g = groupIds([dict], { scope: tmp });
    if (g.groups === dict.length) return undefined;
    const dictionary = take(dict, g.firstRow, { scope });
    return { dictionary, remap: ctx.mem.i32.slice(g.ids.values >>> 2, (g.ids.values >>> 2) + dict.length) };
  } finally {
    tmp.close();
  }
}

/** A utf8 column (with validity for nulls) holding `strings` — for a unified dictionary. */
function stringColumn(ctx: Context, scope: ArenaScope, strings: ReadonlyArray<string | null>, name: string | undefined): Column {
  const enc = new TextEncoder();
  const encoded = strings.map((s) => (s === null ? new Uint8Array(0) : enc.encode(s)));
  const total = encoded.reduce((a, b) => a + b.length, 0);
  const n = strings.length;
  const nullCount = strings.reduce((a, s) => a + (s === null ? 1 : 0), 0);
  const offsets = scope.alloc((n + 1) * 4);
  const values = scope.alloc(total);
  const validity = nullCount > 0 ? scope.calloc(bitmapBytes(n)) : 0;
  const u8 = ctx.mem.u8;
  const out = new Int32Array(ctx.mem.buffer, offsets, n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    out[i] = pos;
    u8.set(encoded[i], values + pos);
    pos += encoded[i].length;
    if (validity !== 0 && strings[i] !== null) u8[validity + (i >>> 3)] |= 1 << (i & 7);
  }
  out[n] = pos;
  return new Column(ctx, scope, { type: columnType('utf8'), length: n, values, offsets, validity, nullCount, name });
}

/** IEEE 754 binary16 → number (exact: every half is a float32). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
