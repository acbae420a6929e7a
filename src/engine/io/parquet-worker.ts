/**
 * A Parquet decoder worker (parquet.ts keeps a pool of ≤ 2). The protocol is drawn in
 * parquet-protocol.ts. A row group is decoded one of two ways:
 *
 * - our kernel path (parquet-pages.ts): when the main thread vouched for the file's types and the
 *   group's codecs / encodings are ours, its column chunks are read (fs.readSync) straight into a
 *   kernel memory private to this worker — a shared WebAssembly.Memory with our kernel module
 *   instantiated over it — and decoded there by the pq* kernels into the plan's block layout. The
 *   main thread copies the block out of that memory itself and then releases it, so this worker
 *   decodes the next group meanwhile, into another such memory (a "slot": one per group awaiting
 *   its copy, ≤ 2 per file with the main thread's read-ahead);
 * - parquet-wasm (arrow-rs in wasm): for everything else. Its async reader drives Rust futures from
 *   queueMicrotask callbacks, so a panic on corrupt input is an uncaught exception: it kills this
 *   worker (parquet.ts fails the pending reads with FileFormatError and starts a new one) instead of
 *   the process. The decoded group is exported through the Arrow C data interface (`toFFI`, arrow-rs'
 *   own buffers, no copy) and copied from there when every column is plain, else sent as IPC.
 *
 * Either way a planned group stays held here until the main thread's 'copy' (into the block it
 * allocated in the batch's scope), so a worker holds at most one group per open file.
 */
