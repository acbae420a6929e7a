/**
 * Our Parquet page path (parquet-pages.ts: pages decoded by the pq* kernels in the decoder workers)
 * against parquet-wasm (arrow-rs) on the same files: same types, same values, same nulls. The files
 * come from four writers — DuckDB, arrow-rs (parquet-wasm's writer, which the engine's own write
 * uses), hyparquet-writer and Polars — chosen to cover every page shape the path takes, and the
 * shapes it must leave to parquet-wasm. parquetDecodeStats() proves which path decoded each group.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Field, Float64, Int32, Int64, Schema, Table, Utf8, Bool, vectorFromArray, makeData, RecordBatch, Struct, tableToIPC } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { ByteWriter, ParquetWriter, parquetWriteBuffer, schemaFromColumnData } from 'hyparquet-writer';
import pl from 'nodejs-polars';
import * as pw from 'parquet-wasm';
import { Engine } from '../../src/engine/engine.js';
import { col, count, sum } from '../../src/engine/expr.js';
import { FileFormatError } from '../../src/engine/io/ipc.js';
import { parquetDecodeStats } from '../../src/engine/io/parquet.js';
import { KernelMemory, PageError, decodeGroup, kernelColumns, type GroupSource } from '../../src/engine/io/parquet-pages.js';
import { compileKernel, instantiateKernel } from '../../src/kernels/module.js';
import { datasetRows, typedFailure, typesOf, withEnv } from '../helpers/engine.js';
import { rng } from '../helpers/rng.js';
import { pagesOf } from '../helpers/parquet-pages.js';

const engine = await Engine.start({ memoryLimit: 512 << 20 });
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-pqk-'));
const duck = await (await DuckDBInstance.create(':memory:')).connect();

type Input = string | Uint8Array;
const open = (p: Input): ReturnType<typeof engine.read> => (typeof p === 'string' ? engine.read(p) : engine.read(p, { format: 'parquet', name: 'bytes.parquet' }));

/** Types and rows of a file, read once by each path; the kernel / parquet-wasm group counts of the first read. */
async function bothWays(p: Input) {
  const read = async () => {
    const ds = await open(p);
    try {
      return { types: typesOf(ds), rows: await datasetRows(engine, ds) };
    } finally {
      ds.release();
    }
  };
  const before = parquetDecodeStats();
  const ours = await read();
  const after = parquetDecodeStats();
  const theirs = await withEnv('AETHERFLOW_PARQUET_KERNEL', '0', read);
  const wasm = after.ffi + after.ipc - before.ffi - before.ipc;
  return { ours, theirs, kernel: after.kernel - before.kernel, split: after.split - before.split, wasm, why: after.fallbacks.slice(after.fallbacks.length - Math.min(wasm, 16)) };
}

/** Reads p both ways and checks they agree; returns the group counts. */
async function same(p: Input, what: string) {
  const r = await bothWays(p);
  assert.equal(r.ours.types, r.theirs.types, `${what}: types`);
  assert.is(r.ours.rows.length, r.theirs.rows.length, `${what}: rows`);
  for (let i = 0; i < r.ours.rows.length; i++) assert.equal(r.ours.rows[i], r.theirs.rows[i], `${what}: row ${i}`);
  return r;
}

const SUPPORTED = `CASE WHEN i % 5 = 0 THEN NULL ELSE i % 3 = 0 END AS b, i::INTEGER AS i32, (i * 7)::UINTEGER AS u32,
  CASE WHEN i % 11 = 0 THEN NULL ELSE i * 1000000007 END::BIGINT AS i64, (i * 3)::UBIGINT AS u64, (i / 3)::FLOAT AS f32,
  CASE WHEN i % 7 = 0 THEN NULL WHEN i % 97 = 1 THEN 'nan'::DOUBLE ELSE i / 4 END::DOUBLE AS f64,
  DATE '2000-01-01' + (i % 400)::INTEGER AS d, TIMESTAMP '2020-01-01' + to_seconds(i * 37) AS ts,
  (TIMESTAMP '2020-01-01' + to_seconds(i))::TIMESTAMP_MS AS tsms, (TIMESTAMP '1970-01-01' + to_seconds(i))::TIMESTAMP_NS AS tsns,
  (TIMESTAMP '2020-01-01' + to_seconds(i))::TIMESTAMPTZ AS tstz, (i * 1.25 - 100)::DECIMAL(9, 2) AS dec9,
  CASE WHEN i % 13 = 0 THEN NULL ELSE (i * -7.125)::DECIMAL(18, 3) END AS dec18,
  CASE WHEN i % 6 = 0 THEN NULL WHEN i % 6 = 1 THEN '' ELSE ['A', 'N', 'R', 'été'][1 + i % 4] END AS flag,
  CASE WHEN i % 9 = 0 THEN NULL ELSE repeat('x', i % 40) || i END AS s, ['a','b'][1 + i % 2]::ENUM('a', 'b') AS e,
  NULL::INTEGER AS nothing, NULL::VARCHAR AS no_s`;

