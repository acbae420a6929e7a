/**
 * Arrow tables across the script pool's thread boundary, without copying their data.
 *
 * A script node's inputs go to a worker by structured clone. An arrow-js Table does not survive that
 * (its classes lose their prototypes), so a Table input is sent as a `WireTable`: the schema as a
 * small IPC message, and for every column chunk its typed arrays as they are. Structured clone
 * *shares* a typed array over a SharedArrayBuffer (the new view aliases the same memory) and copies
 * one over an ordinary ArrayBuffer — so a query result, whose buffers are views of the engine's shared
 * Memory, reaches the worker zero-copy, and anything else is copied once. The worker rebuilds a real
 * arrow-js Table over the received views (`fromWire`).
 *
 * Lifetime: the views alias memory owned by the upstream result's arena scope. The run keeps that
 * result alive (it holds every output) until the run is released, which is after the script ended.
 */
import type { Data, DataType, Table } from 'apache-arrow';

const TAG = '__aetherflowWireTable';

interface WireData {
  length: number;
  nullCount: number;
  offset: number;
  values?: ArrayBufferView;
  valueOffsets?: ArrayBufferView;
  nullBitmap?: ArrayBufferView;
  children: WireData[];
  /** Dictionary-encoded columns: the dictionary's chunks. */
  dictionary?: WireData[];
}

export interface WireTable {
  [TAG]: 1;
  /** IPC stream bytes of an empty table with the schema (types, dictionary ids, metadata). */
  schema: Uint8Array;
  /** Per record batch: its row count and one WireData per column. */
  batches: { length: number; columns: WireData[] }[];
}

function isTable(v: unknown): v is Table {
  return v !== null && typeof v === 'object' && Array.isArray((v as Table).batches) && typeof (v as Table).getChild === 'function'
    && typeof (v as Table).schema === 'object';
}

function wireData(d: Data): WireData {
  const w: WireData = { length: d.length, nullCount: d.nullCount, offset: d.offset, children: d.children.map(wireData) };
  if (d.values) w.values = d.values as ArrayBufferView;
  if (d.valueOffsets) w.valueOffsets = d.valueOffsets as ArrayBufferView;
  if (d.nullBitmap && d.nullBitmap.length) w.nullBitmap = d.nullBitmap;
  if (d.dictionary) w.dictionary = d.dictionary.data.map(wireData);
  return w;
}

/** Inputs for a script task: top-level Table values become WireTables, the rest is left as is. */
export async function toWire(inputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  let arrow: typeof import('apache-arrow') | undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (!isTable(v)) { out[k] = v; continue; }
    arrow ??= await import('apache-arrow');
    out[k] = {
      [TAG]: 1,
      schema: arrow.tableToIPC(new arrow.Table(v.schema), 'stream'),
      batches: v.batches.map((b) => ({ length: b.numRows, columns: b.data.children.map(wireData) })),
    } satisfies WireTable;
  }
  return out;
}

const isWire = (v: unknown): v is WireTable => v !== null && typeof v === 'object' && (v as WireTable)[TAG] === 1;

/** In the worker: WireTables back into arrow-js Tables over the received (shared) views. */
export async function fromWire(input: unknown): Promise<unknown> {
  if (input === null || typeof input !== 'object') return input;
  const entries = Object.entries(input as Record<string, unknown>);
  if (!entries.some(([, v]) => isWire(v))) return input;
  const arrow = await import('apache-arrow');
  const rebuild = (type: DataType, w: WireData): Data => {
    const children = w.children.map((c, k) => rebuild(type.children[k].type, c));
    const dictionary = w.dictionary && arrow.DataType.isDictionary(type)
      ? arrow.makeVector(w.dictionary.map((c) => rebuild(type.dictionary, c)))
      : undefined;
    return arrow.makeData({
      type, length: w.length, nullCount: w.nullCount, offset: w.offset, children, dictionary,
      data: w.values, valueOffsets: w.valueOffsets, nullBitmap: w.nullBitmap,
    } as any);
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    if (!isWire(v)) { out[k] = v; continue; }
    const schema = arrow.tableFromIPC(v.schema).schema;
    const struct = new arrow.Struct(schema.fields);
    const batches = v.batches.map((b) => new arrow.RecordBatch(schema, arrow.makeData({
      type: struct, length: b.length, nullCount: 0, children: b.columns.map((c, j) => rebuild(schema.fields[j].type, c)),
    })));
    out[k] = new arrow.Table(schema, batches);
  }
  return out;
}
