/**
 * Fuzzing the file readers: valid IPC (file and stream), CSV and Parquet inputs are corrupted at
 * random — truncated, bytes flipped, garbage inserted, ranges deleted or duplicated — and read as
 * bytes through `engine.read(bytes, { format })` (the same path as files after the bytes). Every case
 * must end in a typed AetherError or a well-formed result (every value of the collected table
 * readable); never a hang, a crash, or a raw TypeError / RangeError. A CSV result must also be the
 * same when read with tiny chunks (rows split across windows).
 *
 * Seeded: AETHERFLOW_FUZZ_SEED picks the seed (printed on failure), AETHERFLOW_FUZZ_CASES the number
 * of IPC + CSV cases (default 10 000; AETHERFLOW_QUICK=1 → 1 000). Debugging: AETHERFLOW_FUZZ_TRACE=1
 * prints slow cases, =2 also each IPC case (and leaves its bytes in /tmp/fuzz-case.arrow[s] — the one
 * a hang stops at), =3 the messages of InvalidOptionErrors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Dictionary, Int32, Utf8, tableFromArrays, tableToIPC, vectorFromArray, makeTable, type Table,
} from 'apache-arrow';
import { Engine } from '../../src/engine/engine.js';
import type { FileFormat } from '../../src/engine/io/files.js';
import { AetherError } from '../../src/errors.js';
import { rng, SCALE } from '../helpers/rng.js';

const SEED = Number(process.env.AETHERFLOW_FUZZ_SEED ?? 20261122);
const CASES = Number(process.env.AETHERFLOW_FUZZ_CASES ?? Math.round(10_000 * SCALE));
const engine = await Engine.start({ memoryLimit: 256 << 20 });

// ---- valid inputs ------------------------------------------------------------------------------

function ipcInputs(): Array<[FileFormat, Uint8Array]> {
  const r = rng(SEED);
  const n = 40;
  const t1 = tableFromArrays({
    i: Int32Array.from({ length: n }, (_, i) => i * 3 - 7),
    f: Float64Array.from({ length: n }, () => r() * 100),
    big: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) << 33n),
    // Plain Utf8 (tableFromArrays would dictionary-encode JS strings).
    s: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : `s${i}-${'x'.repeat(i % 17)}`)), new Utf8()),
    b: Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : i % 3 === 0)),
  });
  const dict = vectorFromArray(Array.from({ length: n }, (_, i) => ['red', 'green', null, 'blue'][i % 4]), new Dictionary(new Utf8(), new Int32()));
  const t2 = makeTable({ k: Int32Array.from({ length: n }, (_, i) => i % 7), d: dict.data[0] } as never) as Table;
  // Several record batches: concat of slices.
  const t3 = t1.slice(0, 10).concat(t1.slice(10, 25), t1.slice(25));
  return [
    ['arrow', tableToIPC(t1, 'file')], ['arrows', tableToIPC(t1, 'stream')],
    ['arrow', tableToIPC(t2, 'file')], ['arrows', tableToIPC(t3, 'stream')], ['arrow', tableToIPC(t3, 'file')],
    // Dictionary column over several batches.
    ['arrows', tableToIPC(t2.slice(0, 15).concat(t2.slice(15)), 'stream')],
  ];
}

function csvInputs(): Uint8Array[] {
  const r = rng(SEED + 1);
  const enc = new TextEncoder();
  const a: string[] = ['id,price,flag,day,ts,note,ok'];
  for (let i = 0; i < 30; i++) {
    const note = i % 6 === 0 ? '' : i % 5 === 0 ? `"quoted, ""with"" comma\nand newline ${i}"` : `note ${i}`;
    a.push(`${i},${(r() * 1000).toFixed(2)},${'ANR'[i % 3]},2020-0${1 + (i % 9)}-1${i % 10},2020-01-01T0${i % 10}:00:00.5,${note},${i % 2 === 0}`);
  }
  const b = ['x;y', ...Array.from({ length: 25 }, (_, i) => `${i * 1e-3};"${i}"`)];
  // Without the timestamp column every type has a CSV kernel kind (assembly/csv), so windows go through it.
  const noTs = a.map((line) => line.replace(/,(ts|2020-01-01T[^,]*)(?=,)/, ''));
  return [enc.encode(a.join('\n') + '\n'), enc.encode(a.join('\r\n')), enc.encode(b.join('\n')), enc.encode(noTs.join('\n') + '\n')];
}

// ---- mutations ---------------------------------------------------------------------------------

const SPECIAL = [0x22, 0x2c, 0x0a, 0x0d, 0x3b, 0x00, 0xff, 0x7f, 0x80, 0x2d, 0x2e, 0x65, 0x30];

function mutate(src: Uint8Array, r: () => number, csv: boolean): { bytes: Uint8Array; how: string } {
  const n = src.length;
  const at = (k = n) => Math.floor(r() * k);
  const byte = () => (csv && r() < 0.6 ? SPECIAL[at(SPECIAL.length)] : at(256));
  const kind = at(6);
  switch (kind) {
    case 0: {
      const cut = at(n);
      return { bytes: src.slice(0, cut), how: `truncate at ${cut}` };
    }
    case 1: {
      const out = src.slice();
      const k = 1 + at(8);
      for (let i = 0; i < k; i++) out[at(n)] = byte();
      return { bytes: out, how: `flip ${k} bytes` };
    }
    case 2: {
      const pos = at(n + 1);
      const g = Uint8Array.from({ length: 1 + at(32) }, byte);
      const out = new Uint8Array(n + g.length);
      out.set(src.subarray(0, pos));
      out.set(g, pos);
      out.set(src.subarray(pos), pos + g.length);
      return { bytes: out, how: `insert ${g.length} at ${pos}` };
    }
    case 3: {
      const s = at(n);
      const e = Math.min(n, s + 1 + at(64));
      const out = new Uint8Array(n - (e - s));
      out.set(src.subarray(0, s));
      out.set(src.subarray(e), s);
      return { bytes: out, how: `delete ${s}..${e}` };
    }
    case 4: {
      const s = at(n);
      const e = Math.min(n, s + 1 + at(64));
      const out = new Uint8Array(n + (e - s));
      out.set(src.subarray(0, e));
      out.set(src.subarray(s), e);
      return { bytes: out, how: `duplicate ${s}..${e}` };
    }
    default: {
      // Overwrite a 4-byte word with an extreme value (lengths, offsets, counts in headers).
      const out = src.slice();
      const pos = at(Math.max(1, n - 4));
      const v = [0xffffffff, 0x7fffffff, 0x80000000, 0, 1, 0x10000][at(6)];
      new DataView(out.buffer).setUint32(pos, v, true);
      return { bytes: out, how: `word ${v} at ${pos}` };
    }
  }
}

// ---- one case ----------------------------------------------------------------------------------

/** Every value of the table, read through arrow-js (what a user would touch). */
function touchAll(t: Table): string {
  let h = `${t.numRows}:`;
  for (let j = 0; j < t.numCols; j++) {
    const v = t.getChildAt(j)!;
    for (let i = 0; i < v.length; i++) {
      const x = v.get(i);
      h += typeof x === 'bigint' ? `${x}n,` : `${x},`;
    }
    h += '|';
  }
  return h;
}

