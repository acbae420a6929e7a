/**
 * CSV in and out.
 *
 * Reading is byte-level: no string per field. Windows of the file (default 16 MiB) go through the
 * CSV kernel (assembly/csv, csv-kernel.ts): a SIMD scan records every field's position, then each
 * column is parsed from those positions straight into its buffers in the engine's memory — in the
 * parse workers, over the shared Memory (see #kernelBatches and README.md). The kernel hands back
 * whatever it does not do exactly like the JS path below, which then reads that field or window:
 *
 *   1. `tokenize` walks the bytes once and records, for every field of every complete row, the start
 *      and end offsets and whether it was quoted / holds doubled quotes ("" → ");
 *   2. each column is then parsed from those offsets straight into its buffers in the engine's memory
 *      (allocColumn in the batch's scope): integers and dates by digit arithmetic, floats by the exact
 *      fast path (≤ 15 significant digits and a power of ten ≤ 22 — one IEEE multiply or divide of
 *      two exact values, so correctly rounded) with `Number()` on the rare rest, strings by copying
 *      bytes (unescaping only fields that need it).
 *
 * The JS path also reads the inference sample and files with a column type the kernel lacks
 * (timestamps).
 *
 * An incomplete last row is carried over to the next chunk, so every chunk is a batch of whole rows:
 * `engine.scan` streams chunk by chunk; `engine.read` keeps every chunk's batch. After the inference
 * sample, chunks cut at a row boundary go to up to two parse workers (csv-worker.ts) and come back
 * in order — see README.md.
 *
 * Dialect: RFC 4180 — a header row (optional), one-byte delimiter (default ','), '"' quotes with ""
 * inside, newlines inside quoted fields, LF or CRLF line ends, blank lines skipped. An empty unquoted
 * field is null; a quoted empty field ("") is the empty string in a utf8 column and null elsewhere.
 *
 * Types: an explicit `schema` names a type per column; the others are inferred from the first
 * `inferRows` rows (default 10 000): bool (true/false, any case) → int64 → float64 → date32
 * (YYYY-MM-DD) → timestamp[µs] (ISO 8601, 'T' or ' ', optional fraction, optional Z / ±HH:MM —
 * normalized to UTC, and the column's time zone is 'UTC' when the sample carries offsets) → utf8.
 * A later value that does not parse as the column's type is a FileFormatError naming the file, the
 * line and the column (pass an explicit schema to widen it) — the contract Polars' and DuckDB's
 * sampling readers have too. A utf8 column's values must be valid UTF-8 (checked per window, by the
 * utf8 kernels or, in the JS parse workers, by Node's isUtf8): an invalid one is a FileFormatError
 * naming the file, the line and the column, as DuckDB and Polars reject it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RpcWorker } from './rpc-worker.js';
import { DataType, DateUnit, TimeUnit as ArrowTimeUnit, type Table, type Timestamp, type Vector } from 'apache-arrow';
import { Batch } from '../../arrow/batch.js';
import { Column, byteWidth, columnType, type ColumnType, type TypeName } from '../../column.js';
import { allocColumn } from '../../column-alloc.js';
import type { Context } from '../../context.js';
import { AetherError, InvalidOptionError, KernelTrapError } from '../../errors.js';
import { guard } from '../../kernels/module.js';
import type { ArenaScope } from '../../memory/arena.js';
import type { Schema } from '../expr.js';
import { FileFormatError } from './ipc.js';
import {
  FLAG_ESCAPED, ParseError, RowError, Tokens, dataBytesOf, inferColumn, latin1, parseColumn, tokenize, type CsvType,
} from './csv-parse.js';
import { COL_BYTES, describeColumns, kindOf, nullsOf, parseWindow, scanWindow, type CsvKernel } from './csv-kernel.js';
import { invalidUtf8Row, utf8Detail, type Utf8Kernel } from './utf8-kernel.js';

export type { CsvType };

export interface CsvReadOptions {
  /** One byte (default ','). */
  delimiter?: string;
  /** The first line names the columns (default true). Without it columns are column_1, column_2, … (or the schema's keys, in order). */
  header?: boolean;
  /** Types for some or all columns, by name; the rest are inferred. */
  schema?: Readonly<Record<string, CsvType>>;
  /** Rows sampled for type inference (default 10 000). */
  inferRows?: number;
  /** Bytes per chunk — rows per batch follow from it (default 16 MiB). */
  chunkBytes?: number;
  /**
   * Parse worker threads (default: min(2, cores) when chunks are ≥ 1 MiB, else 0 — small windows
   * cost more to ship than to parse). 0 parses on the calling thread.
   */
  threads?: number;
}

export interface CsvWriteOptions {
  delimiter?: string;
  /** Write a header row (default true). */
  header?: boolean;
}

/** Where bytes come from: a file path, or bytes already in hand (labelled for errors). */
export type CsvInput = string | { readonly bytes: Uint8Array; readonly name: string };

const CSV_TYPES: readonly CsvType[] = [
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'bool', 'date32', 'timestamp', 'utf8',
];
const DEFAULT_CHUNK = 16 << 20;

// ---- options -----------------------------------------------------------------------------------

interface Dialect {
  delim: number;
  header: boolean;
  schema: Readonly<Record<string, CsvType>>;
  inferRows: number;
  chunkBytes: number;
  threads: number;
}

function dialectOf(o: CsvReadOptions = {}): Dialect {
  if (o === null || typeof o !== 'object') throw new InvalidOptionError('csv', o, 'an object of CSV options');
  const d = o.delimiter ?? ',';
  if (typeof d !== 'string' || d.length !== 1 || d.charCodeAt(0) > 127 || d === '"' || d === '\n' || d === '\r') {
    throw new InvalidOptionError('csv.delimiter', d, 'one ASCII character other than a quote or a line break');
  }
  const schema = o.schema ?? {};
  if (schema === null || typeof schema !== 'object') throw new InvalidOptionError('csv.schema', schema, 'an object { column: type }');
  for (const [k, t] of Object.entries(schema)) {
    if (!CSV_TYPES.includes(t)) throw new InvalidOptionError(`csv.schema.${k}`, t, CSV_TYPES.map((x) => `'${x}'`).join(', '));
  }
  const inferRows = o.inferRows ?? 10_000;
  if (!Number.isInteger(inferRows) || inferRows < 1) throw new InvalidOptionError('csv.inferRows', inferRows, 'a positive integer');
  const chunkBytes = o.chunkBytes ?? DEFAULT_CHUNK;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > 1 << 30) throw new InvalidOptionError('csv.chunkBytes', chunkBytes, 'an integer from 1 to 2^30');
  if (o.header !== undefined && typeof o.header !== 'boolean') throw new InvalidOptionError('csv.header', o.header, 'true or false');
  const threads = o.threads ?? (chunkBytes >= 1 << 20 ? POOL_SIZE : 0);
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw new InvalidOptionError('csv.threads', threads, 'an integer from 0 to 64');
  return { delim: d.charCodeAt(0), header: o.header ?? true, schema, inferRows, chunkBytes, threads };
}

