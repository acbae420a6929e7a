/**
 * Our own Parquet reader path: one row group's column chunks → Arrow buffers laid out as a GroupPlan
 * block (parquet-protocol.ts), decoded by our pq* kernels (assembly/parquet, parquet-kernel.ts) in a
 * kernel memory private to the decoder worker. Free of engine imports: the worker runs it, and the
 * tests run it on the calling thread.
 *
 * Why: parquet-wasm (arrow-rs in wasm, no SIMD) decodes lineitem at ~240 ms CPU per 1 M-row group;
 * the page work itself is a handful of tight loops (snappy, RLE/bit-packed indices, dictionary
 * gathers, byte-array offsets) that our SIMD kernels do in a fraction of that. The format's metadata
 * (footer, page headers: Thrift) is parsed by hyparquet, which is cheap per page.
 *
 * What we take (everything else answers `unsupported` and the group goes through parquet-wasm):
 *   - flat schemas: every column top-level, REQUIRED or OPTIONAL (max definition level 0 or 1)
 *   - types whose Arrow type arrow-rs would give (kernelColumns): bool, int32/uint32, int64/uint64,
 *     float, double, date32, time32/64, timestamps, INT32/INT64 decimals (widened to decimal128),
 *     BYTE_ARRAY as utf8 (STRING / ENUM / JSON) or binary (no annotation)
 *   - codecs UNCOMPRESSED and SNAPPY; data pages v1 and v2; a PLAIN dictionary page; values PLAIN,
 *     PLAIN_DICTIONARY / RLE_DICTIONARY (a chunk may fall back from dictionary to plain mid-way), RLE
 *     for booleans; v1 definition levels RLE
 *
 * Corrupt input (a bad page header, a page past its chunk, a snappy block that does not decompress
 * to its stated size, an index past the dictionary, too few values) throws PageError naming the
 * column and the page; the kernels themselves never read or write outside the ranges given here.
 * So does a utf8 column (STRING / ENUM / JSON) whose bytes are not valid UTF-8 — the error names the
 * row in the group, or the dictionary value — as arrow-rs rejects it (binary columns are not checked).
 *
 * Kernel memory during one group (addresses grow upwards; `base` is above the kernel's static data
 * and above any group still held for its copy):
 *
 *   base ─► ┌────────────────────┬───────────────────────────┬──────────────────────────────────┐
 *           │ column chunks, as  │ scratch: the largest one  │ output block: exactly the plan's │
 *           │ read from the file │ column needs (page buffer,│ layout (outAt + offset), grown   │
 *           │ (all of the group) │ dictionary, levels, ...)  │ column by column, then copied    │
 *           └────────────────────┴───────────────────────────┴──────────────────────────────────┘
 *                                                            outAt (64-aligned)
 * The output block is last so a string column's bytes can grow with the memory while decoding; the
 * validity of a column goes after its data (only if it has nulls: DuckDB marks every column
 * OPTIONAL), copied there from scratch. The main thread copies [outAt, outAt + total) in one go.
 */
import type { ColumnMetaData, Encoding, FileMetaData, RowGroup, SchemaElement } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { PqError, type ParquetKernel } from './parquet-kernel.js';
import type { ColumnPlan, GroupPlan } from './parquet-protocol.js';
import { invalidUtf8Row, utf8Detail, type Utf8Kernel } from './utf8-kernel.js';

/** The kernel exports this path calls (a worker checks they exist before using the path). */
export const KERNEL_EXPORTS: ReadonlyArray<keyof (ParquetKernel & Utf8Kernel)> = [
  'pqSnappy', 'pqRle', 'pqGather', 'pqByteArrayPlain', 'pqByteArrayDict', 'pqDefLevels', 'pqSpread', 'pqSpreadOffsets', 'pqWiden', 'pqBits',
  'utf8Valid', 'utf8Values',
];

/** A corrupt page or column chunk: the message names the column and page. */
export class PageError extends Error {}

/** Input this path does not take (a codec, an encoding...): the caller falls back to parquet-wasm. */
class NotOurs extends Error {}

/** How our kernels decode one column, from its Parquet schema element. */
export interface KernelColumn {
  name: string;
  /** Arrow C format of what arrow-rs reads this column as (checked against the file's Arrow schema by the caller). */
  fmt: string;
  physical: 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY';
  /** Bytes per stored value (0: bool, byte arrays). */
  width: number;
  /** Bytes per output value: 16 for decimals widened to decimal128, else = width. */
  outWidth: number;
  /** 1 for OPTIONAL (definition levels in every page), 0 for REQUIRED. */
  maxDef: number;
}

const UNIT: Record<string, string> = { MILLIS: 'm', MICROS: 'u', NANOS: 'n' };

/**
 * The Arrow C format arrow-rs reads a column as (its parquet → arrow type rules), for the types this
 * path decodes; undefined for anything else (INT96, FIXED_LEN_BYTE_ARRAY, 8/16-bit ints, which
 * arrow-rs narrows, byte-array decimals, ...). A wrong guess here costs nothing but speed: the caller
 * compares it with the Arrow schema the file opened with and falls back when they differ.
 */