type Outcome = { kind: 'error'; code: string } | { kind: 'ok'; digest: string };

async function readCase(bytes: Uint8Array, format: FileFormat, opts: { chunkBytes?: number; threads?: number } = {}): Promise<Outcome> {
  let ds;
  try {
    const csv = opts.chunkBytes ? { chunkBytes: opts.chunkBytes, threads: opts.threads, inferRows: opts.threads !== undefined ? 5 : undefined } : undefined;
    ds = await engine.read(bytes, { format, name: 'fuzz', csv });
  } catch (e) {
    if (e instanceof AetherError) {
      if (process.env.AETHERFLOW_FUZZ_TRACE === '3' && e.code === 'ERR_INVALID_OPTION') console.log('   ', e.message);
      return { kind: 'error', code: e.code };
    }
    throw e;
  }
  try {
    const t = await engine.query(ds).collect();
    try {
      return { kind: 'ok', digest: touchAll(t) };
    } finally {
      engine.release(t);
    }
  } catch (e) {
    if (e instanceof AetherError) {
      if (process.env.AETHERFLOW_FUZZ_TRACE === '3' && e.code === 'ERR_INVALID_OPTION') console.log('   ', e.message);
      return { kind: 'error', code: e.code };
    }
    throw e;
  } finally {
    ds.release();
  }
}

