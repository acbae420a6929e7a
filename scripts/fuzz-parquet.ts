/**
 * Fuzz campaign on the Parquet read path (outside CI; CI has the ~80 seeded cases of
 * test/engine/io-parquet-kernel.test.ts).
 *
 *   node --import tsx scripts/fuzz-parquet.ts --cases 20000 --seed 1 [--debug 0.25] [--timeout 10000] [--jobs 1] [--out DIR]
 *   node --import tsx scripts/fuzz-parquet.ts --seed 1 --repro 1234 [--out DIR]   # one case, verbose, bytes saved
 *
 * Seeds: small valid files (≤ 200 KB) from DuckDB (snappy / uncompressed; nulls, strings, dictionary and
 * plain pages, small row groups), arrow-rs (parquet-wasm's writer, the engine's own; v1 / v2 pages,
 * 2 KB pages, a dictionary that falls back to plain), hyparquet-writer (v2 pages, snappy / uncompressed)
 * and Polars (snappy / uncompressed). Case k is a pure function of (seed, k): its seed file is k mod the
 * number of seeds and its mutation comes from mulberry32(seed ^ k): bytes of a page's data, of a page
 * header, of the footer; an integer or length of a page header or the footer (thrift compact varints)
 * set to a huge / negative / off-by-one value; truncation (with and without the footer put back); a
 * chunk of another seed file spliced over or into the file; a zeroed range.
 *
 * Oracle per case: engine.read of the bytes (our page kernels) must settle within --timeout (a hang is
 * a bug), must not kill the process (a crash is a bug), and must either throw an AetherError or return
 * a table. A typed error whose message shows a wasm trap, a failed kernel assertion (debug build) or a
 * JS internal error is a bug too ('trap'). When ours returns a table the same bytes are read with
 * AETHERFLOW_PARQUET_KERNEL=0 (parquet-wasm): a table there must be equal (types, values, nulls); an
 * error there is recorded ('ours-only') with how far our table is from the unmutated file's.
 *
 * Layout: the parent builds the seed files into --out, then runs the cases in child processes (one by
 * default: the machine has 2 cores and each child has up to 2 decoder workers), a block of release
 * cases then a block with AETHERFLOW_DEBUG_KERNEL=1 (--debug is its share); --jobs 2 runs two children. A child prints
 * `S <case> <phase>` before each read and `D <case> <json>` after the case; the parent kills a child
 * whose read has not settled after --timeout ('hang'), records a child that dies mid-case ('crash'),
 * and goes on with the next case in a new child. Results: <out>/results.jsonl and a summary table.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, appendFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { rng } from '../test/helpers/rng.js';
import { pagesOf, type PageAt } from '../test/helpers/parquet-pages.js';

// ---- arguments ---------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const arg = (name: string, def?: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const SEED = Number(arg('seed', '1'));
const CASES = Number(arg('cases', '1000'));
const DEBUG_SHARE = Number(arg('debug', '0.25'));
const TIMEOUT = Number(arg('timeout', '10000'));
const JOBS = Math.max(1, Number(arg('jobs', '1')));
const OUT = arg('out', join(tmpdir(), `aetherflow-fuzz-parquet-${SEED}`))!;
const SEEDS = join(OUT, 'seeds');

// ---- mutations (shared by parent, child and --repro) -------------------------------------------

interface SeedInfo { name: string; bytes: Uint8Array; pages: PageAt[]; footer: number; footerLen: number; rows: number }

/**
 * A thrift compact-protocol walk that records every varint (integers, binary lengths, list sizes):
 * where it starts and how long it is. Stops quietly at anything malformed (it only aims mutations).
 */
