// The engine on the parallel runtime: the same queries with `workers: 0` (everything on this thread)
// and `workers: 2` (fused morsel programs on the workers, runtime op FUSED) must give exactly the
// same results — float sums included, since morsel partials are merged in morsel order whoever ran
// them. TPC-H Q1/Q6 over a generated lineitem (above the parallel threshold), and seeded random
// data with nulls, several batches with different dictionaries and tiny morsels with the threshold
// lowered, so every batch goes to the workers. Plus cancellation and the `workers` option.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Dictionary, Field, Float64, Int32, Int64, Int8, RecordBatch, Schema, Struct, Table, Utf8, makeData, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import { Engine } from '../../src/engine/engine.js';
import { QueryAbortedError, execOptions } from '../../src/engine/exec.js';
import { col, count, lit, max, mean, min, sum, type AggExpr } from '../../src/engine/expr.js';
import { FUSED_PARALLEL_MIN_ROWS, fusedOptions } from '../../src/engine/fused.js';
import { parallelOptions } from '../../src/engine/exec-parallel.js';
import type { Query } from '../../src/engine/query.js';
import { InvalidOptionError, KernelTrapError } from '../../src/errors.js';
import { AggOp, DType } from '../../assembly/shared/codes.js';
import { Op } from '../../src/runtime/ops.js';
import { I, NONE, batchRecordBytes, colRef, partialBytes, programRecordBytes, registerSet, writeBatch, writeProgram, type Instr } from '../../src/runtime/fused-vm.js';
import { generateLineitem, lineitemTable } from '../../bench/tpch/lineitem.js';
import { q1Aether, q6Aether } from '../../bench/tpch/queries.js';
import { rng } from '../helpers/rng.js';

const serial = await Engine.start({ workers: 0, memoryLimit: 1 << 30 });
const par = await Engine.start({ workers: 2, memoryLimit: 1 << 30 });

/** Every value of the result, exactly (floats by their bits: JSON of a double is round-trip exact). */
async function exact(q: Query, e: Engine): Promise<string> {
  const t = await q.collect();
  const s = JSON.stringify(t.toArray().map((r) => r.toJSON()), (_k, v) => (typeof v === 'bigint' ? `${v}n` : Number.isNaN(v) ? 'NaN' : v));
  e.release(t);
  return s;
}

const tasksRun = () => par.runtime!.stats().perWorker.reduce((n, w) => n + w.tasks, 0);

test('TPC-H Q1 and Q6 (SF 0.05, 300 K rows): workers 0 and 2 give identical results; the workers ran the morsels', async () => {
  const table = lineitemTable(generateLineitem(0.05, 7), 1 << 17);
  assert.ok(table.numRows >= 2 * FUSED_PARALLEL_MIN_ROWS);
  const d0 = serial.fromArrow(table, 'lineitem');
  const d2 = par.fromArrow(table, 'lineitem');
  for (const [name, q] of [['q1', q1Aether], ['q6', q6Aether]] as const) {
    const before = tasksRun();
    const want = await exact(q(serial, d0), serial);
    const got = await exact(q(par, d2), par);
    assert.is(got, want, name);
    assert.ok(tasksRun() > before, `${name}: no task ran on the workers`);
  }
  // A file scanned batch by batch (IPC stream, 64 K-row batches, lowered threshold): the batches'
  // jobs overlap with reading the next ones, and are merged in batch order.
  const savedMin = fusedOptions.parallelMinRows;
  fusedOptions.parallelMinRows = 1 << 16;
  try {
    const bytes = tableToIPC(lineitemTable(generateLineitem(0.05, 9), 1 << 16), 'stream');
    const s0 = await serial.scan(bytes, { format: 'arrows' });
    const s2 = await par.scan(bytes, { format: 'arrows' });
    const before = tasksRun();
    assert.is(await exact(q6Aether(par, s2), par), await exact(q6Aether(serial, s0), serial), 'q6 over a scan');
    assert.ok(tasksRun() > before, 'q6 over a scan: no task ran on the workers');
  } finally {
    fusedOptions.parallelMinRows = savedMin;
  }
  assert.match(q1Aether(par, d2).explain(), /workers 2/);
  assert.match(q1Aether(serial, d0).explain(), /main thread/);
  d0.release();
  d2.release();
});