// ---- chunked byte source -----------------------------------------------------------------------

/**
 * Hands out windows of the input that end on whole rows: `fill()` makes sure `buf[pos, limit)`
 * holds the unconsumed bytes plus up to chunkBytes more (growing the buffer when one row is larger
 * than a chunk), `final` says the window reaches the end of the input.
 */
class ChunkReader {
  buf: Uint8Array;
  pos = 0;
  limit = 0;
  final = false;
  /** File offset of buf[0] (for nothing but diagnostics). */
  #fh: FileHandle | undefined;
  #filePos = 0;
  readonly #bytes: Uint8Array | undefined;

  private constructor(readonly name: string, readonly chunk: number, fh: FileHandle | undefined, bytes: Uint8Array | undefined) {
    this.#fh = fh;
    this.#bytes = bytes;
    this.buf = bytes ?? new Uint8Array(0);
  }

  static async open(input: CsvInput, chunk: number): Promise<ChunkReader> {
    if (typeof input !== 'string') {
      if (!(input.bytes instanceof Uint8Array)) throw new InvalidOptionError('input', typeof input.bytes, 'a Uint8Array');
      return new ChunkReader(input.name, chunk, undefined, input.bytes);
    }
    let fh: FileHandle;
    try {
      fh = await open(input, 'r');
    } catch (e) {
      throw new FileFormatError(input, `cannot open: ${(e as Error).message}`);
    }
    return new ChunkReader(input, chunk, fh, undefined);
  }

  /** Makes more bytes available after the unconsumed ones; false at the end of the input. */
  async fill(): Promise<boolean> {
    if (this.final) return false;
    if (this.#bytes) {
      // In-memory input: the window slides over the bytes; nothing is copied.
      const end = Math.min(this.#bytes.length, this.limit + Math.max(this.chunk, this.limit - this.pos));
      this.limit = end;
      this.final = end === this.#bytes.length;
      return true;
    }
    const keep = this.limit - this.pos;
    const want = Math.max(this.chunk, keep);
    if (this.buf.length < keep + want) {
      const next = Buffer.allocUnsafe(keep + want);
      next.set(this.buf.subarray(this.pos, this.limit), 0);
      this.buf = next;
    } else if (this.pos > 0) this.buf.copyWithin(0, this.pos, this.limit);
    this.pos = 0;
    this.limit = keep;
    // Read keep + want, not the whole buffer: a buffer grown once (a long row, the inference sample)
    // must not make every later batch bigger.
    const target = keep + want;
    while (this.limit < target) {
      const { bytesRead } = await this.#fh!.read(this.buf, this.limit, target - this.limit, this.#filePos);
      if (bytesRead === 0) {
        this.final = true;
        break;
      }
      this.#filePos += bytesRead;
      this.limit += bytesRead;
    }
    return true;
  }

  /**
   * Puts bytes consumed earlier back in front of the unconsumed ones (they must be the input's bytes
   * right before `pos`): the kernel pipeline's rewind after a window it handed back.
   */
  unshift(bytes: Uint8Array): void {
    if (this.#bytes) {
      // In-memory input: those bytes are still right there.
      this.pos -= bytes.length;
      return;
    }
    const rest = this.buf.subarray(this.pos, this.limit);
    const next = Buffer.allocUnsafe(bytes.length + rest.length);
    next.set(bytes, 0);
    next.set(rest, bytes.length);
    this.buf = next;
    this.pos = 0;
    this.limit = next.length;
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }
}

// ---- parse workers -----------------------------------------------------------------------------

interface WorkerCol { buf: ArrayBuffer; values: number; validity: number; offsets: number; nulls: number }
type WorkerReply =
  | { ok: true; rows: number; lines: number; cols: WorkerCol[] }
  | { ok: false; line: number; column: number; detail: string; parse?: boolean };

const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism()));

/**
 * One parse worker (csv-worker.ts). Under a TypeScript loader (tests), this file is csv.ts and the
 * worker boots through tsx's register hook first, as src/runtime does; built, it is csv-worker.js.
 * Unref'd while idle so it never keeps the process alive.
 */
/** A kernel job's reply (csv-worker.ts). */
type KernelReply = { ok: true; rows?: number; lines?: number } | { ok: false; redo?: boolean; capacity?: boolean; scanned?: number; trap?: string; lost?: boolean };

/** Memories get a small id, so a worker instantiates the kernel once per Memory (it is sent once per worker). */
const memoryIds = new WeakMap<WebAssembly.Memory, number>();
let nextMemoryId = 1;

class CsvWorker {
  readonly #rpc: RpcWorker<(WorkerReply | KernelReply) & { id: number }>;
  readonly #sent = new Set<number>();

