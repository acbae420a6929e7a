/**
 * The engine users import: `const engine = await Engine.start(); engine.query(await engine.read(f))…`.
 *
 * One engine = one shared Memory (fixed maximum), one arena, one kernel instance on this thread.
 * Datasets and query results each own an arena scope. A result Table's buffers are views of the
 * shared memory; its scope stays open until `engine.release(table)` or, as a safety net, until every
 * buffer view of the table has been garbage-collected (FinalizationRegistry).
 */
import { RecordBatch, Table } from 'apache-arrow';
import { Batch } from '../arrow/batch.js';
import { exportBatch } from '../arrow/export.js';
import { importTable } from '../arrow/import.js';
import { Context } from '../context.js';
import { AetherError, InvalidOptionError } from '../errors.js';
import { Runtime } from '../runtime/runtime.js';
import os from 'node:os';
import type { ArenaScope } from '../memory/arena.js';
import { MemoryDataset, type Dataset } from './dataset.js';
import { execute } from './exec.js';
import { formatOf, openFile, writeTable, type FileFormat, type FileInput } from './io/files.js';
import type { CsvReadOptions } from './io/csv.js';
import type { LogicalPlan } from './plan.js';
import { Query, type QueryRunner, type WriteOptions, type WriteResult } from './query.js';
import { schemaOf } from './schema.js';
import { streamBatches, streamable } from './stream.js';
import { fusedOptions } from './fused.js';
import { parallelOptions } from './exec-parallel.js';

export interface EngineOptions {
  /** Fixed maximum of the shared memory in bytes (≤ 4 GiB). Default 4 GiB. */
  memoryLimit?: number;
  /** Initial memory in bytes. Default 16 MiB; grows on demand up to the limit. */
  initialMemory?: number;
  /**
   * Worker threads of the parallel runtime (src/runtime) that run query pipelines' morsels.
   * Default: AETHERFLOW_WORKERS when set, else the available cores (os.availableParallelism());
   * 0 runs everything on the calling thread. Engine.start resolves once every worker is ready.
   */
  workers?: number;
}

export interface ReadOptions {
  /** Override the format chosen from the file extension (required when reading bytes). */
  format?: FileFormat;
  /** A label for byte input, used in errors and explain(). */
  name?: string;
  /** CSV: delimiter, header, explicit schema, inference sample, chunk size (see io/csv.ts). */
  csv?: CsvReadOptions;
}

export class EngineClosedError extends AetherError {
  constructor() {
    super('ERR_ENGINE_CLOSED', 'the engine is closed');
  }
}

/** Closes a result's scope once every buffer view of the result is unreachable. */
class ResultKeeper {
  readonly #live = new Map<number, { scope: ArenaScope; views: number }>();
  readonly #registry = new FinalizationRegistry<number>((id) => this.#drop(id));
  readonly #byTable = new WeakMap<object, number>();
  #next = 1;

  track(table: Table, scope: ArenaScope): void {
    const id = this.#next++;
    let views = 0;
    for (const batch of table.batches) {
      for (const child of batch.data.children) {
        for (const buf of [child.values, child.nullBitmap, child.valueOffsets, child.dictionary?.data[0]?.values]) {
          if (buf) {
            this.#registry.register(buf, id);
            views++;
          }
        }
      }
    }
    this.#live.set(id, { scope, views });
    this.#byTable.set(table, id);
    if (views === 0) this.#close(id);
  }

  release(table: Table): boolean {
    const id = this.#byTable.get(table);
    if (id === undefined || !this.#live.has(id)) return false;
    this.#close(id);
    return true;
  }

  #drop(id: number): void {
    const e = this.#live.get(id);
    if (e && --e.views <= 0) this.#close(id);
  }