test('DuckDB: every supported type with nulls, dictionary and plain pages, several row groups — kernel path = parquet-wasm', async () => {
  const p = join(dir, 'duck.parquet');
  await duck.run(`COPY (SELECT ${SUPPORTED} FROM range(5000) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  const shapes = pagesOf(readFileSync(p)).flat();
  assert.ok(shapes.some((s) => s.type === 'DICTIONARY_PAGE') && shapes.some((s) => s.type === 'DATA_PAGE' && s.encoding === 'PLAIN'));
  const r = await same(p, 'duckdb');
  assert.is(r.kernel, 3, `groups by our kernels (fallbacks: ${r.why})`);
  assert.is(r.wasm, 0);
  // A few values against what DuckDB wrote, so "equal" is not "equally wrong".
  const row = r.ours.rows[1234];
  assert.is(row.i64, 1234n * 1000000007n);
  assert.is(row.flag, 'R');
  assert.is(row.s, 'x'.repeat(1234 % 40) + '1234');
  assert.is(row.dec18, -8792.25);
  assert.is(r.ours.rows[5].b, null);
  assert.ok(Number.isNaN(r.ours.rows[1].f64 as number));
});

test('DuckDB: uncompressed chunks, bytes input, a scan and an empty result', async () => {
  const p = join(dir, 'duck-raw.parquet');
  await duck.run(`COPY (SELECT ${SUPPORTED} FROM range(3000) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 2048, COMPRESSION uncompressed)`);
  assert.is((await same(p, 'uncompressed')).kernel, 2);
  assert.is((await same(new Uint8Array(readFileSync(p)), 'bytes')).kernel, 2);
  // engine.scan streams the same groups through a query.
  const before = parquetDecodeStats().kernel;
  const scan = await engine.scan(p);
  const out = await engine.query(scan).filter(col('b')).agg({ n: count(), s: sum('i64') }).collect();
  const want = (await duck.runAndReadAll(`SELECT count(*)::INTEGER n, sum(i64)::VARCHAR s FROM '${p}' WHERE b`)).getRowObjects()[0];
  assert.equal([Number(out.get(0)!.toJSON().n), String(out.get(0)!.toJSON().s)], [want.n, want.s]);
  engine.release(out);
  assert.is(parquetDecodeStats().kernel - before, 2);
  const none = join(dir, 'duck-none.parquet');
  await duck.run(`COPY (SELECT ${SUPPORTED} FROM range(3000) t(i) WHERE i < 0) TO '${none}' (FORMAT parquet)`);
  const r = await same(none, 'no rows');
  assert.is(r.ours.rows.length, 0);
});

/** An apache-arrow table → Parquet bytes through arrow-rs' writer (parquet-wasm), with its page knobs. */
function arrowRsWrite(t: Table, version: pw.WriterVersion, compression: pw.Compression): Uint8Array {
  const props = new pw.WriterPropertiesBuilder().setCompression(compression).setWriterVersion(version)
    .setDataPageSizeLimit(2048).setDictionaryPageSizeLimit(4096).setWriteBatchSize(256).setMaxRowGroupSize(8000).build();
  return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(t, 'stream')), props);
}

/** n rows: a REQUIRED int64, optional int32 / utf8 / float64, a REQUIRED bool; `s` outgrows its dictionary half-way. */
function arrowTable(n: number, cols = ['id', 'k', 's', 'f', 'b']): Table {
  const all = {
    id: [new Int64(), false, Array.from({ length: n }, (_, i) => BigInt(i * 3))],
    k: [new Int32(), true, Array.from({ length: n }, (_, i) => (i % 17 === 0 ? null : i % 50))],
    s: [new Utf8(), true, Array.from({ length: n }, (_, i) => (i % 13 === 0 ? null : i < n / 2 ? `cat${i % 20}` : `unique-${i}-${'y'.repeat(i % 30)}`))],
    f: [new Float64(), true, Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : i / 8))],
    b: [new Bool(), false, Array.from({ length: n }, (_, i) => i % 3 === 0)],
  } as const;
  const fields = cols.map((c) => new Field(c, all[c as keyof typeof all][0], all[c as keyof typeof all][1]));
  const children = cols.map((c) => vectorFromArray(all[c as keyof typeof all][2] as unknown[], all[c as keyof typeof all][0]).data[0]);
  return new Table([new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))]);
}

test('arrow-rs writer: several pages per chunk, a dictionary that falls back to plain mid-chunk, REQUIRED columns, snappy and uncompressed', async () => {
  for (const [compression, name] of [[pw.Compression.SNAPPY, 'snappy'], [pw.Compression.UNCOMPRESSED, 'uncompressed']] as const) {
    const bytes = arrowRsWrite(arrowTable(20000), pw.WriterVersion.V1, compression);
    const chunks = pagesOf(bytes);
    // The shapes this test is about, as the file really has them.
    assert.ok(chunks.some((c) => c.length > 10), 'many pages in a chunk');
    assert.ok(chunks.some((c) => c[0].type === 'DICTIONARY_PAGE' && c.some((p) => p.encoding === 'RLE_DICTIONARY') && c.some((p) => p.encoding === 'PLAIN')), 'dictionary → plain');
    const p = join(dir, `arrow-rs-v1-${name}.parquet`);
    writeFileSync(p, bytes);
    const r = await same(p, `arrow-rs v1 ${name}`);
    assert.is(r.kernel, 3, `groups by our kernels (fallbacks: ${r.why})`);
  }
});

test('data page v2 (arrow-rs and hyparquet-writer: RLE booleans, REQUIRED columns); delta encodings fall back to parquet-wasm', async () => {
  // arrow-rs v2 with dictionaries that never overflow: every page RLE_DICTIONARY / PLAIN / RLE (bool).
  const v2 = arrowRsWrite(arrowTable(9000, ['k', 'f', 'b']), pw.WriterVersion.V2, pw.Compression.SNAPPY);
  assert.ok(pagesOf(v2).flat().every((p) => p.type !== 'DATA_PAGE'));
  assert.is((await same(v2, 'arrow-rs v2')).kernel, 2);
  // arrow-rs v2 when a dictionary overflows: DELTA_BINARY_PACKED / DELTA_BYTE_ARRAY pages → parquet-wasm.
  const delta = arrowRsWrite(arrowTable(9000), pw.WriterVersion.V2, pw.Compression.SNAPPY);
  const r = await same(delta, 'arrow-rs v2 delta');
  assert.is(r.kernel, 0);
  assert.is(r.wasm, 2);
  assert.match(r.why.join(), /DELTA_B/);

  const n = 3000;
  const columnData = [
    { name: 'i', data: Int32Array.from({ length: n }, (_, i) => i * 3), type: 'INT32' as const, nullable: false },
    { name: 'j', data: Array.from({ length: n }, (_, i) => (i % 7 ? BigInt(i % 40) : null)), type: 'INT64' as const },
    { name: 'b', data: Array.from({ length: n }, (_, i) => (i % 9 ? i % 3 === 0 : null)), type: 'BOOLEAN' as const },
    { name: 'bb', data: Array.from({ length: n }, (_, i) => i % 3 === 0 || i % 7 === 0), type: 'BOOLEAN' as const, nullable: false },
    { name: 's', data: Array.from({ length: n }, (_, i) => (i % 5 ? `s${i % 100}` : null)), type: 'STRING' as const },
    { name: 'd', data: Float64Array.from({ length: n }, (_, i) => i / 7), type: 'DOUBLE' as const },
  ];
  const hyp = new Uint8Array(parquetWriteBuffer({ columnData, pageSize: 1000, rowGroupSize: 1200 }));
  const shapes = pagesOf(hyp);
  assert.ok(shapes.flat().some((p) => p.type === 'DATA_PAGE_V2' && p.encoding === 'RLE') && shapes.some((c) => c.length > 4));
  assert.is((await same(hyp, 'hyparquet-writer v2')).kernel, 3);
  const raw = new Uint8Array(parquetWriteBuffer({ columnData, pageSize: 1000, rowGroupSize: 1200, codec: 'UNCOMPRESSED' }));
  assert.is((await same(raw, 'hyparquet-writer v2 uncompressed')).kernel, 3);
  const withDelta = new Uint8Array(parquetWriteBuffer({ columnData: columnData.map((c) => (c.name === 'i' ? { ...c, encoding: 'DELTA_BINARY_PACKED' as const } : c)), rowGroupSize: 1200 }));
  const d = await same(withDelta, 'hyparquet-writer delta');
  assert.equal([d.kernel, d.wasm], [0, 3]);
  assert.match(d.why.join(), /DELTA_BINARY_PACKED/);
});

test('codecs we do not decode (zstd, gzip) and DuckDB V2 files fall back to parquet-wasm, same results', async () => {
  for (const opt of ['COMPRESSION zstd', 'COMPRESSION gzip', 'PARQUET_VERSION V2']) {
    const p = join(dir, `duck-${opt.replace(/ /g, '-')}.parquet`);
    await duck.run(`COPY (SELECT ${SUPPORTED} FROM range(3000) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 2048, ${opt})`);
    const r = await same(p, opt);
    assert.equal([r.kernel, r.wasm], [0, 2], `${opt}: ${r.why}`);
    assert.match(r.why.join(), opt.startsWith('COMPRESSION') ? new RegExp(opt.split(' ')[1], 'i') : /DELTA|encoding/);
  }
});

test('groups cut into column ranges for both decoders (a one-group file, the odd last group) = parquet-wasm; a part not ours sends the whole group there', async () => {
  const two = availableParallelism() >= 2; // one decoder (one core): nothing is cut
  const one = arrowRsWrite(arrowTable(5000), pw.WriterVersion.V1, pw.Compression.SNAPPY);
  assert.is(parquetMetadata(one.slice().buffer).row_groups.length, 1);
  const r = await same(one, 'one group');
  assert.equal([r.kernel, r.split], [1, two ? 1 : 0]);
  // 3 groups of 2048, 2048 and 904 rows: the third is cut, the others go whole.
  const odd = join(dir, 'duck-odd.parquet');
  await duck.run(`COPY (SELECT ${SUPPORTED} FROM range(5000) t(i)) TO '${odd}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  const o = await same(odd, 'odd groups');
  assert.equal([o.kernel, o.split], [3, two ? 1 : 0]);
  // One zstd column: whichever range holds it is not ours, so the group goes whole to parquet-wasm.
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setColumnCompression('f', pw.Compression.ZSTD).build();
  const mixed = pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(arrowTable(5000), 'stream')), props);
  const m = await same(mixed, 'one zstd column');
  assert.equal([m.kernel, m.split, m.wasm], [0, 0, 1]);
  assert.match(m.why.join(), /ZSTD/);
});