  constructor() {
    let worker: Worker;
    if (import.meta.url.endsWith('.ts')) {
      const api = import.meta.resolve('tsx/esm/api');
      const entry = new URL('./csv-worker.ts', import.meta.url).href;
      const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
      worker = new Worker(boot, { eval: true, execArgv: [] });
    } else worker = new Worker(new URL('./csv-worker.js', import.meta.url));
    this.#rpc = new RpcWorker(worker, (why) => new AetherError('ERR_FILE_FORMAT', `CSV parse worker${why}`), {
      error: (msg) => `: ${msg}`,
      exit: (code) => `: exited (code ${code})`,
    });
  }

  get dead(): boolean {
    return this.#rpc.dead;
  }

  parse(bytes: Uint8Array, delim: number, ncols: number, types: CsvType[]): Promise<WorkerReply> {
    return this.#rpc.call({ bytes, delim, ncols, types }, ' is gone', [bytes.buffer as ArrayBuffer]) as Promise<WorkerReply>;
  }

  /** A kernel job (scan / parse) over ctx's Memory; the Memory and module travel with the first one. */
  async kernel(ctx: Context, op: 'scan' | 'parse', job: Record<string, unknown>): Promise<KernelReply> {
    let id = memoryIds.get(ctx.memory);
    if (id === undefined) memoryIds.set(ctx.memory, (id = nextMemoryId++));
    const first = !this.#sent.has(id);
    this.#sent.add(id);
    let r = (await this.#rpc.call({ ...job, op, memoryId: id, ...(first ? { memory: ctx.memory, module: ctx.module } : {}) }, ' is gone')) as KernelReply;
    // The worker keeps few Memories (not to pin closed engines' memory): send it again if dropped.
    if (!r.ok && r.lost) r = (await this.#rpc.call({ ...job, op, memoryId: id, memory: ctx.memory, module: ctx.module }, ' is gone')) as KernelReply;
    if (!r.ok && r.trap !== undefined) throw new KernelTrapError(op === 'scan' ? 'csvScan' : 'csvParse', r.trap);
    return r;
  }
}

const workers: CsvWorker[] = [];
let turn = 0;
function csvWorker(_depth: number): CsvWorker {
  return workerAt(turn++ % POOL_SIZE);
}
function workerAt(k: number): CsvWorker {
  if (!workers[k] || workers[k].dead) workers[k] = new CsvWorker();
  return workers[k];
}

/**
 * The end of the last whole row in buf[pos, limit) — just after a newline outside quotes — or -1.
 * Quote parity decides "outside": the count of '"' from the window's start (a row start) up to the
 * newline must be even (a "" escape counts twice, so it keeps the parity). indexOf scans natively.
 * At the end of the input the whole rest is whole rows when its quote count is even.
 */
function rowCut(buf: Uint8Array, pos: number, limit: number, final: boolean): number {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const quotesIn = (from: number, to: number): number => {
    let n = 0;
    for (let i = b.indexOf(QUOTE_BYTE, from); i >= 0 && i < to; i = b.indexOf(QUOTE_BYTE, i + 1)) n++;
    return n;
  };
  let odd = quotesIn(pos, limit) & 1;
  if (final) return odd ? -1 : limit;
  let end = limit;
  for (let tries = 0; tries < 64; tries++) {
    const lf = end > pos ? b.lastIndexOf(10, end - 1) : -1;
    if (lf < pos) return -1;
    odd ^= quotesIn(lf, end) & 1; // parity of [pos, lf)
    if (!odd) return lf + 1;
    end = lf;
  }
  return -1;
}
const QUOTE_BYTE = 34;

// ---- column builders ---------------------------------------------------------------------------

function columnTypeFor(t: CsvType, zone: boolean): ColumnType {
  if (t === 'timestamp') return columnType('timestamp', 'microsecond', zone ? 'UTC' : null);
  return columnType(t as Exclude<TypeName, 'dictionary' | 'timestamp'>);
}

/** Parses column j of the tokenized rows into a new column in `scope`. Throws ParseError(row, …). */
function buildColumn(
  ctx: Context, scope: ArenaScope, t: Tokens, buf: Uint8Array, j: number, ncols: number, name: string, type: ColumnType, csvType: CsvType,
): Column {
  const n = t.rows;
  const dataBytes = csvType === 'utf8' ? dataBytesOf(t, j, ncols) : 0;
  const col = allocColumn(ctx, scope, type, n, { validity: true, dataBytes, name });
  // ctx.mem after the allocation: it may have grown the memory (a new buffer).
  const nulls = parseColumn(ctx.mem, col, t, buf, j, ncols, csvType);
  return new Column(ctx, scope, {
    type, length: n, values: col.values, offsets: col.offsets, validity: nulls > 0 ? col.validity : 0, nullCount: nulls, name,
  });
}

// ---- the reader --------------------------------------------------------------------------------

/** A reader-owned arena buffer that grows (see CsvReader.#grow). */
interface ScratchBuffer { at: number; bytes: number; scope?: ArenaScope }

export interface CsvLayout {
  names: string[];
  csvTypes: CsvType[];
  schema: Schema;
}

/**
 * A CSV file opened for reading: `layout` is known after `open()` (header + inferred types), then
 * `batches()` yields one Batch per chunk of rows. Each run of a scan opens a new reader.
 */
export class CsvReader {
  readonly #ctx: Context;
  readonly #d: Dialect;
  readonly #src: ChunkReader;
  readonly #tok = new Tokens();
  #layout: CsvLayout | undefined;
  #line = 1;
  #ncols = -1;
  #headerNames: string[] | undefined;
  /** Rows tokenized by open() (the inference sample), handed out first. */
  #pending = false;
  /** The kernel path's window buffers (see #kernelWindow); a scope of their own, closed with the reader. */
  #scratch: ArenaScope | undefined;
  readonly #text: ScratchBuffer = { at: 0, bytes: 0 };
  readonly #pos: ScratchBuffer = { at: 0, bytes: 0 };
  /** Every ScratchBuffer handed out (closed with the reader). */
  readonly #buffers = new Set<ScratchBuffer>();
  #small = 0;
  /** pos entries per window byte seen so far (sizes the next window's pos buffer). */
  #density = 1 / 4;

  private constructor(ctx: Context, d: Dialect, src: ChunkReader) {
    this.#ctx = ctx;
    this.#d = d;
    this.#src = src;
  }

  get name(): string {
    return this.#src.name;
  }

  /**
   * Opens the input and reads the header and the inference sample. `layout` (from an earlier open of
   * the same file — a scan's next run) fixes the names and types instead of inferring them again.
   */
  static async open(ctx: Context, input: CsvInput, opts?: CsvReadOptions, layout?: CsvLayout): Promise<CsvReader> {
    const d = dialectOf(opts);
    const src = await ChunkReader.open(input, d.chunkBytes);
    const r = new CsvReader(ctx, d, src);
    try {
      await r.#start(layout);
      return r;
    } catch (e) {
      await src.close();
      throw e;
    }
  }

  get layout(): CsvLayout {
    return this.#layout!;
  }

  #error(e: unknown, column?: number): never {
    if (e instanceof RowError) {
      const names = this.#layout?.names ?? this.#headerNames;
      throw new FileFormatError(this.name, e.detail, undefined, e.line, names ? names[e.column] : column !== undefined ? `column_${column + 1}` : undefined);
    }
    throw e;
  }

  /** Reads the header and the inference sample. */
  async #start(known?: CsvLayout): Promise<void> {
    const src = this.#src;
    const d = this.#d;
    let names: string[] | undefined;
    // Header: one row of any width.
    if (d.header) {
      for (;;) {
        if (!(await src.fill())) break;
        const h = this.#tokenize(-1, 1);
        if (h.rows === 1) {
          names = [];
          for (let k = 0; k < this.#ncols; k++) {
            const s = this.#tok.starts[k], e = this.#tok.ends[k];
            names.push(unescape(src.buf, s, e, this.#tok.flags[k]));
          }
          break;
        }
        if (src.final) break;
      }
      if (!names) throw new FileFormatError(this.name, 'empty file: no header row');
      this.#headerNames = names;
      const seen = new Set<string>();
      names = names.map((n, k) => {
        let v = n === '' ? `column_${k + 1}` : n;
        while (seen.has(v)) v = `${v}_`;
        seen.add(v);
        return v;
      });
    }
    // Sample: the first inferRows rows (fewer if the input ends).
    // The sample must not depend on the chunk size (or inference would): while it is short of
    // inferRows and the input goes on, re-tokenize it from its start in a larger window.
    this.#tok.rows = 0;
    let sampleAt = src.pos;
    const sampleLine = this.#line;
    const sampleCols = this.#ncols;
    for (;;) {
      if (src.limit > src.pos) {
        this.#tokenize(this.#ncols, d.inferRows);
        if (this.#tok.rows >= d.inferRows) break;
      }
      if (src.final) break;
      src.pos = sampleAt;
      this.#line = sampleLine;
      this.#ncols = sampleCols;
      await src.fill();
      sampleAt = src.pos; // a file window moves its unconsumed bytes to the front
    }
    if (this.#ncols < 0) {
      if (!names) {
        if (this.#tok.rows === 0) {
          const keys = Object.keys(d.schema);
          if (keys.length === 0) throw new FileFormatError(this.name, 'empty file: no rows and no schema');
          this.#ncols = keys.length;
        }
      } else this.#ncols = names.length;
    }
    const ncols = this.#ncols;
    if (!names) {
      const keys = Object.keys(d.schema);
      names = keys.length === ncols ? keys : Array.from({ length: ncols }, (_, k) => `column_${k + 1}`);
    }
    for (const k of Object.keys(d.schema)) {
      if (!names.includes(k)) throw new InvalidOptionError('csv.schema', k, `a column of ${this.name}: ${names.map((x) => `'${x}'`).join(', ')}`);
    }
    // Field positions per byte in the sample (+1/8) size the kernel's first windows' buffers.
    if (this.#tok.rows > 0 && src.pos > sampleAt) this.#density = ((this.#tok.rows * ncols + 1) / (src.pos - sampleAt)) * 1.125;
    if (known) {
      if (known.names.length !== names.length || known.names.some((n, k) => n !== names![k])) {
        throw new FileFormatError(this.name, `columns changed since the file was opened: ${names.join(', ')}`);
      }
      this.#layout = known;
      this.#pending = this.#tok.rows > 0;
      return;
    }
    const csvTypes: CsvType[] = [];
    const schema = new Map<string, ColumnType>();
    names.forEach((name, j) => {
      const given = d.schema[name];
      const inf = given ?? inferColumn(this.#tok, src.buf, j, ncols);
      const t = typeof inf === 'string' ? { type: inf, zone: false } : inf;
      csvTypes.push(t.type);
      schema.set(name, columnTypeFor(t.type, t.zone));
    });
    this.#layout = { names, csvTypes, schema };
    this.#pending = this.#tok.rows > 0;
  }

  /** Tokenizes from src.pos; advances it past the complete rows. */
  #tokenize(ncols: number, maxRows: number): Tokens {
    const src = this.#src;
    let r;
    try {
      r = tokenize(this.#tok, src.buf, src.pos, src.limit, src.final, this.#d.delim, ncols, this.#line, maxRows);
    } catch (e) {
      this.#error(e);
    }
    src.pos = r.next;
    this.#line = r.line;
    this.#ncols = r.ncols;
    return this.#tok;
  }

  /** The tokenized rows as a Batch in `scope`. */
  #batch(scope: ArenaScope): Batch {
    const { names, csvTypes, schema } = this.#layout!;
    const cols: Array<[string, Column]> = [];
    for (let j = 0; j < names.length; j++) {
      try {
        const c = buildColumn(this.#ctx, scope, this.#tok, this.#src.buf, j, names.length, names[j], schema.get(names[j])!, csvTypes[j]);
        if (csvTypes[j] === 'utf8') this.#checkUtf8(c, j);
        cols.push([names[j], c]);
      } catch (e) {
        if (e instanceof ParseError) {
          throw new FileFormatError(this.name, `${e.detail}${this.#d.schema[names[j]] ? '' : ` (type inferred from the first ${this.#d.inferRows} rows; pass { csv: { schema: { ${JSON.stringify(names[j])}: 'utf8' } } } to widen it)`}`, undefined, this.#tok.lines[e.row], names[j]);
        }
        throw e;
      }
    }
    return new Batch(cols, this.#tok.rows);
  }

  /** A utf8 column of the tokenized rows that is not valid UTF-8 → FileFormatError naming its first bad value's line. */
  #checkUtf8(c: Column, j: number): void {
    const k = this.#ctx.kernel as unknown as Utf8Kernel;
    const mem = this.#ctx.mem;
    const row = invalidUtf8Row(k, mem.i32, c.offsets, c.length, c.values);
    if (row < 0) return;
    const s = mem.i32[(c.offsets >>> 2) + row], e = mem.i32[(c.offsets >>> 2) + row + 1];
    const detail = utf8Detail(mem.u8.slice(c.values + s, c.values + e), k.utf8Valid(c.values + s, e - s));
    throw new FileFormatError(this.name, detail, undefined, this.#tok.lines[row], this.#layout!.names[j]);
  }

  /** A worker's window as a Batch in `scope` (one copy per buffer); its errors with absolute lines. */
  #fromWorker(r: WorkerReply, scope: ArenaScope): Batch {
    const { names, csvTypes, schema } = this.#layout!;
    if (!r.ok) {
      const name = r.column >= 0 ? names[r.column] : undefined;
      const hint = r.parse && name !== undefined && !this.#d.schema[name]
        ? ` (type inferred from the first ${this.#d.inferRows} rows; pass { csv: { schema: { ${JSON.stringify(name)}: 'utf8' } } } to widen it)` : '';
      throw new FileFormatError(this.name, r.detail + hint, undefined, this.#line + r.line, name);
    }
    const n = r.rows;
    const cols: Array<[string, Column]> = [];
    for (let j = 0; j < names.length; j++) {
      const w = r.cols[j];
      const type = schema.get(names[j])!;
      const src = new Uint8Array(w.buf);
      const dataBytes = csvTypes[j] === 'utf8' ? new Int32Array(w.buf, w.offsets, n + 1)[n] : 0;
      const col = allocColumn(this.#ctx, scope, type, n, { validity: w.nulls > 0, dataBytes, name: names[j] });
      const u8 = this.#ctx.mem.u8; // after the allocation (growth makes a new buffer)
      if (csvTypes[j] === 'utf8') {
        u8.set(src.subarray(w.offsets, w.offsets + (n + 1) * 4), col.offsets);
        u8.set(src.subarray(0, dataBytes), col.values);
      } else u8.set(src.subarray(0, csvTypes[j] === 'bool' ? Math.ceil(n / 8) : n * byteWidth(type.dtype)), col.values);
      if (w.nulls > 0) u8.set(src.subarray(w.validity, w.validity + Math.ceil(n / 8)), col.validity);
      cols.push([names[j], col.nullCount === w.nulls ? col : new Column(this.#ctx, scope, {
        type, length: n, values: col.values, offsets: col.offsets, validity: col.validity, nullCount: w.nulls, name: names[j],
      })]);
    }
    this.#line += r.lines;
    return new Batch(cols, n);
  }

  /** One Batch per chunk of rows; each in the scope `scopeFor()` returns (called once per batch). */
  async *batches(scopeFor: () => ArenaScope, signal?: AbortSignal): AsyncGenerator<Batch> {
    try {
      const ncols = this.#layout!.names.length;
      if (this.#pending) {
        this.#pending = false;
        yield this.#batch(scopeFor());
      }
      const threads = this.#d.threads;
      if (threads > 0 && this.#kernelReady()) {
        yield* this.#kernelBatches(scopeFor, Math.min(threads, POOL_SIZE), signal);
        return;
      }
      // Windows handed to parse workers, oldest first; consumed in order so lines and batches stay in order.
      const ahead: Array<{ reply: Promise<WorkerReply>; bytes: Uint8Array }> = [];
      // The oldest window's batch. A window a worker could not read may just be cut wrong: the cut
      // goes by quote parity, which a quote inside an unquoted field (data) throws off. So put it and
      // the windows after it back in front of the input and read on here with the JS tokenizer —
      // which reads them, or throws the error with its line (the kernel path does the same).
      const take = async function* (this: CsvReader): AsyncGenerator<Batch> {
        const first = ahead.shift()!;
        const r = await first.reply;
        if (r.ok) {
          yield this.#fromWorker(r, scopeFor());
          return;
        }
        const back = [first, ...ahead.splice(0)];
        await Promise.allSettled(back.map((w) => w.reply));
        const bytes = new Uint8Array(back.reduce((a, w) => a + w.bytes.length, 0));
        let at = 0;
        for (const w of back) {
          bytes.set(w.bytes, at);
          at += w.bytes.length;
        }
        this.#src.unshift(bytes);
        const t = this.#tokenize(ncols, 0x7fffffff);
        if (t.rows > 0) yield this.#batch(scopeFor());
      }.bind(this);
      const drain = async function* (): AsyncGenerator<Batch> {
        while (ahead.length) yield* take();
      };
      for (;;) {
        signal?.throwIfAborted();
        if (this.#src.pos >= this.#src.limit && this.#src.final) break;
        await this.#src.fill();
        const src = this.#src;
        const useKernel = this.#kernelReady();
        const cut = threads > 0 || useKernel ? rowCut(src.buf, src.pos, src.limit, src.final) : -1;
        if (cut > src.pos && useKernel) {
          const b = this.#kernelWindow(scopeFor, cut);
          if (b) {
            yield b;
            continue;
          }
          // Handed back: the JS path below reads this window (and throws its errors).
        } else if (cut > src.pos) {
          // A window of whole rows to a worker; its bytes are copied out (the reader reuses its buffer).
          // (A Buffer's slice() is a view: copy into a fresh ArrayBuffer, which the transfer detaches.)
          // A second copy stays here in case the window has to be put back (see take()).
          const bytes = new Uint8Array(cut - src.pos);
          bytes.set(src.buf.subarray(src.pos, cut));
          src.pos = cut;
          const reply = csvWorker(ahead.length).parse(bytes.slice(), this.#d.delim, ncols, this.#layout!.csvTypes);
          reply.catch(() => {}); // awaited in order below; an early exit must not leave it unhandled
          ahead.push({ reply, bytes });
          if (ahead.length >= threads) yield* take();
          continue;
        }
        // No row boundary found cheaply (a row longer than the window, an odd quote count) or no
        // workers: tokenize here, after the windows already out.
        yield* drain();
        const t = this.#tokenize(ncols, 0x7fffffff);
        if (t.rows > 0) yield this.#batch(scopeFor());
        else if (this.#src.final) {
          // The final window always completes its last row or throws; never spin on leftovers.
          if (this.#src.pos < this.#src.limit) throw new FileFormatError(this.name, 'trailing bytes that form no row', undefined, this.#line);
          break;
        }
      }
      yield* drain();
    } finally {
      this.#releaseScratch();
      await this.#src.close();
    }
  }

  async close(): Promise<void> {
    this.#releaseScratch();
    await this.#src.close();
  }

  /**
   * Windows through the CSV kernel in the parse workers, batches in order:
   *
   *   main thread   read + cut a window → copy it into a slot (arena) → post "scan"     (up to `slots` ahead)
   *   workers       scan windows (field positions) as they come
   *   main thread   oldest window: open the batch's scope, allocate its columns, post "parse" for
   *                 disjoint column ranges (one per worker) → await both → yield the batch
   *
   * Columns are allocated only when their batch is next (a scan executor closes every scope it got
   * once it has the batch, so a scope may not be opened ahead). Both workers parse the same window
   * at once, each its own columns — no copies. A window the kernel hands back is read from its slot
   * by the JS path (same values or the same error). Every posted job is awaited before its buffers
   * are reused or freed, including on early exit.
   */
  async *#kernelBatches(scopeFor: () => ArenaScope, threads: number, signal?: AbortSignal): AsyncGenerator<Batch> {
    const ctx = this.#ctx;
    const src = this.#src;
    const { names, csvTypes, schema } = this.#layout!;
    const ncols = names.length;
    const delim = this.#d.delim;
    this.#scratch ??= ctx.scope();
    const scratch = this.#scratch;
    type Slot = { text: ScratchBuffer; pos: ScratchBuffer; small: number };
    type Window = { slot: Slot; len: number; final: boolean; scan: Promise<KernelReply> };
    // Per slot, small: sizes (ncols i32) | descriptors (ncols × 32) | out + spare per worker (128 B each).
    const smallBytes = ((ncols * 4 + 63) & ~63) + ncols * COL_BYTES + 128 * threads;
    // A slot holds a window and its positions (~2–3 windows' bytes); under a small memory limit
    // (streaming) one slot only, so scans and parses take turns.
    // One more than the workers: the next windows are read and scanned while one is parsed.
    const nslots = ctx.mem.limit >= 48 * this.#d.chunkBytes ? threads + 1 : 1;
    const slots: Slot[] = Array.from({ length: nslots }, () => ({ text: { at: 0, bytes: 0 }, pos: { at: 0, bytes: 0 }, small: scratch.alloc(smallBytes) }));
    const queue: Window[] = [];
    let made = 0;
    let scanTurn = 0;
    const postScan = (w: Window): Promise<KernelReply> => {
      const cap = w.slot.pos.bytes >>> 2;
      return workerAt(scanTurn++ % threads).kernel(ctx, 'scan', {
        text: w.slot.text.at, len: w.len, delim, ncols, final: w.final, pos: w.slot.pos.at, cap, sizes: w.slot.small, out: w.slot.small + ((ncols * 4 + 63) & ~63) + ncols * COL_BYTES,
      });
    };
    const sizePos = (slot: Slot, len: number) => this.#grow(slot.pos, (Math.ceil(len * this.#density) + 1024) * 4);
    const inFlight: Array<Promise<unknown>> = [];
    const k = ctx.kernel as unknown as CsvKernel;
    let busy = 0; // 1 while a window's parse runs (its slot is taken though it left the queue)
    let stuck = false; // no cheap row boundary: the JS path, after the windows already out
    // Cut windows and post their scans while slots are free. Runs again while the workers parse
    // (so reading and copying overlap with them): the queue and `src` are only touched here and in
    // the loop below, never by a parse.
    const topUp = async (): Promise<void> => {
      while (!stuck && queue.length + busy < slots.length && !(src.pos >= src.limit && src.final)) {
        await src.fill();
        // Copy everything buffered into the slot, then cut it there: the kernel counts the quotes
        // (csvRowCut), no JS call per quote.
        const slot = slots[made % slots.length];
        const avail = src.limit - src.pos;
        this.#grow(slot.text, avail + 64);
        ctx.mem.u8.set(src.buf.subarray(src.pos, src.limit), slot.text.at);
        const len = guard('csvRowCut', () => k.csvRowCut(slot.text.at, avail, src.final ? 1 : 0));
        if (len <= 0) {
          stuck = true;
          break;
        }
        made++;
        sizePos(slot, len);
        const w: Window = { slot, len, final: src.final && len === avail, scan: Promise.resolve({ ok: true }) };
        src.pos += len;
        w.scan = postScan(w);
        w.scan.catch(() => {}); // awaited in order below
        queue.push(w);
      }
    };
    try {
      for (;;) {
        signal?.throwIfAborted();
        await topUp();
        const w = queue.shift();
        if (!w) {
          if (!stuck) break;
          stuck = false;
          const t = this.#tokenize(ncols, 0x7fffffff);
          if (t.rows > 0) yield this.#batch(scopeFor());
          else if (src.final) {
            if (src.pos < src.limit) throw new FileFormatError(this.name, 'trailing bytes that form no row', undefined, this.#line);
            break;
          }
          continue;
        }
        busy = 1;
        const b = await this.#kernelBatch(w, scopeFor, threads, (r) => { inFlight.push(r); return r; }, () => { sizePos(w.slot, w.len); return postScan(w); }, topUp);
        busy = 0;
        if (b === 'rewind') {
          // The window was handed back. Its cut came from quote parity, which a quote inside an
          // unquoted field (data, for the JS tokenizer) throws off — so neither it nor the windows
          // cut after it can be trusted: put their bytes back and read on with the JS tokenizer up
          // to the end of what is buffered, then cut windows again from a row it ended.
          await Promise.allSettled(queue.map((q) => q.scan));
          const back = [w, ...queue.splice(0)];
          const bytes = new Uint8Array(back.reduce((a, q) => a + q.len, 0));
          let at = 0;
          for (const q of back) {
            bytes.set(ctx.mem.u8.subarray(q.slot.text.at, q.slot.text.at + q.len), at);
            at += q.len;
          }
          src.unshift(bytes);
          const t = this.#tokenize(ncols, 0x7fffffff);
          if (t.rows > 0) yield this.#batch(scopeFor());
          continue;
        }
        if (b) yield b;
      }
    } finally {
      // Never free a slot a worker may still write.
      await Promise.allSettled([...queue.map((w) => w.scan), ...inFlight]);
    }
  }

  /** One scanned window → its Batch (null: only blank lines). */
  async #kernelBatch(
    w: { slot: { text: { at: number }; pos: { at: number; bytes: number }; small: number }; len: number; final: boolean; scan: Promise<KernelReply> },
    scopeFor: () => ArenaScope, threads: number, track: (p: Promise<unknown>) => Promise<unknown>, rescan: () => Promise<KernelReply>,
    whileParsing: () => Promise<void>,
  ): Promise<Batch | null | 'rewind'> {
    const ctx = this.#ctx;
    const { names, csvTypes, schema } = this.#layout!;
    const ncols = names.length;
    let r = await w.scan;
    while (!r.ok && r.capacity) {
      this.#moreDensity(w.slot.pos.bytes >>> 2, r.scanned!);
      r = await rescan();
    }
    const text = w.slot.text.at;
    const sizes = w.slot.small;
    const cols = sizes + ((ncols * 4 + 63) & ~63);
    const small = cols + ncols * COL_BYTES;
    if (r.ok && r.rows! > 0) {
      const n = r.rows!;
      this.#density = Math.max(this.#density, (n * ncols + 1) / w.len);
      const scope = scopeFor();
      const i32 = ctx.mem.i32;
      const alloc = names.map((name, j) => allocColumn(ctx, scope, schema.get(name)!, n, {
        validity: true, dataBytes: csvTypes[j] === 'utf8' ? i32[(sizes >>> 2) + j] : 0, name,
      }));
      describeColumns(ctx.mem, cols, csvTypes, alloc, n);
      // Column ranges of about equal work (bytes + a per-field cost), three per worker, handed out
      // as workers finish: a worker that also had the next window's scan queued takes fewer.
      const cost = names.map((_, j) => ctx.mem.i32[(sizes >>> 2) + j] + 8 * n);
      const total = cost.reduce((a, b) => a + b, 0);
      const pieces = Math.min(ncols, 3 * threads);
      const ranges: Array<[number, number]> = [];
      for (let t = 0, j0 = 0, acc = 0; t < pieces && j0 < ncols; t++) {
        let j1 = j0;
        if (t === pieces - 1) j1 = ncols;
        else while (j1 < ncols && (j1 === j0 || acc + cost[j1] / 2 <= (total * (t + 1)) / pieces)) acc += cost[j1++];
        ranges.push([j0, j1]);
        j0 = j1;
      }
      let next = 0;
      let failed = false;
      const chain = async (t: number): Promise<void> => {
        const out = small + 128 * t; // this worker's scratch: its jobs run one after another
        while (next < ranges.length && !failed) {
          const [j0, j1] = ranges[next++];
          const rep = (await track(workerAt(t).kernel(ctx, 'parse', {
            text, len: w.len, pos: w.slot.pos.at, ncols, n, cols, j0, j1, out, spare: out + 64, types: csvTypes,
          }))) as KernelReply;
          if (!rep.ok) failed = true;
        }
      };
      const jobs = Array.from({ length: threads }, (_, t) => chain(t));
      const more = whileParsing();
      more.catch(() => {}); // awaited below, after the parse jobs (never leave those running)
      const done = await Promise.allSettled(jobs);
      for (const d of done) if (d.status === 'rejected') throw d.reason;
      await more;
      if (!failed) {
        this.#line += r.lines!;
        return new Batch(alloc.map((c, j) => {
          const nulls = nullsOf(ctx.mem, cols, j);
          return [names[j], new Column(ctx, scope, {
            type: c.type, length: n, values: c.values, offsets: c.offsets, validity: nulls > 0 ? c.validity : 0, nullCount: nulls, name: names[j],
          })] as [string, Column];
        }), n);
      }
    }
    // Handed back, or only blank lines: the caller re-reads from this window's start with the JS path.
    return 'rewind';
  }

  #releaseScratch(): void {
    this.#scratch?.close();
    this.#scratch = undefined;
    for (const b of this.#buffers) {
      b.scope?.close();
      b.scope = undefined;
      b.bytes = 0;
    }
    this.#buffers.clear();
    this.#small = 0;
  }

  /** `pos` of `cap` entries ran out after `scanned` bytes: expect that density (+5 %) from now on. */
  #moreDensity(cap: number, scanned: number): void {
    this.#density = Math.max(this.#density * 1.25, (cap / Math.max(1, scanned)) * 1.05);
  }

  /** Whether windows go through the CSV kernel: every column has a kernel kind and the build has it. */
  #kernelReady(): boolean {
    if (process.env.AETHERFLOW_CSV_KERNEL === '0') return false;
    const k = this.#ctx.kernel as unknown as Partial<CsvKernel>;
    return typeof k.csvScan === 'function' && this.#layout!.csvTypes.every((t) => kindOf(t) !== undefined);
  }

  /** A buffer of at least `bytes` in the scratch scope (reused while big enough). */
  /**
   * Makes `buf` at least `bytes` long. Each buffer has a scope of its own, so growing frees the old
   * one (an arena scope frees only as a whole).
   */
  #grow(buf: ScratchBuffer, bytes: number): void {
    if (buf.bytes >= bytes) return;
    buf.scope?.close();
    buf.scope = this.#ctx.scope();
    buf.bytes = Math.max(bytes, Math.ceil(buf.bytes * 1.25));
    buf.at = buf.scope.alloc(buf.bytes);
    this.#buffers.add(buf);
  }

  /**
   * The whole rows src.buf[src.pos, cut) through the CSV kernel (assembly/csv): copy them into the
   * arena, scan (field positions), allocate the columns in the batch's scope, parse. Returns null
   * when the kernel hands the window back (odd input, a bad value): the caller reads it with the
   * JS path, which gives the same values or the same error.
   */
  #kernelWindow(scopeFor: () => ArenaScope, cut: number): Batch | null {
    const ctx = this.#ctx;
    const k = ctx.kernel as unknown as CsvKernel;
    const src = this.#src;
    const { names, csvTypes, schema } = this.#layout!;
    const ncols = names.length;
    const len = cut - src.pos;
    // +64: the kernel's 64-byte blocks stop before the end, but bool parsing reads 4 bytes at a field.
    this.#grow(this.#text, len + 64);
    if (!this.#small) {
      this.#scratch ??= ctx.scope();
      this.#small = this.#scratch.alloc(ncols * (4 + COL_BYTES) + 128);
    }
    const sizes = this.#small, cols = sizes + ((ncols * 4 + 63) & ~63), out = cols + ncols * COL_BYTES, spare = out + 64;
    ctx.mem.u8.set(src.buf.subarray(src.pos, cut), this.#text.at);
    let scan;
    for (;;) {
      const cap = Math.ceil(len * this.#density) + 1024;
      this.#grow(this.#pos, cap * 4);
      scan = guard('csvScan', () => scanWindow(k, ctx.mem, this.#text.at, len, this.#d.delim, ncols, src.final && cut === src.limit, this.#pos.at, this.#pos.bytes >>> 2, sizes, out));
      if (scan === 'redo' || !('capacity' in scan)) break;
      this.#moreDensity(this.#pos.bytes >>> 2, scan.scanned);
    }
    if (scan === 'redo' || 'capacity' in scan || scan.rows === 0) return null;
    const n = scan.rows;
    this.#density = Math.max(this.#density, (n * ncols + 1) / len);
    const scope = scopeFor();
    const i32 = ctx.mem.i32;
    const alloc = names.map((name, j) => allocColumn(ctx, scope, schema.get(name)!, n, {
      validity: true, dataBytes: csvTypes[j] === 'utf8' ? i32[(sizes >>> 2) + j] : 0, name,
    }));
    describeColumns(ctx.mem, cols, csvTypes, alloc, n);
    if (!guard('csvParse', () => parseWindow(k, ctx.mem, this.#text.at, len, this.#pos.at, ncols, n, cols, 0, ncols, out, csvTypes, spare))) return null;
    const columns: Array<[string, Column]> = alloc.map((c, j) => {
      const nulls = nullsOf(ctx.mem, cols, j);
      return [names[j], new Column(ctx, scope, {
        type: c.type, length: n, values: c.values, offsets: c.offsets, validity: nulls > 0 ? c.validity : 0, nullCount: nulls, name: names[j],
      })];
    });
    src.pos = cut;
    this.#line += scan.lines;
    return new Batch(columns, n);
  }
}

function unescape(buf: Uint8Array, s: number, e: number, flag: number): string {
  const raw = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');
  return flag & FLAG_ESCAPED ? raw.replace(/""/g, '"') : raw;
}

/** The schema a CSV file reads as (header + inference), without reading past the sample. */
export async function readCsvSchema(ctx: Context, input: CsvInput, opts?: CsvReadOptions): Promise<CsvLayout> {
  const r = await CsvReader.open(ctx, input, opts);
  await r.close();
  return r.layout;
}

// ---- writer ------------------------------------------------------------------------------------

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

function formatDate(days: number): string {
  return new Date(days * 86400000).toISOString().slice(0, 10);
}

function formatTimestamp(v: bigint | number, unit: ArrowTimeUnit, zoned: boolean): string {
  const big = typeof v === 'bigint' ? v : BigInt(v);
  const per = unit === ArrowTimeUnit.SECOND ? 1n : unit === ArrowTimeUnit.MILLISECOND ? 1000n : unit === ArrowTimeUnit.MICROSECOND ? 1000000n : 1000000000n;
  let secs = big / per;
  let frac = big % per;
  if (frac < 0n) { frac += per; secs -= 1n; }
  const d = new Date(Number(secs) * 1000);
  if (Number.isNaN(d.getTime())) return String(v);
  const base = `${d.getUTCFullYear().toString().padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const digits = per === 1n ? 0 : per.toString().length - 1;
  const f = digits > 0 && frac !== 0n ? '.' + frac.toString().padStart(digits, '0').replace(/0+$/, '') : '';
  return base + f + (zoned ? 'Z' : '');
}

/** A cell formatter for one column of a Table (RFC 4180 quoting for strings). */
function formatterFor(v: Vector, delim: string): (i: number) => string {
  const type = v.type as DataType;
  const needs = new RegExp(`[${delim === ']' ? '\\]' : delim.replace(/[\\^-]/g, '\\$&')}"\\r\\n]`);
  const quote = (s: string): string => (s === '' || needs.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  if (DataType.isDate(type)) {
    const day = type.unit === DateUnit.DAY;
    return (i) => {
      const x = v.get(i);
      if (x === null) return '';
      const ms = typeof x === 'number' ? x : x instanceof Date ? x.getTime() : Number(x);
      return formatDate(day && typeof x === 'number' && Math.abs(x) < 1e8 ? x : Math.floor(ms / 86400000));
    };
  }
  if (DataType.isTimestamp(type)) {
    const t = type as Timestamp;
    const data = v.data;
    return (i) => {
      if (!v.isValid(i)) return '';
      // Raw storage (arrow-js converts timestamps to ms Numbers in get(); read the int64 itself).
      let k = i;
      for (const d of data) {
        if (k < d.length) return formatTimestamp((d.values as BigInt64Array)[k], t.unit, t.timezone != null);
        k -= d.length;
      }
      return '';
    };
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type) || DataType.isDictionary(type)) {
    return (i) => {
      const x = v.get(i);
      return x === null ? '' : quote(String(x));
    };
  }
  if (DataType.isFloat(type)) {
    return (i) => {
      const x = v.get(i) as number | null;
      if (x === null) return '';
      return Number.isFinite(x) ? String(x) : Number.isNaN(x) ? 'NaN' : x > 0 ? 'inf' : '-inf';
    };
  }
  return (i) => {
    const x = v.get(i);
    return x === null ? '' : String(x);
  };
}

/** Writes a Table as CSV (RFC 4180: quotes around fields holding the delimiter, quotes or line breaks). Returns bytes written. */
export async function writeCsv(path: string, table: Table, opts: CsvWriteOptions = {}): Promise<number> {
  const delim = opts.delimiter ?? ',';
  if (typeof delim !== 'string' || delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
    throw new InvalidOptionError('csv.delimiter', delim, 'one character other than a quote or a line break');
  }
  const out = createWriteStream(path);
  let bytes = 0;
  const write = (s: string): Promise<void> | void => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) return new Promise<void>((res) => out.once('drain', () => res()));
  };
  const done = new Promise<void>((res, rej) => { out.once('finish', res); out.once('error', rej); });
  try {
    const names = table.schema.fields.map((f) => f.name);
    if (opts.header ?? true) {
      const q = (s: string) => (s === '' || new RegExp(`[${delim}"\\r\\n]`).test(s) ? `"${s.replace(/"/g, '""')}"` : s);
      await write(names.map(q).join(delim) + '\n');
    }
    for (const batch of table.batches) {
      const fmts = names.map((_, j) => formatterFor(batch.getChildAt(j)!, delim));
      const lines: string[] = [];
      for (let i = 0; i < batch.numRows; i++) {
        let line = '';
        for (let j = 0; j < fmts.length; j++) line += (j ? delim : '') + fmts[j](i);
        lines.push(line);
        if (lines.length === 8192) { await write(lines.join('\n') + '\n'); lines.length = 0; }
      }
      if (lines.length) await write(lines.join('\n') + '\n');
    }
  } catch (e) {
    out.destroy();
    throw e instanceof AetherError ? e : new FileFormatError(path, `cannot write: ${(e as Error).message}`);
  }
  out.end();
  await done;
  return bytes;
}
