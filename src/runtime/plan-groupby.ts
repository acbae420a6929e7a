/**
 * Parallel group-by: `groupBy(rt, keys, aggs)` — the same keys, aggregates, result columns and
 * group order as the single-thread `kernels.groupBy` (src/kernels/groupby.ts), computed on the
 * workers with per-morsel partial tables merged at the end.
 *
 *   dense  one int32 key (int32, date32, int32 dictionary codes) whose valid values span ≤ 65 536
 *          values and ≤ 2 × rows — the single-thread kernel's own rule, so both pick the same
 *          path and give the same group order (ascending key, null key last). A key-range job, one
 *          accumulation job (every morsel fills its own table per aggregate: no sharing, no
 *          atomics), one merge job (slot ranges fold every morsel's records, in morsel order), then
 *          the kernel's own denseMap / denseKeys / groupFinish here.
 *   hash   anything else (any key types hashColumns takes, several key columns, utf8, nulls): every
 *          morsel numbers its own groups in its own hash table — grown by the worker itself in a
 *          scope all workers allocate from — and accumulates into its own records. Here: the
 *          morsels' group representatives (their first rows), in morsel order, are grouped once
 *          more on this thread (kernels.groupIds over a `take` of the keys: P rows, P = the sum of
 *          the morsels' group counts), which maps every partial group to its final group; the
 *          partial records fold into the final ones (assembly/runtime accMerge), and groupFinish
 *          writes the results. Group order is first appearance, as on one thread: a group first
 *          seen at row r is first seen in its morsel's list before any group seen after r.
 *
 * Cost and limits. The dense merge is morsels × slots records (capped by ≤ 64 morsels). The hash
 * merge runs on this thread and is O(P): for few groups it is nothing (10M rows, 1000 groups, 64
 * morsels: 64K records), but with as many groups as rows it is a second single-threaded group-by
 * of everything. Radix-partitioning rows by hash, so that each worker owns a partition and nothing
 * needs merging, is the fix for high cardinality; it is not done. Float sums differ from one
 * thread's in the last bits (per-morsel sums added in morsel order).
 */
import { AggOp } from '../../assembly/shared/codes.js';
import { Column, type ColumnType, DType, byteWidth, columnType } from '../column.js';
import { bitmapBytes } from '../column-alloc.js';
import { InvalidOptionError, UnsupportedTypeError } from '../errors.js';
import { assertSameContext, assertSameLength } from '../kernels/check.js';
import { take } from '../kernels/filter.js';
import { groupIds, planAggs, type AggPlan, type GroupAgg, type GroupByResult } from '../kernels/groupby.js';
import { assertKeys, writeKeyDescriptors } from '../kernels/hash.js';
import { guard } from '../kernels/module.js';
import type { ArenaScope } from '../memory/arena.js';
import { AGG_DESC_BYTES, Op, groupInfoWords } from './ops.js';
import { keyRangeJob } from './plans.js';
import type { Runtime, RunOptions } from './runtime.js';

export interface ParallelGroupByOptions extends RunOptions {
  /** Scope for the results (default: the first key column's scope). */
  scope?: ArenaScope;
  /** 'auto' (default) takes the dense path when the single-thread kernel would; 'hash' forces hashing. */
  path?: 'auto' | 'hash';
}

export interface ParallelGroupByResult extends GroupByResult {
  /** The path taken (the single-thread kernel gives the same group order with the same `path`). */
  path: 'dense' | 'hash';
}

const DENSE_AUTO = 65536;
const REC = 16;
const DEFAULT_CAPACITY = 1024;

function resultColumn(key: Column, scope: ArenaScope, type: ColumnType, groups: number, values: number, validity: number, nulls: number, dictionary?: Column): Column {
  return new Column(key.ctx, scope, { type, length: groups, values, validity: nulls === 0 ? 0 : validity, nullCount: nulls, dictionary });
}

/** Writes one result column per aggregate from final tables (groupFinish: map 0 = slot g). */
function finishAggs(op: string, key: Column, out: ArenaScope, plans: AggPlan[], finals: number[], map: number, groups: number): Column[] {
  const k = key.ctx.kernel;
  return plans.map((p, i) => {
    const values = out.alloc(groups * byteWidth(p.outType.dtype));
    const validity = p.op === AggOp.COUNT ? 0 : out.calloc(bitmapBytes(groups));
    const nulls = guard(op, () => k.groupFinish(p.op, p.dtype, finals[i], map, groups, values, validity));
    return resultColumn(key, out, p.outType, groups, values, validity, nulls);
  });
}