function varints(b: Uint8Array, start: number, end: number): Array<{ at: number; len: number; zigzag: boolean }> {
  const out: Array<{ at: number; len: number; zigzag: boolean }> = [];
  let p = start;
  const varint = (zigzag: boolean): number => {
    const at = p;
    let v = 0, shift = 0;
    while (p < end && shift < 70) {
      const x = b[p++];
      if (shift < 49) v += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(x & 0x80)) break;
    }
    out.push({ at, len: p - at, zigzag });
    return v;
  };
  const value = (type: number, depth: number): void => {
    if (p >= end || depth > 16) throw new Error('end');
    switch (type) {
      case 1: case 2: return; // bool in a field header
      case 3: p++; return;
      case 4: case 5: case 6: varint(true); return;
      case 7: p += 8; return;
      case 8: { const n = varint(false); p += n; return; }
      case 9: case 10: {
        const h = b[p++];
        let n = h >> 4;
        if (n === 15) n = varint(false);
        for (let i = 0; i < n && i < 100000; i++) (h & 15) === 1 || (h & 15) === 2 ? p++ : value(h & 15, depth + 1);
        return;
      }
      case 11: {
        const n = varint(false);
        if (n === 0) return;
        const kv = b[p++];
        for (let i = 0; i < n && i < 100000; i++) (value(kv >> 4, depth + 1), value(kv & 15, depth + 1));
        return;
      }
      case 12: {
        for (;;) {
          if (p >= end) throw new Error('end');
          const h = b[p++];
          if (h === 0) return;
          if (!(h >> 4)) varint(true);
          value(h & 15, depth + 1);
        }
      }
      default: throw new Error('type');
    }
  };
  try {
    value(12, 0);
  } catch {
    // a partial walk is enough to aim at
  }
  return out.filter((v) => v.at + v.len <= end);
}

function encodeVarint(v: bigint): number[] {
  const out: number[] = [];
  let x = v;
  do {
    const byte = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x ? byte | 0x80 : byte);
  } while (x);
  return out;
}
const zigzag = (v: bigint): bigint => (v >= 0n ? v << 1n : (-v << 1n) - 1n);

