/**
 * The fused morsel interpreter, shared by the engine's thread and the runtime's workers: ONE
 * implementation of "run this morsel program over rows [s, s + n) of a batch".
 *
 * The engine compiles `filter → derive → select → aggregate` into a program (src/engine/fused.ts:
 * a list of kernel calls over registers). The program is plain data, so it is written into shared
 * memory — a *program record* once per query and a *batch record* per input batch — and whoever
 * runs a morsel decodes them: the engine's thread when it runs serially, a worker when the runtime
 * op FUSED (ops.ts) hands it a morsel range. Both end in `FusedVM.run`, so a morsel's partial is
 * the same bytes whichever thread computed it, and the engine merges partials in morsel order:
 * a serial run and a parallel run give identical results, float rounding included.
 *
 * Program record (i32 words, at `prog`, 64-aligned):
 *
 *   +0  serial      unique per record (workers cache the decoded program by it)
 *   +1  ninstr      instructions, 7 words each, at +HEADER
 *   +2  nregs       registers
 *   +3  naccs       accumulations, 3 words each (op, ref, dtype), after the code
 *   +4  nsums       accumulation indices run together by GSUMS, 1 word each, after the accs
 *   +5  regStride   bytes per register (vecBytes values + validity bitmap + 64)
 *   +6  vecBytes    bytes of a register's values (morsel rows × 8)
 *   +7  setBytes    bytes of one register set (registers, tmpValid, GSUMS scratch), 64-aligned
 *   +8  sets        address of register set 0; set i is at sets + i · setBytes (one per thread:
 *                   worker i uses set i, the submitting thread set `workers`)
 *   +9  pool        constant pool (literals in their physical types)
 *   +10 tmpAt       offset of the tmp validity bitmap in a set
 *   +11 sumsAccAt   offset of the GSUMS accumulator scratch in a set
 *   +12 sumsColsAt  offset of the GSUMS column-pointer scratch in a set
 *
 * Batch record (i32 words, at `batch`, 64-aligned):
 *
 *   +0  prog        program record
 *   +1  serial      unique per record
 *   +2  nslots      keyed: slots of the dense table incl. the dead slot; 0 for scalar
 *   +3  parts       interleaved partial tables (groupAccumulate)
 *   +4  tableBytes  bytes of one accumulation's table (keyed)
 *   +5  partials    morsel partials base; slot j at partials + j · partBytes
 *   +6  partBytes   bytes per morsel partial (partialBytes())
 *   +7  ncols       source columns, 3 words each (values, validity, shift) at +HEADER
 *   +8  nkeys       group keys, 3 words each (minAt, card, stride), after the columns
 *
 * Morsel partial (at partials + j · partBytes): scalar — accumulation i's kernel result at 16·i,
 * its valid count (i32) at 16·naccs + 4·i; keyed — accumulation i's slot table at i · tableBytes.
 *
 * Records are written by the submitting thread before the job that reads them is published (the
 * publishing push orders the plain stores, tasks.ts) and never change while the job runs.
 */
import { AggOp, ArithOp, ArithShape, BoolOp, DType } from '../../assembly/shared/codes.js';
import type { KernelExports } from '../kernels/module.js';
import type { SharedMemory } from '../memory/shared-memory.js';

/** Instruction opcodes. Every instruction is a tuple [op, dst, a, b, c, d, e]. */
export enum I {
  CMPS, CMPC, AND, OR, NOT, VALID, BOOL, CONST, ARITH, UNARY, CAST, SLOT, SLOTMASK, GACC, SACC, GSUMS,
}

/** Operand refs: r ≥ 0 is register r; r < 0 is column −r − 1 of the batch's column table. */
export const NONE = 0x7fffffff;
export const colRef = (c: number): number => -c - 1;
export type Instr = [I, number, number, number, number, number, number];

/** Bytes of one accumulation record in a slot table (groupAccumulate: +0 sum, +8 rows, +12 valid). */
export const REC = 16;
const HEADER = 16;