function batch(r: () => number, n: number, words: string[]): RecordBatch {
  const field = <T extends DataType>(name: string, type: T, data: ArrayLike<number | bigint>, extra: Record<string, unknown> = {}) => {
    const bits = new Uint8Array(Math.ceil(n / 8));
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      if (r() >= 0.1) bits[i >> 3] |= 1 << (i & 7);
      else nulls++;
    }
    return { f: new Field(name, type, true), d: makeData({ type, length: n, data: data as never, nullBitmap: bits, nullCount: nulls, ...extra } as never) };
  };
  const cols = [
    field('x', new Float64(), Float64Array.from({ length: n }, () => (r() - 0.3) * 1e3 * 10 ** Math.floor(r() * 6))),
    field('y', new Float64(), Float64Array.from({ length: n }, () => Math.round(r() * 1e4) / 100)),
    field('i', new Int32(), Int32Array.from({ length: n }, () => Math.floor((r() - 0.5) * 2e6))),
    field('j', new Int64(), BigInt64Array.from({ length: n }, () => BigInt(Math.floor((r() - 0.5) * 1e12)))),
    field('k', new Int8(), Int8Array.from({ length: n }, () => Math.floor(r() * 7) - 3)),
    field('flag', new Dictionary(new Utf8(), new Int8(), 3), Int8Array.from({ length: n }, () => Math.floor(r() * words.length)), { dictionary: vectorFromArray(words, new Utf8()) }),
  ];
  const fields = cols.map((c) => c.f);
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: cols.map((c) => c.d) }));
}

type Runs = Array<[string, (e: Engine, d: ReturnType<Engine['fromArrow']>) => Query]>;

/** Each query on the serial engine (d0) and on the workers (d2): exactly the same result, and tasks ran on the workers. */
async function sameOnBoth(queries: Runs, d0: ReturnType<Engine['fromArrow']>, d2: ReturnType<Engine['fromArrow']>, where: string): Promise<void> {
  for (const [label, q] of queries) {
    const before = tasksRun();
    assert.is(await exact(q(par, d2), par), await exact(q(serial, d0), serial), `${where} ${label}`);
    assert.ok(tasksRun() > before, `${where} ${label}: no task ran on the workers`);
  }
  d0.release();
  d2.release();
}

test('seeded random data with nulls, several batches, tiny morsels, every batch on the workers: identical results', async () => {
  const savedMorsel = execOptions.morselRows;
  const savedMin = fusedOptions.parallelMinRows;
  execOptions.morselRows = 128;
  fusedOptions.parallelMinRows = 0;
  try {
    const aggs: Record<string, AggExpr> = {
      n: count(), nx: count('x'), sx: sum('x'), mx: mean('x'), lx: min('x'), hx: max('x'), sy: sum(col('x').mul(col('y'))),
      si: sum('i'), mi: mean('i'), li: min('i'), sj: sum('j'), mj: mean('j'), hj: max('j'),
    };
    for (const seed of [11, 12, 13]) {
      const r = rng(seed);
      const table = new Table([batch(r, 5000, ['A', 'N', 'R']), batch(r, 129, ['R', 'A']), batch(r, 3333, ['N', 'O', 'A', 'R', 'F'])]);
      const d0 = serial.fromArrow(table);
      const d2 = par.fromArrow(table);
      const queries: Runs = [
        ['scalar', (e, d) => e.query(d).agg(aggs)],
        ['filtered scalar', (e, d) => e.query(d).filter(col('y').lt(50).and(col('k').ne(0))).agg(aggs)],
        ['derived', (e, d) => e.query(d).derive({ z: col('x').mul(lit(1).sub(col('y'))) }).filter(col('z').gt(0).or(col('i').isNull())).agg({ s: sum('z'), m: mean('z'), n: count() })],
        ['keyed', (e, d) => e.query(d).filter(col('x').ge(0)).groupBy('flag', 'k').agg(aggs).sort('flag', 'k')],
        ['keyed unfiltered', (e, d) => e.query(d).groupBy('k').agg({ sx: sum('x'), sy: sum('y'), my: mean('y'), n: count() }).sort('k')],
      ];
      // Partials bounded to ~3 morsels' worth: each batch runs as several jobs, merged between them.
      queries.push(['keyed, partials in chunks', (e, d) => {
        fusedOptions.partialsMaxBytes = 3 * 4096;
        return e.query(d).filter(col('x').ge(0)).groupBy('flag', 'k').agg(aggs).sort('flag', 'k');
      }]);
      await sameOnBoth(queries, d0, d2, `seed ${seed}`);
    }
  } finally {
    execOptions.morselRows = savedMorsel;
    fusedOptions.parallelMinRows = savedMin;
    fusedOptions.partialsMaxBytes = 16 << 20;
  }
});

test('materialized filter and sort on the workers (threshold lowered): the same rows in the same order', async () => {
  const saved = parallelOptions.minRows;
  parallelOptions.minRows = 0;
  try {
    for (const seed of [21, 22]) {
      const r = rng(seed);
      const table = new Table([batch(r, 7000, ['A', 'N', 'R']), batch(r, 1500, ['R', 'A'])]);
      const d0 = serial.fromArrow(table);
      const d2 = par.fromArrow(table);
      const queries: Runs = [
        ['filter', (e, d) => e.query(d).filter(col('y').lt(50).and(col('k').ne(0)))],
        ['filter derived', (e, d) => e.query(d).derive({ z: col('x').mul(col('y')) }).filter(col('z').gt(0).or(col('flag').isNull())).select('z', 'flag', 'j')],
        ['sort float desc nulls first', (e, d) => e.query(d).sort({ column: 'x', descending: true, nullsFirst: true })],
        ['sort int (ties: stable)', (e, d) => e.query(d).filter(col('x').gt(0)).sort('k')],
        ['sort int64 after filter', (e, d) => e.query(d).filter(col('i').lt(0)).sort('-j').limit(500, 10)],
      ];
      await sameOnBoth(queries, d0, d2, `seed ${seed}`);
    }
  } finally {
    parallelOptions.minRows = saved;
  }
});

