// query.stream() yields batches as the source produces them (src/engine/stream.ts): an input
// bigger than the memory limit, whose filtered result is bigger than the limit too, streams through
// (collect() of it runs out of memory, typed), the limit holds; limit/offset across batches and
// every streamable step give what collect() gives; an abort stops the stream.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Float64, Int32, RecordBatch, Table, makeData, Schema, Field, Struct, tableToIPC } from 'apache-arrow';
import { Engine } from '../../src/engine/engine.js';
import { QueryAbortedError } from '../../src/engine/exec.js';
import { col, count, lit, sum } from '../../src/engine/expr.js';
import type { Query } from '../../src/engine/query.js';
import { ArenaOutOfMemory } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'aetherflow-stream-'));
const duck = await (await DuckDBInstance.create(':memory:')).connect();

test('a Parquet input 2× the memory limit streams through filter → derive → select; the result (> the limit) is never held', async () => {
  const small = await Engine.start({ memoryLimit: 64 << 20, workers: 2 });
  try {
    const p = join(dir, 'big.parquet');
    // 9M rows × (float64 + int64) = 144 MB decoded; the filter keeps 12/13 of them (~133 MB).
    await duck.run(`COPY (SELECT (i % 1000)::DOUBLE / 10 AS v, (i % 13)::BIGINT AS k FROM range(9000000) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 122880)`);
    const scan = await small.scan(p);
    const q = small.query(scan).filter(col('k').ne(3)).derive({ w: col('v').mul(lit(2)) }).select('w', 'k');
    let rows = 0;
    let total = 0;
    let batches = 0;
    for await (const b of q.stream()) {
      batches++;
      rows += b.numRows;
      const w = b.getChild('w')!.toArray() as Float64Array;
      for (let i = 0; i < w.length; i++) total += w[i];
      assert.ok(small.ctx.mem.byteLength <= 64 << 20);
    }
    const want = (await duck.runAndReadAll(`SELECT count(*)::INTEGER n, sum(v * 2) s FROM '${p}' WHERE k <> 3`)).getRowObjects()[0];
    assert.is(rows, want.n);
    assert.ok(Math.abs(total - (want.s as number)) < 1e-9 * (want.s as number));
    assert.ok(batches > 10, `${batches} batches`);
    // The same query collected does not fit: what stream() did was not collect-then-yield.
    try {
      const t = await q.collect();
      small.release(t);
      assert.unreachable('collect of a result over the memory limit should fail');
    } catch (e) {
      assert.instance(e, ArenaOutOfMemory);
    }
    assert.ok(small.ctx.mem.byteLength <= 64 << 20, `memory ${small.ctx.mem.byteLength}`);
    // A limit stops reading early and yields exactly its rows.
    let limited = 0;
    for await (const b of small.query(scan).filter(col('k').eq(5)).limit(300000, 1000).stream()) limited += b.numRows;
    assert.is(limited, 300000);
  } finally {
    await small.close();
  }
});

function batch(r: () => number, n: number): RecordBatch {
  const bits = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  for (let i = 0; i < n; i++) if (r() > 0.1) bits[i >> 3] |= 1 << (i & 7); else nulls++;
  const x = makeData({ type: new Float64(), length: n, data: Float64Array.from({ length: n }, () => r() * 100), nullBitmap: bits, nullCount: nulls });
  const i32 = makeData({ type: new Int32(), length: n, data: Int32Array.from({ length: n }, (_, i) => i) });
  const fields = [new Field('x', new Float64(), true), new Field('i', new Int32(), true)];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: [x, i32] }));
}

const rowsOf = (t: Table | RecordBatch) => t.toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));

async function streamed(q: Query): Promise<string[]> {
  const out: string[] = [];
  for await (const b of q.stream()) out.push(...rowsOf(b));
  return out;
}

test('streamed batches = collect() for filter / derive / select / limit (offset across batches), incl. empty results', async () => {
  const engine = await Engine.start({ workers: 0 });
  try {
    const r = rng(5);
    // An IPC stream scanned batch by batch: 4 record batches, one of them empty.
    const ds = await engine.scan(tableToIPC(new Table([batch(r, 1000), batch(r, 7), batch(r, 0), batch(r, 2500)]), 'stream'), { format: 'arrows' });
    const qs: Query[] = [
      engine.query(ds),
      engine.query(ds).filter(col('x').gt(50)),
      engine.query(ds).derive({ y: col('x').mul(col('i')) }).filter(col('y').lt(1000).or(col('x').isNull())).select('y', 'i'),
      engine.query(ds).limit(10, 995),
      engine.query(ds).filter(col('x').gt(20)).limit(700, 800).derive({ z: col('i').add(lit(1)) }),
      engine.query(ds).limit(5000, 3400),
      engine.query(ds).limit(0),
      engine.query(ds).filter(col('x').gt(1000)),
    ];
    for (const [k, q] of qs.entries()) {
      const t = await q.collect();
      assert.equal(await streamed(q), rowsOf(t), `query ${k}`);
      engine.release(t);
    }
    // Not streamable (an aggregate): computed first, then yielded — the same rows.
    const agg = engine.query(ds).filter(col('x').gt(10)).agg({ n: count(), s: sum('x') });
    const t = await agg.collect();
    assert.equal(await streamed(agg), rowsOf(t));
    engine.release(t);
    // An abort stops the stream with the typed error.
    const ac = new AbortController();
    let seen = 0;
    try {
      for await (const _ of engine.query(ds).stream({ signal: ac.signal })) {
        seen++;
        ac.abort();
      }
      assert.unreachable('the stream should have been aborted');
    } catch (e) {
      assert.instance(e, QueryAbortedError, String(e));
    }
    assert.is(seen, 1);
  } finally {
    await engine.close();
  }
});

test.after(() => {
  duck.closeSync?.();
});

test.run();
