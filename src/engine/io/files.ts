/**
 * File formats behind `engine.read / scan / write`: one place that maps a format to its reader and
 * writer, so the engine sees every input as a schema plus batches in its own memory.
 *
 *   arrow / arrows   ipc.ts      apache-arrow record batches → importTable (copied into the batch scope)
 *   parquet          parquet.ts  parquet-wasm row groups     → importTable
 *   csv              csv.ts      parsed straight into the batch scope (no Arrow in between)
 *
 * Inputs are file paths or bytes already in hand (`Uint8Array`, format required): the second is what
 * the fuzz test and in-memory callers use, and takes the same code path after the bytes.
 */
import { extname } from 'node:path';
import { Table, type RecordBatch } from 'apache-arrow';
import { Batch } from '../../arrow/batch.js';
import { importTable } from '../../arrow/import.js';
import type { Context } from '../../context.js';
import { InvalidOptionError } from '../../errors.js';
import type { ArenaScope } from '../../memory/arena.js';
import type { Dataset } from '../dataset.js';
import { ops } from '../ops.js';
import type { Schema } from '../expr.js';
import { schemaFromArrow } from '../schema.js';
import { CsvReader, writeCsv, type CsvLayout, type CsvReadOptions, type CsvWriteOptions } from './csv.js';
import { FileFormatError, readIpcBatches, readIpcSchema, writeIpc } from './ipc.js';
import { ParquetSource, writeParquet, type ParquetWriteOptions } from './parquet.js';

export type FileFormat = 'arrow' | 'arrows' | 'parquet' | 'csv';
export const FORMATS: readonly FileFormat[] = ['arrow', 'arrows', 'parquet', 'csv'];

/** A path, or a file's bytes (then `format` must be given). */
export type FileInput = string | Uint8Array;

export interface FileReadOptions {
  /** Override the format chosen from the file extension (required for byte input). */
  format?: FileFormat;
  /** A label for byte input in errors and explain() (default '<N bytes>'). */
  name?: string;
  csv?: CsvReadOptions;
}

export interface FileWriteOptions {
  format?: FileFormat;
  csv?: CsvWriteOptions;
  parquet?: ParquetWriteOptions;
}

const EXT: Record<string, FileFormat> = {
  '.arrow': 'arrow', '.feather': 'arrow', '.ipc': 'arrow', '.arrows': 'arrows', '.parquet': 'parquet', '.pq': 'parquet', '.csv': 'csv',
};

/** The format of a file: the given one, else from the extension. */
export function formatOf(path: FileInput, given?: string): FileFormat {
  if (given !== undefined) {
    if (!FORMATS.includes(given as FileFormat)) throw new InvalidOptionError('format', given, "'arrow', 'arrows', 'parquet' or 'csv'");
    return given as FileFormat;
  }
  if (typeof path !== 'string') throw new InvalidOptionError('format', undefined, "'arrow', 'arrows', 'parquet' or 'csv' (bytes have no extension)");
  const f = EXT[extname(path).toLowerCase()];
  if (!f) throw new InvalidOptionError('path', path, 'a file ending in .arrow, .feather, .arrows, .parquet or .csv (or pass { format })');
  return f;
}

/** Batches of a file in the engine's memory, opened anew for every run. */
type BatchSource = (scopeFor: () => ArenaScope, signal?: AbortSignal) => AsyncIterable<Batch>;

/** A file read batch by batch on every run (engine.scan): IPC record batches, Parquet row groups, CSV chunks. */
export class FileDataset implements Dataset {
  readonly rows = undefined;

  constructor(
    readonly ctx: Context, readonly label: string, readonly schema: Schema, readonly format: FileFormat, readonly open: BatchSource,
  ) {}

  /** The file's batches; a file with no rows gives one empty batch of its schema (queries over it give empty results). */
  async *batches(scopeFor: () => ArenaScope, signal?: AbortSignal): AsyncIterable<Batch> {
    let any = false;
    for await (const b of this.open(scopeFor, signal)) {
      any = true;
      yield b;
    }
    if (!any) yield ops.emptyBatch(this.ctx, this.schema, scopeFor());
  }
}

