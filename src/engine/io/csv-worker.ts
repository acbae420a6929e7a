/**
 * A CSV parse worker: tokenizes one window of whole rows and parses every column into buffers of its
 * own, laid out like an engine column (values at 0, validity bitmap, utf8 offsets), transferred back.
 * The main thread (csv.ts) copies them into the batch's scope — one memcpy per buffer — and keeps
 * the order, the line numbers and the errors. Only csv-parse.ts is loaded here (no engine, no wasm).
 *
 *   in:  { id, bytes (transferred), delim, ncols, types }
 *   out: { id, ok: true, rows, lines, cols: [{ buf, values, validity, offsets, nulls }] }
 *      | { id, ok: false, line (relative to the window, 0-based), column, detail }
 */
import { parentPort } from 'node:worker_threads';
import { ParseError, RowError, Tokens, dataBytesOf, parseColumn, tokenize, type CsvType } from './csv-parse.js';

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

parentPort!.on('message', (m: Job) => {
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
