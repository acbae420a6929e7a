/**
 * The CSV kernel (assembly/csv) from the host's side: scan a window of whole rows, parse its
 * columns, and hand the fields the kernel gives back to the JS parsers (csv-parse.ts). Free of
 * engine imports, so the parse workers (csv-worker.ts) run the same code over the same memory.
 *
 * The contract (see assembly/csv/index.ts): the kernel does the common, exactly-specified cases and
 * hands back everything else. A window the scan rejects, or a field no parser accepts, makes these
 * functions answer "redo": the caller reads that window with the JS tokenizer, which either reads it
 * (odd but legal input) or throws the error with its line and column — so errors and edge cases are
 * the JS path's, by construction.
 */
import { CsvKind, DType } from '../../../assembly/shared/codes.js';
import { FLAG_QUOTED, ParseError, Tokens, parseColumn, type CsvType, type Target } from './csv-parse.js';
import { invalidUtf8Row, type Utf8Kernel } from './utf8-kernel.js';

/** The exports used here (a subset of KernelExports, so a worker can hold just these). */
export interface CsvKernel extends Utf8Kernel {
  csvScan(text: number, len: number, delim: number, ncols: number, final: number, pos: number, cap: number, sizes: number, out: number): number;
  csvParse(text: number, pos: number, ncols: number, n: number, cols: number, j0: number, j1: number, out: number): number;
  csvRowCut(text: number, len: number, final: number): number;
}

// Column descriptor: 32 bytes per column (assembly/csv/index.ts has the drawing).
export const COL_BYTES = 32;
const C_KIND = 0, C_VALUES = 1, C_VALIDITY = 2, C_OFFSETS = 3, C_DONE = 4, C_NULLS = 5, C_CURSOR = 6; // i32 words

const KIND: Partial<Record<CsvType, number>> = {
  int8: DType.I8, int16: DType.I16, int32: DType.I32, int64: DType.I64,
  uint8: DType.U8, uint16: DType.U16, uint32: DType.U32, uint64: DType.U64,
  float32: DType.F32, float64: DType.F64, bool: DType.BOOL, date32: CsvKind.DATE32, utf8: CsvKind.UTF8,
};
const WIDTH: Partial<Record<CsvType, number>> = {
  int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, date32: 4,
  int64: 8, uint64: 8, float64: 8,
};

/** The kernel's kind code for a CSV type, or undefined (timestamps: the JS path reads those files). */
export const kindOf = (t: CsvType): number | undefined => KIND[t];

/** 'capacity': `pos` ran out after `scanned` bytes (the caller retries with a larger one). */
export type ScanResult = { rows: number; lines: number } | 'redo' | { capacity: true; scanned: number };

/**
 * Splits text[0, len) (whole rows) into `pos` (cap u32 entries) and per-column byte sums in `sizes`
 * (ncols i32, zeroed here). `out`: 8 bytes of scratch.
 */
export function scanWindow(
  k: CsvKernel, mem: Target, text: number, len: number, delim: number, ncols: number, final: boolean, pos: number, cap: number, sizes: number, out: number,
): ScanResult {
  mem.i32.fill(0, sizes >>> 2, (sizes >>> 2) + ncols);
  const rows = k.csvScan(text, len, delim, ncols, final ? 1 : 0, pos, cap, sizes, out);
  if (rows === -2) return { capacity: true, scanned: mem.i32[(out >>> 2) + 1] };
  if (rows < 0) return 'redo';
  return { rows, lines: mem.i32[out >>> 2] };
}

/** Where column j's buffers are (the caller allocated them for n rows). */
export interface ColumnSlots {
  values: number;
  validity: number;
  offsets: number;
}

/**
 * Writes the descriptors at `cols` and prepares the buffers the kernel expects: validity all set
 * (a null clears its bit), bool bitmaps zeroed.
 */
