/**
 * Parallel filter: `col` where `selection` is true, on the workers, for every column layout the
 * single-thread `kernels.filter` takes — fixed width (numeric, temporal, dictionary codes), bool,
 * utf8 — with or without nulls.
 *
 *   1. sizes   one job: selected rows per morsel (and, for utf8, the string bytes they hold)
 *   2. place   prefix sums here give every morsel its row offset (and byte offset) in the output
 *   3. copy    one job per buffer: each morsel writes its rows at its offsets — in row order, with
 *              no merge step. Values that are whole bytes (fixed width, utf8 bytes) land on their
 *              own bytes; bits (bool values, validity) land mid-word, so a morsel compacts them into
 *              a temp area first and ORs them in (assembly/runtime orBits, atomic at the two words it
 *              shares with its neighbours); utf8 offsets are rebased by the morsel's byte offset.
 *
 * The copy jobs of one column run one after the other; running them as one job would save a
 * round trip (tens of µs) — not worth a multi-op descriptor today.
 */
import { Column, byteWidth, typeLabel } from '../column.js';
import { InvalidOptionError, OutOfRangeError, UnsupportedTypeError } from '../errors.js';
import { assertInMemory } from '../kernels/check.js';
import type { ArenaScope } from '../memory/arena.js';
import { Op } from './ops.js';
import type { Runtime, RunOptions } from './runtime.js';

export interface ParallelFilterOptions extends RunOptions {
  /** Scope of the result (default: the column's scope). */
  scope?: ArenaScope;
}

interface Sizes {
  morselRows: number;
  /** Row offset of each morsel in the output, plus the total at the end. */
  rows: Int32Array;
  /** utf8 only: byte offset of each morsel's strings, plus the total at the end. */
  bytes: Int32Array | null;
}

const align64 = (n: number) => Math.ceil(n / 64) * 64;

