/**
 * node --import tsx bench/parquet-kernels.bench.ts — the Parquet page kernels (assembly/parquet),
 * single-thread, on the pages of one row group of TPC-H lineitem (1 M rows, DuckDB's writer:
 * SNAPPY, PLAIN and RLE_DICTIONARY, data page v1) against hyparquet's JS `snappyUncompress` (snappy)
 * and plain JS loops (the rest). Prints medians, ratios and MB/s of output; writes
 * bench/results/parquet-kernels.json.
 *
 * Env: BENCH_PARQUET (default $TMPDIR/aetherflow-tpch/sf1-seed1/lineitem.parquet, made by
 * `npm run tpch:gen -- --sf 1`); without the file, synthetic pages of the same shapes
 * (hyparquet-writer's snappy). BENCH_TIME (ms per task, default 1000).
 */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, snappyUncompress } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { Context } from '../src/context.js';
import type { ParquetKernel } from '../src/engine/io/parquet-kernel.js';
import { rng } from '../test/helpers/rng.js';
import { runCases, writeResults, type Case, type Row } from './lib/harness.js';

const file = process.env.BENCH_PARQUET ?? join(tmpdir(), 'aetherflow-tpch', 'sf1-seed1', 'lineitem.parquet');
const TIME = Number(process.env.BENCH_TIME ?? 1000);
const ctx = Context.create({ maxBytes: 2 ** 30 });
const k = ctx.kernel as unknown as ParquetKernel;
const scope = ctx.scope();

/** Copies bytes into the kernel's memory. */
function place(bytes: Uint8Array): number {
  const p = scope.alloc(bytes.length + 64);
  ctx.mem.u8.set(bytes, p);
  return p;
}

// ---- the pages --------------------------------------------------------------------------------

interface Page { compressed: Uint8Array; size: number }
/** Column name → its data page (and dictionary page) of row group 0. */
const pages = new Map<string, { data: Page; dict?: Page }>();

if (existsSync(file)) {
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  for (const c of parquetMetadata(ab).row_groups[0].columns) {
    const md = c.meta_data!;
    const reader = { view: new DataView(ab), offset: Number(md.dictionary_page_offset ?? md.data_page_offset) };
    const end = reader.offset + Number(md.total_compressed_size);
    const got: { data?: Page; dict?: Page } = {};
    while (reader.offset < end) {
      const h = parquetHeader(reader);
      const page = { compressed: new Uint8Array(ab, reader.offset, h.compressed_page_size), size: h.uncompressed_page_size };
      reader.offset += h.compressed_page_size;
      if (h.type === 'DICTIONARY_PAGE') got.dict = page;
      else if (h.type === 'DATA_PAGE' && !got.data) got.data = page;
    }
    pages.set(md.path_in_schema.join('.'), { data: got.data!, dict: got.dict });
  }
  console.log(`pages: row group 0 of ${file}`);
} else {
  // Same shapes, made here: v1 pages of an OPTIONAL column without nulls (levels: one RLE run).
  const r = rng(7);
  const n = 1 << 20;
  const levels = [4, 0, 0, 0, ...varint(n << 1), 1]; // u32 length 4 (patched below) + RLE run of n × 1
  levels[0] = levels.length - 4;
  const words = 'furiously regular deposits sleep carefully final packages ironic accounts'.split(' ');
  const parts: number[] = [...levels];
  for (let i = 0; i < n; i++) {
    const s = Array.from({ length: 3 + ((r() * 5) | 0) }, () => words[(r() * words.length) | 0]).join(' ');
    parts.push(s.length & 0xff, s.length >> 8, 0, 0, ...Buffer.from(s));
  }
  const comment = Uint8Array.from(parts);
  const keys = new BigInt64Array(n);
  for (let i = 0, x = 1n; i < n; i++) keys[i] = x += BigInt((r() * 2) | 0);
  const orderkey = Uint8Array.from([...levels, ...new Uint8Array(keys.buffer)]);
  const idx = Uint8Array.from([...levels, 3, ...varint((n / 8) * 2 + 1), ...Array.from({ length: (n / 8) * 3 }, () => (r() * 256) | 0)]);
  const mk = (b: Uint8Array): Page => ({ compressed: snappyCompress(b), size: b.length });
  pages.set('l_comment', { data: mk(comment) });
  pages.set('l_orderkey', { data: mk(orderkey) });
  pages.set('l_extendedprice', { data: mk(orderkey) });
  const modes = ['AIR', 'FOB', 'MAIL', 'RAIL', 'REG AIR', 'SHIP', 'TRUCK'];
  const dict = modes.flatMap((m) => [m.length, 0, 0, 0, ...Buffer.from(m)]);
  pages.set('l_shipmode', { data: mk(idx), dict: mk(Uint8Array.from(dict)) });
  pages.set('l_quantity', { data: mk(idx), dict: mk(new Uint8Array(new Float64Array(7).map((_, i) => i + 1).buffer)) });
  pages.set('l_partkey', { data: mk(idx) });
  console.log(`pages: synthetic (${file} not found)`);
}

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** A page's bytes, decompressed (by hyparquet: independent of what is measured). */
function plain(p: Page): Uint8Array {
  const out = new Uint8Array(p.size);
  snappyUncompress(p.compressed, out);
  return out;
}