const P_SERIAL = 0, P_NINSTR = 1, P_NREGS = 2, P_NACCS = 3, P_NSUMS = 4, P_REG_STRIDE = 5, P_VEC_BYTES = 6;
const P_SET_BYTES = 7, P_SETS = 8, P_POOL = 9, P_TMP_AT = 10, P_SUMS_ACC_AT = 11, P_SUMS_COLS_AT = 12;
const B_PROG = 0, B_SERIAL = 1, B_NSLOTS = 2, B_PARTS = 3, B_TABLE_BYTES = 4, B_PARTIALS = 5, B_PART_BYTES = 6;
const B_NCOLS = 7, B_NKEYS = 8;

const align64 = (n: number): number => Math.ceil(n / 64) * 64;
const bitmapBytes = (rows: number): number => align64(Math.ceil(rows / 8));

/** Unique serials for records written by this thread (only the submitting thread writes records). */
let serials = (Math.random() * 0x40000000) | 0;

/** What the engine's compiler hands over: the code and the accumulations. */
export interface ProgramSpec {
  code: readonly Instr[];
  regs: number;
  accs: ReadonlyArray<{ op: AggOp; ref: number; dtype: DType }>;
  sums: readonly number[];
  morselRows: number;
  /** Largest dense slot count of any batch (sizes the GSUMS scratch), 0 when scalar. */
  maxSlots: number;
}

/** Bytes of the program record itself. */
export function programRecordBytes(p: ProgramSpec): number {
  return align64((HEADER + p.code.length * 7 + p.accs.length * 3 + p.sums.length) * 4);
}

/** Layout of one register set for program p. */
export function registerSet(p: ProgramSpec): { regStride: number; vecBytes: number; tmpAt: number; sumsAccAt: number; sumsColsAt: number; setBytes: number } {
  const R = p.morselRows;
  const vecBytes = R * 8;
  const regStride = vecBytes + bitmapBytes(R) + 64;
  const tmpAt = p.regs * regStride;
  const sumsAccAt = tmpAt + bitmapBytes(R) + 64;
  const sumsColsAt = sumsAccAt + align64(p.sums.length ? 4 * p.maxSlots * (p.sums.length + 1) * 8 : 0);
  const setBytes = align64(sumsColsAt + align64(p.sums.length * 4));
  return { regStride, vecBytes, tmpAt, sumsAccAt, sumsColsAt, setBytes };
}

/** Writes program p at `at` (programRecordBytes(p) bytes); `sets` holds the register sets, `pool` the constants. */
export function writeProgram(mem: SharedMemory, at: number, p: ProgramSpec, sets: number, pool: number): void {
  const w = mem.i32;
  const h = at >>> 2;
  const l = registerSet(p);
  w[h + P_SERIAL] = ++serials;
  w[h + P_NINSTR] = p.code.length;
  w[h + P_NREGS] = p.regs;
  w[h + P_NACCS] = p.accs.length;
  w[h + P_NSUMS] = p.sums.length;
  w[h + P_REG_STRIDE] = l.regStride;
  w[h + P_VEC_BYTES] = l.vecBytes;
  w[h + P_SET_BYTES] = l.setBytes;
  w[h + P_SETS] = sets;
  w[h + P_POOL] = pool;
  w[h + P_TMP_AT] = l.tmpAt;
  w[h + P_SUMS_ACC_AT] = l.sumsAccAt;
  w[h + P_SUMS_COLS_AT] = l.sumsColsAt;
  let o = h + HEADER;
  for (const ins of p.code) for (let j = 0; j < 7; j++) w[o++] = ins[j];
  for (const a of p.accs) {
    w[o++] = a.op;
    w[o++] = a.ref;
    w[o++] = a.dtype;
  }
  for (const s of p.sums) w[o++] = s;
}