function arrowFormat(e: SchemaElement): Pick<KernelColumn, 'fmt' | 'width' | 'outWidth'> | undefined {
  const lt = e.logical_type;
  const ct = e.converted_type;
  const decimal = (w: number) => {
    const p = lt?.type === 'DECIMAL' ? lt.precision : e.precision;
    const s = lt?.type === 'DECIMAL' ? lt.scale : e.scale ?? 0;
    if (!Number.isInteger(p) || !Number.isInteger(s) || p! < 1 || p! > 38) return undefined;
    return { fmt: `d:${p},${s}`, width: w, outWidth: 16 };
  };
  const int = (w: number, signed: string, unsigned: string) => {
    if (lt?.type === 'INTEGER') return lt.bitWidth === 8 * w ? { fmt: lt.isSigned ? signed : unsigned, width: w, outWidth: w } : undefined;
    if (ct === `INT_${8 * w}` || ct === undefined) return { fmt: signed, width: w, outWidth: w };
    if (ct === `UINT_${8 * w}`) return { fmt: unsigned, width: w, outWidth: w };
    return undefined;
  };
  switch (e.type) {
    case 'BOOLEAN':
      return lt || ct ? undefined : { fmt: 'b', width: 0, outWidth: 0 };
    case 'INT32':
      if (lt?.type === 'DATE' || ct === 'DATE') return { fmt: 'tdD', width: 4, outWidth: 4 };
      if ((lt?.type === 'TIME' && lt.unit === 'MILLIS') || (!lt && ct === 'TIME_MILLIS')) return { fmt: 'ttm', width: 4, outWidth: 4 };
      if (lt?.type === 'DECIMAL' || (!lt && ct === 'DECIMAL')) return decimal(4);
      return lt && lt.type !== 'INTEGER' ? undefined : int(4, 'i', 'I');
    case 'INT64':
      if (lt?.type === 'TIMESTAMP') return { fmt: `ts${UNIT[lt.unit]}:${lt.isAdjustedToUTC ? 'UTC' : ''}`, width: 8, outWidth: 8 };
      if (lt?.type === 'TIME' && lt.unit !== 'MILLIS') return { fmt: `tt${UNIT[lt.unit]}`, width: 8, outWidth: 8 };
      if (!lt && ct === 'TIMESTAMP_MILLIS') return { fmt: 'tsm:UTC', width: 8, outWidth: 8 };
      if (!lt && ct === 'TIMESTAMP_MICROS') return { fmt: 'tsu:UTC', width: 8, outWidth: 8 };
      if (!lt && ct === 'TIME_MICROS') return { fmt: 'ttu', width: 8, outWidth: 8 };
      if (lt?.type === 'DECIMAL' || (!lt && ct === 'DECIMAL')) return decimal(8);
      return lt && lt.type !== 'INTEGER' ? undefined : int(8, 'l', 'L');
    case 'FLOAT':
      return lt || ct ? undefined : { fmt: 'f', width: 4, outWidth: 4 };
    case 'DOUBLE':
      return lt || ct ? undefined : { fmt: 'g', width: 8, outWidth: 8 };
    case 'BYTE_ARRAY':
      if (lt?.type === 'STRING' || lt?.type === 'ENUM' || lt?.type === 'JSON') return { fmt: 'u', width: 0, outWidth: 0 };
      if (!lt && (ct === 'UTF8' || ct === 'ENUM' || ct === 'JSON')) return { fmt: 'u', width: 0, outWidth: 0 };
      return lt || ct ? undefined : { fmt: 'z', width: 0, outWidth: 0 };
    default:
      return undefined;
  }
}

/** The file's columns as this path decodes them, or why it does not take the file. */
export function kernelColumns(md: FileMetaData): KernelColumn[] | string {
  const [root, ...leaves] = md.schema;
  if (!root || root.num_children !== leaves.length) return 'nested columns';
  const cols: KernelColumn[] = [];
  for (const e of leaves) {
    if (e.num_children) return `column '${e.name}' is nested`;
    if (e.repetition_type !== 'REQUIRED' && e.repetition_type !== 'OPTIONAL') return `column '${e.name}' is ${e.repetition_type ?? 'without repetition'}`;
    const f = arrowFormat(e);
    if (!f) return `column '${e.name}': ${e.type}${e.logical_type ? ` ${e.logical_type.type}` : e.converted_type ? ` ${e.converted_type}` : ''} is not decoded by our kernels`;
    cols.push({ name: e.name, physical: e.type as KernelColumn['physical'], maxDef: e.repetition_type === 'OPTIONAL' ? 1 : 0, ...f });
  }
  return cols;
}

/** A growable view of the kernel memory (views rebuilt when the byte length changes: see shared-memory.ts). */
export class KernelMemory {
  readonly memory: WebAssembly.Memory;
  #u8: Uint8Array;
  #i32: Int32Array;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.#u8 = new Uint8Array(memory.buffer);
    this.#i32 = new Int32Array(memory.buffer);
  }

  get size(): number {
    return this.memory.buffer.byteLength;
  }

  get u8(): Uint8Array {
    if (this.#u8.byteLength !== this.memory.buffer.byteLength) this.#views();
    return this.#u8;
  }

  get i32(): Int32Array {
    if (this.#i32.byteLength !== this.memory.buffer.byteLength) this.#views();
    return this.#i32;
  }

  #views(): void {
    this.#u8 = new Uint8Array(this.memory.buffer);
    this.#i32 = new Int32Array(this.memory.buffer);
  }

  /** Grows the memory to at least `end` bytes; a group that does not fit the wasm32 4 GiB goes to parquet-wasm. */
  ensure(end: number): void {
    const size = this.size;
    if (end <= size) return;
    if (end > MAX_BYTES) throw new NotOurs(`the row group needs ${end} bytes of kernel memory`);
    const pages = Math.ceil((end - size) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new NotOurs(`kernel memory cannot grow to ${end} bytes: ${(e as Error).message}`);
    }
  }
}

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE;
const I32_MAX = 0x7fffffff;
const align64 = (n: number): number => Math.ceil(n / 64) * 64;
/** Bytes a buffer of `len` takes in a group block (64-aligned, at least 64 — as the FFI plan reserves). */
const slot = (len: number): number => Math.max(64, align64(len));