/** The values part of a v1 data page of an OPTIONAL column: after the u32-prefixed levels. */
function values(p: Page): Uint8Array {
  const b = plain(p);
  const len = new DataView(b.buffer).getUint32(0, true);
  return b.subarray(4 + len);
}

// ---- JS loops (what a JS decoder does) --------------------------------------------------------

function jsRle(src: Uint8Array, w: number, out: Uint32Array): void {
  let ip = 0;
  let k = 0;
  const mask = w === 32 ? 0xffffffff : (1 << w) - 1;
  while (k < out.length) {
    let h = 0;
    for (let s = 0; ; s += 7) {
      const b = src[ip++];
      h += (b & 0x7f) * 2 ** s;
      if (b < 0x80) break;
    }
    if ((h & 1) === 0) {
      let v = 0;
      for (let q = 0; q < (w + 7) >> 3; q++) v |= src[ip++] << (q * 8);
      const m = Math.min(h / 2, out.length - k);
      out.fill(v, k, k + m);
      k += m;
    } else {
      const m = Math.min((h >>> 1) * 8, out.length - k);
      for (let i = 0; i < m; i++) {
        const bit = i * w;
        const at = ip + (bit >>> 3);
        const word = src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24);
        out[k + i] = (word >>> (bit & 7)) & mask;
      }
      ip += (h >>> 1) * w;
      k += m;
    }
  }
}

function jsPlainStrings(src: Uint8Array, n: number, offsets: Int32Array, data: Uint8Array): void {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let ip = 0;
  let p = 0;
  offsets[0] = 0;
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(ip, true);
    ip += 4;
    data.set(src.subarray(ip, ip + len), p);
    ip += len;
    p += len;
    offsets[i + 1] = p;
  }
}

// ---- cases ------------------------------------------------------------------------------------

const cases: Case[] = [];
/** Output bytes per case (for MB/s). */
const outBytes = new Map<string, number>();
/** A sample checksum of the output, for the harness's agreement check (first call only: not timed work). */
const sum32 = (b: Uint8Array): number => { let s = 0; for (let i = 0; i < b.length; i += 61) s = (s + b[i] * (i + 1)) >>> 0; return s; };
function checked(run: () => void, out: () => Uint8Array): () => number | undefined {
  let first = true;
  return () => {
    run();
    if (!first) return undefined;
    first = false;
    return sum32(out());
  };
}