test('two files read at once share the decoders (each holds a block per file until its copy)', async () => {
  const a = join(dir, 'duck.parquet'), b = join(dir, 'arrow-rs-v1-snappy.parquet');
  const rows = async (p: string) => {
    const ds = await engine.read(p);
    try {
      return await datasetRows(engine, ds);
    } finally {
      ds.release();
    }
  };
  const alone = [await rows(a), await rows(b)];
  const before = parquetDecodeStats().kernel;
  const together = await Promise.all([rows(a), rows(b), rows(a)]);
  assert.is(parquetDecodeStats().kernel - before, 9);
  assert.equal(together, [alone[0], alone[1], alone[0]]);
  // A scan given up after its first batch leaves groups decoded ahead, never copied: closing the
  // file releases them, and the next reads see every group again.
  const scan = await engine.scan(a);
  const first = await engine.query(scan).limit(5).collect();
  assert.is(first.numRows, 5);
  engine.release(first);
  assert.equal(await rows(a), alone[0]);
});

test('Polars-written Parquet (ARROW:schema says Utf8View) and an empty row group take the kernel path', async () => {
  const n = 3000;
  const df = pl.DataFrame({
    a: Array.from({ length: n }, (_, i) => (i % 7 ? i : null)), s: Array.from({ length: n }, (_, i) => (i % 5 ? `v${i % 30}` : null)),
    f: Array.from({ length: n }, (_, i) => i / 3), b: Array.from({ length: n }, (_, i) => i % 4 === 0),
  });
  const p = join(dir, 'polars.parquet');
  df.writeParquet(p, { compression: 'snappy' });
  assert.is((await same(p, 'polars')).kernel, 1);

  // Neither writer emits an empty row group: put one in front of a real one with hyparquet-writer's parts.
  const writer = new ByteWriter();
  const columnData = [{ name: 'i', data: Int32Array.of(1, 2, 3), type: 'INT32' as const }, { name: 's', data: ['a', null, 'c'], type: 'STRING' as const }];
  const w = new ParquetWriter({ writer, schema: schemaFromColumnData({ columnData }) });
  w.write({ columnData });
  const groups = (w as unknown as { row_groups: Array<{ columns: Array<{ meta_data: object }> }> }).row_groups;
  groups.unshift({ ...groups[0], num_rows: 0n, total_byte_size: 0n, columns: groups[0].columns.map((c) => ({ ...c, meta_data: { ...c.meta_data, num_values: 0n } })) } as never);
  w.write({ columnData });
  w.finish();
  const r = await same(new Uint8Array(writer.getBuffer()), 'empty row group');
  assert.is(r.kernel, 3);
  assert.equal(r.ours.rows.map((x) => x.s), ['a', null, 'c', 'a', null, 'c']);
});

