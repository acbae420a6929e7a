/**
 * Parquet in and out. Writing is parquet-wasm's (arrow-rs' writer compiled to wasm); reading is row
 * group by row group in decoder workers (parquet-worker.ts): our own page kernels decode the groups
 * they can (parquet-pages.ts), parquet-wasm the rest. Why: see README.md beside this file.
 *
 * A decoder opens the file (parquet-wasm with `fs.openAsBlob`: ranged reads, the file is never
 * loaded whole; our path reads column chunks with fs.readSync) and decodes one row group at a time
 * into one block of 64-aligned buffers; landed() copies each block into the batch's scope, where
 * apache-arrow views over it are borrowed by the importer. A scan holds a few row groups at most —
 * a file larger than the engine's memory limit streams through a filter / aggregate query.
 *
 * Types: whatever arrow-rs maps the Parquet types to (ints, floats, bool, date32, timestamps, utf8 /
 * large utf8, dictionaries). DECIMAL columns (DuckDB's and TPC-H's money columns) are converted to
 * float64 here — the engine has no decimal type — exactly for ≤ 15 significant digits.
 * Anything else the importer cannot take is an ArrowImportError naming the column.
 */
import { openAsBlob } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RpcWorker } from './rpc-worker.js';
import {
  Binary, Bool, DataType, DateDay, DateMillisecond, Decimal, Field, Float16, Float32, Float64, Int16, Int32, Int64, Int8,
  RecordBatch, Schema as ArrowSchema, Struct, Time, TimeUnit, Timestamp, Uint16, Uint32, Uint64, Uint8, Utf8, makeData,
  tableFromIPC, tableToIPC, util as arrowUtil, type Data, type Table,
} from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { AetherError, InvalidOptionError } from '../../errors.js';
import { compileKernel } from '../../kernels/module.js';
import { FileFormatError } from './ipc.js';
import type { DecodePath, GroupPlan, Reply } from './parquet-protocol.js';

export type ParquetInput = string | { readonly bytes: Uint8Array; readonly name: string };

export interface ParquetWriteOptions {
  /** Default 'snappy' (what DuckDB and Polars write by default). */
  compression?: 'uncompressed' | 'snappy' | 'gzip' | 'brotli' | 'zstd' | 'lz4';
  /** Rows per row group (default 122 880, DuckDB's). */
  rowGroupSize?: number;
}

const COMPRESSION: Record<NonNullable<ParquetWriteOptions['compression']>, pw.Compression> = {
  uncompressed: pw.Compression.UNCOMPRESSED, snappy: pw.Compression.SNAPPY, gzip: pw.Compression.GZIP,
  brotli: pw.Compression.BROTLI, zstd: pw.Compression.ZSTD, lz4: pw.Compression.LZ4_RAW,
};

const nameOf = (input: ParquetInput): string => (typeof input === 'string' ? input : input.name);

// ---- decoder workers -----------------------------------------------------------------------------
//
// Decoding runs in worker threads (parquet-worker.ts; the protocol is drawn in parquet-protocol.ts):
// our page kernels decode the groups they can (parquet-pages.ts), parquet-wasm the rest. Its async
// reader drives Rust futures from queueMicrotask callbacks, so a Rust panic on corrupt input is an
// uncaught exception; in a worker it kills only the worker (its 'error' event fails the pending reads
// with FileFormatError) and the pool starts a fresh one. The workers also decode row groups in
// parallel with the main thread importing the previous ones.

/** A decoder died mid-request (a wasm trap in parquet-wasm): the request's input is corrupt. */
class DecoderCrash extends Error {}

class DecoderWorker {
  readonly #rpc: RpcWorker<Reply>;