/** Reads `dst.byteLength` bytes of the file at `position` into dst (a view of the kernel memory); throws when the file is shorter. */
export type ReadAt = (dst: Uint8Array, position: number) => void;

/** The state of one decode: the kernels, their memory, the file. */
export interface GroupSource {
  k: ParquetKernel & Utf8Kernel;
  mem: KernelMemory;
  cols: readonly KernelColumn[];
  fileSize: number;
  read: ReadAt;
}

/** A decoded group: the plan and where its block starts in the kernel memory. */
export type Decoded = { plan: GroupPlan; at: number } | { unsupported: string };

interface Page {
  kind: 'dict' | 'v1' | 'v2';
  /** Payload address (after the header) in the kernel memory. */
  at: number;
  comp: number;
  uncomp: number;
  values: number;
  encoding: Encoding;
  /** v2: definition level bytes before the values (never compressed). */
  defLen: number;
  /** Whether the values need snappy (codec SNAPPY, and for v2 is_compressed). */
  snappy: boolean;
  /** v2: the header's num_nulls, checked against the definition levels. */
  nulls?: number;
}

interface Chunk {
  col: KernelColumn;
  pages: Page[];
  dict?: Page;
  /** Most values in one data page, and the largest decompressed size any page needs. */
  maxValues: number;
  maxBuf: number;
}

const DICT_ENCODINGS = new Set<Encoding>(['PLAIN_DICTIONARY', 'RLE_DICTIONARY']);

/**
 * Column k's first column when a group's columns are cut into `parts` contiguous ranges of about
 * equal uncompressed bytes (what decoding costs goes with them), each range at least one column.
 * Every decoder computes the same cut from the same footer.
 */
export function partStart(rg: RowGroup, parts: number, k: number): number {
  const n = rg.columns.length;
  if (k <= 0) return 0;
  if (k >= parts) return n;
  const size = rg.columns.map((c) => Math.max(1, Number(c.meta_data?.total_uncompressed_size ?? 1)));
  const total = size.reduce((a, b) => a + b, 0);
  let i = 0;
  for (let acc = 0; i < n && acc + size[i] / 2 < (total * k) / parts; i++) acc += size[i];
  return Math.min(Math.max(i, partStart(rg, parts, k - 1) + 1), n - (parts - k));
}

/**
 * Decodes columns [from, to) of row group `rg` at `base` (an address in src.mem above anything still
 * in use). Returns the plan of those columns and the block's address, or `unsupported` (nothing to
 * undo: the memory above base is scratch); throws PageError on corrupt input.
 */
export function decodeGroup(src: GroupSource, rg: RowGroup, base: number, from = 0, to = src.cols.length): Decoded {
  try {
    return new GroupDecoder(src, rg, base, from, to).run();
  } catch (e) {
    if (e instanceof NotOurs) return { unsupported: e.message };
    throw e;
  }
}

class GroupDecoder {
  readonly #s: GroupSource;
  readonly #k: ParquetKernel & Utf8Kernel;
  readonly #mem: KernelMemory;
  readonly #rg: RowGroup;
  readonly #base: number;
  readonly #rows: number;
  readonly #from: number;
  readonly #to: number;
  /** The column and page being decoded, for error messages. */
  #where = '';

  constructor(s: GroupSource, rg: RowGroup, base: number, from: number, to: number) {
    this.#s = s;
    this.#k = s.k;
    this.#mem = s.mem;
    this.#rg = rg;
    this.#base = base;
    this.#rows = Number(rg.num_rows);
    this.#from = from;
    this.#to = to;
  }