export async function filter(rt: Runtime, col: Column, selection: Column, opts: ParallelFilterOptions = {}): Promise<Column> {
  const name = 'filter';
  if (!(col instanceof Column)) throw new InvalidOptionError('col', typeof col, 'a Column');
  if (!(selection instanceof Column) || selection.type.name !== 'bool') {
    throw new UnsupportedTypeError(name, [col.label, selection instanceof Column ? typeLabel(selection.type) : typeof selection], 'the selection must be a bool column');
  }
  const kind = col.type.name === 'utf8' ? 'utf8' : col.type.name === 'bool' ? 'bool' : 'fixed';
  const width = kind === 'fixed' ? byteWidth(col.type.dtype) : 0;
  if (kind === 'fixed' && width === 0) throw new UnsupportedTypeError(name, [col.label]);
  if (col.type.name === 'dictionary' && col.dictionary === undefined) throw new UnsupportedTypeError(name, [col.label], 'the dictionary column has no dictionary');
  if (selection.length !== col.length) throw new InvalidOptionError('selection', selection.length, `a bool column of ${col.length} rows`);
  if (col.ctx.mem.memory !== rt.ctx.mem.memory || selection.ctx.mem.memory !== rt.ctx.mem.memory) {
    throw new UnsupportedTypeError(name, [col.label], 'the column belongs to another engine');
  }
  assertInMemory(name, col);
  assertInMemory(name, selection);
  const n = col.length;
  if (kind === 'utf8') {
    const i32 = col.ctx.mem.i32;
    const first = i32[col.offsets >>> 2];
    const last = i32[(col.offsets >>> 2) + n];
    const limit = col.ctx.mem.byteLength;
    if (first < 0 || last < first || col.values + last > limit) throw new OutOfRangeError(name, 'string data end', col.values + last, limit);
  }

  // 1. sizes
  const sizes = await rt.run<Sizes, { counts: number; bytes: number; morsels: number; mr: number }>({
    name,
    plan(p) {
      const morsels = Math.ceil(n / p.morselRows);
      const counts = p.calloc(Math.max(4, morsels * 4));
      const bytes = kind === 'utf8' ? p.calloc(Math.max(4, morsels * 4)) : 0;
      if (n > 0) {
        p.task(Op.POPCOUNT, {
          start: 0, end: n, a0: selection.values, a1: selection.validity, a2: counts, p2: p.morselRows,
          a3: kind === 'utf8' ? col.offsets : 0, x0: bytes,
        });
      }
      return { counts, bytes, morsels, mr: p.morselRows };
    },
    finish(s, mem) {
      const prefix = (at: number) => {
        const c = new Int32Array(mem.buffer, at, s.morsels);
        const out = new Int32Array(s.morsels + 1);
        for (let m = 0; m < s.morsels; m++) out[m + 1] = out[m] + c[m];
        return out;
      };
      return { morselRows: s.mr, rows: prefix(s.counts), bytes: kind === 'utf8' ? prefix(s.bytes) : null };
    },
  }, opts);

  // 2. place
  const { morselRows, rows } = sizes;
  const morsels = rows.length - 1;
  const total = rows[morsels];
  const totalBytes = sizes.bytes ? sizes.bytes[morsels] : 0;
  if (totalBytes < 0) throw new OutOfRangeError(name, 'utf8 result bytes', totalBytes, 0x7fffffff);
  const scope = opts.scope ?? col.scope;
  // Bitmaps rounded up to whole 32-bit words: orBits ORs whole words (zeros past the last bit).
  const bitmap = () => scope.calloc(Math.ceil(total / 32) * 4);
  let values: number;
  let offsets = 0;
  if (kind === 'bool') values = bitmap();
  else if (kind === 'utf8') {
    offsets = scope.alloc((total + 1) * 4);
    col.ctx.mem.i32[offsets >>> 2] = 0;
    values = scope.alloc(totalBytes);
  } else values = scope.alloc(total * width);
  const validity = col.validity !== 0 && total > 0 ? bitmap() : 0;

  // 3. copy
  let nullCount = 0;
  if (total > 0) {
    const rowsAt = (p: { alloc(b: number): number; mem: { i32: Int32Array } }) => {
      const at = p.alloc(rows.length * 4);
      p.mem.i32.set(rows, at >>> 2);
      return at;
    };
    const common = { start: 0, end: n, a1: selection.values, p0: selection.validity, p2: morselRows };
    const bitsJob = (bits: number, out: number) => rt.run<number, { ones: number }>({
      name,
      plan(p) {
        const stride = align64(morselRows / 8 + 8);
        const ones = p.calloc(morsels * 4);
        p.task(Op.FILTER_BITS, { ...common, a0: bits, a2: out, a3: rowsAt(p), x0: p.alloc(morsels * stride), x1: stride, x2: ones });
        return { ones };
      },
      finish(s, mem) {
        let k = 0;
        for (const c of new Int32Array(mem.buffer, s.ones, morsels)) k += c;
        return k;
      },
    }, opts);
    if (kind === 'bool') await bitsJob(col.values, values);
    else if (kind === 'utf8') {
      const byteOffsets = sizes.bytes!;
      await rt.run<void, void>({
        name,
        plan(p) {
          const bytesAt = p.alloc(byteOffsets.length * 4);
          p.mem.i32.set(byteOffsets, bytesAt >>> 2);
          p.task(Op.FILTER_UTF8, {
            ...common, a0: col.offsets, a2: offsets, a3: rowsAt(p), p3: col.values,
            x0: values, x1: bytesAt, x2: p.alloc((total + morsels) * 4),
          });
        },
        finish() {},
      }, opts);
    } else {
      await rt.run<void, void>({
        name,
        plan(p) {
          p.task(Op.FILTER_FIXED, { ...common, a0: col.values, a2: values, a3: rowsAt(p), p3: width });
        },
        finish() {},
      }, opts);
    }
    if (validity !== 0) nullCount = total - (await bitsJob(col.validity, validity));
  }
  return new Column(col.ctx, scope, {
    type: col.type, length: total, values, offsets, validity: nullCount === 0 ? 0 : validity, nullCount,
    dictionary: col.dictionary, name: col.name,
  });
}
