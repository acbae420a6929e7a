/**
 * The Arrow IPC output codec: a node whose output is an arrow-js Table (every query node) keeps it in
 * the run directory as `<node>.arrow` (IPC file format), and `--resume` restores it as a Table.
 * Importing this module registers the codec (the CLI imports it when a job has query nodes; the
 * package's index imports it for library users). It is a module of its own because apache-arrow is
 * large: a job of shell and http nodes should not load it.
 *
 * Byte-identical files across runs. arrow-js numbers dictionaries from process-wide counters (every
 * exported or built dictionary takes the next id), so the same table gets different ids — and
 * different IPC bytes — depending on what the process did before: a resumed run skips nodes and would
 * write its later outputs with other ids than an uninterrupted run. The encoder therefore renumbers
 * the dictionaries of the table it writes 0, 1, 2 … in column order; the data is untouched (the
 * batches are re-wrapped around the same buffers, no copy).
 */
import {
  Data, Dictionary, Field, RecordBatch, Schema, Struct, Table, makeData, tableFromIPC, tableToIPC, type DataType,
} from 'apache-arrow';
import { registerOutputCodec, type OutputCodec } from '../history.js';

/** The same table with its dictionary ids renumbered 0, 1, 2 … in column order (no data copied). */
export function normalizeDictionaryIds(table: Table): Table {
  let next = 0;
  const ids = new Map<number, number>();
  const retype = (t: DataType): DataType => {
    if (!DataType_isDictionary(t)) return t;
    let id = ids.get(t.id);
    if (id === undefined) ids.set(t.id, (id = next++));
    return new Dictionary(retype(t.dictionary), t.indices, id, t.isOrdered);
  };
  const fields = table.schema.fields.map((f) => new Field(f.name, retype(f.type), f.nullable, f.metadata));
  if (ids.size === 0) return table;
  const schema = new Schema(fields, table.schema.metadata);
  const batches = table.batches.map((b) => {
    const children = b.data.children.map((d, k) => redata(d, fields[k].type));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }));
  });
  return new Table(schema, batches);
}

function DataType_isDictionary(t: DataType): t is Dictionary {
  return t instanceof Dictionary;
}

/** `d` under type `t` (only dictionary ids differ), children and dictionary vectors too. */
function redata(d: Data, t: DataType): Data {
  if (t === d.type) return d;
  return d.clone(t);
}

export const arrowCodec: OutputCodec = {
  ext: 'arrow',
  test: (v) => v instanceof Table,
  encode: (v) => tableToIPC(normalizeDictionaryIds(v as Table), 'file'),
  decode: (b) => tableFromIPC(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
};

let registered = false;
/** Registers the codec once (idempotent). */
export function registerArrowCodec(): void {
  if (registered) return;
  registered = true;
  registerOutputCodec(arrowCodec);
}
registerArrowCodec();