test('corrupt pages (seeded: bytes in page data and headers, ranges cut out, truncation) → FileFormatError naming the file and row group, or a well-formed table', async () => {
  const rand = rng(0x9a4e7);
  const pick = (n: number) => Math.floor(rand() * n);
  for (const codec of ['snappy', 'uncompressed']) {
    const p = join(dir, `fuzz-${codec}.parquet`);
    await duck.run(`COPY (SELECT ${SUPPORTED} FROM range(4500) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 2048, COMPRESSION ${codec})`);
    const good = new Uint8Array(readFileSync(p));
    const pages = pagesOf(good).flat();
    const dataEnd = Math.max(...pages.map((x) => x.end));
    const counts = { ok: 0, group: 0, open: 0 };
    const before = parquetDecodeStats();
    for (let c = 0; c < 40; c++) {
      const bytes = good.slice();
      const pg = pages[pick(pages.length)];
      let how: string;
      let input = bytes;
      switch (c % 4) {
        case 0: { // bytes inside a page's data
          how = 'data';
          for (let k = 1 + pick(4); k > 0; k--) bytes[pg.data + pick(pg.end - pg.data)] = pick(256);
          break;
        }
        case 1: { // bytes of a page header (sizes, counts, encodings)
          how = 'header';
          for (let k = 1 + pick(3); k > 0; k--) bytes[pg.header + pick(pg.data - pg.header)] = pick(256);
          break;
        }
        case 2: { // a range cut out of the data: the footer still points where things were
          how = 'cut';
          const at = 4 + pick(dataEnd - 4), len = 1 + pick(64);
          input = new Uint8Array([...bytes.subarray(0, at), ...bytes.subarray(at + len)]);
          break;
        }
        default: { // a page's payload zeroed from some point on (a torn write)
          how = 'torn';
          const from = pg.data + pick(pg.end - pg.data);
          bytes.fill(0, from, pg.end);
        }
      }
      const name = `fuzz-${codec}-${c}-${how}.parquet`;
      try {
        const ds = await engine.read(input, { format: 'parquet', name });
        const t = await engine.query(ds).collect();
        assert.is(t.numRows, 4500, `${name}: a table that reads must have every row`);
        engine.release(t);
        ds.release();
        counts.ok++;
      } catch (e) {
        const err = (e as Error) instanceof FileFormatError ? (e as FileFormatError) : assert.unreachable(`${name}: ${e}`)!;
        assert.is(err.file, name);
        if (err.batch !== undefined) counts.group++;
        else counts.open++;
      }
    }
    // A truncated file: its footer is gone, so opening it fails.
    const cut = await typedFailure(engine.read(good.subarray(0, good.length >> 1), { format: 'parquet', name: 'half.parquet' }));
    assert.instance(cut, FileFormatError);
    // Page mutations leave the footer readable: every group that decoded went through our kernels.
    const after = parquetDecodeStats();
    assert.is(after.ffi + after.ipc - before.ffi - before.ipc, 0, `groups through parquet-wasm: ${after.fallbacks.slice(-3)}`);
    assert.ok(counts.group > 8, `${codec}: ${JSON.stringify(counts)}`);
    console.log(`  corrupt ${codec}: ${JSON.stringify(counts)}`);
  }
  // The decoders survive all of it.
  assert.is((await same(join(dir, 'fuzz-snappy.parquet'), 'after the fuzz')).kernel, 3);
});

