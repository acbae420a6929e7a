/**
 * A CSV parse worker. Two kinds of jobs:
 *
 * - kernel jobs (`op: 'scan' | 'parse'`, the common path): the CSV kernel (assembly/csv) over the
 *   engine's shared Memory — scan a window already copied into the arena, or parse a range of its
 *   columns straight into the batch's buffers (the main thread allocated them). Nothing is copied
 *   back; the reply is a few numbers. The first job for a Memory carries it and the compiled kernel
 *   module (`memory`, `module`, keyed by `memoryId`); later ones only the id.
 *
 *     scan:  { id, op, memoryId, text, len, delim, ncols, final, pos, cap, sizes, out }
 *         →  { id, ok: true, rows, lines } | { id, ok: false, redo: true } | { id, ok: false, capacity: true }
 *     parse: { id, op, memoryId, text, len, pos, ncols, n, cols, j0, j1, out, spare, types }
 *         →  { id, ok: true } | { id, ok: false, redo: true }
 *     (a trap → { id, ok: false, trap: message })
 *
 * - JS jobs (no `op`; files with a type the kernel lacks): tokenize one window of whole rows and
 *   parse every column into buffers of its own, laid out like an engine column (values at 0,
 *   validity bitmap, utf8 offsets), transferred back; the main thread copies them into the batch's
 *   scope and keeps the order, the line numbers and the errors.
 *
 *     in:  { id, bytes (transferred), delim, ncols, types }
 *     out: { id, ok: true, rows, lines, cols: [{ buf, values, validity, offsets, nulls }] }
 *        | { id, ok: false, line (relative to the window, 0-based), column, detail }
 *   (utf8 columns are checked as UTF-8 here, with Node's isUtf8: an invalid value is such an error)
 */
import { isUtf8 } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import { ParseError, RowError, Tokens, dataBytesOf, parseColumn, tokenize, type CsvType } from './csv-parse.js';
import { parseWindow, scanWindow, type CsvKernel } from './csv-kernel.js';
import { instantiateKernel } from '../../kernels/module.js';
import { SharedMemory } from '../../memory/shared-memory.js';
import { invalidUtf8RowJs, utf8Detail } from './utf8-kernel.js';

interface Job {
  id: number;
  bytes: Uint8Array;
  delim: number;
  ncols: number;
  types: CsvType[];
}

const WIDTH: Partial<Record<CsvType, number>> = {
  int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, date32: 4,
  int64: 8, uint64: 8, float64: 8, timestamp: 8,
};
const align8 = (n: number): number => (n + 7) & ~7;
const tok = new Tokens();

interface KernelJob {
  id: number;
  op: 'scan' | 'parse';
  memoryId: number;
  memory?: WebAssembly.Memory;
  module?: WebAssembly.Module;
  [k: string]: unknown;
}

/**
 * Kernel instances by memory id: the last two engines' Memories. Older ones are dropped so a closed
 * engine's memory is not pinned here; a job for a dropped one answers `lost` and the host resends.
 */
const kernels = new Map<number, { k: CsvKernel; mem: SharedMemory }>();

function kernelJob(m: KernelJob): Record<string, unknown> {
  let inst = kernels.get(m.memoryId);
  if (!inst) {
    if (!m.memory || !m.module) return { ok: false, lost: true }; // dropped below: the host sends it again
    inst = { k: instantiateKernel(m.module, m.memory) as unknown as CsvKernel, mem: new SharedMemory(m.memory) };
    kernels.set(m.memoryId, inst);
    if (kernels.size > 2) kernels.delete(kernels.keys().next().value!);
  }
  const { k, mem } = inst;
  const n = (key: string): number => m[key] as number;
  try {
    if (m.op === 'scan') {
      const r = scanWindow(k, mem, n('text'), n('len'), n('delim'), n('ncols'), m.final as boolean, n('pos'), n('cap'), n('sizes'), n('out'));
      if (r === 'redo') return { ok: false, redo: true };
      if ('capacity' in r) return { ok: false, capacity: true, scanned: r.scanned };
      return { ok: true, rows: r.rows, lines: r.lines };
    }
    const ok = parseWindow(k, mem, n('text'), n('len'), n('pos'), n('ncols'), n('n'), n('cols'), n('j0'), n('j1'), n('out'), m.types as CsvType[], n('spare'));
    return ok ? { ok: true } : { ok: false, redo: true };
  } catch (e) {
    return { ok: false, trap: (e as Error)?.message ?? String(e) };
  }
}

parentPort!.on('message', (m: Job | KernelJob) => {
  if ('op' in m) {
    parentPort!.postMessage({ id: m.id, ...kernelJob(m) });
    return;
  }
  let j = -1;
  try {
    const { line } = tokenize(tok, m.bytes, 0, m.bytes.length, true, m.delim, m.ncols, 0, 0x7fffffff);
    const n = tok.rows;
    const cols = [];
    const transfer: ArrayBuffer[] = [];
    for (j = 0; j < m.ncols; j++) {
      const t = m.types[j];
      const valuesBytes = t === 'utf8' ? dataBytesOf(tok, j, m.ncols) : t === 'bool' ? Math.ceil(n / 8) : n * WIDTH[t]!;
      const validity = align8(valuesBytes);
      const offsets = validity + align8(Math.ceil(n / 8));
      const total = align8(offsets + (t === 'utf8' ? (n + 1) * 4 : 0));
      const buf = new ArrayBuffer(Math.max(8, total));
      const target = { buffer: buf, u8: new Uint8Array(buf), i32: new Int32Array(buf) };
      const nulls = parseColumn(target, { values: 0, validity, offsets }, tok, m.bytes, j, m.ncols, t);
      if (t === 'utf8') {
        // No kernel here (JS jobs carry no Memory): Node's isUtf8, the same check as the kernels'.
        const offs = new Int32Array(buf, offsets, n + 1);
        const bad = invalidUtf8RowJs(isUtf8, target.u8, offs, n);
        if (bad >= 0) {
          parentPort!.postMessage({ id: m.id, ok: false, line: tok.lines[bad], column: j, detail: utf8Detail(target.u8.slice(offs[bad], offs[bad + 1]), -1) });
          return;
        }
      }
      cols.push({ buf, values: 0, validity, offsets, nulls });
      transfer.push(buf);
    }
    parentPort!.postMessage({ id: m.id, ok: true, rows: n, lines: line, cols }, transfer);
  } catch (e) {
    if (e instanceof RowError) parentPort!.postMessage({ id: m.id, ok: false, line: e.line, column: e.column, detail: e.detail });
    else if (e instanceof ParseError) parentPort!.postMessage({ id: m.id, ok: false, line: tok.lines[e.row], column: j, detail: e.detail, parse: true });
    else parentPort!.postMessage({ id: m.id, ok: false, line: 0, column: -1, detail: `parse worker failed: ${(e as Error)?.message ?? e}` });
  }
});