async function runCase(label: string, bytes: Uint8Array, format: FileFormat, how: string, counts: Map<string, number>): Promise<void> {
  let out: Outcome;
  try {
    out = await readCase(bytes, format);
  } catch (e) {
    assert.unreachable(`${label} (${how}, seed ${SEED}): raw ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? e}`);
    return;
  }
  const key = out.kind === 'ok' ? 'ok' : out.code;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (format === 'csv' && bytes.length % 2 === 0) {
    // The CSV kernel against the JS path it stands in for (small windows after a 5-row sample, so
    // most rows go through the kernel): the same result or the same error.
    const kernel = await readCase(bytes, format, { chunkBytes: 256, threads: 0 });
    process.env.AETHERFLOW_CSV_KERNEL = '0';
    let js: Outcome;
    try {
      js = await readCase(bytes, format, { chunkBytes: 256, threads: 0 });
    } finally {
      delete process.env.AETHERFLOW_CSV_KERNEL;
    }
    assert.equal(kernel, js, `${label} (${how}, seed ${SEED}): the CSV kernel reads differently from the JS path`);
  }
  if (format === 'csv' && out.kind === 'ok') {
    // Chunk boundaries must not change the result.
    const again = await readCase(bytes, format, { chunkBytes: 1 + (bytes.length % 23) });
    assert.equal(again, out, `${label} (${how}, seed ${SEED}): tiny chunks read differently`);
    // Every 8th: a small inference sample, then windows parsed by the workers vs on this thread.
    if (bytes.length % 8 === 0) {
      const here = await readCase(bytes, format, { chunkBytes: 256, threads: 0 });
      const there = await readCase(bytes, format, { chunkBytes: 256, threads: 2 });
      if (process.env.AETHERFLOW_FUZZ_TRACE && JSON.stringify(there) !== JSON.stringify(here)) (await import('node:fs')).writeFileSync('/tmp/fuzz-case.csv', bytes);
      assert.equal(there, here, `${label} (${how}, seed ${SEED}): parse workers read differently`);
    }
  }
}

const summary = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ');

test(`IPC and CSV: ${CASES} corrupted inputs give typed errors or well-formed results`, async () => {
  const r = rng(SEED);
  const ipc = ipcInputs();
  const csv = csvInputs();
  // The unmodified inputs read fine.
  for (const [f, b] of ipc) assert.is((await readCase(b, f)).kind, 'ok');
  for (const b of csv) assert.is((await readCase(b, 'csv')).kind, 'ok');
  const counts = { ipc: new Map<string, number>(), csv: new Map<string, number>() };
  const t0 = performance.now();
  for (let c = 0; c < CASES; c++) {
    if (c % 2 === 0) {
      const [f, src] = ipc[Math.floor(r() * ipc.length)];
      const { bytes, how } = mutate(src, r, false);
      const t = performance.now();
      if (process.env.AETHERFLOW_FUZZ_TRACE === '2') {
        console.log(`  ipc case ${c} (${how})`);
        (await import('node:fs')).writeFileSync(`/tmp/fuzz-case.${f}`, bytes);
      }
      await runCase(`ipc case ${c}`, bytes, f, how, counts.ipc);
      if (process.env.AETHERFLOW_FUZZ_TRACE && performance.now() - t > 50) console.log(`  slow ipc case ${c} (${how}): ${(performance.now() - t).toFixed(0)} ms`);
    } else {
      const src = csv[Math.floor(r() * csv.length)];
      const { bytes, how } = mutate(src, r, true);
      const t = performance.now();
      await runCase(`csv case ${c}`, bytes, 'csv', how, counts.csv);
      if (process.env.AETHERFLOW_FUZZ_TRACE && performance.now() - t > 50) console.log(`  slow csv case ${c} (${how}): ${(performance.now() - t).toFixed(0)} ms`);
    }
  }
  const ms = performance.now() - t0;
  console.log(`  fuzz: ${CASES} cases in ${ms.toFixed(0)} ms; ipc: ${summary(counts.ipc)}; csv: ${summary(counts.csv)}`);
  // Both outcomes must occur, or the mutations are too weak (or too strong) to test anything.
  for (const m of [counts.ipc, counts.csv]) {
    assert.ok((m.get('ok') ?? 0) > 0 && (m.get('ERR_FILE_FORMAT') ?? 0) > 0, summary(m));
  }
  assert.is(engine.liveResults, 0);
});

test('Parquet: 100 corrupted files give typed errors or well-formed results', async () => {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const dir = mkdtempSync(join(tmpdir(), 'aetherflow-fuzz-'));
  const p = join(dir, 'f.parquet');
  const con = await (await DuckDBInstance.create(':memory:')).connect();
  await con.run(`COPY (SELECT i::INTEGER a, i * 0.5 b, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || i END s, DATE '2020-01-01' + i::INTEGER d
    FROM range(500) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 100, COMPRESSION uncompressed)`);
  const src = new Uint8Array(readFileSync(p));
  assert.is((await readCase(src, 'parquet')).kind, 'ok');
  const r = rng(SEED + 2);
  const counts = new Map<string, number>();
  const n = Math.round(100 * SCALE);
  for (let c = 0; c < n; c++) {
    const { bytes, how } = mutate(src, r, false);
    await runCase(`parquet case ${c}`, bytes, 'parquet', how, counts);
  }
  console.log(`  fuzz: parquet ${n} cases: ${summary(counts)}`);
  assert.ok((counts.get('ERR_FILE_FORMAT') ?? 0) > 0, summary(counts));
  // Still reads the good file afterwards.
  assert.is((await readCase(src, 'parquet')).kind, 'ok');
});

test.after(async () => {
  await engine.close();
});

test.run();