test('an aborted query rejects with QueryAbortedError; the engine keeps serving', async () => {
  const table = lineitemTable(generateLineitem(0.05, 3), 1 << 17);
  const ds = par.fromArrow(table);
  const ac = new AbortController();
  ac.abort();
  try {
    await q1Aether(par, ds).collect({ signal: ac.signal });
    assert.unreachable('should have been aborted');
  } catch (e) {
    assert.instance(e, QueryAbortedError);
  }
  // Aborted while the workers run it: rejects (or, if it finished first, resolves) — never hangs.
  const ac2 = new AbortController();
  const p = q1Aether(par, ds).collect({ signal: ac2.signal });
  setImmediate(() => ac2.abort());
  await p.then((t) => par.release(t), (e) => assert.instance(e, QueryAbortedError));
  const t = await q6Aether(par, ds).collect();
  assert.is(t.numRows, 1);
  par.release(t);
  ds.release();
});

test('a trap inside a FUSED task fails only its job (KernelTrapError naming the op); the engine keeps serving', async () => {
  // A one-instruction program (SACC: sum of column 0) over a batch record whose column points
  // past the end of the memory: the kernel's load traps on whichever worker runs the morsel.
  const rt = par.runtime!;
  const scope = par.ctx.scope();
  try {
    const spec = { code: [[I.SACC, NONE, colRef(0), AggOp.SUM, DType.F64, 0, 0]] as Instr[], regs: 0, accs: [{ op: AggOp.SUM, ref: colRef(0), dtype: DType.F64 }], sums: [], morselRows: 64, maxSlots: 0 };
    const sets = scope.alloc(registerSet(spec).setBytes * (rt.workers + 1));
    const pool = scope.alloc(64);
    const prog = scope.alloc(programRecordBytes(spec));
    writeProgram(par.ctx.mem, prog, spec, sets, pool);
    const bspec = { cols: [{ values: 0xfffff000, validity: 0, shift: 3 }], keys: [], nslots: 0, parts: 1, tableBytes: 0 };
    const rec = scope.alloc(batchRecordBytes(bspec));
    writeBatch(par.ctx.mem, rec, prog, 1, bspec, scope.alloc(partialBytes(1, bspec) * 4));
    try {
      await rt.run({ name: 'fused', plan: (p) => p.task(Op.FUSED, { start: 0, end: 256, a0: rec, p2: 64, x0: 0 }), finish() {} });
      assert.unreachable('the task should have trapped');
    } catch (e) {
      assert.instance(e, KernelTrapError);
      assert.is((e as KernelTrapError).op, 'fused');
    }
  } finally {
    scope.close();
  }
  const ds = par.fromArrow(lineitemTable(generateLineitem(0.05, 4), 1 << 17));
  const t = await q6Aether(par, ds).collect();
  assert.is(t.numRows, 1);
  par.release(t);
  ds.release();
});

test('workers: an invalid value is a typed error naming the option; 0 runs without a runtime', async () => {
  for (const bad of [-1, 1.5, 257, Number.NaN, '2' as unknown as number]) {
    try {
      await Engine.start({ workers: bad });
      assert.unreachable(`workers ${String(bad)} accepted`);
    } catch (e) {
      assert.instance(e, InvalidOptionError);
      assert.is((e as InvalidOptionError).option, 'workers');
    }
  }
  const saved = process.env.AETHERFLOW_WORKERS;
  process.env.AETHERFLOW_WORKERS = 'lots';
  try {
    await Engine.start();
    assert.unreachable('AETHERFLOW_WORKERS=lots accepted');
  } catch (e) {
    assert.instance(e, InvalidOptionError);
    assert.is((e as InvalidOptionError).option, 'AETHERFLOW_WORKERS');
  } finally {
    if (saved === undefined) delete process.env.AETHERFLOW_WORKERS; else process.env.AETHERFLOW_WORKERS = saved;
  }
  assert.is(serial.runtime, undefined);
  assert.is(serial.workers, 0);
  assert.is(par.workers, 2);
  assert.ok(par.runtime!.stats().perWorker.every((w) => w.state === 'ready'));
});

test.after(async () => {
  await serial.close();
  await par.close();
  assert.ok(par.runtime!.closed);
});

test.run();