/** Groups rows by `keys` and computes `aggs` per group, on the runtime's workers. */
export async function groupBy(rt: Runtime, keys: readonly Column[], aggs: readonly GroupAgg[], opts: ParallelGroupByOptions = {}): Promise<ParallelGroupByResult> {
  const op = 'groupBy';
  assertKeys(op, keys);
  const plans = planAggs(op, aggs);
  assertSameContext(op, ...keys, ...plans.map((p) => p.col));
  assertSameLength(op, ...keys, ...plans.map((p) => p.col));
  const path = opts.path ?? 'auto';
  if (path !== 'auto' && path !== 'hash') throw new InvalidOptionError('path', path, "'auto' or 'hash'");
  const key = keys[0];
  if (key.ctx.mem.memory !== rt.ctx.mem.memory) throw new UnsupportedTypeError(op, [key.label], 'the columns belong to another engine');
  const out = opts.scope ?? key.scope;
  const n = key.length;
  if (path === 'auto' && keys.length === 1 && key.type.dtype === DType.I32 && key.type.name !== 'utf8' && key.type.name !== 'bool') {
    const range = await rt.run(keyRangeJob(key), opts);
    const span = range === null ? 0 : Number(range.max - range.min) + 1;
    if (span <= DENSE_AUTO && span <= 2 * n) return { ...(await dense(rt, key, plans, range === null ? 0 : Number(range.min), span + 1, out, opts)), path: 'dense' };
  }
  return { ...(await hash(rt, keys, plans, out, opts)), path: 'hash' };
}

async function dense(rt: Runtime, key: Column, plans: AggPlan[], min: number, nslots: number, out: ArenaScope, opts: RunOptions): Promise<GroupByResult> {
  const op = 'groupBy';
  const ctx = key.ctx;
  const n = key.length;
  // The first aggregate's records say which slots saw a row (COUNT of the key when there is none).
  const accPlans = plans.length > 0 ? plans : [{ op: AggOp.COUNT, col: key, dtype: DType.U8, outType: columnType('int64') }];
  const tmp = ctx.scope();
  try {
    const finals = accPlans.map(() => tmp.alloc(nslots * REC));
    if (n > 0) {
      // Morsel rows: a power of two ≥ the runtime's, with at most ~64 morsels (the merge reads
      // morsels × slots records).
      const mr = Math.max(rt.morselRows, 2 ** Math.ceil(Math.log2(Math.max(1, n / 64))));
      const morsels = Math.ceil(n / mr);
      const tableBytes = nslots * REC;
      const tables = accPlans.map(() => tmp.alloc(morsels * tableBytes));
      await rt.run<void, void>({
        name: op,
        plan(p) {
          accPlans.forEach((a, i) => p.task(Op.GROUP_ACC, {
            start: 0, end: n, a0: key.values, a1: key.validity, a2: tables[i], a3: a.col.values,
            p0: a.dtype, p1: a.op, p2: mr, p3: a.op === AggOp.COUNT ? 0 : byteWidth(a.dtype),
            x0: min, x1: nslots, x2: a.col.validity, x3: tableBytes,
          }));
        },
        finish() {},
      }, opts);
      await rt.run<void, void>({
        name: op,
        plan(p) {
          accPlans.forEach((a, i) => p.task(Op.ACC_MERGE, {
            start: 0, end: nslots, a0: tables[i], a1: finals[i], p0: a.dtype, p1: a.op, p2: 4096, p3: tableBytes, x0: morsels,
          }));
        },
        finish() {},
      }, opts);
    } else {
      for (let i = 0; i < accPlans.length; i++) guard(op, () => ctx.kernel.groupAccumulate(accPlans[i].op, accPlans[i].dtype, 0, 0, 0, nslots, 1, 0, 0, 0, finals[i]));
    }
    const k = ctx.kernel;
    const map = tmp.alloc(nslots * 4);
    const groups = guard(op, () => k.denseMap(finals[0], nslots, map));
    const keyValues = out.alloc(groups * 4);
    const keyValidity = out.calloc(bitmapBytes(groups));
    new DataView(ctx.mem.buffer, ctx.scratch, 8).setBigInt64(0, BigInt(min), true);
    const keyNulls = guard(op, () => k.denseKeys(key.type.dtype, map, groups, ctx.scratch, nslots, keyValues, keyValidity));
    const keyCol = resultColumn(key, out, key.type, groups, keyValues, keyValidity, keyNulls, key.dictionary);
    return { keys: [keyCol], results: finishAggs(op, key, out, plans, finals, map, groups), groups };
  } finally {
    tmp.close();
  }
}