/** Imports record batches one by one, each into the scope `scopeFor()` gives (empty batches skipped). */
async function* imported(ctx: Context, label: string, source: AsyncIterable<RecordBatch>, schema: Schema, scopeFor: () => ArenaScope): AsyncIterable<Batch> {
  let index = 0;
  for await (const rb of source) {
    if (rb.numRows === 0) continue;
    yield checked(label, importTable(ctx, scopeFor(), rb), schema, index++);
  }
}

/** A file whose batches disagree with its schema (corrupt or hand-made) must not reach the kernels. */
function checked(label: string, b: Batch, schema: Schema, index: number): Batch {
  for (const [name, type] of schema) {
    const c = b.has(name) ? b.column(name) : undefined;
    if (!c || c.type.name !== type.name || c.type.dtype !== type.dtype) {
      throw new FileFormatError(label, `batch columns differ from the file's schema at '${name}'`, index);
    }
  }
  return b;
}

/** Opens a file (or bytes) for reading: the schema now, the batches on demand. */
export async function openFile(ctx: Context, input: FileInput, opts: FileReadOptions = {}): Promise<FileDataset> {
  const format = formatOf(input, opts.format);
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) throw new InvalidOptionError('path', typeof input, 'a file path or a Uint8Array');
  const label = typeof input === 'string' ? input : opts.name ?? `<${input.byteLength} bytes>`;
  const src = typeof input === 'string' ? input : { bytes: input, name: label };
  switch (format) {
    case 'arrow':
    case 'arrows': {
      const schema = schemaFromArrow(await readIpcSchema(src));
      return new FileDataset(ctx, label, schema, format, (scopeFor, signal) => imported(ctx, label, readIpcBatches(src, signal), schema, scopeFor));
    }
    case 'parquet': {
      const pq = await ParquetSource.open(src);
      let schema: Schema;
      try {
        schema = schemaFromArrow(pq.schema());
      } finally {
        pq.close();
      }
      return new FileDataset(ctx, label, schema, format, (scopeFor, signal) => parquetBatches(ctx, src, label, schema, scopeFor, signal));
    }
    case 'csv': {
      const first = await CsvReader.open(ctx, src, opts.csv);
      await first.close();
      const layout = first.layout;
      return new FileDataset(ctx, label, layout.schema, format, (scopeFor, signal) => csvBatches(ctx, src, opts.csv, layout, scopeFor, signal));
    }
  }
}

async function* parquetBatches(
  ctx: Context, src: string | { bytes: Uint8Array; name: string }, label: string, schema: Schema, scopeFor: () => ArenaScope, signal?: AbortSignal,
): AsyncIterable<Batch> {
  const pq = await ParquetSource.open(src);
  try {
    let g = 0;
    let scope: ArenaScope | undefined;
    // Each row group lands in the batch's scope (the decoder copies it there): apache-arrow's views
    // point into the engine's memory at 64-aligned buffers, and the importer borrows them instead of
    // copying. The bytes die with the scope.
    const place = (bytes: number) => (scope = scopeFor()).alloc(bytes);
    for await (const rbs of pq.landed(ctx.memory, place, signal)) {
      if (rbs.length > 0) yield checked(label, importTable(ctx, scope!, new Table(rbs)), schema, g);
      g++;
    }
  } finally {
    pq.close();
  }
}

async function* csvBatches(
  ctx: Context, src: string | { bytes: Uint8Array; name: string }, opts: CsvReadOptions | undefined, layout: CsvLayout,
  scopeFor: () => ArenaScope, signal?: AbortSignal,
): AsyncIterable<Batch> {
  const reader = await CsvReader.open(ctx, src, opts, layout);
  yield* reader.batches(scopeFor, signal);
}

/** Writes a result Table in the given format; returns the bytes written. */
export async function writeTable(path: string, table: Table, format: FileFormat, opts: FileWriteOptions = {}): Promise<number> {
  switch (format) {
    case 'arrow':
    case 'arrows':
      return writeIpc(path, table, format);
    case 'parquet':
      return writeParquet(path, table, opts.parquet);
    case 'csv':
      return writeCsv(path, table, opts.csv);
  }
}