// ---- UTF-8 ---------------------------------------------------------------------------------------

/** A marker (4 bytes no writer produces elsewhere) whose second byte patchUtf8 overwrites. */
const MARK = 'Q\u0001Q\u0002';

/** Every occurrence of MARK's bytes in the file (values, and min/max statistics) gets `bad` at its second byte. */
function patchUtf8(file: Uint8Array, bad: number): number {
  const m = new TextEncoder().encode(MARK);
  let hits = 0;
  for (let i = 0; i + 4 <= file.length; i++) {
    if (file[i] === m[0] && file[i + 1] === m[1] && file[i + 2] === m[2] && file[i + 3] === m[3]) (file[i + 1] = bad), hits++;
  }
  return hits;
}

/** Three row groups of 1000 rows, UNCOMPRESSED (so values can be patched in place): `s` holds MARK at row 1234. */
function utf8File(encoding: 'PLAIN' | 'RLE_DICTIONARY', type: 'STRING' | 'BYTE_ARRAY' = 'STRING'): Uint8Array {
  const n = 3000;
  const s = Array.from({ length: n }, (_, i) => (i === 1234 ? `ab${MARK}cd` : i % 7 === 0 ? null : encoding === 'PLAIN' ? `v${i}-é中😀` : `k${i % 10}ß`));
  const columnData = [
    { name: 'i', data: Int32Array.from({ length: n }, (_, i) => i), type: 'INT32' as const, nullable: false },
    type === 'STRING'
      ? { name: 's', data: s, type: 'STRING' as const, encoding }
      : { name: 's', data: s.map((v) => (v === null ? null : new TextEncoder().encode(v))), type: 'BYTE_ARRAY' as const, encoding },
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData, pageSize: 4000, rowGroupSize: 1000, codec: 'UNCOMPRESSED' }));
}