/** A batch's columns and (keyed) key domain, as the batch record holds them. */
export interface BatchSpec {
  /** Per program column: values address, validity address (0 = none), element shift (−3 bool, 0 utf8). */
  cols: ReadonlyArray<{ values: number; validity: number; shift: number }>;
  /** Keyed: per key, address of its 8-byte min, its cardinality and its slot stride. */
  keys: ReadonlyArray<{ minAt: number; card: number; stride: number }>;
  /** Keyed: slots incl. the dead one; 0 scalar. */
  nslots: number;
  parts: number;
  tableBytes: number;
}

export const batchRecordBytes = (b: BatchSpec): number => align64((HEADER + b.cols.length * 3 + b.keys.length * 3) * 4);

/** Bytes of one morsel partial of a batch of program p. */
export function partialBytes(naccs: number, b: Pick<BatchSpec, 'nslots' | 'tableBytes'>): number {
  return align64(b.nslots > 0 ? naccs * b.tableBytes : naccs * 20);
}

export function writeBatch(mem: SharedMemory, at: number, prog: number, naccs: number, b: BatchSpec, partials: number): void {
  const w = mem.i32;
  const h = at >>> 2;
  w[h + B_PROG] = prog;
  w[h + B_SERIAL] = ++serials;
  w[h + B_NSLOTS] = b.nslots;
  w[h + B_PARTS] = b.parts;
  w[h + B_TABLE_BYTES] = b.tableBytes;
  w[h + B_PARTIALS] = partials;
  w[h + B_PART_BYTES] = partialBytes(naccs, b);
  w[h + B_NCOLS] = b.cols.length;
  w[h + B_NKEYS] = b.keys.length;
  let o = h + HEADER;
  for (const c of b.cols) {
    w[o++] = c.values;
    w[o++] = c.validity;
    w[o++] = c.shift;
  }
  for (const k of b.keys) {
    w[o++] = k.minAt;
    w[o++] = k.card;
    w[o++] = k.stride;
  }
}

/** The partial of morsel slot j of a batch record. */
export function partialAt(mem: SharedMemory, batch: number, j: number): number {
  const w = mem.i32;
  return (w[(batch >>> 2) + B_PARTIALS] >>> 0) + j * w[(batch >>> 2) + B_PART_BYTES];
}

/**
 * One thread's interpreter: a decoded program bound to this thread's register set, then to a
 * batch. `FusedVM.for` reuses the previous instance while the serials match (a worker runs many
 * morsels of the same batch in a row), so decoding is once per (thread, batch), not per morsel.
 */
export class FusedVM {
  readonly #k: KernelExports;
  readonly #mem: SharedMemory;
  readonly progSerial: number;
  #batchSerial = -1;
  #batch = 0;
  readonly #code: Int32Array;
  readonly #ninstr: number;
  readonly #accs: Int32Array;
  readonly #sums: Int32Array;
  readonly #naccs: number;
  readonly #regBase: number;
  readonly #regStride: number;
  readonly #vecBytes: number;
  readonly #tmpValid: number;
  readonly #sumsAcc: number;
  readonly #sumsCols: number;
  readonly #pool: number;
  /** Per register: its validity for the current morsel (0 = all valid, or a bitmap address). */
  readonly #valid: Int32Array;
  // Bound batch.
  #colVals = new Int32Array(0);
  #colValid = new Int32Array(0);
  #colShift = new Int32Array(0);
  #minAt = new Int32Array(0);
  #card = new Int32Array(0);
  #stride = new Int32Array(0);
  #nslots = 0;
  #parts = 1;
  #tableBytes = 0;
  #partials = 0;
  #partBytes = 0;
  // Current morsel.
  #s = 0;
  #acc = 0;