  constructor() {
    // The kernel module goes to the worker compiled (a Module is shareable); without one the worker
    // decodes everything with parquet-wasm.
    let module: WebAssembly.Module | undefined;
    try {
      module = compileKernel();
    } catch {
      module = undefined;
    }
    let worker: Worker;
    if (import.meta.url.endsWith('.ts')) {
      // Under a TypeScript loader (tests), the worker boots through tsx's register hook first, as
      // csv.ts does; built, it is parquet-worker.js.
      const api = import.meta.resolve('tsx/esm/api');
      const entry = new URL('./parquet-worker.ts', import.meta.url).href;
      const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
      worker = new Worker(boot, { eval: true, execArgv: [], workerData: { module } });
    } else worker = new Worker(new URL('./parquet-worker.js', import.meta.url), { workerData: { module } });
    this.#rpc = new RpcWorker<Reply>(worker, (why) => new DecoderCrash(why), {
      error: (msg) => `decoder crashed: ${msg}`,
      exit: (code) => `decoder exited (code ${code})`,
    });
  }

  get dead(): boolean {
    return this.#rpc.dead;
  }

  call(msg: Record<string, unknown>): Promise<Reply> {
    return this.#rpc.call(msg, 'decoder is gone');
  }
}

const pool: DecoderWorker[] = [];
const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism()));
let nextFile = 1;

function decoder(i: number): DecoderWorker {
  const k = i % POOL_SIZE;
  if (!pool[k] || pool[k].dead) pool[k] = new DecoderWorker();
  return pool[k];
}

/** An open Parquet file: its schema and row groups, decoded in the worker pool one group at a time. */
export class ParquetSource {
  readonly name: string;
  readonly rowGroups: number;
  readonly rows: number;
  readonly #input: { path?: string; bytes?: Uint8Array };
  readonly #schemaIpc: Uint8Array;
  /** The decoders' answer at 'open': the Arrow formats our kernel path would produce, or why not. */
  readonly #kernelInfo: Reply['kernel'];
  /** The file id in each worker it was opened in (a replaced worker is not in here: reopen). */
  readonly #opened = new Map<DecoderWorker, number>();
  /** The 'open' replies still awaited, per worker: every read waits for it, in the order reads were asked for. */
  readonly #opening = new Map<DecoderWorker, Promise<unknown>>();

  private constructor(name: string, input: { path?: string; bytes?: Uint8Array }, reply: Reply, w: DecoderWorker, file: number) {
    this.name = name;
    this.#input = input;
    this.rowGroups = reply.rowGroups!;
    this.rows = reply.rows!;
    this.#schemaIpc = reply.schema!;
    this.#kernelInfo = reply.kernel;
    this.#opened.set(w, file);
  }

  static async open(input: ParquetInput): Promise<ParquetSource> {
    const name = nameOf(input);
    let blob: Blob;
    if (typeof input === 'string') {
      try {
        const st = await stat(input);
        if (!st.isFile()) throw new FileFormatError(name, 'not a file');
        blob = await openAsBlob(input);
      } catch (e) {
        if (e instanceof AetherError) throw e;
        throw new FileFormatError(name, `cannot open: ${(e as Error).message}`);
      }
    } else {
      if (!(input.bytes instanceof Uint8Array)) throw new InvalidOptionError('input', typeof input.bytes, 'a Uint8Array');
      blob = new Blob([input.bytes]);
    }
    // arrow-rs checks only the trailing magic; check both so a file that merely ends right is refused.
    if (blob.size < 12) throw new FileFormatError(name, `${blob.size} bytes is too short for a Parquet file`);
    const head = Buffer.from(await blob.slice(0, 4).arrayBuffer()).toString('latin1');
    const tail = Buffer.from(await blob.slice(blob.size - 4).arrayBuffer()).toString('latin1');
    if (head !== 'PAR1' || tail !== 'PAR1') throw new FileFormatError(name, `not a Parquet file (no PAR1 magic at the ${head !== 'PAR1' ? 'start' : 'end'})`);
    const src = typeof input === 'string' ? { path: input } : { bytes: input.bytes };
    const w = decoder(0);
    const file = nextFile++;
    const reply = await ParquetSource.#call(name, w, { op: 'open', file, ...src }, 'not a readable Parquet file');
    return new ParquetSource(name, src, reply, w, file);
  }