/** Decodes every group of a file with parquet-pages.ts on this thread (a kernel memory of its own, as a decoder worker has). */
function decodeAll(file: Uint8Array): void {
  const md = parquetMetadata(file.slice().buffer);
  const cols = kernelColumns(md);
  if (typeof cols === 'string') throw new Error(cols);
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const k = instantiateKernel(compileKernel(), memory) as unknown as GroupSource['k'] & { heapBase(): number };
  const src: GroupSource = { k, mem: new KernelMemory(memory), cols, fileSize: file.length, read: (dst, pos) => dst.set(file.subarray(pos, pos + dst.length)) };
  for (const rg of md.row_groups) {
    const r = decodeGroup(src, rg, Math.ceil(k.heapBase() / 64) * 64);
    if ('unsupported' in r) throw new Error(r.unsupported);
  }
}

test('invalid UTF-8 in a string column (plain pages, a dictionary value) → FileFormatError naming file, row group, column and row, on both paths', async () => {
  for (const [encoding, bad, want] of [
    ['PLAIN', 0xff, /column 's': row 234 of the row group is not valid UTF-8 \(an invalid sequence at its byte 3: 61 62 51 ff 51 02 63 64\)/],
    ['PLAIN', 0xc0, /column 's': row 234 of the row group is not valid UTF-8 \(an invalid sequence at its byte 3: 61 62 51 c0/], // overlong lead
    ['RLE_DICTIONARY', 0xed, /column 's' dictionary page: dictionary value \d+ is not valid UTF-8 \(an invalid sequence at its byte 3: 61 62 51 ed 51/],
  ] as const) {
    const file = utf8File(encoding);
    const shapes = pagesOf(file);
    assert.ok(shapes[1].some((p) => (encoding === 'PLAIN' ? p.encoding === 'PLAIN' && p.type !== 'DICTIONARY_PAGE' : p.type === 'DICTIONARY_PAGE')), `${encoding}: page shapes`);
    assert.ok(patchUtf8(file, bad) >= 1);
    const name = `bad-utf8-${encoding}-${bad.toString(16)}.parquet`;
    // The counts are global: they say only what this read did because a failed read lets its reads
    // in flight settle before it rejects (parquet.ts landed) — else a group the previous iteration's
    // parquet-wasm read had in flight landed inside this window now and then.
    const before = parquetDecodeStats();
    const ours = await typedFailure(engine.read(file, { format: 'parquet', name }).then((ds) => datasetRows(engine, ds)));
    assert.is(parquetDecodeStats().ffi + parquetDecodeStats().ipc, before.ffi + before.ipc, 'no group went to parquet-wasm');
    assert.instance(ours, FileFormatError);
    assert.is((ours as FileFormatError).file, name);
    assert.is((ours as FileFormatError).batch, 1, ours.message);
    assert.match(ours.message, want);
    // parquet-wasm rejects the same file: arrow-rs checks UTF-8 too (its async reader traps on it,
    // so the message says the decoder crashed), same error type, file and row group.
    const theirs = await withEnv('AETHERFLOW_PARQUET_KERNEL', '0', () => typedFailure(engine.read(file, { format: 'parquet', name }).then((ds) => datasetRows(engine, ds))));
    assert.is((theirs as FileFormatError).batch, 1, theirs.message);
    // …and so does arrow-rs' synchronous reader, with its own words.
    assert.throws(() => pw.readParquet(file), /non UTF-8|utf-8/i);
  }
});

test('UTF-8: the same bytes in a binary column decode; valid multi-byte text reads the same both ways', async () => {
  // The engine imports no Binary columns, so the binary file is decoded by parquet-pages.ts directly.
  for (const encoding of ['PLAIN', 'RLE_DICTIONARY'] as const) {
    const bin = utf8File(encoding, 'BYTE_ARRAY');
    assert.ok(patchUtf8(bin, 0xff) >= 1);
    decodeAll(bin);
    const str = utf8File(encoding);
    patchUtf8(str, 0xff);
    assert.throws(() => decodeAll(str), (e: unknown) => e instanceof PageError && /not valid UTF-8/.test((e as Error).message));
  }
  for (const encoding of ['PLAIN', 'RLE_DICTIONARY'] as const) {
    const ok = utf8File(encoding);
    const r = await same(ok, `valid utf8 ${encoding}`);
    assert.is(r.kernel, 3);
    assert.is(r.ours.rows[1235].s, encoding === 'PLAIN' ? 'v1235-é中😀' : 'k5ß');
    assert.is(r.ours.rows[1234].s, `ab${MARK}cd`);
  }
  // DuckDB, snappy: multi-byte values on plain pages (unique) and in a dictionary, nulls between.
  const p = join(dir, 'duck-utf8.parquet');
  await duck.run(`COPY (SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'ünïcödé-' || i || '-中文-😀' END AS u, ['ä', 'ß', '€', '𝄞', 'x'][1 + i % 5] AS d FROM range(5000) t(i)) TO '${p}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  const r = await same(p, 'duckdb utf8');
  assert.is(r.kernel, 3);
  assert.is(r.ours.rows[4003].u, 'ünïcödé-4003-中文-😀');
  assert.is(r.ours.rows[4003].d, '𝄞');
});

test('a group without rows lays out every buffer inside the memory it grew (string columns take two slots)', () => {
  const n = 4;
  const columnData = Array.from({ length: n }, (_, i) => ({ name: `s${i}`, data: ['a', 'b'], type: 'STRING' as const }));
  const file = new Uint8Array(parquetWriteBuffer({ columnData, codec: 'UNCOMPRESSED' }));
  const md = parquetMetadata(file.slice().buffer);
  const cols = kernelColumns(md);
  if (typeof cols === 'string') throw new Error(cols);
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const k = instantiateKernel(compileKernel(), memory) as unknown as GroupSource['k'] & { heapBase(): number };
  const mem = new KernelMemory(memory);
  const src: GroupSource = { k, mem, cols, fileSize: file.length, read: (dst, pos) => dst.set(file.subarray(pos, pos + dst.length)) };
  // The base close to the end of the memory: what the empty group reserves is all there is.
  const base = mem.size - 64 * (n + 1);
  new Uint8Array(memory.buffer).fill(0xee, base);
  const r = decodeGroup(src, { ...md.row_groups[0], num_rows: 0n }, base);
  if ('unsupported' in r) throw new Error(r.unsupported);
  assert.is(r.plan.rows, 0);
  assert.ok(r.at + r.plan.total <= mem.size, `block [${r.at}, ${r.at + r.plan.total}) inside the ${mem.size}-byte memory`);
  for (const c of r.plan.cols) assert.is(new DataView(memory.buffer).getInt32(r.at + c.offsets, true), 0, 'utf8 offsets [0]');
});

// ---- found by scripts/fuzz-parquet.ts --------------------------------------------------------------

test('an RLE run whose value does not fit its bit width (a definition level of 0x9e) → FileFormatError; arrow-rs read it as present, we as null', async () => {
  // hyparquet-writer, v2 pages: the definition levels sit uncompressed in front of the values, and
  // 40 present rows make their first run RLE: a header byte (40 << 1), then the level's one byte.
  const n = 200;
  const columnData = [{ name: 'k', data: Array.from({ length: n }, (_, i) => (i < 40 || i % 2 ? i : null)), type: 'INT32' as const }];
  for (const codec of ['SNAPPY', 'UNCOMPRESSED'] as const) {
    const file = new Uint8Array(parquetWriteBuffer({ columnData, codec }));
    const page = pagesOf(file)[0].find((p) => p.type === 'DATA_PAGE_V2')!;
    assert.equal([file[page.data], file[page.data + 1]], [40 << 1, 1], 'first run: 40 × level 1');
    const name = `level-9e-${codec}.parquet`;
    // Unpatched, both paths agree.
    assert.is((await same(file, name)).kernel, 1);
    file[page.data + 1] = 0x9e;
    const err = await typedFailure(engine.read(file, { format: 'parquet', name }).then((ds) => datasetRows(engine, ds)));
    assert.instance(err, FileFormatError);
    assert.is((err as FileFormatError).batch, 0);
    assert.match(err.message, /column 'k'.*definition levels cut short or malformed/);
    // arrow-rs takes any non-zero level as "present": the same bytes read there, row 1 = 1.
    const theirs = await withEnv('AETHERFLOW_PARQUET_KERNEL', '0', async () => datasetRows(engine, await engine.read(file, { format: 'parquet', name })));
    assert.equal([theirs.length, theirs[1].k], [n, 1]);
  }
});

test('a footer whose num_rows is not its row groups\' sum → FileFormatError at open on both paths (arrow-rs decoded the group as 0 rows, we as its 1234)', async () => {
  const n = 1234;
  const file = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'i', data: Int32Array.from({ length: n }, (_, i) => i), type: 'INT32' as const }] }));
  assert.is((await same(file, 'num_rows ok')).ours.rows.length, n);
  // FileMetaData.num_rows (field 3, i64: header 0x16, then zigzag 2468 = a4 13) comes before the
  // row groups, whose own num_rows (and num_values) repeat the bytes: the first match is the file's.
  const len = new DataView(file.buffer).getUint32(file.length - 8, true), start = file.length - 8 - len;
  const footer = file.subarray(start, file.length - 8);
  const at = footer.findIndex((_, i) => footer[i] === 0x16 && footer[i + 1] === 0xa4 && footer[i + 2] === 0x13);
  assert.ok(at > 0);
  for (const [rows, varint] of [[2n ** 62n, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]], [1235n, [0xa6, 0x13]]] as const) {
    const patched = Uint8Array.from([...footer.subarray(0, at + 1), ...varint, ...footer.subarray(at + 3)]);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, patched.length, true);
    tail.set(file.subarray(file.length - 4), 4);
    const bad = Uint8Array.from([...file.subarray(0, start), ...patched, ...tail]);
    const name = `num-rows-${rows}.parquet`;
    for (const kernel of ['1', '0']) {
      const err = await withEnv('AETHERFLOW_PARQUET_KERNEL', kernel, () => typedFailure(engine.read(bad, { format: 'parquet', name }).then((ds) => datasetRows(engine, ds))));
      assert.instance(err, FileFormatError);
      assert.match(err.message, new RegExp(`${name}: not a readable Parquet file: the footer says ${rows} rows, its row groups hold ${n}`));
    }
  }
});

test('a v2 page whose num_nulls is above its definition levels\' → FileFormatError on both paths (arrow-rs failed, our path ignored num_nulls); below, both read by the levels', async () => {
  const n = 100;
  const columnData = [{ name: 'k', data: Array.from({ length: n }, (_, i) => (i % 10 ? i : null)), type: 'INT32' as const }];
  for (const codec of ['UNCOMPRESSED', 'SNAPPY'] as const) {
    const file = new Uint8Array(parquetWriteBuffer({ columnData, codec }));
    assert.is((await same(file, `v2 ${codec}`)).kernel, 1);
    const page = pagesOf(file)[0].find((p) => p.type === 'DATA_PAGE_V2')!;
    // The header (thrift compact): type, sizes, then the v2 struct: num_values (15 c8 01 = 100),
    // num_nulls (15 14 = zigzag 10).
    const h = file.subarray(page.header, page.data);
    const nulls = page.header + h.findIndex((_, i) => h[i] === 0x15 && h[i + 1] === 0xc8 && h[i + 2] === 0x01 && h[i + 3] === 0x15) + 4;
    assert.is(file[nulls], 20, 'num_nulls 10, zigzag');
    for (const v of [9, 0]) {
      const bad = file.slice();
      bad[nulls] = 2 * v;
      assert.equal(await same(bad, `${v} nulls`), await same(file, 'as written'), `num_nulls ${v}`);
    }
    for (const v of [11, 50]) {
      const bad = file.slice();
      bad[nulls] = 2 * v;
      const name = `v2-nulls-${v}.parquet`;
      const err = await typedFailure(engine.read(bad, { format: 'parquet', name }).then((ds) => datasetRows(engine, ds)));
      assert.instance(err, FileFormatError);
      assert.match(err.message, new RegExp(`${name}: corrupt row group: column 'k' page 0: the header says ${v} nulls, the definition levels 10`));
      const theirs = await withEnv('AETHERFLOW_PARQUET_KERNEL', '0', () => typedFailure(engine.read(bad, { format: 'parquet', name }).then((ds) => datasetRows(engine, ds))));
      assert.instance(theirs, FileFormatError);
    }
  }
});

test.run();