for (const col of ['l_comment', 'l_orderkey', 'l_extendedprice', 'l_partkey']) {
  const p = pages.get(col)?.data;
  if (!p) continue;
  const src = place(p.compressed);
  const dst = scope.alloc(p.size + 64);
  const js = new Uint8Array(p.size);
  const name = `snappy_${col}`;
  outBytes.set(name, p.size);
  cases.push({
    name,
    impls: {
      aetherflow: checked(() => k.pqSnappy(src, p.compressed.length, dst, p.size), () => ctx.mem.u8.subarray(dst, dst + p.size)),
      hyparquet: checked(() => snappyUncompress(p.compressed, js), () => js),
    },
  });
}

{
  // Dictionary indices of l_partkey (1 M × 18 bits), l_shipmode (3 bits).
  for (const col of ['l_partkey', 'l_shipmode']) {
    const p = pages.get(col)?.data;
    if (!p) continue;
    const v = values(p);
    const w = v[0];
    const count = 1_000_000; // of the page's 1 049 020 (synthetic: 2^20)
    const src = place(v.subarray(1));
    const out = scope.alloc(count * 4);
    const js = new Uint32Array(count);
    const name = `rle_${col}_w${w}`;
    outBytes.set(name, count * 4);
    cases.push({
      name,
      impls: {
        aetherflow: checked(() => k.pqRle(src, v.length - 1, w, out, count), () => ctx.mem.u8.subarray(out, out + count * 4)),
        'js-loop': checked(() => jsRle(v.subarray(1), w, js), () => new Uint8Array(js.buffer)),
      },
    });
  }
}

{
  // l_quantity: 1 M dictionary indices → doubles (a 50-value dictionary).
  const p = pages.get('l_quantity');
  if (p?.dict) {
    const v = values(p.data);
    const n = 1_000_000;
    const idx = new Uint32Array(n);
    jsRle(v.subarray(1), v[0], idx);
    const dictBytes = plain(p.dict);
    const dictLen = dictBytes.length / 8;
    const dict = new Float64Array(dictBytes.buffer, 0, dictLen);
    const ip = place(new Uint8Array(idx.buffer));
    const dp = place(dictBytes);
    const out = scope.alloc(n * 8);
    const js = new Float64Array(n);
    outBytes.set('gather_f64_l_quantity', n * 8);
    cases.push({
      name: 'gather_f64_l_quantity',
      impls: {
        aetherflow: checked(() => k.pqGather(8, ip, n, dp, dictLen, out), () => ctx.mem.u8.subarray(out, out + n * 8)),
        'js-loop': checked(() => { for (let i = 0; i < n; i++) js[i] = dict[idx[i]]; }, () => new Uint8Array(js.buffer)),
      },
    });
  }
}

{
  // l_comment: PLAIN BYTE_ARRAY → offsets + bytes (1 M strings).
  const p = pages.get('l_comment')?.data;
  if (p) {
    const v = values(p);
    const n = 1_000_000;
    const sp = place(v);
    const offs = scope.alloc((n + 1) * 4);
    const cap = v.length;
    const data = scope.alloc(cap + 64);
    const jsOffs = new Int32Array(n + 1);
    const jsData = new Uint8Array(cap);
    outBytes.set('byte_array_plain_l_comment', cap);
    cases.push({
      name: 'byte_array_plain_l_comment',
      impls: {
        aetherflow: () => { ctx.mem.i32[offs >> 2] = 0; k.pqByteArrayPlain(sp, v.length, n, offs, data, cap); return ctx.mem.i32[(offs >> 2) + n]; },
        'js-loop': () => { jsPlainStrings(v, n, jsOffs, jsData); return jsOffs[n]; },
      },
    });
  }
}

