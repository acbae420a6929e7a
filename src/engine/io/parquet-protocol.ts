/**
 * What the main thread (parquet.ts) and a Parquet decoder worker (parquet-worker.ts) say to each
 * other: one request in, one reply out, matched by id.
 *
 *   { op: 'open', id, file, path | bytes }
 *       → { id, ok, rowGroups, rows, schema: IPC bytes (arrow-rs' Arrow schema),
 *           kernel: { formats } (per top-level column, the Arrow C format our kernel path produces)
 *                 | { unsupported: why } (the file's schema is not ours: nested, INT96, ...) }
 *   { op: 'read', id, file, group, ffi, kernel }
 *       → { id, ok, plan, path: 'kernel', src: { mem, at } } — decoded by our kernels: every column's
 *           buffers at 64-aligned offsets of one block (GroupPlan below) at `at` in `mem`, a shared
 *           Memory of the worker's own; the main thread copies the block out itself, then sends
 *           'release' — the worker decodes other groups meanwhile, into other memories
 *       | { id, ok, plan, path: 'ffi' } — decoded by parquet-wasm, every column plain: the block
 *           stays in parquet-wasm's memory until 'copy' (the worker copies it)
 *       | { id, ok, ipc: IPC stream bytes (transferred), path: 'ipc' } — anything else
 *         (`fallback`: why the kernel path was not taken, when it was asked for)
 *         kernel: the main thread checked the 'open' formats against the Arrow schema; the worker
 *         then decodes pages itself (parquet-pages.ts) when the group's codecs and encodings are
 *         ours, else it asks parquet-wasm (ffi: through the C data interface when every column is
 *         plain, else IPC).
 *   { op: 'read', id, file, group, ffi, kernel: true, part: { k, n } }
 *       → { id, ok, plan, src, path: 'kernel' } for the k-th of n column ranges of the group (so several
 *           decoders share one group: see ParquetSource.landed), or { id, ok, fallback } when that
 *           part is not ours (nothing held; the main thread then reads the whole group as above)
 *   { op: 'copy', id, file, group, mem, at } → { id, ok }: parquet-wasm's held group copied into
 *         `mem` (the engine's shared Memory) at `at` + each buffer's offset in the plan, then freed
 *   { op: 'release', id, file, group } → { id, ok }: the kernel block of that group may be reused
 *   { op: 'close', id, file }         → { id, ok } (frees what the file still holds)
 *   any failure                       → { id, ok: false, error }
 *
 * A group block (GroupPlan.total bytes, allocated by the main thread in the batch's scope):
 *
 *   at ─► ┌──────────┬──────────┬──────────┬─────────┬─────┐
 *         │ col 0    │ col 0    │ col 1    │ col 1   │ ... │   each buffer at a 64-aligned offset,
 *         │ validity │ data     │ offsets  │ data    │     │   ≥ 64 bytes reserved (padding: any bytes)
 *         └──────────┴──────────┴──────────┴─────────┴─────┘
 *   (the order of the buffers is the decoder's business: the main thread only follows the offsets)
 */

/** Where each buffer of a column lands, as byte offsets into the group's block (-1: none). */
export interface ColumnPlan {
  /** Arrow C data interface format string of the column ('l', 'u', 'tdD', 'd:15,2', ...). */
  fmt: string;
  nulls: number;
  validity: number;
  offsets: number;
  data: number;
  /** Bytes of the data buffer (utf8: the string bytes). */
  bytes: number;
}

export interface GroupPlan {
  rows: number;
  total: number;
  cols: ColumnPlan[];
}

/** Which way a row group came: our page kernels, parquet-wasm's buffers (C data interface), or IPC bytes. */
export type DecodePath = 'kernel' | 'ffi' | 'ipc';

export interface Reply {
  id: number;
  ok: boolean;
  error?: string;
  rowGroups?: number;
  rows?: number;
  schema?: Uint8Array;
  kernel?: { formats: string[] } | { unsupported: string };
  ipc?: Uint8Array;
  plan?: GroupPlan;
  /** path 'kernel': where the block is (the worker's memory, shared). */
  src?: { mem: WebAssembly.Memory; at: number };
  path?: DecodePath;
  fallback?: string;
}