  /** A VM for the batch record `batch` on thread set `set`: `prev` again when it already is one. */
  static for(prev: FusedVM | undefined, k: KernelExports, mem: SharedMemory, batch: number, set: number): FusedVM {
    const w = mem.i32;
    const prog = w[(batch >>> 2) + B_PROG] >>> 0;
    let vm = prev;
    if (vm === undefined || vm.progSerial !== w[(prog >>> 2) + P_SERIAL] || vm.#set !== set) vm = new FusedVM(k, mem, prog, set);
    if (vm.#batchSerial !== w[(batch >>> 2) + B_SERIAL] || vm.#batch !== batch) vm.#bind(batch);
    return vm;
  }

  readonly #set: number;

  private constructor(k: KernelExports, mem: SharedMemory, prog: number, set: number) {
    this.#k = k;
    this.#mem = mem;
    this.#set = set;
    const w = mem.i32;
    const h = prog >>> 2;
    this.progSerial = w[h + P_SERIAL];
    this.#ninstr = w[h + P_NINSTR];
    const nregs = w[h + P_NREGS];
    this.#naccs = w[h + P_NACCS];
    const nsums = w[h + P_NSUMS];
    const code = h + HEADER;
    const accs = code + this.#ninstr * 7;
    const sums = accs + this.#naccs * 3;
    // Copies: the record is freed with the job, the VM may outlive it in a worker's cache.
    this.#code = w.slice(code, accs);
    this.#accs = w.slice(accs, sums);
    this.#sums = w.slice(sums, sums + nsums);
    this.#regStride = w[h + P_REG_STRIDE];
    this.#vecBytes = w[h + P_VEC_BYTES];
    const setBase = (w[h + P_SETS] >>> 0) + set * w[h + P_SET_BYTES];
    this.#regBase = setBase;
    this.#tmpValid = setBase + w[h + P_TMP_AT];
    this.#sumsAcc = setBase + w[h + P_SUMS_ACC_AT];
    this.#sumsCols = setBase + w[h + P_SUMS_COLS_AT];
    this.#pool = w[h + P_POOL] >>> 0;
    this.#valid = new Int32Array(Math.max(1, nregs));
  }

  #bind(batch: number): void {
    const w = this.#mem.i32;
    const h = batch >>> 2;
    this.#batch = batch;
    this.#batchSerial = w[h + B_SERIAL];
    this.#nslots = w[h + B_NSLOTS];
    this.#parts = w[h + B_PARTS];
    this.#tableBytes = w[h + B_TABLE_BYTES];
    this.#partials = w[h + B_PARTIALS] >>> 0;
    this.#partBytes = w[h + B_PART_BYTES];
    const ncols = w[h + B_NCOLS];
    const nkeys = w[h + B_NKEYS];
    const cols = h + HEADER;
    this.#colVals = new Int32Array(ncols);
    this.#colValid = new Int32Array(ncols);
    this.#colShift = new Int32Array(ncols);
    for (let c = 0; c < ncols; c++) {
      this.#colVals[c] = w[cols + 3 * c];
      this.#colValid[c] = w[cols + 3 * c + 1];
      this.#colShift[c] = w[cols + 3 * c + 2];
    }
    const keys = cols + 3 * ncols;
    this.#minAt = new Int32Array(nkeys);
    this.#card = new Int32Array(nkeys);
    this.#stride = new Int32Array(nkeys);
    for (let k = 0; k < nkeys; k++) {
      this.#minAt[k] = w[keys + 3 * k];
      this.#card[k] = w[keys + 3 * k + 1];
      this.#stride[k] = w[keys + 3 * k + 2];
    }
  }

  #vals(ref: number): number {
    if (ref >= 0) return this.#regBase + ref * this.#regStride;
    const c = -ref - 1;
    const sh = this.#colShift[c];
    // Column addresses are u32 (the i32 word may read negative above 2 GiB).
    return (this.#colVals[c] >>> 0) + (sh < 0 ? this.#s >>> 3 : this.#s << sh);
  }

  #validOf(ref: number): number {
    if (ref >= 0) return this.#valid[ref];
    const v = this.#colValid[-ref - 1] >>> 0;
    // s is a multiple of the morsel size, itself a multiple of 64: a whole bitmap word.
    return v === 0 ? 0 : v + (this.#s >>> 3);
  }

  #validAt(r: number): number {
    return this.#regBase + r * this.#regStride + this.#vecBytes;
  }