import { closeSync, fstatSync, openAsBlob, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { parquetMetadata, type FileMetaData } from 'hyparquet';
import * as pw from 'parquet-wasm';
import { instantiateKernel } from '../../kernels/module.js';
import type { ParquetKernel } from './parquet-kernel.js';
import type { Utf8Kernel } from './utf8-kernel.js';
import { KERNEL_EXPORTS, KernelMemory, decodeGroup, kernelColumns, partStart, type KernelColumn, type ReadAt } from './parquet-pages.js';
import type { ColumnPlan, GroupPlan, Reply } from './parquet-protocol.js';

interface OpenFile {
  pf: pw.ParquetFile;
  size: number;
  /** Reads file bytes for the kernel path (undefined with `why`: the path is off for this file). */
  read?: ReadAt;
  fd?: number;
  md?: FileMetaData;
  cols?: KernelColumn[];
  why?: string;
}

const files = new Map<number, OpenFile>();
/** Groups decoded by parquet-wasm waiting for their 'copy', by `${file}:${group}`. */
const held = new Map<string, { ffi: pw.FFIStream; copies: number[] }>();
const key = (file: number, group: number): string => `${file}:${group}`;

// ---- the kernel path ---------------------------------------------------------------------------

/** A kernel instance over a memory of its own, holding at most one decoded group (`owner`) at a time. */
interface Slot {
  k: ParquetKernel & Utf8Kernel;
  mem: KernelMemory;
  /** First 64-aligned address above the kernel's static data: where a group's layout starts. */
  heap: number;
  /** `${file}:${group}` of the block waiting for the main thread's copy and 'release'. */
  owner?: string;
}

const slots: Slot[] = [];
/** Whether the kernel module has the pq* exports (undefined: not looked at yet). */
let kernelOk: boolean | undefined;
/** Drops idle kernel memories (each keeps the size of the largest group it decoded, ~215 MB at SF 1). */
let idleTimer: NodeJS.Timeout | undefined;
const IDLE_MS = 5000;

/** A free slot, made if need be; null when the kernel module cannot decode Parquet. */
function freeSlot(): Slot | null {
  const free = slots.find((s) => s.owner === undefined);
  if (free || kernelOk === false) return free ?? null;
  const module = (workerData as { module?: WebAssembly.Module } | undefined)?.module;
  if (!module) return ((kernelOk = false), null);
  // Private to this slot: nothing else runs in it, so a bump allocator from `heap` per group is
  // enough. Maximum 4 GiB (the module's declared maximum); pages are committed only as it grows.
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const k = instantiateKernel(module, memory) as unknown as ParquetKernel & Utf8Kernel & { heapBase(): number };
  kernelOk = KERNEL_EXPORTS.every((name) => typeof k[name] === 'function');
  if (!kernelOk) return null;
  const slot = { k, mem: new KernelMemory(memory), heap: Math.ceil(k.heapBase() / 64) * 64 };
  slots.push(slot);
  return slot;
}

/**
 * Decodes group `g` of `file` — or its part `part.k` of `part.n` (column ranges: partStart) — with our
 * kernels into a slot; the plan and where the block is, or the reason when it does not.
 */
function kernelRead(f: OpenFile, file: number, g: number, part?: { k: number; n: number }): { plan: GroupPlan; src: { mem: WebAssembly.Memory; at: number } } | string {
  if (!f.cols || !f.md || !f.read) return f.why ?? 'no footer';
  const rg = f.md.row_groups[g];
  if (!rg) throw new Error(`no row group ${g} (the file has ${f.md.row_groups.length})`);
  release(key(file, g)); // a block of this group not copied (the main thread gave up on it)
  const slot = freeSlot();
  if (!slot) return 'the parquet kernels are not in the kernel module';
  const [from, to] = part ? [partStart(rg, part.n, part.k), partStart(rg, part.n, part.k + 1)] : [0, f.cols.length];
  const r = decodeGroup({ k: slot.k, mem: slot.mem, cols: f.cols, fileSize: f.size, read: f.read }, rg, slot.heap, from, to);
  if ('unsupported' in r) return r.unsupported;
  slot.owner = key(file, g);
  return { plan: r.plan, src: { mem: slot.mem.memory, at: r.at } };
}

/** Frees what is held for `${file}:${group}` (a slot, or parquet-wasm's buffers). */
function release(k: string): void {
  for (const s of slots) if (s.owner === k) s.owner = undefined;
  held.get(k)?.ffi.free();
  held.delete(k);
}

/** The footer through hyparquet, and the columns as our kernels would decode them. */
function footer(f: OpenFile, tail: (len: number) => ArrayBuffer): void {
  try {
    if (f.size < 12) throw new Error(`${f.size} bytes`);
    const len = new DataView(tail(8)).getUint32(0, true);
    if (len + 8 > f.size - 4) throw new Error(`footer length ${len}`);
    f.md = parquetMetadata(tail(len + 8));
    const cols = kernelColumns(f.md);
    if (typeof cols === 'string') f.why = cols;
    else f.cols = cols;
  } catch (e) {
    f.why = `footer: ${(e as Error).message}`;
  }
}

function openFile(m: { path?: string; bytes?: Uint8Array }, pf: pw.ParquetFile): OpenFile {
  if (m.bytes !== undefined) {
    const bytes = m.bytes;
    const f: OpenFile = { pf, size: bytes.byteLength };
    f.read = (dst, pos) => {
      if (pos + dst.byteLength > bytes.byteLength) throw new Error('past the end of the input');
      dst.set(bytes.subarray(pos, pos + dst.byteLength));
    };
    footer(f, (len) => bytes.slice(bytes.byteLength - len).buffer);
    return f;
  }
  const fd = openSync(m.path!, 'r');
  const f: OpenFile = { pf, size: fstatSync(fd).size, fd };
  f.read = (dst, pos) => {
    for (let o = 0; o < dst.byteLength; ) {
      const n = readSync(fd, dst, o, dst.byteLength - o, pos + o);
      if (n === 0) throw new Error('unexpected end of file');
      o += n;
    }
  };
  footer(f, (len) => {
    const b = new Uint8Array(len);
    f.read!(b, f.size - len);
    return b.buffer;
  });
  return f;
}

// ---- parquet-wasm's buffers (Arrow C data interface) --------------------------------------------

// wasm32 layout (pointers are 4 bytes, int64 fields 8-aligned):
//   ArrowSchema { format@0, name@4, metadata@8, flags@16, n_children@24, children@32, dictionary@36, ... }
//   ArrowArray  { length@0, null_count@8, offset@16, n_buffers@24, n_children@32, buffers@40, children@44, dictionary@48, ... }
const WIDTH: Record<string, number> = { c: 1, C: 1, s: 2, S: 2, i: 4, I: 4, l: 8, L: 8, e: 2, f: 4, g: 8, tdD: 4, tdm: 8, tts: 4, ttm: 4, ttu: 8, ttn: 8 };
function widthOf(fmt: string): number {
  if (fmt in WIDTH) return WIDTH[fmt];
  if (/^ts[smun]:/.test(fmt)) return 8; // timestamps (int64)
  if (fmt.startsWith('d:') && fmt.split(',').length === 2) return 16; // decimal128 (no bit width = 128)
  return 0;
}

/**
 * A decoded row group as a copy list: each buffer at a 64-aligned offset of one block (the engine's
 * importer then borrows every buffer in place). null when a column is not plain — dictionary,
 * nested, view or large types, a sliced array — and the caller falls back to IPC for the group.
 */
function ffiPlan(ffi: pw.FFIStream): { plan: GroupPlan; copies: number[] } | null {
  if (ffi.numArrays() !== 1) return null;
  const buf = pw.wasmMemory().buffer;
  const dv = new DataView(buf), u8 = new Uint8Array(buf);
  const i64 = (p: number) => Number(dv.getBigInt64(p, true)), u32 = (p: number) => dv.getUint32(p, true);
  const s = ffi.schemaAddr(), a = ffi.arrayAddr(0);
  const n = i64(s + 24);
  if (i64(a + 32) !== n || i64(a + 16) !== 0) return null;
  const rows = i64(a);
  const cols: ColumnPlan[] = [], copies: number[] = [];
  let total = 0;
  const place = (ptr: number, len: number) => {
    const off = total;
    total += Math.max(64, (len + 63) & ~63);
    if (len > 0) copies.push(ptr, len, off);
    return off;
  };
  for (let i = 0; i < n; i++) {
    const cs = u32(u32(s + 32) + 4 * i), ca = u32(u32(a + 44) + 4 * i);
    let end = u32(cs);
    while (u8[end] !== 0) end++;
    const fmt = String.fromCharCode(...u8.subarray(u32(cs), end));
    if (u32(cs + 36) !== 0 || u32(ca + 48) !== 0 || i64(ca + 32) !== 0) return null;
    const len = i64(ca), nulls = i64(ca + 8), nb = i64(ca + 24), bufs = u32(ca + 40);
    if (i64(ca + 16) !== 0 || len !== rows) return null;
    const b = (k: number) => u32(bufs + 4 * k);
    const validity = nulls !== 0 && b(0) !== 0 ? place(b(0), (len + 7) >> 3) : -1;
    let offsets = -1, bytes: number;
    if (fmt === 'u' || fmt === 'z') {
      if (nb !== 3 || dv.getInt32(b(1), true) !== 0) return null;
      bytes = dv.getInt32(b(1) + 4 * len, true);
      offsets = place(b(1), 4 * (len + 1));
    } else if (fmt === 'b') {
      if (nb !== 2) return null;
      bytes = (len + 7) >> 3;
    } else {
      const w = widthOf(fmt);
      if (w === 0 || nb !== 2) return null;
      bytes = w * len;
    }
    const data = place(b(nb - 1), bytes);
    cols.push({ fmt, nulls, validity, offsets, data, bytes });
  }
  return { plan: { rows, total, cols }, copies };
}

// ---- requests ----------------------------------------------------------------------------------

type Request =
  | { op: 'open'; id: number; file: number; path?: string; bytes?: Uint8Array }
  | { op: 'read'; id: number; file: number; group: number; ffi: boolean; kernel: boolean; part?: { k: number; n: number } }
  | { op: 'copy'; id: number; file: number; group: number; mem: WebAssembly.Memory; at: number }
  | { op: 'release'; id: number; file: number; group: number }
  | { op: 'close'; id: number; file: number };

async function handle(m: Request): Promise<{ reply: Omit<Reply, 'id'>; transfer?: ArrayBuffer[] }> {
  if (m.op === 'open') {
    clearTimeout(idleTimer);
    const blob = m.path !== undefined ? await openAsBlob(m.path) : new Blob([m.bytes!]);
    const pf = await pw.ParquetFile.fromFile(blob);
    const md = pf.metadata();
    const fmd = md.fileMetadata();
    // The footer's row count must be its groups' sum. arrow-rs does not check: with a num_rows of
    // 2^62 it decoded a 4000-row group as no rows at all, while our path read the group's 4000
    // (found by scripts/fuzz-parquet.ts) — a corrupt footer is an error on both paths instead.
    // Checked before the file is kept (and its fd opened): a failed open is never closed.
    let sum = 0n;
    for (let g = 0; g < md.numRowGroups(); g++) {
      const rg = md.rowGroup(g);
      sum += BigInt(rg.numRows());
      rg.free();
    }
    const rows = BigInt(fmd.numRows());
    if (rows !== sum) {
      fmd.free();
      md.free();
      pf.free();
      throw new Error(`the footer says ${rows} rows, its row groups hold ${sum}`);
    }
    let f: ReturnType<typeof openFile>;
    try {
      f = openFile(m, pf);
    } catch (e) {
      // (the file gone between the two opens, say): nothing keeps pf, so free it here
      fmd.free();
      md.free();
      pf.free();
      throw e;
    }
    files.set(m.file, f);
    const kernel = f.cols ? { formats: f.cols.map((c) => c.fmt) } : { unsupported: f.why ?? 'no footer' };
    const reply = { ok: true, rowGroups: md.numRowGroups(), rows: Number(rows), schema: pf.schema().intoIPCStream(), kernel };
    fmd.free();
    md.free();
    return { reply };
  }
  if (m.op === 'read') {
    const f = files.get(m.file);
    if (!f) throw new Error('file not open');
    let fallback: string | undefined;
    if (m.kernel) {
      const r = kernelRead(f, m.file, m.group, m.part);
      if (typeof r !== 'string') return { reply: { ok: true, plan: r.plan, src: r.src, path: 'kernel' } };
      // A part not ours: the main thread reads the whole group through parquet-wasm instead.
      if (m.part) return { reply: { ok: true, fallback: r } };
      fallback = r;
    }
    const t = await f.pf.read({ rowGroups: [m.group], batchSize: 1 << 30 });
    if (m.ffi) {
      // toFFI exports arrow-rs' own buffers (reference counted, no copy): they stay alive until
      // ffi.free(), after the Table itself is freed.
      const ffi = t.toFFI();
      let p: ReturnType<typeof ffiPlan> = null;
      try {
        p = ffiPlan(ffi);
      } finally {
        if (!p) ffi.free();
      }
      if (p) {
        t.free();
        release(key(m.file, m.group));
        held.set(key(m.file, m.group), { ffi, copies: p.copies });
        return { reply: { ok: true, plan: p.plan, path: 'ffi', fallback } };
      }
      // Not plain (dictionary / view / nested columns): this group goes as IPC.
    }
    const ipc = t.intoIPCStream();
    return { reply: { ok: true, ipc, path: 'ipc', fallback }, transfer: [ipc.buffer as ArrayBuffer] };
  }
  if (m.op === 'copy') {
    const k = key(m.file, m.group);
    const h = held.get(k);
    held.delete(k);
    if (!h) throw new Error('no decoded row group to copy');
    try {
      // Safe unchecked: ffiPlan reserved align64(len) bytes for every copy inside [at, at + total),
      // which the main thread allocated; a bogus source range only shortens the copy (subarray clamps).
      const src = new Uint8Array(pw.wasmMemory().buffer), dst = new Uint8Array(m.mem.buffer);
      const c = h.copies;
      for (let i = 0; i < c.length; i += 3) dst.set(src.subarray(c[i], c[i] + c[i + 1]), m.at + c[i + 2]);
    } finally {
      h.ffi.free();
    }
    return { reply: { ok: true } };
  }
  if (m.op === 'release') {
    release(key(m.file, m.group));
    return { reply: { ok: true } };
  }
  // close
  const f = files.get(m.file);
  files.delete(m.file);
  for (const k of [...held.keys(), ...slots.map((s) => s.owner)]) if (k?.startsWith(`${m.file}:`)) release(k);
  if (f) {
    f.pf.free();
    if (f.fd !== undefined) closeSync(f.fd);
  }
  if (files.size === 0 && slots.length > 0) {
    // A load is usually followed by more (a scan per query, a benchmark): keep the grown memories
    // warm for a few seconds (growing them again costs page faults), then let them go.
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (files.size === 0) slots.length = 0;
    }, IDLE_MS);
    idleTimer.unref();
  }
  return { reply: { ok: true } };
}

// One request at a time, in arrival order: an 'open' still reading its footer must not see a 'read'
// or 'close' of the same file overtake it (the main thread sends them back to back).
let queue = Promise.resolve();
parentPort!.on('message', (m: Request) => {
  queue = queue.then(() =>
    handle(m).then(
      ({ reply, transfer }) => parentPort!.postMessage({ id: m.id, ...reply }, transfer),
      (e: unknown) => parentPort!.postMessage({ id: m.id, ok: false, error: String((e as Error)?.message ?? e) }),
    ),
  );
});