  #bad(detail: string): never {
    throw new PageError(`${this.#where}: ${detail}`);
  }

  run(): Decoded {
    const rows = this.#rows;
    const cols = this.#s.cols.slice(this.#from, this.#to);
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > I32_MAX - 1) throw new PageError(`row group of ${this.#rg.num_rows} rows`);
    if (rows === 0) return this.#empty();
    if (this.#rg.columns.length !== this.#s.cols.length) throw new PageError(`row group has ${this.#rg.columns.length} column chunks, the schema ${this.#s.cols.length} columns`);
    const metas = this.#rg.columns.slice(this.#from, this.#to).map((c, i) => {
      this.#where = `column '${cols[i].name}'`;
      if (c.file_path !== undefined) throw new NotOurs(`column '${cols[i].name}' is in another file`);
      if (!c.meta_data) this.#bad('column chunk without metadata');
      return this.#checkMeta(c.meta_data, cols[i]);
    });

    // All chunks of the group, read straight into the kernel memory.
    let cursor = this.#base;
    const at = metas.map((m) => {
      const a = cursor;
      cursor = align64(cursor + m.len);
      return a;
    });
    this.#mem.ensure(cursor);
    metas.forEach((m, i) => {
      this.#where = `column '${cols[i].name}'`;
      try {
        this.#s.read(new Uint8Array(this.#mem.memory.buffer, at[i], m.len), m.start);
      } catch (e) {
        this.#bad(`cannot read its ${m.len} bytes at ${m.start}: ${(e as Error).message}`);
      }
    });
    const chunks = metas.map((m, i) => this.#walk(cols[i], m.codec, at[i], m.len));

    const scratchAt = cursor;
    const layouts = chunks.map((c) => scratchLayout(c, rows, scratchAt));
    const outAt = align64(Math.max(scratchAt, ...layouts.map((l) => l.end)));
    this.#mem.ensure(outAt);
    let out = outAt;
    const plans: ColumnPlan[] = [];
    chunks.forEach((c, i) => {
      this.#where = `column '${c.col.name}'`;
      const r = this.#column(c, layouts[i], outAt, out);
      plans.push(r.plan);
      out = r.end;
    });
    return { plan: { rows, total: out - outAt, cols: plans }, at: outAt };
  }

  /** The chunk's byte range and codec; codecs and encodings we do not decode → NotOurs. */
  #checkMeta(m: ColumnMetaData, col: KernelColumn): { start: number; len: number; codec: 'SNAPPY' | 'UNCOMPRESSED' } {
    if (m.codec !== 'SNAPPY' && m.codec !== 'UNCOMPRESSED') throw new NotOurs(`column '${col.name}': codec ${m.codec}`);
    if (m.type !== col.physical) this.#bad(`chunk of type ${m.type}, the schema says ${col.physical}`);
    const dataAt = Number(m.data_page_offset);
    const dictAt = m.dictionary_page_offset === undefined ? 0 : Number(m.dictionary_page_offset);
    // Some writers leave dictionary_page_offset 0 or absent with a dictionary page first: then the
    // data page offset is the chunk's start and the walk finds the dictionary page there.
    const start = dictAt > 0 && dictAt < dataAt ? dictAt : dataAt;
    const len = Number(m.total_compressed_size);
    if (!Number.isSafeInteger(start) || start < 4 || !Number.isSafeInteger(len) || len < 0 || start + len > this.#s.fileSize) {
      this.#bad(`chunk at ${start} of ${len} bytes is outside the file (${this.#s.fileSize} bytes)`);
    }
    if (Number(m.num_values) !== this.#rows) this.#bad(`${m.num_values} values in a row group of ${this.#rows} rows`);
    return { start, len, codec: m.codec };
  }

  /** Walks the chunk's page headers (hyparquet's Thrift reader), checking what each page holds. */
  #walk(col: KernelColumn, codec: string, at: number, len: number): Chunk {
    const chunk: Chunk = { col, pages: [], maxValues: 0, maxBuf: 0 };
    const reader = { view: new DataView(this.#mem.memory.buffer, at, len), offset: 0 };
    let values = 0;
    for (let n = 0; values < this.#rows; n++) {
      this.#where = `column '${col.name}' page ${n}`;
      if (reader.offset >= len) this.#bad(`the chunk ends after ${values} of ${this.#rows} values`);
      let h: ReturnType<typeof parquetHeader>;
      try {
        h = parquetHeader(reader);
      } catch (e) {
        this.#bad(`unreadable page header: ${(e as Error).message}`);
      }
      const comp = h.compressed_page_size, uncomp = h.uncompressed_page_size;
      if (!isCount(comp) || !isCount(uncomp)) this.#bad('page header without valid sizes');
      if (reader.offset + comp > len) this.#bad(`page of ${comp} bytes (${uncomp} uncompressed) at ${reader.offset} of a ${len}-byte chunk`);
      const pageAt = at + reader.offset;
      reader.offset += comp;
      const snappy = codec === 'SNAPPY';
      // Snappy expands at most ~21× (a 3-byte copy tag writes ≤ 64 bytes): a page claiming more is
      // corrupt, and must not make us reserve gigabytes of scratch for it.
      if (snappy && uncomp > 22 * comp + 16) this.#bad(`page of ${comp} bytes claims ${uncomp} bytes uncompressed`);
      if (h.type === 'DICTIONARY_PAGE') {
        const d = h.dictionary_page_header;
        if (!d || !isCount(d.num_values)) this.#bad('dictionary page without a valid header');
        if (chunk.dict || chunk.pages.length > 0) this.#bad('a dictionary page after the first page');
        if (d.encoding === undefined) this.#bad('unknown encoding');
        if (d.encoding !== 'PLAIN' && d.encoding !== 'PLAIN_DICTIONARY') throw new NotOurs(`column '${col.name}': dictionary page encoding ${d.encoding}`);
        if (col.physical === 'BOOLEAN') this.#bad('a dictionary page in a boolean column');
        // Every value takes its width (byte arrays: at least their 4-byte length) in the page.
        if (d.num_values * Math.max(col.width, 4) > (snappy ? uncomp : comp)) this.#bad(`dictionary of ${d.num_values} values in ${snappy ? uncomp : comp} bytes`);
        chunk.dict = { kind: 'dict', at: pageAt, comp, uncomp, values: d.num_values, encoding: d.encoding, defLen: 0, snappy };
        continue;
      }
      let page: Page;
      if (h.type === 'DATA_PAGE') {
        const d = h.data_page_header;
        if (!d || !isCount(d.num_values)) this.#bad('data page without a valid header');
        if (col.maxDef > 0 && d.definition_level_encoding === undefined) this.#bad('unknown definition level encoding');
        if (col.maxDef > 0 && d.definition_level_encoding !== 'RLE') throw new NotOurs(`column '${col.name}': definition levels ${d.definition_level_encoding}`);
        page = { kind: 'v1', at: pageAt, comp, uncomp, values: d.num_values, encoding: d.encoding, defLen: 0, snappy };
        if (snappy) chunk.maxBuf = Math.max(chunk.maxBuf, uncomp);
      } else if (h.type === 'DATA_PAGE_V2') {
        const d = h.data_page_header_v2;
        if (!d || !isCount(d.num_values) || !isCount(d.num_nulls) || !isCount(d.definition_levels_byte_length) || !isCount(d.repetition_levels_byte_length)) this.#bad('data page v2 without a valid header');
        const levels = d.definition_levels_byte_length + d.repetition_levels_byte_length;
        if (d.repetition_levels_byte_length !== 0) this.#bad('repetition levels in a flat column');
        if (col.maxDef === 0 && d.definition_levels_byte_length !== 0) this.#bad('definition levels in a REQUIRED column');
        if (levels > comp || levels > uncomp) this.#bad(`${levels} bytes of levels in a page of ${comp}`);
        const compressed = snappy && d.is_compressed !== false;
        page = { kind: 'v2', at: pageAt, comp, uncomp, values: d.num_values, encoding: d.encoding, defLen: d.definition_levels_byte_length, snappy: compressed, nulls: d.num_nulls };
        if (compressed) chunk.maxBuf = Math.max(chunk.maxBuf, uncomp - levels);
      } else if (h.type === 'INDEX_PAGE') {
        continue;
      } else {
        this.#bad(`unknown page type ${String(h.type)}`);
      }
      if (page.encoding === undefined) this.#bad('unknown encoding');
      if (!encodingOk(col, page.encoding)) throw new NotOurs(`column '${col.name}': ${page.encoding} encoding`);
      if (DICT_ENCODINGS.has(page.encoding) && !chunk.dict) this.#bad('dictionary-encoded page without a dictionary page');
      values += page.values;
      chunk.maxValues = Math.max(chunk.maxValues, page.values);
      chunk.pages.push(page);
    }
    if (values !== this.#rows) this.#bad(`pages hold ${values} values, the row group ${this.#rows} rows`);
    return chunk;
  }

  /** A group without rows: every buffer empty (utf8 offsets [0]). */
  #empty(): Decoded {
    const at = align64(this.#base);
    const chosen = this.#s.cols.slice(this.#from, this.#to);
    // One 64-byte slot per buffer: data, and offsets for byte arrays.
    this.#mem.ensure(at + 64 * chosen.reduce((n, c) => n + (c.physical === 'BYTE_ARRAY' ? 2 : 1), 0));
    let out = 0;
    const cols = chosen.map((c): ColumnPlan => {
      let offsets = -1;
      if (c.physical === 'BYTE_ARRAY') {
        offsets = out;
        this.#mem.i32[(at + out) >>> 2] = 0;
        out += 64;
      }
      const data = out;
      out += 64;
      return { fmt: c.fmt, nulls: 0, validity: -1, offsets, data, bytes: 0 };
    });
    return { plan: { rows: 0, total: out, cols }, at };
  }

  // ---- one column --------------------------------------------------------------------------------

  #column(c: Chunk, s: Scratch, outAt: number, out: number): { plan: ColumnPlan; end: number } {
    const rows = this.#rows;
    const col = c.col;
    const dict = c.dict ? this.#dictionary(c, c.dict, s) : undefined;
    let offsets = -1, data: number, bytes: number;
    let nonNull = 0;
    if (col.physical === 'BYTE_ARRAY') {
      offsets = out;
      this.#mem.ensure(out + slot(4 * (rows + 1)));
      this.#mem.i32[out >>> 2] = 0;
      data = out + slot(4 * (rows + 1));
      c.pages.forEach((p, n) => (nonNull += this.#strings(c, p, n, s, offsets, data, dict)));
      bytes = this.#mem.i32[(offsets >>> 2) + rows];
      // UTF-8, as arrow-rs checks it (it rejects the file): the values of dictionary pages were
      // checked once in the dictionary (#dictionary), so only a chunk with PLAIN pages is checked
      // here, whole (the bytes at ~15 GB/s, plus one byte per value start when any is non-ASCII).
      if (col.fmt === 'u' && c.pages.some((p) => p.encoding === 'PLAIN')) {
        this.#where = `column '${col.name}'`;
        const row = invalidUtf8Row(this.#k, this.#mem.i32, offsets, rows, data);
        if (row >= 0) this.#bad(`row ${row} of the row group is ${this.#utf8Detail(offsets, data, row)}`);
      }
    } else {
      data = out;
      bytes = col.physical === 'BOOLEAN' ? (rows + 7) >>> 3 : rows * col.outWidth;
      this.#mem.ensure(data + slot(bytes));
      if (col.physical === 'BOOLEAN') c.pages.forEach((p, n) => (nonNull += this.#bools(c, p, n, s, data)));
      else c.pages.forEach((p, n) => (nonNull += this.#fixed(c, p, n, s, data, dict)));
    }
    let end = data + slot(bytes);
    const nulls = rows - nonNull;
    let validity = -1;
    if (nulls > 0) {
      validity = end;
      const n = (rows + 7) >>> 3;
      this.#mem.ensure(end + slot(n));
      this.#mem.u8.copyWithin(end, s.validity, s.validity + n);
      end += slot(n);
    }
    return { plan: { fmt: col.fmt, nulls, validity: validity < 0 ? -1 : validity - outAt, offsets: offsets < 0 ? -1 : offsets - outAt, data: data - outAt, bytes }, end };
  }

  /** The dictionary page, decoded once per chunk: fixed-width values in place, byte arrays as offsets + bytes. */
  #dictionary(c: Chunk, d: Page, s: Scratch): Dictionary {
    this.#where = `column '${c.col.name}' dictionary page`;
    let at = d.at, len = d.comp;
    if (d.snappy) {
      this.#snappy(d.at, d.comp, s.dictRaw, d.uncomp);
      at = s.dictRaw;
      len = d.uncomp;
    }
    if (c.col.physical !== 'BYTE_ARRAY') {
      if (d.values * c.col.width > len) this.#bad(`${d.values} values of ${c.col.width} bytes in ${len} bytes`);
      return { at, n: d.values, maxLen: 0 };
    }
    this.#mem.i32[s.dictOffsets >>> 2] = 0;
    const rc = this.#k.pqByteArrayPlain(at, len, d.values, s.dictOffsets, s.dictData, len);
    if (rc < 0) this.#bad(`byte array values cut short (${rc})`);
    if (c.col.fmt === 'u') {
      // Every string of a dictionary-encoded page is one of these (arrow-rs checks them here too).
      const bad = invalidUtf8Row(this.#k, this.#mem.i32, s.dictOffsets, d.values, s.dictData);
      if (bad >= 0) this.#bad(`dictionary value ${bad} is ${this.#utf8Detail(s.dictOffsets, s.dictData, bad)}`);
    }
    const offs = this.#mem.i32.subarray(s.dictOffsets >>> 2, (s.dictOffsets >>> 2) + d.values + 1);
    let maxLen = 0;
    for (let i = 0; i < d.values; i++) maxLen = Math.max(maxLen, offs[i + 1] - offs[i]);
    return { at: s.dictData, n: d.values, maxLen, offsets: s.dictOffsets };
  }

  /** What is wrong with value `row` (int32 offsets at `offsets` over `data`): utf8Detail of its bytes. */
  #utf8Detail(offsets: number, data: number, row: number): string {
    const i32 = this.#mem.i32;
    const s = i32[(offsets >>> 2) + row], e = i32[(offsets >>> 2) + row + 1];
    return utf8Detail(this.#mem.u8.subarray(data + s, data + e), this.#k.utf8Valid(data + s, e - s));
  }

  #snappy(src: number, srcLen: number, dst: number, n: number): void {
    const rc = this.#k.pqSnappy(src, srcLen, dst, n);
    if (rc !== n) this.#bad(rc === PqError.CAPACITY ? `snappy block longer than the ${n} bytes the header says` : rc < 0 ? 'malformed snappy block' : `snappy block of ${rc} bytes, the header says ${n}`);
  }

  /**
   * A data page's values section (decompressed if need be) and its non-null count; definition
   * levels set validity bits [row, row + values) in s.validity.
   */
  #open(c: Chunk, p: Page, n: number, s: Scratch, row: number): { at: number; len: number; nonNull: number } {
    this.#where = `column '${c.col.name}' page ${n + (c.dict ? 1 : 0)}`;
    const maxDef = c.col.maxDef;
    let nonNull = p.values;
    if (p.kind === 'v1') {
      let at = p.at, len = p.comp;
      if (p.snappy) {
        this.#snappy(p.at, p.comp, s.page, p.uncomp);
        at = s.page;
        len = p.uncomp;
      }
      if (maxDef > 0) {
        if (len < 4) this.#bad('definition levels cut short');
        const u8 = this.#mem.u8;
        const levels = (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24)) >>> 0;
        if (levels > len - 4) this.#bad(`${levels} bytes of definition levels in a ${len}-byte page`);
        nonNull = this.#levels(at + 4, levels, p.values, s, row);
        at += 4 + levels;
        len -= 4 + levels;
      }
      return { at, len, nonNull };
    }
    if (maxDef > 0) nonNull = this.#levels(p.at, p.defLen, p.values, s, row);
    // arrow-rs reads num_values − num_nulls values from a v2 page and fails ("insufficient values")
    // when its levels want more: a header with more nulls than the levels is an error on both paths.
    // Fewer nulls in the header than in the levels both paths read by the levels.
    if (p.nulls! > p.values - nonNull) this.#bad(`the header says ${p.nulls} nulls, the definition levels ${p.values - nonNull}`);
    const at = p.at + p.defLen, len = p.comp - p.defLen;
    if (!p.snappy || len === 0) return { at, len, nonNull };
    this.#snappy(at, len, s.page, p.uncomp - p.defLen);
    return { at: s.page, len: p.uncomp - p.defLen, nonNull };
  }

  #levels(at: number, len: number, values: number, s: Scratch, row: number): number {
    if (values === 0) return 0;
    // Fast path: the levels are one RLE run (a varint header `count << 1`, then the value's byte)
    // — every value present (DuckDB marks every column OPTIONAL; most have no nulls) or every one
    // null. Setting the bits directly skips expanding 4 bytes of level per value.
    const u8 = this.#mem.u8;
    let header = 0, i = 0;
    for (let shift = 0; i < Math.min(len, 5); shift += 7) {
      const b = u8[at + i++];
      header += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (i < len && u8[at + i - 1] < 0x80 && header % 2 === 0 && header / 2 >= values && u8[at + i] <= 1) {
      const valid = u8[at + i] === 1;
      this.#fillBits(s.validity, row, values, valid);
      return valid ? values : 0;
    }
    if (this.#k.pqRle(at, len, 1, s.levels, values) < 0) this.#bad('definition levels cut short or malformed');
    return this.#k.pqDefLevels(s.levels, values, 1, s.validity, row);
  }

  /** Bits [from, from + n) of the bitmap at `at` set to `one`; the rest of the last byte cleared (as pqDefLevels leaves it). */
  #fillBits(at: number, from: number, n: number, one: boolean): void {
    const u8 = this.#mem.u8;
    const end = from + n;
    let i = from;
    for (; i < end && i & 7; i++) u8[at + (i >>> 3)] = one ? u8[at + (i >>> 3)] | (1 << (i & 7)) : u8[at + (i >>> 3)] & ~(1 << (i & 7));
    const bytes = (end - i) >>> 3;
    u8.fill(one ? 0xff : 0, at + (i >>> 3), at + (i >>> 3) + bytes);
    for (i += 8 * bytes; i < end; i++) u8[at + (i >>> 3)] = one ? u8[at + (i >>> 3)] | (1 << (i & 7)) : u8[at + (i >>> 3)] & ~(1 << (i & 7));
    if (end & 7) u8[at + (end >>> 3)] &= (1 << (end & 7)) - 1;
  }

  /** Dictionary indices (a bit-width byte, then RLE/bit-packed) of nonNull values → s.idx. */
  #indices(at: number, len: number, nonNull: number, s: Scratch): void {
    if (len < 1) this.#bad('dictionary indices missing');
    const bitWidth = this.#mem.u8[at];
    if (bitWidth > 32) this.#bad(`dictionary indices of ${bitWidth} bits`);
    if (this.#k.pqRle(at + 1, len - 1, bitWidth, s.idx, nonNull) < 0) this.#bad('dictionary indices cut short or malformed');
  }

  /** One page of a fixed-width column into data[row …]; returns its non-null count. */
  #fixed(c: Chunk, p: Page, n: number, s: Scratch, data: number, dict: Dictionary | undefined): number {
    const row = s.row;
    const { at, len, nonNull } = this.#open(c, p, n, s, row);
    s.row += p.values;
    const { width, outWidth } = c.col;
    const dst = data + row * outWidth;
    const nulls = nonNull !== p.values;
    const widen = outWidth !== width;
    let src = at;
    if (nonNull > 0) {
      if (p.encoding === 'PLAIN') {
        if (nonNull * width > len) this.#bad(`${nonNull} values of ${width} bytes in ${len} bytes`);
      } else {
        this.#indices(at, len, nonNull, s);
        src = nulls || widen ? s.dense : dst;
        if (this.#k.pqGather(width, s.idx, nonNull, dict!.at, dict!.n, src) !== 0) this.#bad(`a dictionary index past the ${dict!.n} values`);
      }
      if (widen) {
        const to = nulls ? s.wide : dst;
        this.#k.pqWiden(width, src, nonNull, to);
        src = to;
      }
    }
    if (nulls) {
      if (this.#k.pqSpread(outWidth, src, s.validity, row, p.values, dst) !== nonNull) this.#bad('validity and values disagree');
    } else if (src !== dst) {
      this.#mem.u8.copyWithin(dst, src, src + nonNull * outWidth);
    }
    return nonNull;
  }

  /** One page of a boolean column into the bitmap at data, bits [row …); returns its non-null count. */
  #bools(c: Chunk, p: Page, n: number, s: Scratch, data: number): number {
    const row = s.row;
    const { at, len, nonNull } = this.#open(c, p, n, s, row);
    s.row += p.values;
    const nulls = nonNull !== p.values;
    const dst = nulls ? s.bits : data, dstBit = nulls ? 0 : row;
    if (nonNull > 0) {
      if (p.encoding === 'PLAIN') {
        if ((nonNull + 7) >>> 3 > len) this.#bad(`${nonNull} booleans in ${len} bytes`);
        this.#k.pqBits(at, 0, nonNull, dst, dstBit);
      } else {
        // RLE (what v2 writers use for booleans): 4-byte length, then the hybrid at bit width 1;
        // pqDefLevels turns the 0/1 values into bits.
        if (len < 4) this.#bad('boolean RLE length cut short');
        const u8 = this.#mem.u8;
        const rle = (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24)) >>> 0;
        if (rle > len - 4) this.#bad(`${rle} bytes of booleans in a ${len}-byte page`);
        if (this.#k.pqRle(at + 4, rle, 1, s.idx, nonNull) < 0) this.#bad('boolean RLE cut short or malformed');
        this.#k.pqDefLevels(s.idx, nonNull, 1, dst, dstBit);
      }
    }
    if (nulls) {
      // Spread the dense bits over the valid rows (no kernel for bits; booleans with nulls are rare
      // and this is one pass over the page).
      const u8 = this.#mem.u8;
      for (let i = 0, j = 0; i < p.values; i++) {
        const r = row + i;
        const valid = (u8[s.validity + (r >>> 3)] >>> (r & 7)) & 1;
        const bit = valid ? (u8[s.bits + (j >>> 3)] >>> (j++ & 7)) & 1 : 0;
        if (bit) u8[data + (r >>> 3)] |= 1 << (r & 7);
        else u8[data + (r >>> 3)] &= ~(1 << (r & 7));
      }
    }
    return nonNull;
  }

  /** One page of a byte-array column: offsets[row + 1 …] and bytes at data; returns its non-null count. */
  #strings(c: Chunk, p: Page, n: number, s: Scratch, offsets: number, data: number, dict: Dictionary | undefined): number {
    const row = s.row;
    const { at, len, nonNull } = this.#open(c, p, n, s, row);
    s.row += p.values;
    const nulls = nonNull !== p.values;
    const mem = this.#mem;
    const fill = mem.i32[(offsets >>> 2) + row];
    const out = nulls ? s.denseOffsets : offsets + 4 * row;
    if (nulls) mem.i32[s.denseOffsets >>> 2] = fill;
    // The output block is the last thing in the memory, so the bytes may use all of it (offsets are
    // int32: at most 2 GiB of them, as arrow-rs' Utf8).
    const cap = () => Math.min(mem.size - data, I32_MAX);
    if (nonNull > 0) {
      if (p.encoding === 'PLAIN') {
        mem.ensure(data + fill + len);
        const rc = this.#k.pqByteArrayPlain(at, len, nonNull, out, data, cap());
        if (rc < 0) this.#bad(rc === PqError.CAPACITY ? 'strings past 2 GiB in one column' : `byte array values cut short (${nonNull} values in ${len} bytes)`);
      } else {
        this.#indices(at, len, nonNull, s);
        const d = dict!;
        const bound = nonNull * d.maxLen;
        if (bound <= 1 << 28) mem.ensure(data + fill + bound);
        let rc = this.#k.pqByteArrayDict(s.idx, nonNull, d.offsets!, d.at, d.n, out, data, cap());
        if (rc === PqError.CAPACITY) {
          // The bound was too large to reserve up front: size the page exactly and redo it.
          const idx = mem.i32.subarray(s.idx >>> 2, (s.idx >>> 2) + nonNull);
          const offs = mem.i32.subarray(d.offsets! >>> 2, (d.offsets! >>> 2) + d.n + 1);
          let need = 0;
          for (let i = 0; i < nonNull; i++) need += offs[idx[i] + 1] - offs[idx[i]];
          if (fill + need > I32_MAX) this.#bad('strings past 2 GiB in one column');
          mem.ensure(data + fill + need);
          rc = this.#k.pqByteArrayDict(s.idx, nonNull, d.offsets!, d.at, d.n, out, data, cap());
        }
        if (rc < 0) this.#bad(rc === PqError.CAPACITY ? 'strings past 2 GiB in one column' : `a dictionary index past the ${d.n} values`);
      }
    }
    if (nulls && this.#k.pqSpreadOffsets(s.validity, row, p.values, s.denseOffsets, offsets + 4 * row) !== nonNull) this.#bad('validity and values disagree');
    return nonNull;
  }
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= I32_MAX;

function encodingOk(col: KernelColumn, e: Encoding): boolean {
  if (col.physical === 'BOOLEAN') return e === 'PLAIN' || e === 'RLE';
  return e === 'PLAIN' || DICT_ENCODINGS.has(e);
}

interface Dictionary {
  /** Fixed width: the values; byte arrays: their bytes. */
  at: number;
  n: number;
  /** Byte arrays: the longest value, and the int32 offsets[0..n]. */
  maxLen: number;
  offsets?: number;
}

/** One column's scratch buffers (addresses), all above the chunks and below the output block. */
interface Scratch {
  page: number;
  dictRaw: number;
  dictOffsets: number;
  dictData: number;
  levels: number;
  idx: number;
  dense: number;
  wide: number;
  denseOffsets: number;
  bits: number;
  validity: number;
  end: number;
  /** Rows decoded so far (the next page's first row). */
  row: number;
}

/** Scratch for chunk c at `at`, sized from its page headers (so corrupt sizes cannot overrun it). */
function scratchLayout(c: Chunk, rows: number, at: number): Scratch {
  let cur = at;
  const take = (bytes: number): number => {
    const a = cur;
    cur = align64(cur + bytes + 8);
    return a;
  };
  const v = c.maxValues;
  const d = c.dict;
  const strings = c.col.physical === 'BYTE_ARRAY';
  const opt = c.col.maxDef > 0;
  const s: Scratch = {
    page: take(c.maxBuf),
    dictRaw: take(d?.snappy ? d.uncomp : 0),
    dictOffsets: take(d && strings ? 4 * (d.values + 1) : 0),
    dictData: take(d && strings ? (d.snappy ? d.uncomp : d.comp) : 0),
    levels: take(opt ? 4 * v : 0),
    idx: take(d || c.col.physical === 'BOOLEAN' ? 4 * v : 0),
    dense: take(!strings && (opt || c.col.outWidth !== c.col.width) ? 8 * v : 0),
    wide: take(c.col.outWidth === 16 && opt ? 16 * v : 0),
    denseOffsets: take(strings && opt ? 4 * (v + 1) : 0),
    bits: take(c.col.physical === 'BOOLEAN' && opt ? (v + 7) >>> 3 : 0),
    validity: take(opt ? (rows + 7) >>> 3 : 0),
    end: 0,
    row: 0,
  };
  s.end = cur;
  return s;
}
