/**
 * Arrow IPC in and out (apache-arrow's reader and writer): the file format (.arrow / .feather, with a
 * footer) and the stream format (.arrows). Reading goes batch by batch through RecordBatchReader, so
 * a scan never holds more than one record batch of the file in JS memory.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { RecordBatchReader, RecordBatchFileWriter, RecordBatchStreamWriter, type RecordBatch, type Schema as ArrowSchema, type Table } from 'apache-arrow';
import { AetherError } from '../../errors.js';
import { verifyIpc, verifyIpcStreamFile } from './ipc-verify.js';

/**
 * A file that is not readable as the format its name promises: names the file and, where known, the
 * batch (IPC record batch / Parquet row group), the row (CSV: the 1-based line in the file) and the column.
 */
export class FileFormatError extends AetherError {
  constructor(readonly file: string, readonly detail: string, readonly batch?: number, readonly row?: number, readonly column?: string) {
    super(
      'ERR_FILE_FORMAT',
      `${file}: ${detail}${batch !== undefined ? ` (record batch ${batch})` : ''}${row !== undefined ? ` (row ${row})` : ''}` +
        `${column !== undefined ? ` (column '${column}')` : ''}`,
    );
  }
}

const MAGIC = 'ARROW1';

/** True for the IPC file format (magic at both ends), false for the stream format. */
async function isFileFormat(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(6);
    await fh.read(head, 0, 6, 0);
    return head.toString('latin1') === MAGIC;
  } finally {
    await fh.close();
  }
}

/** A file path, or the bytes of a file already in hand (named for errors). */
export type IpcInput = string | { readonly bytes: Uint8Array; readonly name: string };

/** The schema of an IPC file or stream, from its first message (no batches read). */
export async function readIpcSchema(input: IpcInput): Promise<ArrowSchema> {
  for await (const reader of ipcReaders(input)) {
    // A stream cut inside its first message opens with no schema rather than failing.
    if (reader.schema) return reader.schema;
    break;
  }
  throw new FileFormatError(typeof input === 'string' ? input : input.name, 'no Arrow IPC schema message (empty or not an Arrow file)');
}

async function* ipcReaders(input: IpcInput): AsyncGenerator<RecordBatchReader> {
  if (typeof input !== 'string') {
    if (input.bytes.length === 0) throw new FileFormatError(input.name, 'empty file');
    let reader: RecordBatchReader;
    try {
      verifyIpc(input.bytes);
      reader = RecordBatchReader.from(input.bytes) as RecordBatchReader;
      reader.open();
    } catch (e) {
      throw new FileFormatError(input.name, `not a readable Arrow IPC file or stream: ${(e as Error).message}`);
    }
    yield reader;
    return;
  }
  const path = input;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new FileFormatError(path, `cannot open: ${(e as Error).message}`);
  }
  if (size === 0) throw new FileFormatError(path, 'empty file');
  try {
    if (await isFileFormat(path)) {
      // The file format needs random access to its footer; apache-arrow reads it from a buffer.
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(path);
      verifyIpc(bytes);
      const reader = RecordBatchReader.from(bytes) as RecordBatchReader;
      reader.open();
      yield reader;
      return;
    }
    await verifyIpcStreamFile(path);
    const reader = await RecordBatchReader.from(createReadStream(path));
    await reader.open();
    yield reader as RecordBatchReader;
  } catch (e) {
    if (e instanceof AetherError) throw e;
    throw new FileFormatError(path, `not a readable Arrow IPC file or stream: ${(e as Error).message}`);
  }
}

/** The record batches of an IPC file or stream, one at a time; corrupt input → FileFormatError naming the batch. */
export async function* readIpcBatches(input: IpcInput, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
  const path = typeof input === 'string' ? input : input.name;
  let index = 0;
  for await (const reader of ipcReaders(input)) {
    if (reader.isFile()) {
      yield* fileBatches(path, reader, signal);
      return;
    }
    // Sync readers (file format from a buffer) and async ones (stream format) both iterate with await.
    const iter = (reader as unknown as AsyncIterable<RecordBatch>)[Symbol.asyncIterator]
      ? (reader as unknown as AsyncIterable<RecordBatch>)[Symbol.asyncIterator]()
      : ((reader as unknown as Iterable<RecordBatch>)[Symbol.iterator]() as unknown as AsyncIterator<RecordBatch>);
    for (;;) {
      signal?.throwIfAborted();
      let r: IteratorResult<RecordBatch>;
      try {
        r = await iter.next();
      } catch (e) {
        throw new FileFormatError(path, `corrupt record batch: ${(e as Error).message}`, index);
      }
      if (r.done) break;
      validateBatch(path, r.value, index);
      yield r.value;
      index++;
    }
  }
}

