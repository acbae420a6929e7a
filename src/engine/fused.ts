/**
 * Fused morsel pipelines: `filter* → derive* → select* → aggregate` run morsel by morsel, with no
 * intermediate column materialized.
 *
 * The leading steps of a plan compile into a small *morsel program*: a list of kernel calls over
 * registers (morsel-sized scratch buffers, allocated once per query and reused by every morsel).
 * Per morsel of `morselRows` rows (default 16 K: the registers a Q1 needs, ~1 MiB, stay in L2):
 *
 *   filter     compareScalar / compareColumns / bitmapLogic → one selection bitmap (null = false;
 *              NOT is pushed down to the leaves by De Morgan, where it becomes valid AND NOT bits,
 *              so 3-valued logic is exact with 2-valued bitmaps)
 *   derive     arith / cast into registers, over every row of the morsel (SIMD over all rows is
 *              cheaper than gathering the selected ones); a derived column is computed once per
 *              morsel however often it is used
 *   aggregate  no keys: `aggregate` with validity = selection AND value validity (a masked
 *              aggregate: the filter output is never built); count(*) = popcount(selection)
 *              keys: each row's *slot* in a dense table (fusedSlots: keys of small integer /
 *              dictionary-code domains combine into one index), rows the filter dropped go to a
 *              dead slot (fusedMaskSlots), then one unmasked groupAccumulate per distinct
 *              aggregate input into a per-morsel table (4 interleaved partial tables)
 *
 * Per-morsel partials are merged on the host in row order (float sums with Neumaier), so results
 * do not depend on the morsel size beyond float rounding.
 *
 * Where morsels run: the compiled program is plain data. It is written into shared memory (a program
 * record per query, a batch record per batch: runtime/fused-vm.ts) and interpreted by the one
 * interpreter there — on the engine's runtime workers (runtime op FUSED, one task per morsel range,
 * split by the range driver) for batches of FUSED_PARALLEL_MIN_ROWS rows or more, else on this
 * thread. Morsel m always writes partial slot m and the merge runs in morsel order here, so a
 * parallel run is bit-for-bit the serial run. One register set per thread, allocated once per query.
 *
 * What is not fused falls back to the materializing executor (exec.ts): keyed aggregates whose
 * key domain is larger than MAX_SLOTS or whose keys are not integer/dictionary source columns,
 * string comparisons, temporal arithmetic, countDistinct, joins.
 */
import { AggOp, ArithOp, ArithShape, BoolOp, CmpOp, DType } from '../../assembly/shared/codes.js';
import { Batch } from '../arrow/batch.js';
import { Column, byteWidth, columnType, isIntegerDType, putScalar, type ColumnType } from '../column.js';
import { allocColumn, bitmapBytes, columnFromArray, columnFromStrings, stringsOf } from '../column-alloc.js';
import type { Context } from '../context.js';
import type { KernelExports } from '../kernels/module.js';
import type { ArenaScope } from '../memory/arena.js';
import { MemoryDataset, type Dataset } from './dataset.js';
import { QueryAbortedError } from './exec.js';
import { commonNumeric, literalType, operandTypes, typeOf, type AggName, type ExprNode, type Schema } from './expr.js';
import { aggType, type LogicalPlan, type Step } from './plan.js';
import { Op } from '../runtime/ops.js';
import type { JobSpec, Runtime } from '../runtime/runtime.js';
import { JobAbortedError } from '../errors.js';
import {
  FusedVM, I, NONE, REC, batchRecordBytes, colRef, partialAt, partialBytes, programRecordBytes, registerSet, writeBatch, writeProgram,
  type BatchSpec, type Instr, type ProgramSpec,
} from '../runtime/fused-vm.js';

/** Largest dense slot space (product over keys of domain + 1 null code) a fused group-by takes. */
export const MAX_SLOTS = 4096;
/** Partial tables interleaved per morsel (groupAccumulate): 4 while they stay small. */
const PARTS_MAX_SLOTS = 256;
export const DEFAULT_MORSEL_ROWS = 16384;

// ------------------------------------------------------------------------------------------------
// The morsel program

interface Vec {
  ref: number;
  type: ColumnType;
}

type Binding = { kind: 'src'; name: string; type: ColumnType } | { kind: 'expr'; node: ExprNode; schema: Schema; env: Env; memo?: Vec };
type Env = Map<string, Binding>;

/** An aggregate's accumulation: one per distinct (op, input) pair. */
interface Acc {
  op: AggOp;
  ref: number; // NONE: count(*)
  dtype: DType;
  /** Keyed: groupAccumulate value kind; scalar: aggregate output kind. */
  kind: 'f64' | 'i64' | 'u64' | 'count';
}

interface OutAgg {
  name: string;
  op: AggName;
  acc: number;
  /** count(*) on the keyed path reads the rows field of this MEAN/COUNT accumulation. */
  rowsOf: boolean;
  type: ColumnType;
  argType: ColumnType | undefined;
}

class Unsupported extends Error {}
function no(why: string): never {
  throw new Unsupported(why);
}