  static async #call(name: string, w: DecoderWorker, msg: Record<string, unknown>, what: string, group?: number): Promise<Reply> {
    let r: Reply;
    try {
      r = await w.call(msg);
    } catch (e) {
      throw new FileFormatError(name, `${what}: ${(e as Error).message}`, group);
    }
    if (!r.ok) throw new FileFormatError(name, `${what}: ${r.error}`, group);
    return r;
  }

  /** The file's schema as Arrow (decimals shown as the float64 they import as). */
  schema(): ArrowSchema {
    const arrow = this.#arrowSchema();
    return new ArrowSchema(arrow.fields.map((f) => (DataType.isDecimal(f.type) ? new Field(f.name, new Float64(), f.nullable) : f)), arrow.metadata);
  }

  #kernelWhy: string | null | undefined;
  /**
   * Why this file's groups cannot take our kernel path, or null when they can: the decoder's formats
   * must equal, column by column, the Arrow types arrow-rs chose (the schema 'open' returned) — so
   * both paths give the same table types, whichever decodes a group.
   */
  #kernelCheck(): string | null {
    if (this.#kernelWhy !== undefined) return this.#kernelWhy;
    const info = this.#kernelInfo;
    let why: string | null = null;
    if (!info) why = 'no kernel formats from the decoder';
    else if ('unsupported' in info) why = info.unsupported;
    else {
      const fields = this.#arrowSchema().fields;
      if (fields.length !== info.formats.length) why = `${info.formats.length} columns in the footer, ${fields.length} in the Arrow schema`;
      for (let i = 0; why === null && i < fields.length; i++) {
        const t = typeOfFormat(info.formats[i]);
        if (t && sameDecodedType(fields[i].type, t)) continue;
        why = `column '${fields[i].name}': arrow-rs reads ${fields[i].type}, our kernels would give ${t ?? info.formats[i]}`;
      }
    }
    return (this.#kernelWhy = why);
  }

  /** The file's id in decoder w, opening it there first if need be (workers handle requests in order). */
  async #fileIn(w: DecoderWorker, g: number): Promise<number> {
    let file = this.#opened.get(w);
    if (file === undefined) {
      file = nextFile++;
      this.#opened.set(w, file);
      this.#opening.set(w, ParquetSource.#call(this.name, w, { op: 'open', file, ...this.#input }, 'not a readable Parquet file', g));
    }
    // Every caller waits for the open (not only the first): a later group's read must not be sent
    // ahead of an earlier one still waiting for it, or the decoder would decode them out of turn.
    await this.#opening.get(w);
    return file;
  }

  /** Why group reads do not take our kernel path (null: they do). */
  #kernelOff(ffi: boolean): string | null {
    // AETHERFLOW_PARQUET_KERNEL=0 leaves every group to parquet-wasm (the A/B and the tests' cross-check).
    return !ffi ? 'IPC read' : process.env.AETHERFLOW_PARQUET_KERNEL === '0' ? 'AETHERFLOW_PARQUET_KERNEL=0' : this.#kernelCheck();
  }

  /** Group g, whole, by decoder g mod POOL_SIZE (`off`: why not by our kernels, when the caller knows). */
  async #read(g: number, ffi = false, off = this.#kernelOff(ffi)): Promise<Part> {
    const w = decoder(g);
    const file = await this.#fileIn(w, g);
    const r = await ParquetSource.#call(this.name, w, { op: 'read', file, group: g, ffi, kernel: off === null }, 'corrupt row group', g);
    count(r, off ?? undefined);
    return { r, w, file };
  }

  /** Group g cut into one column range per decoder, each decoded by our kernels (or a `fallback` reply). */
  #readParts(g: number): Promise<Part[]> {
    return Promise.all(
      Array.from({ length: POOL_SIZE }, async (_, k) => {
        const w = decoder(k);
        const file = await this.#fileIn(w, g);
        const part = { k, n: POOL_SIZE };
        return { r: await ParquetSource.#call(this.name, w, { op: 'read', file, group: g, ffi: true, kernel: true, part }, 'corrupt row group', g), w, file };
      }),
    );
  }

  /**
   * Row groups landed in `memory` (a shared WebAssembly.Memory), in order, each as the record
   * batches viewing it there. `place(bytes)` is called once per group and returns a 64-aligned
   * address of `bytes` in `memory` (the batch's scope). A group our kernels decoded is copied here
   * out of its decoder's memory; a plain group parquet-wasm decoded (every column fixed-width, bool
   * or utf8/binary) is copied by its decoder straight out of parquet-wasm's memory: one copy, no IPC
   * either way. Other groups come as IPC bytes, copied into the block and parsed there. Either way
   * apache-arrow views point into `memory` at 64-aligned buffers, so the importer borrows them.
   */
  async *landed(memory: WebAssembly.Memory, place: (bytes: number) => number, signal?: AbortSignal): AsyncGenerator<RecordBatch[]> {
    // Each entry: a group's reply, or one per decoder for a group decoded in parts.
    const ahead: Array<Promise<Part[]>> = [];
    let next = 0;
    // AETHERFLOW_PARQUET_FFI=0 sends every group as IPC (the A/B and the tests' cross-check).
    const ffi = process.env.AETHERFLOW_PARQUET_FFI !== '0';
    const kernel = this.#kernelOff(ffi) === null;
    // Reads in flight. Groups our kernels decode are copied out of the decoder's memory here, so a
    // decoder can already decode its next group: two per decoder keep them busy while the main
    // thread copies and the consumer imports. A group decoded by parquet-wasm is copied by its
    // decoder, so there a read goes to a decoder only after its copy (queued before it, the read
    // would hold the copy up for a whole decode): one per decoder.
    const window = kernel ? 2 * POOL_SIZE : POOL_SIZE;
    // The last groups, fewer than the decoders (one group of a small file, the odd one at the end),
    // are cut into a column range per decoder when our kernels decode them, so no decoder idles
    // through the tail of a load.
    const tail = POOL_SIZE > 1 && this.#arrowSchema().fields.length >= POOL_SIZE && kernel ? this.rowGroups - (this.rowGroups % POOL_SIZE) : this.rowGroups;
    const push = (p: Promise<Part[]>) => {
      p.catch(() => {}); // awaited below in order; an early exit must not leave it unhandled
      ahead.push(p);
    };
    const more = () => {
      while (next < this.rowGroups && ahead.length < window) {
        if (next >= tail) {
          if (ahead.length <= window - POOL_SIZE) push(this.#readParts(next++)); // one read per decoder
          return;
        }
        push(this.#read(next++, ffi).then((p) => [p]));
      }
    };
    more();
    try {
      yield* this.#landAll(ahead, more, ffi, memory, place, signal);
    } catch (e) {
      // A failed group (or an abort) ends the read: let the reads still in flight settle first, so
      // no decoding for this read goes on after its promise has rejected (the caller may retry or
      // read another file at once; the decode counters then say only what this read did).
      await Promise.allSettled(ahead);
      throw e;
    }
  }

  async *#landAll(ahead: Array<Promise<Part[]>>, more: () => void, ffi: boolean, memory: WebAssembly.Memory, place: (bytes: number) => number, signal?: AbortSignal): AsyncGenerator<RecordBatch[]> {
    for (let g = 0; ahead.length > 0; g++) {
      signal?.throwIfAborted();
      let parts = await ahead.shift()!;
      if (parts.length > 1) {
        const plans = parts.map((p) => p.r.plan);
        if (plans.every((p): p is GroupPlan => p !== undefined)) {
          const plan = joinParts(this.name, plans, g);
          const at = place(plan.total);
          let off = 0;
          parts.forEach((p, i) => {
            this.#copyOut(p, g, memory, at + off);
            off += plans[i].total;
          });
          count({ id: 0, ok: true, path: 'kernel' }, undefined);
          paths.split++;
          more();
          yield plan.rows > 0 ? [this.#landedBatch(plan, memory, at, g)] : [];
          continue;
        }
        // A part is not ours (a codec, an encoding): the whole group through parquet-wasm.
        for (const p of parts) if (p.r.plan) this.#copyOut(p, g);
        parts = [await this.#read(g, ffi, parts.find((p) => !p.r.plan)!.r.fallback ?? 'a part not decoded')];
      }
      const part = parts[0];
      const r = part.r;
      if (r.plan) {
        const at = place(r.plan.total);
        if (r.src) this.#copyOut(part, g, memory, at);
        else await ParquetSource.#call(this.name, part.w, { op: 'copy', file: part.file, group: g, mem: memory, at }, 'corrupt row group', g);
        more();
        yield r.plan.rows > 0 ? [this.#landedBatch(r.plan, memory, at, g)] : []; // as decode(): no empty batches
      } else {
        more();
        const ipc = r.ipc!;
        const at = place(ipc.byteLength);
        new Uint8Array(memory.buffer).set(ipc, at);
        yield this.decode(new Uint8Array(memory.buffer, at, ipc.byteLength), g);
      }
    }
  }

  /**
   * Copies a block our kernels decoded (r.src: in the decoder's own memory, shared) into `memory` at
   * `at` — on this thread, so the decoder is already on its next group — and releases it (without
   * a destination: just releases). The release goes out before any later read to that decoder.
   */
  #copyOut(p: Part, group: number, memory?: WebAssembly.Memory, at = 0): void {
    const { mem, at: from } = p.r.src!;
    // Safe unchecked: the block is plan.total bytes at `from` in the decoder's memory, and `at` is
    // plan.total bytes the caller placed in `memory`.
    if (memory) new Uint8Array(memory.buffer).set(new Uint8Array(mem.buffer, from, p.r.plan!.total), at);
    if (!p.w.dead) p.w.call({ op: 'release', file: p.file, group }).catch(() => {});
  }

  /** apache-arrow views over a group the decoder copied to `at` (decimals as float64). */
  #landedBatch(plan: GroupPlan, memory: WebAssembly.Memory, at: number, group: number): RecordBatch {
    const fields = this.#arrowSchema().fields;
    if (fields.length !== plan.cols.length) throw new FileFormatError(this.name, `row group has ${plan.cols.length} columns, the schema ${fields.length}`, group);
    const buf = memory.buffer;
    const n = plan.rows;
    const children = fields.map((f, i) => {
      const c = plan.cols[i];
      // The type the decoder produced (a file's Arrow schema may say Utf8View where arrow-rs decodes
      // Utf8, say): the format string is the truth about the buffers.
      const t = typeOfFormat(c.fmt);
      if (!t) throw new FileFormatError(this.name, `column '${f.name}': unexpected Arrow format '${c.fmt}'`, group);
      const nullBitmap = c.validity >= 0 ? new Uint8Array(buf, at + c.validity, (n + 7) >> 3) : undefined;
      const data = new Uint8Array(buf, at + c.data, c.bytes);
      const valueOffsets = c.offsets >= 0 ? new Int32Array(buf, at + c.offsets, n + 1) : undefined;
      // makeData re-views `data` as the type's array type (same buffer, no copy).
      const d: Data = makeData({ type: t, length: n, nullCount: c.nulls, nullBitmap, valueOffsets, data } as never);
      // The worker sized the buffer from the C format string, this from the schema: they must agree.
      const need = valueOffsets ? 0 : DataType.isBool(t) ? (n + 7) >> 3 : n * d.stride * (d.values as ArrayBufferView & { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (c.bytes < need) throw new FileFormatError(this.name, `column '${f.name}': ${c.bytes} bytes decoded, ${t} needs ${need}`, group);
      return d;
    });
    const out = fields.map((f, i) => new Field(f.name, children[i].type, f.nullable, f.metadata));
    const rb = new RecordBatch(new ArrowSchema(out), makeData({ type: new Struct(out), length: n, nullCount: 0, children }));
    return decimalsToFloat(this.name, rb);
  }

  #arrowCache: ArrowSchema | undefined;
  #arrowSchema(): ArrowSchema {
    if (!this.#arrowCache) {
      try {
        this.#arrowCache = tableFromIPC(this.#schemaIpc).schema;
      } catch (e) {
        wrap(this.name, e, 'unreadable Parquet schema');
      }
    }
    return this.#arrowCache;
  }

  /**
   * Row groups as Arrow IPC stream bytes, in order. Up to one group per decoder is in flight ahead
   * of the consumer, so decoding overlaps the import.
   */
  async *ipcGroups(signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const ahead: Array<Promise<Uint8Array>> = [];
    let next = 0;
    const more = () => {
      const p = this.#read(next++).then(({ r }) => r.ipc!);
      p.catch(() => {}); // awaited below in order; an early exit must not leave it unhandled
      ahead.push(p);
    };
    while (next < this.rowGroups && ahead.length < POOL_SIZE) more();
    while (ahead.length > 0) {
      signal?.throwIfAborted();
      const ipc = await ahead.shift()!;
      if (next < this.rowGroups) more();
      yield ipc;
    }
  }

  /** Parses one row group's IPC bytes (wherever they lie) into record batches, decimals as float64. */
  decode(ipc: Uint8Array, group: number): RecordBatch[] {
    let table: Table;
    try {
      table = tableFromIPC(ipc);
    } catch (e) {
      wrap(this.name, e, 'corrupt row group', group);
    }
    return table.batches.filter((rb) => rb.numRows > 0).map((rb) => decimalsToFloat(this.name, rb));
  }

  /**
   * Record batches, one row group at a time (a row group comes back as one batch). Up to one group
   * per decoder is in flight ahead of the consumer, so decoding overlaps the import.
   */
  async *batches(signal?: AbortSignal): AsyncGenerator<RecordBatch> {
    let group = 0;
    for await (const ipc of this.ipcGroups(signal)) yield* this.decode(ipc, group++);
  }

  /** Frees the decoders' copies of the file (fire and forget: a dead worker has nothing to free). */
  close(): void {
    for (const [w, file] of this.#opened) if (!w.dead) w.call({ op: 'close', file }).catch(() => {});
    this.#opened.clear();
  }
}

// ---- which path decoded each group (tests and debugging) ------------------------------------------

/** One decoder's reply to a read, and where to send the copy. */
interface Part { r: Reply; w: DecoderWorker; file: number }

/** The column-range plans of one group (in column order, each block 64-aligned) as one plan over consecutive blocks. */
function joinParts(name: string, plans: GroupPlan[], group: number): GroupPlan {
  const rows = plans[0].rows;
  if (plans.some((p) => p.rows !== rows)) throw new FileFormatError(name, `parts of the row group disagree on its rows (${plans.map((p) => p.rows)})`, group);
  const cols = [];
  let off = 0;
  for (const p of plans) {
    const at = (x: number) => (x < 0 ? -1 : x + off);
    for (const c of p.cols) cols.push({ ...c, validity: at(c.validity), offsets: at(c.offsets), data: at(c.data) });
    off += p.total;
  }
  return { rows, total: off, cols };
}

const paths: Record<DecodePath | 'split', number> = { kernel: 0, ffi: 0, ipc: 0, split: 0 };
const fallbacks: string[] = [];

function count(r: Reply, why: string | undefined): void {
  if (r.path) paths[r.path]++;
  const reason = r.fallback ?? why;
  if (r.path !== 'kernel' && reason !== undefined) {
    fallbacks.push(reason);
    if (fallbacks.length > 16) fallbacks.shift();
  }
}

/**
 * How many row groups each path decoded in this process (kernel: our page kernels, `split` of them
 * in column ranges by several decoders; ffi / ipc: parquet-wasm), and why the latest groups not decoded by our kernels were not, newest last.
 */
export function parquetDecodeStats(): { kernel: number; ffi: number; ipc: number; split: number; fallbacks: string[] } {
  return { ...paths, fallbacks: [...fallbacks] };
}

const FORMATS: Record<string, () => DataType> = {
  b: () => new Bool(), c: () => new Int8(), C: () => new Uint8(), s: () => new Int16(), S: () => new Uint16(),
  i: () => new Int32(), I: () => new Uint32(), l: () => new Int64(), L: () => new Uint64(),
  e: () => new Float16(), f: () => new Float32(), g: () => new Float64(), u: () => new Utf8(), z: () => new Binary(),
  tdD: () => new DateDay(), tdm: () => new DateMillisecond(),
  tts: () => new Time(TimeUnit.SECOND, 32), ttm: () => new Time(TimeUnit.MILLISECOND, 32),
  ttu: () => new Time(TimeUnit.MICROSECOND, 64), ttn: () => new Time(TimeUnit.NANOSECOND, 64),
};
const TS_UNITS: Record<string, TimeUnit> = { s: TimeUnit.SECOND, m: TimeUnit.MILLISECOND, u: TimeUnit.MICROSECOND, n: TimeUnit.NANOSECOND };

/** The apache-arrow type of an Arrow C data interface format string (the plain ones the decoder lands), or undefined. */
function typeOfFormat(fmt: string): DataType | undefined {
  if (fmt in FORMATS) return FORMATS[fmt]();
  const ts = /^ts([smun]):(.*)$/.exec(fmt);
  if (ts) return new Timestamp(TS_UNITS[ts[1]], ts[2] === '' ? null : ts[2]);
  const dec = /^d:(\d+),(\d+)$/.exec(fmt);
  if (dec) return new Decimal(Number(dec[2]), Number(dec[1]), 128);
  return undefined;
}

/**
 * Whether arrow-rs (in parquet-wasm) decodes a column of `schema` type as `ours`. The same type, but
 * for one known difference: a view type in the file's schema (Polars writes an ARROW:schema hint
 * with Utf8View / BinaryView) is still decoded as Utf8 / Binary by parquet-wasm 0.8 — its C data
 * export says 'u' / 'z' (the FFI plan takes those groups; test/engine/io-parquet-kernel.test.ts reads
 * a Polars file both ways).
 */
function sameDecodedType(schema: DataType, ours: DataType): boolean {
  if (DataType.isUtf8View(schema)) return DataType.isUtf8(ours);
  if (DataType.isBinaryView(schema)) return DataType.isBinary(ours);
  return arrowUtil.compareTypes(schema, ours);
}

/** parquet-wasm reports problems as strings or Errors: all become FileFormatError. */
function wrap(name: string, e: unknown, detail: string, group?: number): never {
  if (e instanceof AetherError) throw e;
  const msg = e instanceof Error ? e.message : String(e);
  throw new FileFormatError(name, `${detail}: ${msg}`, group);
}

/** The schema of a Parquet file (footer only). */
export async function readParquetSchema(input: ParquetInput): Promise<ArrowSchema> {
  const src = await ParquetSource.open(input);
  try {
    return src.schema();
  } finally {
    src.close();
  }
}

/** The record batches of a Parquet file, row group by row group; corrupt input → FileFormatError naming the row group (as `batch`). */
export async function* readParquetBatches(input: ParquetInput, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
  const src = await ParquetSource.open(input);
  try {
    yield* src.batches(signal);
  } finally {
    src.close();
  }
}

/** Decimal128 columns → float64 (value / 10^scale); others pass through. */
function decimalsToFloat(file: string, rb: RecordBatch): RecordBatch {
  const fields = rb.schema.fields;
  if (!fields.some((f) => DataType.isDecimal(f.type))) return rb;
  const children: Data[] = [];
  const outFields: Field[] = [];
  fields.forEach((f, i) => {
    const d = rb.data.children[i];
    if (!DataType.isDecimal(f.type)) {
      children.push(d);
      outFields.push(f);
      return;
    }
    const t = f.type as Decimal;
    if (t.bitWidth !== 128) throw new FileFormatError(file, `column '${f.name}': decimal${t.bitWidth} is not supported (decimal128 is)`);
    const words = d.values as Uint32Array;
    const out = new Float64Array(d.length);
    const scale = 10 ** t.scale;
    for (let r = 0; r < d.length; r++) {
      // `values` of a Data start at its row 0 (see arrow/import.ts); 4 little-endian words per value.
      let w0 = words[4 * r], w1 = words[4 * r + 1], w2 = words[4 * r + 2], w3 = words[4 * r + 3];
      const neg = w3 >>> 31 === 1;
      if (neg) {
        // |v| by two's complement over 128 bits (summing signed words would cancel catastrophically).
        w0 = (~w0 >>> 0) + 1; let carry = w0 > 0xffffffff ? 1 : 0; w0 >>>= 0;
        w1 = (~w1 >>> 0) + carry; carry = w1 > 0xffffffff ? 1 : 0; w1 >>>= 0;
        w2 = (~w2 >>> 0) + carry; carry = w2 > 0xffffffff ? 1 : 0; w2 >>>= 0;
        w3 = ((~w3 >>> 0) + carry) >>> 0;
      }
      // Exact when the unscaled value fits 53 bits (≤ 15 digits); then one division, correctly rounded.
      const v = w0 + w1 * 4294967296 + w2 * 18446744073709551616 + w3 * 79228162514264337593543950336;
      out[r] = (neg ? -v : v) / scale;
    }
    // IPC-parsed Data (what tableFromIPC gives) has offset 0, so the bitmap can be shared as is.
    children.push(makeData({ type: new Float64(), length: d.length, nullCount: d.nullCount, nullBitmap: d.nullBitmap, offset: 0, data: out }));
    outFields.push(new Field(f.name, new Float64(), f.nullable));
  });
  const schema = new ArrowSchema(outFields, rb.schema.metadata);
  return new RecordBatch(schema, makeData({ type: new Struct(outFields), length: rb.numRows, nullCount: 0, children }));
}

/** Writes a Table as Parquet (one file, row groups of `rowGroupSize`); returns bytes written. */
export async function writeParquet(path: string, table: Table, opts: ParquetWriteOptions = {}): Promise<number> {
  const comp = opts.compression ?? 'snappy';
  if (!(comp in COMPRESSION)) throw new InvalidOptionError('parquet.compression', comp, Object.keys(COMPRESSION).map((k) => `'${k}'`).join(', '));
  const groups = opts.rowGroupSize ?? 122_880;
  if (!Number.isInteger(groups) || groups < 1) throw new InvalidOptionError('parquet.rowGroupSize', groups, 'a positive integer');
  let bytes: Uint8Array;
  try {
    const props = new pw.WriterPropertiesBuilder().setCompression(COMPRESSION[comp]).setMaxRowGroupSize(groups).build();
    const wt = pw.Table.fromIPCStream(tableToIPC(table, 'stream'));
    bytes = pw.writeParquet(wt, props);
  } catch (e) {
    if (e instanceof AetherError) throw e;
    throw new FileFormatError(path, `cannot write Parquet: ${e instanceof Error ? e.message : String(e)}`);
  }
  await writeFile(path, bytes);
  return bytes.byteLength;
}