  #accTable(i: number): number {
    return this.#acc + i * this.#tableBytes;
  }

  /** f64 sums and means in one multi-column pass, spread into each accumulation's record table. */
  #gsums(slots: number, n: number): void {
    const k = this.#k;
    const a3 = this.#accs;
    const batch: number[] = [];
    for (let j = 0; j < this.#sums.length; j++) {
      const i = this.#sums[j];
      const ref = a3[3 * i + 1];
      const v = this.#validOf(ref);
      if (v !== 0) k.groupAccumulate(a3[3 * i], a3[3 * i + 2], slots, 0, 0, this.#nslots, this.#parts, this.#vals(ref), v, n, this.#accTable(i));
      else batch.push(i);
    }
    if (batch.length === 0) return;
    const buf = this.#mem.buffer;
    const ptrs = new Uint32Array(buf, this.#sumsCols, batch.length);
    batch.forEach((i, j) => { ptrs[j] = this.#vals(a3[3 * i + 1]); });
    const nslots = this.#nslots;
    k.fusedGroupSums(slots, n, nslots, this.#sumsCols, batch.length, this.#sumsAcc);
    // Into each accumulation's record table, in groupAccumulate's record format (+0 sum, +8 rows, +12 valid).
    const w = batch.length + 1;
    const f64 = new Float64Array(buf, this.#sumsAcc, nslots * w);
    const dv = new DataView(buf);
    for (let s = 0; s < nslots; s++) {
      const rows = f64[s * w + batch.length];
      batch.forEach((i, j) => {
        const rec = this.#accTable(i) + s * REC;
        dv.setFloat64(rec, f64[s * w + j], true);
        dv.setInt32(rec + 8, rows, true);
        dv.setInt32(rec + 12, rows, true);
      });
    }
  }

  /** Runs the program over rows [s, s + n) of the bound batch into morsel partial slot j. */
  run(s: number, n: number, j: number): void {
    this.#s = s;
    this.#acc = this.#partials + j * this.#partBytes;
    const k = this.#k;
    const valid = this.#valid;
    const code = this.#code;
    const regBase = this.#regBase, regStride = this.#regStride, pool = this.#pool;
    for (let pc = 0; pc < this.#ninstr; pc++) {
      const o = pc * 7;
      const op = code[o], dst = code[o + 1], a = code[o + 2], b = code[o + 3], c = code[o + 4], d = code[o + 5], e = code[o + 6];
      const out = dst === NONE ? 0 : regBase + dst * regStride;
      switch (op) {
        case I.CMPS:
          k.compareScalar(b, c, this.#vals(a), this.#validOf(a), n, pool + d, out);
          valid[dst] = this.#validOf(a);
          break;
        case I.CMPC: {
          k.compareColumns(c, d, this.#vals(a), this.#validOf(a), this.#vals(b), this.#validOf(b), n, out);
          const va = this.#validOf(a), vb = this.#validOf(b);
          if (va === 0 && vb === 0) valid[dst] = 0;
          else {
            k.validityAnd(va, vb, this.#validAt(dst), n);
            valid[dst] = this.#validAt(dst);
          }
          break;
        }
        case I.AND:
        case I.OR:
          k.bitmapLogic(op === I.AND ? BoolOp.AND : BoolOp.OR, this.#vals(a), 0, this.#vals(b), 0, n, out, 0, 0);
          valid[dst] = 0;
          break;
        case I.NOT: {
          // valid AND NOT bits: a null comparison stays out of the selection.
          const bits = this.#vals(a);
          const v = valid[a];
          if (v === 0) k.bitmapLogic(BoolOp.NOT, bits, 0, bits, 0, n, out, 0, 0);
          else k.bitmapLogic(BoolOp.ANDNOT, v, 0, bits, 0, n, out, 0, 0);
          valid[dst] = 0;
          break;
        }
        case I.VALID: {
          const v = this.#validOf(a);
          const isNull = b === 1;
          if (v === 0) k.validityAnd(0, 0, out, n); // all ones
          else k.bitmapLogic(BoolOp.AND, v, 0, v, 0, n, out, 0, 0);
          if (isNull) k.bitmapLogic(BoolOp.NOT, out, 0, out, 0, n, out, 0, 0);
          valid[dst] = 0;
          break;
        }
        case I.BOOL: {
          const bits = this.#vals(a);
          const v = this.#validOf(a);
          k.bitmapLogic(BoolOp.AND, bits, 0, v === 0 ? bits : v, 0, n, out, 0, 0);
          valid[dst] = v;
          break;
        }
        case I.CONST:
          if (a === 1) k.validityAnd(0, 0, out, n);
          else k.bitmapLogic(BoolOp.ANDNOT, this.#tmpValid, 0, this.#tmpValid, 0, n, out, 0, 0); // zeros
          if (a === 2) {
            // null: not selected, and NOT null is null too.
            k.bitmapLogic(BoolOp.ANDNOT, out, 0, out, 0, n, this.#validAt(dst), 0, 0);
            valid[dst] = this.#validAt(dst);
          } else valid[dst] = 0;
          break;
        case I.ARITH: {
          const shape = e;
          const pa = shape === ArithShape.SCALAR_COLUMN ? pool + a : this.#vals(a);
          const pb = shape === ArithShape.COLUMN_SCALAR ? pool + b : this.#vals(b);
          const va = shape === ArithShape.SCALAR_COLUMN ? 0 : this.#validOf(a);
          const vb = shape === ArithShape.COLUMN_SCALAR ? 0 : this.#validOf(b);
          const intDiv = c === ArithOp.DIV && d !== DType.F32 && d !== DType.F64;
          if (va === 0 && vb === 0 && !intDiv) valid[dst] = 0;
          else {
            k.validityAnd(va, vb, this.#validAt(dst), n);
            valid[dst] = this.#validAt(dst);
          }
          k.arith(c, d, shape, pa, pb, out, valid[dst], n);
          break;
        }
        case I.UNARY:
          k.arith(b, c, 0, this.#vals(a), 0, out, 0, n);
          valid[dst] = this.#validOf(a);
          break;
        case I.CAST: {
          k.validityAnd(this.#validOf(a), 0, this.#validAt(dst), n);
          valid[dst] = this.#validAt(dst);
          k.castNumeric(b, c, this.#vals(a), out, valid[dst], n);
          break;
        }
        case I.SLOT:
          k.fusedSlots(b, this.#vals(a), this.#validOf(a), n, this.#minAt[c], this.#card[c], this.#stride[c], out, d);
          break;
        case I.SLOTMASK:
          // The dead slot is the last one (nslots − 1), never read.
          k.fusedMaskSlots(out, this.#vals(a), n, this.#nslots - 1);
          break;
        case I.GACC: {
          // dst = the slots register.
          const vals = a === NONE ? 0 : this.#vals(a);
          const vv = a === NONE ? 0 : this.#validOf(a);
          k.groupAccumulate(b, c, out, 0, 0, this.#nslots, this.#parts, vals, vv, n, this.#accTable(d));
          break;
        }
        case I.GSUMS:
          this.#gsums(out, n);
          break;
        case I.SACC: {
          // dst = selection register or NONE; a = value ref or NONE (count(*)); result at acc + 16·d,
          // its valid count at acc + 16·naccs + 4·d.
          const sel = out;
          const at = this.#acc + d * 16;
          const countAt = ((this.#acc + this.#naccs * 16) >>> 2) + d;
          let cnt: number;
          if (a === NONE) cnt = sel === 0 ? n : k.popcount(sel, 0, n);
          else {
            const v = this.#validOf(a);
            let m = v;
            if (sel !== 0) {
              if (v === 0) m = sel;
              else {
                k.validityAnd(v, sel, this.#tmpValid, n);
                m = this.#tmpValid;
              }
            }
            if (b === AggOp.COUNT) cnt = m === 0 ? n : k.popcount(m, 0, n);
            else cnt = k.aggregate(b, c, this.#vals(a), m, n, at);
          }
          this.#mem.i32[countAt] = cnt;
          break;
        }
      }
    }
  }
}