const FLOAT = (t: ColumnType) => t.name === 'float32' || t.name === 'float64';
const NUMERIC = (t: ColumnType) => (t.dtype <= DType.F64 && t.name !== 'bool' && t.name !== 'utf8' && t.name !== 'dictionary');
const TEMPORAL = (t: ColumnType) => t.name === 'date32' || t.name === 'date64' || t.name === 'timestamp';
const CMP: Record<string, CmpOp> = { eq: CmpOp.EQ, ne: CmpOp.NE, lt: CmpOp.LT, le: CmpOp.LE, gt: CmpOp.GT, ge: CmpOp.GE };
const FLIP: Record<string, string> = { eq: 'eq', ne: 'ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' };
const ARITH: Record<string, ArithOp> = { add: ArithOp.ADD, sub: ArithOp.SUB, mul: ArithOp.MUL, div: ArithOp.DIV };
const INT_RANGE: Partial<Record<DType, [bigint, bigint]>> = {
  [DType.I8]: [-128n, 127n], [DType.I16]: [-32768n, 32767n], [DType.I32]: [-(2n ** 31n), 2n ** 31n - 1n], [DType.I64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [DType.U8]: [0n, 255n], [DType.U16]: [0n, 65535n], [DType.U32]: [0n, 2n ** 32n - 1n], [DType.U64]: [0n, 2n ** 64n - 1n],
};

/** A constant in the query's constant pool: `bytes` in the physical type. */
interface Const {
  values: Array<number | bigint>;
  dtype: DType;
  at: number; // byte offset within the pool
}

class Compiler {
  readonly code: Instr[] = [];
  readonly columns: string[] = [];
  readonly consts: Const[] = [];
  regs = 0;
  #poolBytes = 0;

  reg(): number {
    return this.regs++;
  }

  column(name: string): number {
    let i = this.columns.indexOf(name);
    if (i < 0) i = this.columns.push(name) - 1;
    return colRef(i);
  }

  constant(dtype: DType, ...values: Array<number | bigint>): Const {
    for (const v of values) {
      const r = INT_RANGE[dtype];
      if (r) {
        if (typeof v === 'number' && !Number.isInteger(v)) no('non-integer literal for an integer column');
        const b = BigInt(v);
        if (b < r[0] || b > r[1]) no('literal outside the column type');
      }
    }
    const c: Const = { values, dtype, at: this.#poolBytes };
    this.#poolBytes += 16;
    this.consts.push(c);
    return c;
  }

  get poolBytes(): number {
    return this.#poolBytes;
  }

  emit(...ins: Instr): void {
    this.code.push(ins);
  }

  // -- numeric expressions ---------------------------------------------------------------------

  resolve(name: string, env: Env): Vec {
    const b = env.get(name) ?? no(`unknown ${name}`);
    if (b.kind === 'src') return { ref: this.column(b.name), type: b.type };
    if (!b.memo) b.memo = this.vec(b.node, b.schema, b.env);
    return b.memo;
  }

  /** Brings a value to dtype `to` (a cast into a new register when it differs). */
  coerce(v: Vec, to: ColumnType): Vec {
    if (v.type.dtype === to.dtype) return { ref: v.ref, type: to };
    if (!NUMERIC(v.type) || !NUMERIC(to)) no('cast of a non-numeric value');
    const dst = this.reg();
    this.emit(I.CAST, dst, v.ref, v.type.dtype, to.dtype, 0, 0);
    return { ref: dst, type: to };
  }

  vec(n: ExprNode, schema: Schema, env: Env): Vec {
    switch (n.kind) {
      case 'col':
        return this.resolve(n.name, env);
      case 'arith': {
        const [lt, rt] = operandTypes(n.left, n.right, schema, n);
        if (!NUMERIC(lt) || !NUMERIC(rt) || TEMPORAL(lt) || TEMPORAL(rt)) no('temporal or non-numeric arithmetic');
        const calc = commonNumeric(lt, rt);
        const op = ARITH[n.op];
        const dst = this.reg();
        if (n.left.kind === 'lit' && n.right.kind === 'lit') no('constant expression');
        if (n.right.kind === 'lit') {
          const a = this.coerce(this.vec(n.left, schema, env), calc);
          const k = this.literal(n.right, calc);
          this.emit(I.ARITH, dst, a.ref, k.at, op, calc.dtype, ArithShape.COLUMN_SCALAR);
        } else if (n.left.kind === 'lit') {
          const b = this.coerce(this.vec(n.right, schema, env), calc);
          const k = this.literal(n.left, calc);
          this.emit(I.ARITH, dst, k.at, b.ref, op, calc.dtype, ArithShape.SCALAR_COLUMN);
        } else {
          const a = this.coerce(this.vec(n.left, schema, env), calc);
          const b = this.coerce(this.vec(n.right, schema, env), calc);
          this.emit(I.ARITH, dst, a.ref, b.ref, op, calc.dtype, ArithShape.COLUMN_COLUMN);
        }
        return { ref: dst, type: typeOf(n, schema) };
      }
      case 'neg':
      case 'abs': {
        const a = this.vec(n.arg, schema, env);
        if (!NUMERIC(a.type) || TEMPORAL(a.type)) no('neg/abs of a non-numeric value');
        const dst = this.reg();
        this.emit(I.UNARY, dst, a.ref, n.kind === 'neg' ? ArithOp.NEG : ArithOp.ABS, a.type.dtype, 0, 0);
        return { ref: dst, type: a.type };
      }
      case 'cast': {
        const a = this.vec(n.arg, schema, env);
        if (!NUMERIC(a.type) || !NUMERIC(n.to) || TEMPORAL(a.type) || TEMPORAL(n.to)) no('temporal cast');
        return this.coerce(a, n.to);
      }
      default:
        return no(`${n.kind} as a value`);
    }
  }

  literal(n: ExprNode, t: ColumnType): Const {
    if (n.kind !== 'lit' || (typeof n.value !== 'number' && typeof n.value !== 'bigint')) return no('non-numeric literal');
    return this.constant(t.dtype, n.value);
  }

  // -- predicates → selection bitmaps (a register holding a bitmap; null rows are 0) -------------

  mask(n: ExprNode, schema: Schema, env: Env, negate = false): number {
    switch (n.kind) {
      case 'and':
      case 'or': {
        // De Morgan holds in Kleene logic: NOT (a AND b) = NOT a OR NOT b.
        const a = this.mask(n.left, schema, env, negate);
        const b = this.mask(n.right, schema, env, negate);
        const dst = this.reg();
        this.emit((n.kind === 'and') !== negate ? I.AND : I.OR, dst, a, b, 0, 0, 0);
        return dst;
      }
      case 'not':
        return this.mask(n.arg, schema, env, !negate);
      case 'isNull':
      case 'isNotNull': {
        const v = n.arg.kind === 'col' ? this.resolveAny(n.arg.name, env) : this.vec(n.arg, schema, env);
        const dst = this.reg();
        this.emit(I.VALID, dst, v.ref, (n.kind === 'isNull') !== negate ? 1 : 0, 0, 0, 0);
        return dst;
      }
      case 'lit': {
        const dst = this.reg();
        const v = n.value === null ? 2 : n.value === true ? 1 : n.value === false ? 0 : no('non-boolean literal');
        this.emit(I.CONST, dst, v === 2 ? 2 : negate ? 1 - v : v, 0, 0, 0, 0);
        return dst;
      }
      case 'col': {
        const v = this.resolveAny(n.name, env);
        if (v.type.name !== 'bool') no('non-bool column as a predicate');
        const dst = this.reg();
        this.emit(I.BOOL, dst, v.ref, 0, 0, 0, 0);
        return this.negated(dst, negate);
      }
      case 'cmp': {
        let { left, right, op } = n as { left: ExprNode; right: ExprNode; op: string };
        if (left.kind === 'lit' && right.kind !== 'lit') [left, right, op] = [right, left, FLIP[op]];
        const [lt, rt] = operandTypes(left, right, schema, n);
        if (!NUMERIC(lt) || !NUMERIC(rt)) no('non-numeric comparison');
        if (TEMPORAL(lt) !== TEMPORAL(rt) || (TEMPORAL(lt) && (lt.name !== rt.name || lt.unit !== rt.unit))) no('mixed temporal comparison');
        const calc = TEMPORAL(lt) ? lt : commonNumeric(lt, rt);
        const a = this.coerce(this.vec(left, schema, env), calc);
        const dst = this.reg();
        if (right.kind === 'lit') {
          if (right.value === null) no('comparison with null');
          const k = this.literal(right, calc);
          this.emit(I.CMPS, dst, a.ref, CMP[op], calc.dtype, k.at, 0);
        } else {
          const b = this.coerce(this.vec(right, schema, env), calc);
          this.emit(I.CMPC, dst, a.ref, b.ref, CMP[op], calc.dtype, 0);
        }
        return this.negated(dst, negate);
      }
      case 'between': {
        const at = typeOf(n.arg, schema);
        if (n.lo.kind !== 'lit' || n.hi.kind !== 'lit' || !NUMERIC(at)) return no('between with non-literal bounds');
        const lo = literalType(n.lo, at), hi = literalType(n.hi, at);
        if (TEMPORAL(at) && (lo.name !== at.name || hi.name !== at.name || lo.unit !== at.unit || hi.unit !== at.unit)) no('mixed temporal between');
        const calc = TEMPORAL(at) ? at : commonNumeric(commonNumeric(at, lo), hi);
        const a = this.coerce(this.vec(n.arg, schema, env), calc);
        if (typeof n.lo.value !== 'number' && typeof n.lo.value !== 'bigint') no('between bounds');
        if (typeof n.hi.value !== 'number' && typeof n.hi.value !== 'bigint') no('between bounds');
        const k = this.constant(calc.dtype, n.lo.value as number, n.hi.value as number);
        const dst = this.reg();
        this.emit(I.CMPS, dst, a.ref, CmpOp.BETWEEN, calc.dtype, k.at, 0);
        return this.negated(dst, negate);
      }
      default:
        return no(`${n.kind} as a predicate`);
    }
  }

  /** A column of any type (for isNull and count): only its validity may be read. */
  resolveAny(name: string, env: Env): Vec {
    const b = env.get(name) ?? no(`unknown ${name}`);
    if (b.kind === 'src') return { ref: this.column(b.name), type: b.type };
    return this.resolve(name, env);
  }

  negated(m: number, negate: boolean): number {
    if (!negate) return m;
    const dst = this.reg();
    this.emit(I.NOT, dst, m, 0, 0, 0, 0);
    return dst;
  }
}

// ------------------------------------------------------------------------------------------------
// Compiled pipeline

interface KeySpec {
  name: string; // source column
  type: ColumnType;
}

export interface FusedPipeline {
  /** Steps consumed (the leading pipeline and the aggregate). */
  readonly steps: number;
  /** `rt`: the engine's runtime; batches of FUSED_PARALLEL_MIN_ROWS rows or more run on its workers. */
  run(ctx: Context, source: Dataset, scope: ArenaScope, signal?: AbortSignal, rt?: Runtime): Promise<Batch>;
}

/**
 * Compiles the plan's leading `filter/derive/select → aggregate` into a fused pipeline, or returns
 * undefined when some part of it is not supported (the caller then runs the materializing path).
 */
export function compileFused(p: LogicalPlan, source: Dataset, morselRows = DEFAULT_MORSEL_ROWS): FusedPipeline | undefined {
  if (p.steps.some((s) => s.kind === 'join')) return undefined;
  let i = 0;
  while (i < p.steps.length && ['filter', 'derive', 'select'].includes(p.steps[i].kind)) i++;
  const agg = p.steps[i];
  if (!agg || agg.kind !== 'aggregate') return undefined;
  // Keyed aggregates need every batch's key domain up front (a dense table per batch): data in hand.
  if (agg.keys.length > 0 && !(source instanceof MemoryDataset)) return undefined;
  try {
    return build(p, i, agg, source, morselRows);
  } catch (e) {
    if (e instanceof Unsupported) {
      if (process.env.AETHERFLOW_FUSED_DEBUG) console.error(`[fused] not fused: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}

function build(p: LogicalPlan, lead: number, agg: Extract<Step, { kind: 'aggregate' }>, source: Dataset, morselRows: number): FusedPipeline {
  const c = new Compiler();
  let env: Env = new Map();
  for (const [n, t] of p.sourceSchema) env.set(n, { kind: 'src', name: n, type: t });
  const masks: number[] = [];
  for (let i = 0; i < lead; i++) {
    const step = p.steps[i];
    const schema = i === 0 ? p.sourceSchema : p.schemas[i - 1];
    if (step.kind === 'filter') masks.push(c.mask(step.predicate, schema, env));
    else if (step.kind === 'derive') {
      const next: Env = new Map(env);
      for (const [name, e] of step.columns) next.set(name, { kind: 'expr', node: e, schema, env });
      env = next;
    } else if (step.kind === 'select') {
      const next: Env = new Map();
      for (const n of step.names) next.set(n, env.get(n)!);
      env = next;
    }
  }
  let sel = NONE;
  for (const m of masks) {
    if (sel === NONE) sel = m;
    else {
      const dst = c.reg();
      c.emit(I.AND, dst, sel, m, 0, 0, 0);
      sel = dst;
    }
  }
  const schema = lead === 0 ? p.sourceSchema : p.schemas[lead - 1];

  // Keys: source columns of integer / dictionary-code type.
  const keys: KeySpec[] = agg.keys.map((k) => {
    const b = env.get(k)!;
    if (b.kind !== 'src') no('derived group key');
    const t = b.type;
    if (!(t.name === 'dictionary' || (isIntegerDType(t.dtype) && t.name !== 'bool' && t.name !== 'utf8'))) no(`key type ${t.name}`);
    return { name: b.name, type: t };
  });
  const keyed = keys.length > 0;

  // Accumulations, deduplicated.
  const accs: Acc[] = [];
  const accKey = new Map<string, number>();
  const addAcc = (op: AggOp, ref: number, dtype: DType, kind: Acc['kind']): number => {
    const k = `${op}:${ref}`;
    let a = accKey.get(k);
    if (a === undefined) {
      a = accs.push({ op, ref, dtype, kind }) - 1;
      accKey.set(k, a);
    }
    return a;
  };
  const outs: OutAgg[] = [];
  const starAggs: OutAgg[] = [];
  for (const [name, a] of agg.aggs) {
    const type = aggType(a, a.arg ? typeOf(a.arg, schema) : undefined, name);
    if (a.op === 'countDistinct') no('countDistinct');
    if (a.op === 'count') {
      if (!a.arg) {
        // Keyed: the exact row count of some accumulation (below); scalar: popcount(selection).
        const o: OutAgg = { name, op: 'count', acc: keyed ? -1 : addAcc(AggOp.COUNT, NONE, DType.U8, 'count'), rowsOf: keyed, type, argType: undefined };
        if (keyed) starAggs.push(o);
        outs.push(o);
        continue;
      }
      const v = a.arg.kind === 'col' ? c.resolveAny(a.arg.name, env) : c.vec(a.arg, schema, env);
      outs.push({ name, op: 'count', acc: addAcc(AggOp.COUNT, v.ref, DType.U8, 'count'), rowsOf: false, type, argType: v.type });
      continue;
    }
    const v = c.vec(a.arg!, schema, env);
    if (!NUMERIC(v.type)) no(`${a.op} of ${v.type.name}`);
    const d = v.type.dtype;
    const float = FLOAT(v.type);
    const signed = d === DType.I8 || d === DType.I16 || d === DType.I32 || d === DType.I64;
    let op: AggOp;
    let kind: Acc['kind'];
    if (a.op === 'sum' || a.op === 'mean') {
      // A float sum and mean share one MEAN accumulation (its f64 sum is the sum). Integer sums stay
      // exact i64; keyed MEAN of 64-bit ints accumulates in f64 (groupAccumulate's meanInF64).
      const wide64 = d === DType.I64 || d === DType.U64;
      op = a.op === 'mean' || (float && keyed) ? AggOp.MEAN : AggOp.SUM;
      if (!keyed && op === AggOp.MEAN) op = AggOp.SUM; // scalar mean = SUM / count
      kind = float || (keyed && op === AggOp.MEAN && wide64) ? 'f64' : signed ? 'i64' : 'u64';
    } else {
      op = a.op === 'min' ? AggOp.MIN : AggOp.MAX;
      kind = float ? 'f64' : signed ? 'i64' : 'u64';
    }
    outs.push({ name, op: a.op, acc: addAcc(op, v.ref, d, kind), rowsOf: false, type, argType: v.type });
  }
  if (keyed) {
    // count(*) reads the exact row count of a MEAN or COUNT accumulation; add one if there is none.
    let rowsAcc = accs.findIndex((a) => a.op === AggOp.MEAN || a.op === AggOp.COUNT);
    if (rowsAcc < 0) rowsAcc = addAcc(AggOp.COUNT, NONE, DType.U8, 'count');
    for (const o of starAggs) o.acc = rowsAcc;
  }

  // The slot computation (keyed) and the accumulation instructions.
  let slots = NONE;
  let sums: number[] = [];
  if (keyed) {
    slots = c.reg();
    keys.forEach((k, i) => c.emit(I.SLOT, slots, c.column(k.name), k.type.dtype, i, i === 0 ? 1 : 0, 0));
    if (sel !== NONE) c.emit(I.SLOTMASK, slots, sel, 0, 0, 0, 0);
    // f64 sums and means go through one multi-column pass (fusedGroupSums); the rest one by one.
    const multi = accs.map((a, i) => i).filter((i) => accs[i].dtype === DType.F64 && (accs[i].op === AggOp.SUM || accs[i].op === AggOp.MEAN));
    if (multi.length > 1) c.emit(I.GSUMS, slots, 0, 0, 0, 0, 0);
    accs.forEach((a, i) => {
      if (multi.length <= 1 || !multi.includes(i)) c.emit(I.GACC, slots, a.ref, a.op, a.dtype, i, 0);
    });
    sums = multi.length > 1 ? multi : [];
  } else {
    accs.forEach((a, i) => c.emit(I.SACC, sel, a.ref, a.op, a.dtype, i, 0));
  }
  const prog: Program = { code: c.code, columns: c.columns, consts: c.consts, poolBytes: c.poolBytes, regs: c.regs, sel, keys, accs, outs, morselRows, sums };
  return {
    steps: lead + 1,
    run: (ctx, src, scope, signal, rt) => runPipeline(ctx, prog, src, scope, signal, rt),
  };
}

interface Program {
  code: Instr[];
  columns: string[];
  consts: Const[];
  poolBytes: number;
  regs: number;
  sel: number;
  keys: KeySpec[];
  accs: Acc[];
  outs: OutAgg[];
  morselRows: number;
  /** Accumulations (f64 SUM/MEAN) run together by the GSUMS instruction. */
  sums: number[];
}

// ------------------------------------------------------------------------------------------------
// Running

/** Per-batch key domain: slot = Σ stride_k · code_k. */
interface Domain {
  min: bigint[];
  card: number[];
  stride: number[];
  nslots: number; // real slots; the dead slot is nslots
  minAt: number[];
}

function keyDomain(ctx: Context, prog: Program, b: Batch, scope: ArenaScope): Domain | undefined {
  // Dictionary sizes first (no scan); when their product is too big, the ranges the codes use.
  return keyDomainOf(ctx, prog, b, scope, true) ?? keyDomainOf(ctx, prog, b, scope, false);
}

function keyDomainOf(ctx: Context, prog: Program, b: Batch, scope: ArenaScope, bySize: boolean): Domain | undefined {
  const d: Domain = { min: [], card: [], stride: [], nslots: 1, minAt: [] };
  for (const k of prog.keys) {
    const col = b.column(k.name);
    let min: bigint, max: bigint;
    const size = col.type.name === 'dictionary' ? col.dictionary?.length : undefined;
    if (bySize && size !== undefined) {
      // Dictionary codes of valid rows lie in [0, size) (checked at import: arrow/import.ts), so
      // the domain is known without a pass over the column — a serial scan less before the
      // morsels start. Slots of codes no row uses stay empty and produce no group.
      min = 0n;
      max = BigInt(size - 1);
    } else {
      const valid = ctx.kernel.keyRange(col.type.dtype, col.values, col.validity, col.length, ctx.scratch);
      const dv = new DataView(ctx.mem.buffer, ctx.scratch, 16);
      const signed = col.type.dtype <= DType.I64;
      min = valid === 0 ? 0n : signed ? dv.getBigInt64(0, true) : dv.getBigUint64(0, true);
      max = valid === 0 ? -1n : signed ? dv.getBigInt64(8, true) : dv.getBigUint64(8, true);
    }
    const card = max - min + 1n;
    if (card + 1n > BigInt(MAX_SLOTS)) return undefined;
    d.stride.push(d.nslots);
    d.nslots *= Number(card) + 1;
    if (d.nslots > MAX_SLOTS) return undefined;
    d.min.push(min);
    d.card.push(Number(card));
    const at = scope.alloc(8);
    new DataView(ctx.mem.buffer, at, 8).setBigUint64(0, BigInt.asUintN(64, min), true);
    d.minAt.push(at);
  }
  return d;
}

/** Running totals of one accumulation for one group (or the whole input). */
class Total {
  fsum = 0;
  comp = 0;
  isum = 0n;
  valid = 0;
  rows = 0;
  fbest = NaN;
  ibest: bigint | undefined = undefined;
  seen = false; // any valid value (min/max)

  addSum(x: number): void {
    const t = this.fsum + x;
    this.comp += Math.abs(this.fsum) >= Math.abs(x) ? this.fsum - t + x : x - t + this.fsum;
    this.fsum = t;
  }

  get sum(): number {
    return Number.isFinite(this.fsum) ? this.fsum + this.comp : this.fsum;
  }

  /** Folds a min/max partial (float: NaN rules of the kernels). */
  best(op: AggOp, kind: Acc['kind'], f: number, i: bigint): void {
    const max = op === AggOp.MAX;
    if (kind === 'f64') {
      if (!this.seen) this.fbest = f;
      else if (max) this.fbest = this.fbest !== this.fbest || f !== f ? NaN : f > this.fbest ? f : this.fbest;
      else this.fbest = this.fbest !== this.fbest ? f : f !== f ? this.fbest : f < this.fbest ? f : this.fbest;
    } else if (this.ibest === undefined || (max ? i > this.ibest : i < this.ibest)) this.ibest = i;
    this.seen = true;
  }
}

/**
 * Rows of a batch from which its morsels run on the runtime's workers (when the engine has any):
 * below, one job's fixed cost (~tens of µs to publish, wake and complete) is not repaid by a few
 * morsels of ~0.1–0.2 ms each, and the batch runs on the calling thread. 8 default morsels.
 */
export const FUSED_PARALLEL_MIN_ROWS = 8 * DEFAULT_MORSEL_ROWS;
/**
 * Most bytes of morsel partials held at once per batch: a batch whose partials would need more
 * (wide keyed tables × many morsels) runs as several jobs over consecutive morsel ranges, each
 * merged before the next starts. The merge order — morsel order — is the same either way.
 */
const PARTIALS_MAX_BYTES = 16 << 20;
/** Tests lower these to send tiny batches to the workers, and to run a batch as several jobs. */
export const fusedOptions = { parallelMinRows: FUSED_PARALLEL_MIN_ROWS, partialsMaxBytes: PARTIALS_MAX_BYTES };
/**
 * Batches whose jobs may run at once: 2 — the workers run one while this thread reads, imports
 * and plans the next (and merges the one before). More would hold more batches in memory (a
 * streaming scan holds this many + 1) for no more overlap.
 */
const IN_FLIGHT_BATCHES = 2;

/** The runtime job: rows [start, end) of the batch record, morsel m into partial slot m − first. */
function fusedJob(batch: number, start: number, end: number, morselRows: number, first: number): JobSpec<void, void> {
  return {
    name: 'fused',
    plan(p) {
      p.task(Op.FUSED, { start, end, a0: batch, p2: morselRows, x0: first });
    },
    finish() {},
  };
}

async function runPipeline(ctx: Context, prog: Program, source: Dataset, scope: ArenaScope, signal?: AbortSignal, rt?: Runtime): Promise<Batch> {
  const work = ctx.scope();
  const batchScopes: ArenaScope[] = [];
  // Batches whose job runs on the workers, oldest first; each merged (in batch order) and its
  // memory freed once its job is done.
  const inflight: Array<{ done: Promise<void>; merge: () => void; scopes: ArenaScope[] }> = [];
  try {
    const R = prog.morselRows;
    const keyed = prog.keys.length > 0;

    // Keyed: check every batch's key domain first (the dense table must fit), else fall back.
    let domains: Domain[] | undefined;
    if (keyed) {
      domains = [];
      for (const b of (source as MemoryDataset).data) {
        if (b.length === 0) { domains.push({ min: [], card: [], stride: [], nslots: 1, minAt: [] }); continue; }
        const d = keyDomain(ctx, prog, b, work);
        if (!d) throw new FallBack();
        domains.push(d);
      }
    }
    // One register set per thread that may run morsels: each worker (set i), and this thread
    // (set `workers`, the runtime's helper index) — allocated once per query.
    const parallel = rt !== undefined && !rt.closed && (source.rows === undefined || source.rows >= fusedOptions.parallelMinRows);
    const self = parallel ? rt!.workers : 0;
    const spec: ProgramSpec = {
      code: prog.code, regs: prog.regs, accs: prog.accs, sums: prog.sums, morselRows: R,
      maxSlots: domains ? Math.max(0, ...domains.map((d) => d.nslots + 1)) : 0,
    };
    const sets = work.alloc(registerSet(spec).setBytes * (self + 1));
    const pool = work.alloc(Math.max(16, prog.poolBytes));
    writeConsts(ctx, prog.consts, pool);
    const progAt = work.alloc(programRecordBytes(spec));
    writeProgram(ctx.mem, progAt, spec, sets, pool);

    const groups = new Map<string, { keys: Array<string | bigint | null>; totals: Total[] }>();
    const scalar = prog.accs.map(() => new Total());
    let rowsSeen = 0;
    let batchNo = 0;
    let vm: FusedVM | undefined;
    const settle = async (f: { done: Promise<void>; merge: () => void; scopes: ArenaScope[] }) => {
      try {
        await runJob(f.done);
        f.merge();
      } finally {
        for (const sc of f.scopes) sc.close();
      }
    };
    for await (const b of source.batches(() => { const s = ctx.scope(); batchScopes.push(s); return s; }, signal)) {
      if (signal?.aborted) throw new QueryAbortedError();
      const n = b.length;
      const dom = domains?.[batchNo++];
      if (n === 0) continue;
      rowsSeen += n;
      const cols = prog.columns.map((name) => b.column(name));
      const nslots = dom ? dom.nslots + 1 : 0;
      const parts = nslots <= PARTS_MAX_SLOTS ? 4 : 1;
      const bspec: BatchSpec = {
        cols: cols.map((c) => ({ values: c.values, validity: c.validity, shift: c.type.name === 'bool' ? -3 : c.type.name === 'utf8' ? 0 : Math.log2(byteWidth(c.type.dtype)) })),
        keys: dom ? dom.minAt.map((minAt, k) => ({ minAt, card: dom.card[k], stride: dom.stride[k] })) : [],
        nslots, parts, tableBytes: parts * nslots * REC,
      };
      const morsels = Math.ceil(n / R);
      const onWorkers = parallel && n >= fusedOptions.parallelMinRows && morsels > 1;
      const partBytes = partialBytes(prog.accs.length, bspec);
      const chunk = onWorkers ? Math.max(1, Math.min(morsels, Math.floor(fusedOptions.partialsMaxBytes / partBytes))) : 1;
      const bscope = ctx.scope();
      batchScopes.push(bscope);
      const partials = bscope.alloc(chunk * partBytes);
      const rec = bscope.alloc(batchRecordBytes(bspec));
      writeBatch(ctx.mem, rec, progAt, prog.accs.length, bspec, partials);
      // Per-batch slot totals (keyed), folded into `groups` after the batch.
      const slotTotals: Total[][] = keyed ? prog.accs.map(() => Array.from({ length: nslots }, () => new Total())) : [];
      // Morsel order, whoever ran them: the same merge (and float rounding) as a serial run.
      const merge = (m0: number, m1: number) => {
        for (let m = m0; m < m1; m++) {
          const at = partialAt(ctx.mem, rec, m - m0);
          if (keyed) mergeKeyed(ctx, prog, at, bspec.tableBytes, nslots, slotTotals);
          else mergeScalar(ctx, prog, at, scalar);
        }
        if (keyed && m1 === morsels) foldGroups(prog, dom!, b, slotTotals, groups);
      };
      const scopes = batchScopes.splice(0);
      if (onWorkers && chunk === morsels) {
        // One job for the whole batch: leave it running and go on reading the next batch (its
        // I/O, decoding and key checks overlap the workers' morsels); merged in batch order below.
        const done = rt!.run(fusedJob(rec, 0, n, R, 0), { signal });
        done.catch(() => {}); // settled (and its error thrown) in order by settle()
        inflight.push({ done, merge: () => merge(0, morsels), scopes });
        while (inflight.length >= IN_FLIGHT_BATCHES) await settle(inflight.shift()!);
        continue;
      }
      while (inflight.length) await settle(inflight.shift()!);
      try {
        for (let m0 = 0; m0 < morsels; m0 += chunk) {
          const m1 = Math.min(morsels, m0 + chunk);
          if (onWorkers) await runJob(rt!.run(fusedJob(rec, m0 * R, Math.min(n, m1 * R), R, m0), { signal }));
          else {
            vm = FusedVM.for(vm, ctx.kernel, ctx.mem, rec, self);
            for (let m = m0; m < m1; m++) vm.run(m * R, Math.min(R, n - m * R), m - m0);
          }
          merge(m0, m1);
        }
      } finally {
        for (const sc of scopes) sc.close();
      }
    }
    while (inflight.length) await settle(inflight.shift()!);
    return keyed ? keyedResult(ctx, prog, groups, scope) : scalarResult(ctx, prog, scalar, rowsSeen, scope);
  } finally {
    // Jobs still running read and write the batches' memory: let them end before it is freed.
    for (const f of inflight) {
      await f.done.catch(() => {});
      for (const sc of f.scopes) if (sc.open) sc.close();
    }
    for (const s of batchScopes) if (s.open) s.close();
    work.close();
  }
}

/** Awaits a runtime job; a cancelled one is the query's abort. */
async function runJob(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    throw e instanceof JobAbortedError ? new QueryAbortedError() : e;
  }
}

/** Thrown when a batch's key domain is too large for the dense table: run the unfused path. */
export class FallBack extends Error {}

function writeConsts(ctx: Context, consts: Const[], pool: number): void {
  const dv = new DataView(ctx.mem.buffer, pool, Math.max(16, consts.length * 16));
  for (const k of consts) {
    k.values.forEach((v, j) => putScalar(dv, k.at + j * 8, k.dtype, v));
  }
}

function mergeScalar(ctx: Context, prog: Program, accBase: number, totals: Total[]): void {
  const dv = new DataView(ctx.mem.buffer);
  const counts = accBase + prog.accs.length * 16;
  prog.accs.forEach((a, i) => {
    const t = totals[i];
    const cnt = dv.getInt32(counts + 4 * i, true);
    t.rows += cnt;
    if (a.kind === 'count' || a.op === AggOp.COUNT) { t.valid += cnt; return; }
    if (cnt === 0) return;
    t.valid += cnt;
    const at = accBase + i * 16;
    if (a.op === AggOp.SUM) {
      if (a.kind === 'f64') t.addSum(dv.getFloat64(at, true));
      else t.isum += dv.getBigInt64(at, true);
    } else t.best(a.op, a.kind, a.kind === 'f64' ? dv.getFloat64(at, true) : 0, a.kind === 'i64' ? dv.getBigInt64(at, true) : dv.getBigUint64(at, true));
  });
}

function mergeKeyed(ctx: Context, prog: Program, accBase: number, tableBytes: number, nslots: number, totals: Total[][]): void {
  const dv = new DataView(ctx.mem.buffer);
  const real = nslots - 1;
  prog.accs.forEach((a, i) => {
    const base = accBase + i * tableBytes;
    const ts = totals[i];
    for (let s = 0; s < real; s++) {
      const rec = base + s * REC;
      const rows = dv.getInt32(rec + 8, true);
      if (rows === 0) continue;
      const t = ts[s];
      const valid = dv.getInt32(rec + 12, true);
      // SUM/MIN/MAX store flags (1) in rows/valid, COUNT/MEAN exact counts (accumulate.ts).
      t.rows += rows;
      t.valid += valid;
      if (valid === 0 || a.op === AggOp.COUNT) continue;
      if (a.op === AggOp.SUM || a.op === AggOp.MEAN) {
        if (a.kind === 'f64') t.addSum(dv.getFloat64(rec, true));
        else t.isum += dv.getBigInt64(rec, true);
      } else t.best(a.op, a.kind, a.kind === 'f64' ? dv.getFloat64(rec, true) : 0, a.kind === 'i64' ? dv.getBigInt64(rec, true) : dv.getBigUint64(rec, true));
    }
  });
}

function mergeTotal(dst: Total, src: Total, a: Acc): void {
  dst.rows += src.rows;
  dst.valid += src.valid;
  if (a.kind === 'f64' && (a.op === AggOp.SUM || a.op === AggOp.MEAN)) {
    dst.addSum(src.fsum);
    dst.addSum(src.comp);
  } else dst.isum += src.isum;
  if ((a.op === AggOp.MIN || a.op === AggOp.MAX) && src.seen) dst.best(a.op, a.kind, src.fbest, src.ibest ?? 0n);
}

/** Folds one batch's slot totals into the groups, keyed by the key values (dictionaries may differ per batch). */
function foldGroups(prog: Program, dom: Domain, b: Batch, slotTotals: Total[][], groups: Map<string, { keys: Array<string | bigint | null>; totals: Total[] }>): void {
  const dicts = prog.keys.map((k) => {
    const c = b.column(k.name);
    return c.type.name === 'dictionary' ? stringsOf(c.dictionary!) : undefined;
  });
  // Existence: some accumulation saw a row in the slot (every accumulation counts every row).
  const seen = slotTotals[0];
  for (let s = 0; s < dom.nslots; s++) {
    if (seen[s].rows === 0) continue;
    const keys: Array<string | bigint | null> = [];
    let id = '';
    for (let k = 0; k < prog.keys.length; k++) {
      const code = Math.floor(s / dom.stride[k]) % (dom.card[k] + 1);
      let v: string | bigint | null;
      if (code === dom.card[k]) v = null;
      else {
        const x = dom.min[k] + BigInt(code);
        v = dicts[k] ? dicts[k]![Number(x)] : x;
      }
      keys.push(v);
      id += (v === null ? 'n' : typeof v === 'string' ? 's' + v.length + ':' + v : 'i' + v) + '|';
    }
    let g = groups.get(id);
    if (!g) {
      g = { keys, totals: prog.accs.map(() => new Total()) };
      groups.set(id, g);
    }
    prog.accs.forEach((a, i) => mergeTotal(g!.totals[i], slotTotals[i][s], a));
  }
}

type Cell = number | bigint | null;

/** The output value of one aggregate from its accumulation's totals. */
function cell(o: OutAgg, a: Acc | undefined, t: Total | undefined, rows: number): Cell {
  if (o.op === 'count') {
    if (!a) return BigInt(rows);
    return BigInt(o.rowsOf ? t!.rows : t!.valid);
  }
  const tt = t!;
  if (tt.valid === 0) return null;
  const isF = a!.kind === 'f64';
  if (o.op === 'sum') {
    if (isF) return tt.sum;
    return o.type.name === 'uint64' ? BigInt.asUintN(64, tt.isum) : BigInt.asIntN(64, tt.isum);
  }
  if (o.op === 'mean') {
    const s = isF ? tt.sum : Number(a!.kind === 'u64' ? BigInt.asUintN(64, tt.isum) : BigInt.asIntN(64, tt.isum));
    return s / tt.valid;
  }
  if (isF) return tt.fbest;
  const v = tt.ibest!;
  return a!.kind === 'u64' ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
}

function scalarResult(ctx: Context, prog: Program, totals: Total[], rows: number, scope: ArenaScope): Batch {
  const cols: Array<[string, Column]> = prog.outs.map((o) => {
    const a = o.acc >= 0 ? prog.accs[o.acc] : undefined;
    return [o.name, columnOf(ctx, scope, o.type, [cell(o, a, a ? totals[o.acc] : undefined, rows)])];
  });
  return new Batch(cols);
}

function keyedResult(ctx: Context, prog: Program, groups: Map<string, { keys: Array<string | bigint | null>; totals: Total[] }>, scope: ArenaScope): Batch {
  const gs = [...groups.values()];
  const cols: Array<[string, Column]> = [];
  prog.keys.forEach((k, i) => {
    const vals = gs.map((g) => g.keys[i]);
    cols.push([k.name, keyColumn(ctx, scope, k.type, vals)]);
  });
  // Key output names are the plan's key names (env names may differ from source names after select).
  for (const o of prog.outs) {
    const a = o.acc >= 0 ? prog.accs[o.acc] : undefined;
    cols.push([o.name, columnOf(ctx, scope, o.type, gs.map((g) => cell(o, a, a ? g.totals[o.acc] : undefined, 0)))]);
  }
  return new Batch(cols, gs.length);
}

function keyColumn(ctx: Context, scope: ArenaScope, type: ColumnType, vals: Array<string | bigint | null>): Column {
  if (type.name !== 'dictionary') return columnOf(ctx, scope, type, vals as Cell[]);
  // A fresh dictionary of the distinct strings, codes in the input's index type.
  const dict: string[] = [];
  const index = new Map<string, number>();
  const codes = vals.map((v) => {
    if (v === null) return null;
    let c = index.get(v as string);
    if (c === undefined) { c = dict.push(v as string) - 1; index.set(v as string, c); }
    return BigInt(c);
  });
  const codeCol = columnOf(ctx, scope, { name: 'int64', dtype: type.dtype } as ColumnType, codes);
  const dictionary = columnFromStrings(ctx, scope, dict);
  return new Column(ctx, scope, { type, length: vals.length, values: codeCol.values, validity: codeCol.validity, nullCount: codeCol.nullCount, dictionary });
}

const ARRAYS: Record<number, { new (n: number): ArrayLike<number | bigint> & { [i: number]: number | bigint } }> = {
  [DType.I8]: Int8Array, [DType.I16]: Int16Array, [DType.I32]: Int32Array, [DType.I64]: BigInt64Array,
  [DType.U8]: Uint8Array, [DType.U16]: Uint16Array, [DType.U32]: Uint32Array, [DType.U64]: BigUint64Array,
  [DType.F32]: Float32Array, [DType.F64]: Float64Array,
} as never;

/** A column of `type` from JS values (null = null). */
function columnOf(ctx: Context, scope: ArenaScope, type: ColumnType, vals: Cell[]): Column {
  const n = vals.length;
  const arr = new ARRAYS[type.dtype](n);
  const big = type.dtype === DType.I64 || type.dtype === DType.U64;
  for (let i = 0; i < n; i++) {
    const v = vals[i];
    arr[i] = v === null ? (big ? 0n : 0) : big ? BigInt(v) : Number(v);
  }
  const valid = vals.some((v) => v === null) ? vals.map((v) => v !== null) : undefined;
  if (n === 0) return allocColumn(ctx, scope, type, 0);
  return columnFromArray(ctx, scope, type, arr as never, valid);
}

void columnType;