{
  // l_shipmode: 1 M dictionary indices → strings (7 values).
  const p = pages.get('l_shipmode');
  if (p?.dict) {
    const v = values(p.data);
    const n = 1_000_000;
    const idx = new Uint32Array(n);
    jsRle(v.subarray(1), v[0], idx);
    const d = plain(p.dict);
    const dv = new DataView(d.buffer);
    const dOffs: number[] = [0];
    const dData: number[] = [];
    for (let at = 0; at < d.length; ) {
      const len = dv.getUint32(at, true);
      dData.push(...d.subarray(at + 4, at + 4 + len));
      dOffs.push(dData.length);
      at += 4 + len;
    }
    const dictLen = dOffs.length - 1;
    const jsDict = Uint8Array.from(dData);
    const jsDictOffs = Int32Array.from(dOffs);
    const ip = place(new Uint8Array(idx.buffer));
    const dop = place(new Uint8Array(jsDictOffs.buffer));
    const ddp = place(jsDict);
    let total = 0;
    for (let i = 0; i < n; i++) total += dOffs[idx[i] + 1] - dOffs[idx[i]];
    const offs = scope.alloc((n + 1) * 4);
    const data = scope.alloc(total + 64);
    const jsOffs = new Int32Array(n + 1);
    const jsData = new Uint8Array(total);
    outBytes.set('byte_array_dict_l_shipmode', total);
    cases.push({
      name: 'byte_array_dict_l_shipmode',
      impls: {
        aetherflow: () => { ctx.mem.i32[offs >> 2] = 0; k.pqByteArrayDict(ip, n, dop, ddp, dictLen, offs, data, total); return ctx.mem.i32[(offs >> 2) + n]; },
        'js-loop': () => {
          let q = 0;
          for (let i = 0; i < n; i++) {
            const j = idx[i];
            const s = jsDictOffs[j], e = jsDictOffs[j + 1];
            for (let b = s; b < e; b++) jsData[q++] = jsDict[b];
            jsOffs[i + 1] = q;
          }
          return jsOffs[n];
        },
      },
    });
  }
}

{
  // 1 M definition levels (10 % nulls) → validity at bit 3, then 8-byte values spread to their rows.
  const n = 1_000_000;
  const r = rng(11);
  const levels = Int32Array.from({ length: n }, () => (r() < 0.1 ? 0 : 1));
  const lp = place(new Uint8Array(levels.buffer));
  const valid = scope.alloc((n >> 3) + 64);
  const jsValid = new Uint8Array((n >> 3) + 2);
  outBytes.set('def_levels_1M', n / 8);
  cases.push({
    name: 'def_levels_1M',
    impls: {
      aetherflow: () => k.pqDefLevels(lp, n, 1, valid, 3),
      'js-loop': () => {
        let c = 0;
        jsValid.fill(0);
        for (let i = 0; i < n; i++) if (levels[i] === 1) { jsValid[(i + 3) >> 3] |= 1 << ((i + 3) & 7); c++; }
        return c;
      },
    },
  });
  const nonNull = levels.reduce((a, l) => a + l, 0);
  const dense = place(new Uint8Array(new Float64Array(nonNull).map((_, i) => i).buffer));
  const out = scope.alloc(n * 8);
  const jsDense = new Float64Array(nonNull).map((_, i) => i);
  const jsOut = new Float64Array(n);
  k.pqDefLevels(lp, n, 1, valid, 3);
  outBytes.set('spread_f64_1M_10pct_null', n * 8);
  cases.push({
    name: 'spread_f64_1M_10pct_null',
    impls: {
      aetherflow: () => k.pqSpread(8, dense, valid, 3, n, out),
      'js-loop': () => { let q = 0; for (let i = 0; i < n; i++) jsOut[i] = levels[i] === 1 ? jsDense[q++] : 0; return q; },
    },
  });
}

const load = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`load average before: ${load}`);
const rows: Row[] = await runCases('parquet-kernels', cases, { time: TIME, iterations: 10 });
console.log('\nMB/s of output (median):');
for (const r of rows) {
  const bytes = outBytes.get(r.case) ?? 0;
  r.mb_per_s = Math.round(bytes / 1e6 / (r.median_ms / 1e3));
  console.log(`  ${r.case.padEnd(32)}${r.impl.padEnd(12)}${String(r.mb_per_s).padStart(8)} MB/s`);
}
console.log(`load average after: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
writeResults('parquet-kernels', rows);