export function describeColumns(mem: Target, cols: number, types: readonly CsvType[], slots: readonly ColumnSlots[], n: number): void {
  const i32 = mem.i32;
  const u8 = mem.u8;
  for (let j = 0; j < types.length; j++) {
    const d = (cols >>> 2) + j * (COL_BYTES >>> 2);
    const s = slots[j];
    i32[d + C_KIND] = KIND[types[j]]!;
    i32[d + C_VALUES] = s.values;
    i32[d + C_VALIDITY] = s.validity;
    i32[d + C_OFFSETS] = s.offsets;
    i32[d + C_DONE] = 0;
    i32[d + C_NULLS] = 0;
    i32[d + C_CURSOR] = 0;
    u8.fill(0xff, s.validity, s.validity + (n >>> 3));
    if (n & 7) u8[s.validity + (n >>> 3)] = (1 << (n & 7)) - 1;
    if (types[j] === 'bool') u8.fill(0, s.values, s.values + Math.ceil(n / 8));
  }
}

/** Null count of column j after parseWindow. */
export const nullsOf = (mem: Target, cols: number, j: number): number => mem.i32[(cols >>> 2) + j * (COL_BYTES >>> 2) + C_NULLS];

// One-row token set for the fields handed back (reused: no allocation per field).
const one = new Tokens();
one.reserve(1, 1);
one.rows = 1;

/**
 * Parses columns [j0, j1) of the scanned window into the described buffers. Fields the kernel hands
 * back go through the JS parser one by one (`out`: 8 bytes, `spare`: 64 bytes of scratch, both
 * private to this call). Returns false when a field is not a value of its column's type, or a utf8
 * column is not valid UTF-8: the caller redoes the window with the JS path for the error (with its
 * line — the kernel knows rows, not lines).
 */
export function parseWindow(
  k: CsvKernel, mem: Target, text: number, len: number, pos: number, ncols: number, n: number, cols: number, j0: number, j1: number,
  out: number, types: readonly CsvType[], spare: number,
): boolean {
  const buf = new Uint8Array(mem.buffer, text, len);
  for (;;) {
    const rc = k.csvParse(text, pos, ncols, n, cols, j0, j1, out);
    if (rc === 0) return utf8Ok(k, mem, n, cols, j0, j1, types);
    if (rc !== 1) throw new Error(`csvParse: unknown column kind (${rc})`);
    const i32 = mem.i32;
    const u8 = mem.u8;
    const j = i32[out >>> 2];
    const r = i32[(out >>> 2) + 1];
    // The field's bounds, as the kernel computes them (CRLF, quotes).
    const f = (pos >>> 2) + r * ncols + j;
    let s = i32[f] + 1;
    let e = i32[f + 1];
    if (j === ncols - 1 && e > s && u8[text + e - 1] === 13) e--;
    const quoted = e > s && u8[text + s] === 34;
    if (quoted) { s++; e--; }
    one.starts[0] = s;
    one.ends[0] = e;
    one.flags[0] = quoted ? FLAG_QUOTED : 0;
    let nulls: number;
    try {
      nulls = parseColumn(mem, { values: spare, validity: spare + 32, offsets: 0 }, one, buf, 0, 1, types[j]);
    } catch (err) {
      if (err instanceof ParseError) return false;
      throw err;
    }
    const d = (cols >>> 2) + j * (COL_BYTES >>> 2);
    const values = i32[d + C_VALUES];
    if (types[j] === 'bool') {
      if (u8[spare] & 1) u8[values + (r >>> 3)] |= 1 << (r & 7);
    } else {
      const w = WIDTH[types[j]]!;
      u8.copyWithin(values + r * w, spare, spare + w);
    }
    if (nulls) {
      u8[i32[d + C_VALIDITY] + (r >>> 3)] &= ~(1 << (r & 7));
      i32[d + C_NULLS]++;
    }
    i32[d + C_DONE] = r + 1;
  }
}

/**
 * Whether the utf8 columns among [j0, j1) hold valid UTF-8 (utf8Values over each column's offsets
 * and bytes: ~15 GB/s on ASCII, so a few ms per 16 MiB window, in the parse workers).
 */
function utf8Ok(k: CsvKernel, mem: Target, n: number, cols: number, j0: number, j1: number, types: readonly CsvType[]): boolean {
  for (let j = j0; j < j1; j++) {
    if (types[j] !== 'utf8') continue;
    const d = (cols >>> 2) + j * (COL_BYTES >>> 2);
    if (invalidUtf8Row(k, mem.i32, mem.i32[d + C_OFFSETS], n, mem.i32[d + C_VALUES]) >= 0) return false;
  }
  return true;
}
