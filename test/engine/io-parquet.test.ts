import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pl from 'nodejs-polars';
import { Engine } from '../../src/engine/engine.js';
import { col, count, max, sum } from '../../src/engine/expr.js';
import { FileFormatError } from '../../src/engine/io/ipc.js';
import type { Dataset } from '../../src/engine/dataset.js';
import { ArenaOutOfMemory } from '../../src/errors.js';
import { datasetRows, typedFailure, typesOf, withEnv } from '../helpers/engine.js';

const engine = await Engine.start({ memoryLimit: 512 << 20 });
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-pq-'));
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const DAY = 86400000;

const rowsOf = (ds: Dataset) => datasetRows(engine, ds);
const failure = typedFailure;

test('DuckDB-written Parquet: every type, nulls, several row groups, decimals as float64', async () => {
  const p = join(dir, 'duck.parquet');
  await duck.run(`COPY (SELECT i::INTEGER AS i32, (i * 1000000007)::BIGINT AS i64, CASE WHEN i % 5 = 0 THEN NULL ELSE i / 4.0 END AS f64,
      (i % 3 = 0) AS b, DATE '2000-01-01' + i::INTEGER AS d, TIMESTAMP '2020-01-01 00:00:00' + to_seconds(i * 37) AS ts,
      CASE WHEN i % 7 = 0 THEN NULL ELSE 'str' || i END AS s, (i * 1.25 - 100)::DECIMAL(15, 2) AS dec
    FROM range(3000) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  const ds = await engine.read(p);
  assert.equal(typesOf(ds), { i32: 'int32', i64: 'int64', f64: 'float64', b: 'bool', d: 'date32', ts: 'timestamp', s: 'utf8', dec: 'float64' });
  const rows = await rowsOf(ds);
  assert.is(rows.length, 3000);
  for (const i of [0, 1, 7, 999, 1000, 2999]) {
    const r = rows[i];
    assert.is(r.i32, i);
    assert.is(r.i64, BigInt(i) * 1000000007n);
    assert.is(r.f64, i % 5 === 0 ? null : i / 4);
    assert.is(r.b, i % 3 === 0);
    assert.is(r.d, Date.UTC(2000, 0, 1) + i * DAY);
    assert.is(r.ts, Date.UTC(2020, 0, 1) + i * 37000);
    assert.is(r.s, i % 7 === 0 ? null : `str${i}`);
    assert.is(r.dec, Math.round((i * 1.25 - 100) * 100) / 100);
  }
  // Streaming scan over the row groups agrees with DuckDB on an aggregate.
  const scan = await engine.scan(p);
  const out = await engine.query(scan).filter(col('b')).agg({ n: count(), s: sum('f64'), hi: max('i64') }).collect();
  const want = (await duck.runAndReadAll(`SELECT count(*)::INTEGER n, sum(f64) s, max(i64)::VARCHAR hi FROM '${p}' WHERE b`)).getRowObjects()[0];
  const got = out.get(0)!.toJSON();
  assert.is(Number(got.n), want.n);
  assert.ok(Math.abs((got.s as number) - (want.s as number)) < 1e-9 * Math.abs(want.s as number));
  assert.is(String(got.hi), want.hi);
  engine.release(out);
  ds.release();
});

test('Parquet row groups landed by the decoders (C data interface) equal the IPC path, value for value', async () => {
  // Small ints, unsigned, float32, bools and strings with nulls and empties, ms timestamps, a
  // decimal, a low-cardinality string, an all-null column; 2 row groups (DuckDB rounds to 2048 rows).
  const p = join(dir, 'ffi.parquet');
  await duck.run(`COPY (SELECT (i % 100)::TINYINT AS i8, (i * 7)::SMALLINT AS i16, (i % 200)::UTINYINT AS u8, (i * 3)::UINTEGER AS u32,
      (i / 3.0)::FLOAT AS f32, CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 = 1 END AS b,
      CASE WHEN i % 6 = 0 THEN NULL WHEN i % 6 = 1 THEN '' ELSE repeat('x', i % 40) || i END AS s,
      ['A', 'N', 'R'][1 + i % 3] AS flag, epoch_ms(1600000000000 + i * 1000) AS tms, NULL::INTEGER AS nothing,
      (i * 0.01)::DECIMAL(9, 2) AS dec
    FROM range(2500) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 700)`);
  const read = async () => {
    const ds = await engine.read(p);
    try {
      return { types: typesOf(ds), rows: await rowsOf(ds) };
    } finally {
      ds.release();
    }
  };
  const landed = await read();
  const viaIpc = await withEnv('AETHERFLOW_PARQUET_FFI', '0', read);
  assert.equal(landed.types, viaIpc.types);
  assert.is(landed.rows.length, 2500);
  assert.equal(landed.rows, viaIpc.rows);
  assert.is(landed.rows[6].s, null);
  assert.is(landed.rows[7].s, '');
  assert.is(landed.rows[8].b, null);
});

test('write Parquet from a query and read it back (engine and DuckDB agree)', async () => {
  const src = await engine.read(new TextEncoder().encode('k,v,s,d\n1,1.5,x,2020-01-01\n2,,"y,z",\n3,-2,,1999-12-31\n'), { format: 'csv' });
  const p = join(dir, 'ours.parquet');
  const w = await engine.query(src).write(p);
  assert.is(w.rows, 3);
  assert.is(w.bytes, readFileSync(p).length);
  const back = await engine.read(p);
  assert.equal(typesOf(back), typesOf(src));
  assert.equal(await rowsOf(back), await rowsOf(src));
  const d = (await duck.runAndReadAll(`SELECT k::INTEGER k, v, s, d::VARCHAR d FROM '${p}' ORDER BY k`)).getRowObjects();
  assert.equal(d.map((r) => [r.k, r.v, r.s, r.d]), [[1, 1.5, 'x', '2020-01-01'], [2, null, 'y,z', null], [3, -2, null, '1999-12-31']]);
  for (const compression of ['uncompressed', 'zstd', 'gzip'] as const) {
    const q = join(dir, `ours-${compression}.parquet`);
    await engine.query(src).write(q, { parquet: { compression, rowGroupSize: 2 } });
    const again = await engine.read(q);
    assert.equal(await rowsOf(again), await rowsOf(src), compression);
    again.release();
  }
  src.release();
  back.release();
});

test('Polars-written Parquet and IPC (Utf8View strings) read correctly', async () => {
  const long = 'a string longer than twelve bytes, stored out of line';
  const df = pl.DataFrame({ a: [1, 2, null, 4], s: ['x', null, long, ''], f: [1.5, null, -2, 0], b: [true, false, null, true] });
  const pq = join(dir, 'polars.parquet');
  const ipc = join(dir, 'polars.arrow');
  df.writeParquet(pq);
  df.writeIPC(ipc);
  const want = [
    { a: 1, s: 'x', f: 1.5, b: true }, { a: 2, s: null, f: null, b: false }, { a: null, s: long, f: -2, b: null }, { a: 4, s: '', f: 0, b: true },
  ];
  for (const p of [pq, ipc]) {
    const ds = await engine.read(p);
    const rows = (await rowsOf(ds)).map((r) => ({ ...r, a: r.a === null ? null : Number(r.a) }));
    assert.equal(rows, want, p);
    ds.release();
  }
});

test('corrupt Parquet: truncated, bad magic, flipped footer bytes → FileFormatError naming the file', async () => {
  const p = join(dir, 'duck.parquet');
  const good = readFileSync(p);
  const variants: Array<[string, Buffer]> = [
    ['truncated-half', good.subarray(0, good.length >> 1)],
    ['truncated-tail', good.subarray(0, good.length - 3)],
    ['no-magic', Buffer.concat([Buffer.from('XXXX'), good.subarray(4)])],
    ['footer-garbage', Buffer.concat([good.subarray(0, good.length - 200), Buffer.alloc(192, 0xff), good.subarray(good.length - 8)])],
    ['empty', Buffer.alloc(0)],
    ['text', Buffer.from('a,b\n1,2\n')],
  ];
  for (const [name, bytes] of variants) {
    const f = join(dir, `${name}.parquet`);
    writeFileSync(f, bytes);
    const e = await failure((async () => { const ds = await engine.read(f); ds.release(); })()).catch((x: Error) => x);
    assert.instance(e, FileFormatError, `${name}: ${e}`);
    assert.is((e as FileFormatError).file, f, name);
  }
  // The engine still reads good files afterwards (parquet-wasm survives its own errors).
  const ds = await engine.read(p);
  assert.is(ds.rows, 3000);
  ds.release();
});

test('streaming: a Parquet input 2× the memory limit goes through filter + aggregate; read() of it runs out of memory (typed)', async () => {
  const small = await Engine.start({ memoryLimit: 64 << 20 });
  try {
    const p = join(dir, 'big.parquet');
    // 9M rows × (float64 + int64) = 144 MB decoded: over twice the 64 MiB limit.
    await duck.run(`COPY (SELECT (i % 1000)::DOUBLE / 10 AS v, (i % 13)::BIGINT AS k FROM range(9000000) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 122880)`);
    const scan = await small.scan(p);
    const out = await small.query(scan).filter(col('k').eq(3)).agg({ n: count(), s: sum('v') }).collect();
    const want = (await duck.runAndReadAll(`SELECT count(*)::INTEGER n, sum(v) s FROM '${p}' WHERE k = 3`)).getRowObjects()[0];
    assert.is(Number(out.get(0)!.toJSON().n), want.n);
    assert.ok(Math.abs((out.get(0)!.toJSON().s as number) - (want.s as number)) < 1e-6 * (want.s as number));
    small.release(out);
    const e = await failure(small.read(p));
    assert.instance(e, ArenaOutOfMemory);
    assert.ok(small.ctx.mem.byteLength <= 64 << 20, `memory ${small.ctx.mem.byteLength}`);
  } finally {
    await small.close();
  }
});

test.after(async () => {
  await engine.close();
  duck.closeSync?.();
});

test.run();