  #close(id: number): void {
    const e = this.#live.get(id);
    this.#live.delete(id);
    if (e && e.scope.open) e.scope.close();
  }

  closeAll(): void {
    for (const id of [...this.#live.keys()]) this.#close(id);
  }

  get size(): number {
    return this.#live.size;
  }
}

export class Engine implements QueryRunner {
  readonly ctx: Context;
  /** The parallel runtime over ctx (undefined with `workers: 0`). */
  readonly runtime: Runtime | undefined;
  readonly #results = new ResultKeeper();
  readonly #datasets = new Set<MemoryDataset>();
  #closed = false;

  private constructor(ctx: Context, runtime: Runtime | undefined) {
    this.ctx = ctx;
    this.runtime = runtime;
  }

  static async start(opts: EngineOptions = {}): Promise<Engine> {
    const env = process.env.AETHERFLOW_WORKERS;
    const workers = opts.workers ?? (env !== undefined && env !== '' ? Number(env) : os.availableParallelism());
    if (!Number.isInteger(workers) || workers < 0 || workers > 256) {
      const [name, value] = opts.workers === undefined ? ['AETHERFLOW_WORKERS', env] : ['workers', opts.workers];
      throw new InvalidOptionError(name, value, 'an integer from 0 (run on the calling thread) to 256');
    }
    const ctx = Context.create({ maxBytes: opts.memoryLimit, initialBytes: opts.initialMemory });
    const runtime = workers > 0 ? await Runtime.start({ context: ctx, workers }) : undefined;
    return new Engine(ctx, runtime);
  }

  /** Worker threads running query morsels (0: the calling thread runs everything). */
  get workers(): number {
    return this.runtime?.workers ?? 0;
  }

  #track(ds: MemoryDataset): void {
    this.#datasets.add(ds);
    ds.onRelease = (d) => this.#datasets.delete(d);
  }

  /** Datasets in the engine's memory not yet released (for tests and leak checks). */
  get liveDatasets(): number {
    return this.#datasets.size;
  }

  #check(): void {
    if (this.#closed) throw new EngineClosedError();
  }

  /** An apache-arrow Table as a dataset in the engine's memory (copied once). */
  fromArrow(table: Table | RecordBatch, label = 'arrow table'): MemoryDataset {
    this.#check();
    const scope = this.ctx.scope();
    try {
      const batch = importTable(this.ctx, scope, table);
      const ds = new MemoryDataset(label, schemaOf(batch), [batch], scope);
      this.#track(ds);
      return ds;
    } catch (e) {
      scope.close();
      throw e;
    }
  }

  /** Reads a whole file (.arrow/.feather/.arrows, .parquet, .csv — or its bytes with `{ format }`) into the engine's memory. */
  async read(path: FileInput, opts: ReadOptions = {}): Promise<MemoryDataset> {
    this.#check();
    const file = await openFile(this.ctx, path, opts);
    const scope = this.ctx.scope();
    try {
      const batches: Batch[] = [];
      for await (const b of file.batches(() => scope)) batches.push(b);
      const ds = new MemoryDataset(file.label, file.schema, batches, scope);
      this.#track(ds);
      return ds;
    } catch (e) {
      scope.close();
      throw e;
    }
  }

  /**
   * A file read batch by batch on every run (IPC record batches, Parquet row groups, CSV chunks):
   * inputs larger than the memory limit stream through filter / aggregate queries.
   */
  async scan(path: FileInput, opts: ReadOptions = {}): Promise<Dataset> {
    this.#check();
    return openFile(this.ctx, path, opts);
  }

  /** Starts a lazy query over a dataset (or an apache-arrow Table, imported first). */
  query(source: Dataset | Table): Query {
    this.#check();
    const ds = source instanceof Table ? this.fromArrow(source) : source;
    return new Query(this, ds);
  }

  /** Frees a result Table's memory now (its vectors must not be used afterwards). */
  release(table: Table): boolean {
    return this.#results.release(table);
  }

  async collectPlan(source: Dataset, p: LogicalPlan, signal?: AbortSignal): Promise<Table> {
    this.#check();
    const scope = this.ctx.scope();
    try {
      const batch = await execute(this.ctx, source, p, scope, signal, this.runtime);
      const table = exportBatch(batch);
      this.#results.track(table, scope);
      return table;
    } catch (e) {
      if (scope.open) scope.close();
      throw e;
    }
  }

  /**
   * Streamable plans (filter / derive / select / limit: stream.ts) yield batches as the source
   * produces them, each valid until the next is requested; other plans compute their result first.
   */
  async *streamPlan(source: Dataset, p: LogicalPlan, signal?: AbortSignal): AsyncIterable<RecordBatch> {
    this.#check();
    if (streamable(p)) {
      yield* streamBatches(this.ctx, source, p, signal);
      return;
    }
    const table = await this.collectPlan(source, p, signal);
    try {
      for (const b of table.batches) yield b;
    } finally {
      this.release(table);
    }
  }

  async writePlan(source: Dataset, p: LogicalPlan, path: string, opts: WriteOptions = {}): Promise<WriteResult> {
    const format = formatOf(path, opts.format);
    const table = await this.collectPlan(source, p, opts.signal);
    try {
      const bytes = await writeTable(path, table, format, opts);
      return { path, rows: table.numRows, bytes };
    } finally {
      this.release(table);
    }
  }

  /** explain(): fused pipelines (ending in an aggregate) run their morsels on the workers. */
  runsOn(fused: boolean): string {
    const n = this.workers;
    if (n === 0) return 'main thread';
    return fused
      ? `workers ${n} (batches of ${fusedOptions.parallelMinRows}+ rows; smaller ones on the main thread)`
      : `main thread; filter and one-key numeric sort of ${parallelOptions.minRows}+ rows on workers ${n}`;
  }

  /** Live result tables not yet released (for tests and leak checks). */
  get liveResults(): number {
    return this.#results.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#results.closeAll();
    for (const ds of [...this.#datasets]) ds.release();
    await this.runtime?.close();
  }
}