async function hash(rt: Runtime, keys: readonly Column[], plans: AggPlan[], out: ArenaScope, opts: RunOptions): Promise<GroupByResult> {
  const op = 'groupBy';
  const key = keys[0];
  const ctx = key.ctx;
  const n = key.length;
  const naggs = plans.length;
  const words = groupInfoWords(naggs);
  // Partials live here until merged: the workers allocate their tables in it as they grow.
  const tmp = ctx.scope();
  try {
    const mr = Math.max(rt.morselRows, 2 ** Math.ceil(Math.log2(Math.max(1, n / 64))));
    const morsels = Math.ceil(n / mr);
    const info = tmp.calloc(Math.max(1, morsels) * words * 4);
    const ids = tmp.alloc(n * 4);
    if (n > 0) {
      const desc = writeKeyDescriptors(op, tmp, keys);
      const aggDesc = tmp.alloc(Math.max(1, naggs) * AGG_DESC_BYTES);
      const u32 = ctx.mem.u32;
      plans.forEach((p, j) => {
        const w = (aggDesc + j * AGG_DESC_BYTES) >>> 2;
        u32[w] = p.op;
        u32[w + 1] = p.dtype;
        u32[w + 2] = p.col.values;
        u32[w + 3] = p.col.validity;
        u32[w + 4] = p.op === AggOp.COUNT ? 0 : byteWidth(p.dtype);
      });
      await rt.run<void, void>({
        name: op,
        plan(p) {
          p.task(Op.GROUP_HASH, {
            start: 0, end: n, a0: desc, a1: keys.length, a2: info, a3: aggDesc,
            p0: naggs, p1: tmp.root, p2: mr, p3: ids, x0: DEFAULT_CAPACITY,
          });
        },
        finish() {},
      }, opts);
    }
    // The morsels' group representatives, in morsel order.
    let i32 = ctx.mem.i32;
    const counts: number[] = [];
    let partials = 0;
    for (let m = 0; m < morsels; m++) {
      counts.push(i32[(info >>> 2) + m * words]);
      partials += counts[m];
    }
    const reps = tmp.alloc(partials * 4);
    i32 = ctx.mem.i32;
    for (let m = 0, at = reps >>> 2; m < morsels; m++) {
      const first = i32[(info >>> 2) + m * words + 1] >>> 2;
      i32.copyWithin(at, first, first + counts[m]);
      at += counts[m];
    }
    const repRows = new Column(ctx, tmp, { type: columnType('int32'), length: partials, values: reps });
    const repKeys = keys.map((c) => take(c, repRows, { scope: tmp }));
    const global = groupIds(repKeys, { path: 'hash', scope: tmp });
    const groups = global.groups;
    const keyCols = repKeys.map((c) => take(c, global.firstRow, { scope: out }));
    // Fold: partial group (m, g) → final group global.ids[offset(m) + g].
    const k = ctx.kernel;
    const finals = plans.map((p) => {
      const f = tmp.alloc((groups + 1) * REC);
      guard(op, () => k.groupAccumulate(p.op, p.dtype, 0, 0, 0, groups + 1, 1, 0, 0, 0, f));
      return f;
    });
    i32 = ctx.mem.i32;
    for (let m = 0, offset = 0; m < morsels; m++) {
      const base = (info >>> 2) + m * words;
      for (let j = 0; j < naggs; j++) {
        const acc = i32[base + 2 + j];
        const r = guard(op, () => k.runtimeAccMerge(plans[j].op, plans[j].dtype, acc, global.ids.values + offset * 4, counts[m], finals[j]));
        if (r !== 0) throw new UnsupportedTypeError(op, [plans[j].col.label]);
      }
      offset += counts[m];
    }
    return { keys: keyCols, results: finishAggs(op, key, out, plans, finals, 0, groups), groups };
  } finally {
    tmp.close();
  }
}