/**
 * The file format by random access to the footer's blocks. Not the reader's iterator: when a block
 * points at a message that is not a record batch (a corrupt footer), apache-arrow's iterator reads
 * that block again forever (found by the fuzz test). readRecordBatch(i) reads block i once and
 * answers null or throws instead. A footer cannot list more blocks than the file has room for.
 */
function* fileBatches(path: string, reader: RecordBatchReader, signal?: AbortSignal): Generator<RecordBatch> {
  const n = reader.numRecordBatches;
  const size = (reader as unknown as { _impl?: { _handle?: { size?: number } } })._impl?._handle?.size;
  if (size !== undefined && n * 16 > size) throw new FileFormatError(path, `footer lists ${n} record batches, more than a ${size}-byte file holds`);
  for (let index = 0; index < n; index++) {
    signal?.throwIfAborted();
    let rb: RecordBatch | null;
    try {
      rb = reader.readRecordBatch(index) as RecordBatch | null;
    } catch (e) {
      throw new FileFormatError(path, `corrupt record batch: ${(e as Error).message}`, index);
    }
    if (!rb) throw new FileFormatError(path, 'the footer points at no record batch', index);
    validateBatch(path, rb, index);
    yield rb;
  }
}

/**
 * apache-arrow trusts the lengths in a message; a truncated or corrupted body can yield buffers
 * shorter than the batch claims. Check what the importer will read so the error names the batch.
 */
function validateBatch(path: string, rb: RecordBatch, index: number): void {
  // An empty batch is skipped on import (nothing of it is read); apache-arrow writes one for an
  // empty table, with zero-byte buffers (no offsets at all), which the checks below would reject.
  if (rb.numRows === 0) return;
  for (let i = 0; i < rb.numCols; i++) {
    const child = rb.getChildAt(i);
    if (!child) continue;
    for (const d of child.data) {
      if (d.length !== rb.numRows && rb.numRows !== 0 && child.data.length === 1) {
        throw new FileFormatError(path, `column '${rb.schema.fields[i].name}' has ${d.length} rows, batch has ${rb.numRows}`, index);
      }
      const v = d.values as ArrayLike<unknown> | undefined;
      const width = (d.type as { bitWidth?: number }).bitWidth;
      if (v && d.valueOffsets === undefined && typeof width === 'number' && width >= 8 && v.length < d.length) {
        throw new FileFormatError(path, `column '${rb.schema.fields[i].name}' values are truncated (${v.length} of ${d.length})`, index);
      }
      // Bit-packed bools, and dictionary codes (their width is the index type's).
      if (v && (d.type as { typeId?: number }).typeId === 6 && (v as Uint8Array).length * 8 < d.offset + d.length) {
        throw new FileFormatError(path, `column '${rb.schema.fields[i].name}' bits are truncated`, index);
      }
      const codes = (d.type as { indices?: { bitWidth: number } }).indices;
      if (codes && v && v.length < d.length) {
        throw new FileFormatError(path, `column '${rb.schema.fields[i].name}' codes are truncated (${v.length} of ${d.length})`, index);
      }
      if (d.valueOffsets && d.valueOffsets.length < d.length + 1) {
        throw new FileFormatError(path, `column '${rb.schema.fields[i].name}' offsets are truncated`, index);
      }
    }
  }
}

/** Writes a Table as an IPC file (format 'arrow') or stream ('arrows'); returns bytes written. */
export async function writeIpc(path: string, table: Table, format: 'arrow' | 'arrows'): Promise<number> {
  const { writeFile } = await import('node:fs/promises');
  const writer = format === 'arrow' ? RecordBatchFileWriter.writeAll(table) : RecordBatchStreamWriter.writeAll(table);
  const bytes = await writer.toUint8Array();
  await writeFile(path, bytes);
  return bytes.byteLength;
}