function readVarint(b: Uint8Array, at: number, len: number): bigint {
  let v = 0n;
  for (let i = 0; i < len; i++) v |= BigInt(b[at + i] & 0x7f) << BigInt(7 * i);
  return v;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

/** The footer of `body` (the file minus its last 8 bytes) rewritten: a footer of new length. */
function withFooter(head: Uint8Array, footer: Uint8Array): Uint8Array {
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(0, footer.length, true);
  tail.set([0x50, 0x41, 0x52, 0x31], 4);
  return concat(head, footer, tail);
}

export const KINDS = ['data', 'header', 'footer', 'header-int', 'footer-int', 'truncate', 'truncate-keep-footer', 'splice', 'zero', 'data-u32'] as const;

/** Case k's bytes and what was done to them. */
function mutate(seeds: SeedInfo[], seed: number, k: number): { file: SeedInfo; bytes: Uint8Array; how: string } {
  const file = seeds[k % seeds.length];
  const rand = rng((seed * 0x9e3779b1) ^ (k * 0x85ebca6b) ^ 0x5bd1e995);
  const pick = (n: number) => Math.floor(rand() * n);
  const kind = KINDS[pick(KINDS.length)];
  const good = file.bytes;
  const b = good.slice();
  const pg = file.pages[pick(file.pages.length)];
  const footer = good.subarray(file.footer, file.footer + file.footerLen);
  const hugeInt = (old: bigint): bigint => [2n ** 31n - 1n, -1n, -(2n ** 31n), 0n, old + 1n, old - 1n, old * 2n + 1n, 2n ** 62n, 2n ** 32n + old, 1n][pick(10)];
  const hugeLen = (old: bigint): bigint => [2n ** 31n - 1n, 2n ** 32n - 1n, 0n, old + 1n, old - 1n, old * 16n + 7n, 2n ** 40n][pick(7)];
  const setVarint = (bytes: Uint8Array, start: number, end: number): { bytes: Uint8Array; how: string } | undefined => {
    const vs = varints(bytes, start, end);
    if (!vs.length) return undefined;
    const v = vs[pick(vs.length)];
    const oldRaw = readVarint(bytes, v.at, v.len);
    const old = v.zigzag ? ((oldRaw & 1n) ? -((oldRaw + 1n) >> 1n) : oldRaw >> 1n) : oldRaw;
    const nv = v.zigzag ? hugeInt(old) : hugeLen(old);
    const enc = Uint8Array.from(encodeVarint(v.zigzag ? zigzag(nv) : nv < 0n ? 0n : nv));
    return { bytes: concat(bytes.subarray(0, v.at), enc, bytes.subarray(v.at + v.len)), how: `varint@${v.at - start} ${old}→${nv}` };
  };
  switch (kind) {
    case 'data': {
      const n = 1 + pick(4);
      for (let i = 0; i < n && pg.end > pg.data; i++) {
        const at = pg.data + pick(pg.end - pg.data);
        b[at] = rand() < 0.5 ? pick(256) : b[at] ^ (1 << pick(8));
      }
      return { file, bytes: b, how: `data ×${n} page@${pg.header}` };
    }
    case 'header': {
      const n = 1 + pick(3);
      for (let i = 0; i < n; i++) b[pg.header + pick(pg.data - pg.header)] = pick(256);
      return { file, bytes: b, how: `header ×${n} page@${pg.header}` };
    }
    case 'footer': {
      const n = 1 + pick(4);
      for (let i = 0; i < n; i++) {
        const at = file.footer + pick(file.footerLen);
        b[at] = rand() < 0.5 ? pick(256) : b[at] ^ (1 << pick(8));
      }
      return { file, bytes: b, how: `footer ×${n}` };
    }
    case 'header-int': {
      // A page header's integers: sizes, counts, encodings (the page moves when the varint grows).
      const r = setVarint(good.subarray(0, pg.data), pg.header, pg.data);
      if (!r) return { file, bytes: b, how: 'header-int (none)' };
      return { file, bytes: concat(r.bytes, good.subarray(pg.data)), how: `header-int page@${pg.header} ${r.how}` };
    }
    case 'footer-int': {
      // The footer's integers: offsets, sizes, num_values, num_rows, types, codecs, encodings.
      const r = setVarint(footer, 0, footer.length);
      if (!r) return { file, bytes: b, how: 'footer-int (none)' };
      return { file, bytes: withFooter(good.subarray(0, file.footer), r.bytes), how: `footer-int ${r.how}` };
    }
    case 'truncate': {
      const at = pick(good.length);
      return { file, bytes: good.slice(0, at), how: `truncate@${at}` };
    }
    case 'truncate-keep-footer': {
      // The data cut short, the footer put back: chunks point past the end.
      const at = 4 + pick(file.footer - 4);
      return { file, bytes: withFooter(good.subarray(0, at), footer), how: `truncate-keep-footer@${at}` };
    }
    case 'splice': {
      const other = seeds[pick(seeds.length)].bytes;
      const len = 1 + pick(256), from = pick(Math.max(1, other.length - len));
      const chunk = other.subarray(from, from + len);
      const at = rand() < 0.7 ? pg.header + pick(Math.max(1, pg.end - pg.header)) : 4 + pick(good.length - 12);
      if (rand() < 0.5) {
        b.set(chunk.subarray(0, Math.max(0, good.length - 8 - at)), at);
        return { file, bytes: b, how: `splice-over@${at} len ${len}` };
      }
      return { file, bytes: concat(good.subarray(0, at), chunk, good.subarray(at)), how: `splice-in@${at} len ${len}` };
    }
    case 'zero': {
      const from = pg.header + pick(pg.end - pg.header), to = Math.min(pg.end, from + 1 + pick(512));
      b.fill(rand() < 0.5 ? 0 : 0xff, from, to);
      return { file, bytes: b, how: `fill@${from}..${to}` };
    }
    case 'data-u32': {
      // A 4-byte little-endian length / value in page data (PLAIN byte-array lengths, RLE run headers) made huge.
      if (pg.end - pg.data < 4) return { file, bytes: b, how: 'data-u32 (small page)' };
      const at = pg.data + pick(pg.end - pg.data - 3);
      const v = [0xffffffff, 0x7fffffff, 0x80000000, 0x10000, b[at] + 1][pick(5)];
      new DataView(b.buffer).setUint32(at, v >>> 0, true);
      return { file, bytes: b, how: `data-u32@${at}=${v}` };
    }
  }
}

async function loadSeeds(): Promise<SeedInfo[]> {
  const { parquetMetadata } = await import('hyparquet');
  return readdirSync(SEEDS).filter((f) => f.endsWith('.parquet')).sort().map((name) => {
    const bytes = new Uint8Array(readFileSync(join(SEEDS, name)));
    const md = parquetMetadata(bytes.slice().buffer);
    const pages = pagesOf(bytes).flat();
    const footerLen = new DataView(bytes.buffer).getUint32(bytes.length - 8, true);
    return { name, bytes, pages, footer: bytes.length - 8 - footerLen, footerLen, rows: Number(md.num_rows) };
  });
}

// ---- seed files (parent) -----------------------------------------------------------------------

async function buildSeeds(): Promise<void> {
  mkdirSync(SEEDS, { recursive: true });
  if (readdirSync(SEEDS).some((f) => f.endsWith('.parquet'))) return;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  // Every type the kernel path takes, nulls, low-cardinality strings (dictionary pages) and unique
  // ones (plain pages), small row groups so a file holds several.
  const cols = `CASE WHEN i % 5 = 0 THEN NULL ELSE i % 3 = 0 END AS b, i::INTEGER AS i32, (i * 7)::UINTEGER AS u32,
    CASE WHEN i % 11 = 0 THEN NULL ELSE i * 1000000007 END::BIGINT AS i64, (i * 3)::UBIGINT AS u64, (i / 3)::FLOAT AS f32,
    CASE WHEN i % 7 = 0 THEN NULL ELSE i / 4 END::DOUBLE AS f64, DATE '2000-01-01' + (i % 400)::INTEGER AS d,
    TIMESTAMP '2020-01-01' + to_seconds(i * 37) AS ts, (TIMESTAMP '2020-01-01' + to_seconds(i))::TIMESTAMPTZ AS tstz,
    (i * 1.25 - 100)::DECIMAL(9, 2) AS dec9, CASE WHEN i % 13 = 0 THEN NULL ELSE (i * -7.125)::DECIMAL(18, 3) END AS dec18,
    CASE WHEN i % 6 = 0 THEN NULL WHEN i % 6 = 1 THEN '' ELSE ['A', 'N', 'R', 'été'][1 + i % 4] END AS flag,
    CASE WHEN i % 9 = 0 THEN NULL ELSE repeat('x', i % 40) || i END AS s, ['a','b'][1 + i % 2]::ENUM('a', 'b') AS e,
    NULL::INTEGER AS nothing`;
  for (const codec of ['snappy', 'uncompressed']) {
    await duck.run(`COPY (SELECT ${cols} FROM range(2200) t(i)) TO '${join(SEEDS, `duckdb-${codec}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE 1000, COMPRESSION ${codec})`);
  }
  // Dictionary-heavy: few distinct strings and ints, bigger groups.
  await duck.run(`COPY (SELECT ['alpha','beta','gamma','delta'][1 + i % 4] AS k, (i % 10)::INTEGER AS c, CASE WHEN i % 3 = 0 THEN NULL ELSE ['x','yy','zzz'][1 + i % 3] END AS n
    FROM range(60000) t(i)) TO '${join(SEEDS, 'duckdb-dict.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 20000, COMPRESSION snappy)`);

  const aa = await import('apache-arrow');
  const pw = await import('parquet-wasm');
  const table = (n: number, names: string[]) => {
    const all: Record<string, [InstanceType<typeof aa.DataType>, boolean, unknown[]]> = {
      id: [new aa.Int64(), false, Array.from({ length: n }, (_, i) => BigInt(i * 3))],
      k: [new aa.Int32(), true, Array.from({ length: n }, (_, i) => (i % 17 === 0 ? null : i % 50))],
      s: [new aa.Utf8(), true, Array.from({ length: n }, (_, i) => (i % 13 === 0 ? null : i < n / 2 ? `cat${i % 20}` : `unique-${i}-${'y'.repeat(i % 30)}`))],
      f: [new aa.Float64(), true, Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : i / 8))],
      b: [new aa.Bool(), false, Array.from({ length: n }, (_, i) => i % 3 === 0)],
    };
    const fields = names.map((c) => new aa.Field(c, all[c][0], all[c][1]));
    const children = names.map((c) => aa.vectorFromArray(all[c][2], all[c][0]).data[0]);
    return new aa.Table([new aa.RecordBatch(new aa.Schema(fields), aa.makeData({ type: new aa.Struct(fields), length: n, nullCount: 0, children }))]);
  };
  const arrowRs = (t: InstanceType<typeof aa.Table>, version: number, compression: number) => {
    const props = new pw.WriterPropertiesBuilder().setCompression(compression).setWriterVersion(version)
      .setDataPageSizeLimit(2048).setDictionaryPageSizeLimit(4096).setWriteBatchSize(256).setMaxRowGroupSize(3000).build();
    return pw.writeParquet(pw.Table.fromIPCStream(aa.tableToIPC(t, 'stream')), props);
  };
  writeFileSync(join(SEEDS, 'arrowrs-v1-snappy.parquet'), arrowRs(table(6000, ['id', 'k', 's', 'f', 'b']), pw.WriterVersion.V1, pw.Compression.SNAPPY));
  writeFileSync(join(SEEDS, 'arrowrs-v1-uncompressed.parquet'), arrowRs(table(6000, ['id', 'k', 's', 'f', 'b']), pw.WriterVersion.V1, pw.Compression.UNCOMPRESSED));
  writeFileSync(join(SEEDS, 'arrowrs-v2-snappy.parquet'), arrowRs(table(6000, ['k', 'f', 'b']), pw.WriterVersion.V2, pw.Compression.SNAPPY));

  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const n = 3000;
  const columnData = [
    { name: 'i', data: Int32Array.from({ length: n }, (_, i) => i * 3), type: 'INT32' as const, nullable: false },
    { name: 'j', data: Array.from({ length: n }, (_, i) => (i % 7 ? BigInt(i % 40) : null)), type: 'INT64' as const },
    { name: 'b', data: Array.from({ length: n }, (_, i) => (i % 9 ? i % 3 === 0 : null)), type: 'BOOLEAN' as const },
    { name: 's', data: Array.from({ length: n }, (_, i) => (i % 5 ? `s${i % 100}` : null)), type: 'STRING' as const },
    { name: 'p', data: Array.from({ length: n }, (_, i) => (i % 4 ? `plain-${i}` : null)), type: 'STRING' as const, encoding: 'PLAIN' as const },
    { name: 'd', data: Float64Array.from({ length: n }, (_, i) => i / 7), type: 'DOUBLE' as const },
  ];
  writeFileSync(join(SEEDS, 'hyparquet-snappy.parquet'), new Uint8Array(parquetWriteBuffer({ columnData, pageSize: 1000, rowGroupSize: 1200 })));
  writeFileSync(join(SEEDS, 'hyparquet-uncompressed.parquet'), new Uint8Array(parquetWriteBuffer({ columnData, pageSize: 1000, rowGroupSize: 1200, codec: 'UNCOMPRESSED' })));

  const pl = (await import('nodejs-polars')).default;
  const m = 4000;
  const df = pl.DataFrame({
    a: Array.from({ length: m }, (_, i) => (i % 7 ? i : null)), s: Array.from({ length: m }, (_, i) => (i % 5 ? `v${i % 30}` : null)),
    u: Array.from({ length: m }, (_, i) => `row-${i}`), f: Array.from({ length: m }, (_, i) => i / 3), b: Array.from({ length: m }, (_, i) => i % 4 === 0),
  });
  df.writeParquet(join(SEEDS, 'polars-snappy.parquet'), { compression: 'snappy' });
  df.writeParquet(join(SEEDS, 'polars-uncompressed.parquet'), { compression: 'uncompressed' });
  for (const f of readdirSync(SEEDS)) {
    const size = readFileSync(join(SEEDS, f)).length;
    if (size > 200 * 1024) throw new Error(`seed ${f} is ${size} bytes (> 200 KB)`);
  }
}

// ---- one case (child and --repro) --------------------------------------------------------------

type Outcome = 'error' | 'equal' | 'mismatch' | 'ours-only' | 'trap' | 'untyped' | 'hang' | 'crash';
interface Result {
  k: number; seed: string; how: string; debug: boolean; outcome: Outcome;
  /** Groups decoded by our kernels / by parquet-wasm before the read ended. */
  kernel: number; wasm: number;
  detail?: string; wasmErr?: string;
  /** Cells that differ (mismatch: from parquet-wasm's table; ours-only: from the unmutated file's). */
  diff?: number;
  /** For 'error': at open (footer, schema), in a group (our checks or parquet-wasm's), or a parquet-wasm panic. */
  errorKind?: 'open' | 'group' | 'wasm-panic';
}

/** A typed error whose message shows a wasm trap, a kernel assertion or a JS internal error (not a decision of our checks). */
const TRAPPY = /out of bounds|unreachable|RuntimeError|at assembly\/|KernelAbort|Maximum call stack|is not a function|Cannot read prop|of undefined|of null|Invalid typed array length|Array buffer allocation failed|is not defined|Invalid array length|BigInt/;

async function childMain(from: number, to: number): Promise<void> {
  const { Engine } = await import('../src/engine/engine.js');
  const { AetherError } = await import('../src/errors.js');
  const { parquetDecodeStats } = await import('../src/engine/io/parquet.js');
  const seeds = await loadSeeds();
  const engine = await Engine.start({ memoryLimit: 512 << 20 });
  const debug = process.env.AETHERFLOW_DEBUG_KERNEL === '1';
  const repro = arg('repro') !== undefined;

  type Tbl = Awaited<ReturnType<ReturnType<typeof engine.query>['collect']>>;
  const read = async (bytes: Uint8Array, name: string, kernel: boolean): Promise<{ t?: Tbl; e?: unknown; kernel: number; wasm: number }> => {
    const before = parquetDecodeStats();
    const old = process.env.AETHERFLOW_PARQUET_KERNEL;
    if (!kernel) process.env.AETHERFLOW_PARQUET_KERNEL = '0';
    try {
      const ds = await engine.read(bytes, { format: 'parquet', name });
      try {
        const t = await engine.query(ds).collect();
        const after = parquetDecodeStats();
        return { t, kernel: after.kernel - before.kernel, wasm: after.ffi + after.ipc - before.ffi - before.ipc };
      } finally {
        ds.release();
      }
    } catch (e) {
      const after = parquetDecodeStats();
      return { e, kernel: after.kernel - before.kernel, wasm: after.ffi + after.ipc - before.ffi - before.ipc };
    } finally {
      if (old === undefined) delete process.env.AETHERFLOW_PARQUET_KERNEL;
      else process.env.AETHERFLOW_PARQUET_KERNEL = old;
    }
  };
  const same = (x: unknown, y: unknown): boolean => {
    if (x === y) return true;
    if (typeof x === 'number' && typeof y === 'number') return Number.isNaN(x) && Number.isNaN(y);
    if (x instanceof Uint8Array && y instanceof Uint8Array) return x.length === y.length && x.every((v, i) => v === y[i]);
    return false;
  };
  /** Where two tables differ first (undefined: equal), and how many cells differ. */
  const compare = (a: Tbl, b: Tbl): { first?: string; cells: number } => {
    const fa = a.schema.fields.map((f) => `${f.name}:${f.type}`).join(), fb = b.schema.fields.map((f) => `${f.name}:${f.type}`).join();
    if (fa !== fb) return { first: `types ${fa} vs ${fb}`, cells: Infinity };
    if (a.numRows !== b.numRows) return { first: `rows ${a.numRows} vs ${b.numRows}`, cells: Infinity };
    let cells = 0, first: string | undefined;
    // apache-arrow's get() throws on some values (a timestamp outside ±2^53 after its unit
    // conversion): compare the stored value then.
    type Vec = NonNullable<ReturnType<Tbl['getChildAt']>>;
    const get = (v: Vec, i: number): unknown => {
      try {
        return v.get(i);
      } catch {
        let j = i;
        for (const d of v.data) {
          if (j < d.length) return d.getValid(j) ? `raw:${Array.from((d.values as ArrayLike<unknown>) as unknown[]).slice((d.offset + j) * d.stride, (d.offset + j + 1) * d.stride).join(',')}` : null;
          j -= d.length;
        }
        return undefined;
      }
    };
    for (let c = 0; c < a.numCols; c++) {
      const va = a.getChildAt(c)!, vb = b.getChildAt(c)!;
      for (let i = 0; i < a.numRows; i++) {
        const x = get(va, i), y = get(vb, i);
        if (!same(x, y)) {
          cells++;
          first ??= `column '${a.schema.fields[c].name}' row ${i}: ${String(x)} vs ${String(y)}`;
        }
      }
    }
    return { first, cells };
  };
  const msg = (e: unknown) => String((e as Error)?.message ?? e).slice(0, 300);

  // The unmutated files, read by our path: the reference for the plausibility of 'ours-only' tables.
  const clean = new Map<string, Tbl>();
  for (const s of seeds) {
    const r = await read(s.bytes, s.name, true);
    if (!r.t || r.kernel === 0) throw new Error(`seed ${s.name} does not read through the kernels: ${msg(r.e)}`);
    clean.set(s.name, r.t);
  }

  for (let k = from; k < to; k++) {
    const { file, bytes, how } = mutate(seeds, SEED, k);
    const name = `case-${k}.parquet`;
    if (repro) {
      writeFileSync(join(OUT, name), bytes);
      console.error(`case ${k}: ${file.name} ${how} → ${join(OUT, name)}`);
    }
    process.stdout.write(`S ${k} ours\n`);
    const ours = await read(bytes, name, true);
    const res: Result = { k, seed: file.name, how, debug, outcome: 'error', kernel: ours.kernel, wasm: ours.wasm };
    if (ours.e !== undefined) {
      if (!(ours.e instanceof AetherError)) (res.outcome = 'untyped'), (res.detail = `${(ours.e as Error)?.constructor?.name}: ${msg(ours.e)}`);
      // 'decoder crashed' is an uncaught trap in a decoder worker: a parquet-wasm panic (a group
      // our kernels left to it, or its open). A trap in our kernels is caught by the worker and
      // replied as text. 'unreadable page header' wraps whatever hyparquet's header parser threw.
      else if (TRAPPY.test(msg(ours.e)) && !/decoder crashed|unreadable page header/.test(msg(ours.e))) (res.outcome = 'trap'), (res.detail = msg(ours.e));
      else {
        res.detail = msg(ours.e);
        const e = ours.e as { batch?: number };
        res.errorKind = /decoder crashed/.test(res.detail) ? 'wasm-panic' : e.batch === undefined ? 'open' : 'group';
      }
    } else {
      process.stdout.write(`S ${k} wasm\n`);
      const theirs = await read(bytes, name, false);
      if (theirs.t) {
        const d = compare(ours.t!, theirs.t);
        if (d.first === undefined) res.outcome = 'equal';
        else (res.outcome = 'mismatch'), (res.detail = d.first), (res.diff = d.cells);
        engine.release(theirs.t);
      } else {
        res.outcome = 'ours-only';
        res.wasmErr = msg(theirs.e);
        const d = compare(ours.t!, clean.get(file.name)!);
        res.diff = d.cells;
        res.detail = d.first ?? 'same as the unmutated file';
      }
      engine.release(ours.t!);
    }
    if (repro) console.error(JSON.stringify(res, null, 1));
    process.stdout.write(`D ${k} ${JSON.stringify(res)}\n`);
  }
  for (const t of clean.values()) engine.release(t);
  await engine.close?.();
  process.exit(0);
}

// ---- parent ------------------------------------------------------------------------------------

/** Runs cases [from, to) in children, one at a time, restarting after a hang or a crash. */
async function runBlock(from: number, to: number, debug: boolean, seeds: SeedInfo[], record: (r: Result) => void): Promise<void> {
  let next = from;
  while (next < to) {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--from', String(next), '--to', String(to), '--seed', String(SEED), '--out', OUT], {
      env: { ...process.env, AETHERFLOW_DEBUG_KERNEL: debug ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let current = -1, stderr = '', timer: NodeJS.Timeout | undefined, hung = false;
    child.stderr.on('data', (b) => (stderr = (stderr + b).slice(-4000)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.startsWith('S ')) {
        current = Number(line.split(' ')[1]);
        clearTimeout(timer);
        timer = setTimeout(() => {
          hung = true;
          child.kill('SIGKILL');
        }, TIMEOUT);
      } else if (line.startsWith('D ')) {
        clearTimeout(timer);
        const r = JSON.parse(line.slice(line.indexOf('{'))) as Result;
        record(r);
        next = r.k + 1;
        current = -1;
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    if (current >= 0) {
      const { file, how } = mutate(seeds, SEED, current);
      record({ k: current, seed: file.name, how, debug, outcome: hung ? 'hang' : 'crash', kernel: 0, wasm: 0, detail: hung ? `no answer in ${TIMEOUT} ms` : `exit ${code}: ${stderr.slice(-1500)}` });
      next = current + 1;
    } else if (next < to) {
      // died between cases (seed loading, engine start): not a case's fault, but do not loop forever
      throw new Error(`child exited (code ${code}) outside a case: ${stderr}`);
    }
  }
}

async function parentMain(): Promise<void> {
  await buildSeeds();
  const seeds = await loadSeeds();
  const results = join(OUT, 'results.jsonl');
  if (existsSync(results)) rmSync(results);
  const debugCases = Math.round(CASES * DEBUG_SHARE);
  const tally = new Map<string, Record<string, number>>();
  const interesting: Result[] = [];
  const t0 = Date.now();
  let done = 0;
  const record = (r: Result) => {
    appendFileSync(results, JSON.stringify(r) + '\n');
    const row = tally.get(r.seed) ?? {};
    row[r.outcome] = (row[r.outcome] ?? 0) + 1;
    row.cases = (row.cases ?? 0) + 1;
    if (r.kernel > 0) row.kernelGroups = (row.kernelGroups ?? 0) + 1;
    if (r.errorKind) row[r.errorKind] = (row[r.errorKind] ?? 0) + 1;
    tally.set(r.seed, row);
    if (!['error', 'equal'].includes(r.outcome)) {
      interesting.push(r);
      console.log(`  ${r.outcome} case ${r.k} (${r.seed}, ${r.how}${r.debug ? ', debug' : ''}): ${r.detail}${r.wasmErr ? ` | parquet-wasm: ${r.wasmErr}` : ''}`);
    }
    if (++done % 500 === 0) console.log(`${done}/${CASES} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  };
  console.log(`seed ${SEED}: ${CASES} cases (${debugCases} on the debug kernel), ${seeds.length} seed files in ${SEEDS}`);
  // --jobs children at once, each on a contiguous share of the block.
  const block = async (from: number, to: number, debug: boolean) => {
    const step = Math.ceil((to - from) / JOBS);
    const parts = [];
    for (let a = from; a < to; a += step) parts.push(runBlock(a, Math.min(to, a + step), debug, seeds, record));
    await Promise.all(parts);
  };
  await block(0, CASES - debugCases, false);
  await block(CASES - debugCases, CASES, true);

  const outcomes: Outcome[] = ['error', 'equal', 'mismatch', 'ours-only', 'trap', 'untyped', 'hang', 'crash'];
  console.log(`\n${done} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s; results in ${results}`);
  // 'via kernels': cases where at least one group was decoded by our kernels; errors split into
  // open / group / parquet-wasm panic.
  const kinds = ['open', 'group', 'wasm-panic'];
  console.log(['seed file', 'cases', ...outcomes, 'via kernels', ...kinds.map((k) => `error: ${k}`)].join(' | '));
  const total: Record<string, number> = {};
  for (const [s, row] of [...tally].sort()) {
    console.log([s, row.cases, ...outcomes.map((o) => row[o] ?? 0), row.kernelGroups ?? 0, ...kinds.map((k) => row[k] ?? 0)].join(' | '));
    for (const [key, v] of Object.entries(row)) total[key] = (total[key] ?? 0) + v;
  }
  console.log(['total', total.cases, ...outcomes.map((o) => total[o] ?? 0), total.kernelGroups ?? 0, ...kinds.map((k) => total[k] ?? 0)].join(' | '));
  process.exit(interesting.some((r) => !['ours-only'].includes(r.outcome)) ? 1 : 0);
}

if (argv.includes('--child')) await childMain(Number(arg('from')), Number(arg('to')));
else if (arg('repro') !== undefined) {
  const k = Number(arg('repro'));
  await childMain(k, k + 1);
} else await parentMain();
