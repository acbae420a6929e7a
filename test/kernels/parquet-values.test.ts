import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../helpers/rng.js';
import { labs2, firstDiff, randomBytes, type Lab } from '../helpers/parquet.js';

// Scalar references for the page-value kernels (gather, spread, widen, byte arrays, levels, bits),
// each written from the kernel's contract, byte by byte.

const WIDTHS = [1, 2, 4, 8, 16];
const LENGTHS = [...Array.from({ length: 130 }, (_, i) => i), 1000, 4099];
const i32Bytes = (a: ArrayLike<number>): Uint8Array => new Uint8Array(Int32Array.from(a).buffer);
const getBit = (b: Uint8Array, i: number): number => (b[i >> 3] >> (i & 7)) & 1;

/** A bitmap of n bits (bit density p) starting at bit `off`, junk around it. */
function bitmap(n: number, off: number, p: number, r: () => number): { bytes: Uint8Array; bits: number[] } {
  const bytes = randomBytes(Math.ceil((off + n) / 8), r);
  const bits: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = r() < p ? 1 : 0;
    bits.push(v);
    const at = off + i;
    bytes[at >> 3] = (bytes[at >> 3] & ~(1 << (at & 7))) | (v << (at & 7));
  }
  return { bytes, bits };
}

/** Expected bitmap bytes after writing `bits` at `off` over `before`: bits below off kept, after the end zeroed. */
function expectBits(before: Uint8Array, off: number, bits: number[]): Uint8Array {
  const end = off + bits.length;
  const out = before.slice(0, Math.ceil(end / 8));
  for (let i = off; i < out.length * 8; i++) {
    const v = i < end ? bits[i - off] : 0;
    out[i >> 3] = (out[i >> 3] & ~(1 << (i & 7))) | (v << (i & 7));
  }
  return out;
}

const DENSITIES = [0, 0.05, 0.5, 0.95, 1];

for (const lab of labs2()) {
  const tag = `[${lab.flavor}]`;

  test(`${tag} pqGather: every width × lengths 0..129 and large; bad index −1, bad width −3`, () => {
    const r = rng(0x6a1);
    for (const w of WIDTHS) {
      for (const n of LENGTHS) {
        const dictLen = 1 + ((r() * 300) | 0);
        const dict = randomBytes(dictLen * w, r);
        const idx = Array.from({ length: n }, () => (r() * dictLen) | 0);
        const d = lab.buf(dict.length, dict);
        const ix = lab.buf(n * 4, i32Bytes(idx));
        const o = lab.buf(n * w);
        assert.is(lab.k.pqGather(w, ix.addr, n, d.addr, dictLen, o.addr), 0);
        lab.guards(`gather w=${w} n=${n}`);
        const want = new Uint8Array(n * w);
        idx.forEach((j, i) => want.set(dict.subarray(j * w, j * w + w), i * w));
        assert.is(firstDiff(lab.bytes(o), want), -1, `gather w=${w} n=${n}`);
        // One bad index anywhere (past the end, or negative = huge unsigned): −1, dict not read out of range.
        if (n > 0) {
          for (const bad of [dictLen, -1, 0x7fffffff]) {
            const at = (r() * n) | 0;
            const wrong = idx.slice();
            wrong[at] = bad;
            const ix2 = lab.buf(n * 4, i32Bytes(wrong));
            assert.is(lab.k.pqGather(w, ix2.addr, n, d.addr, dictLen, o.addr), -1, `gather w=${w} n=${n} bad at ${at}`);
            lab.guards(`gather bad w=${w} n=${n}`);
          }
        }
        lab.reset();
      }
    }
    const b = lab.buf(64);
    for (const w of [0, 3, 5, 32, -1]) assert.is(lab.k.pqGather(w, b.addr, 1, b.addr, 1, b.addr), -3, `width ${w}`);
    lab.reset();
  });

  test(`${tag} pqSpread: every width × lengths 0..129 and large × bit offsets 0..9 × null densities`, () => {
    const r = rng(0x6a2);
    for (const w of WIDTHS) {
      for (const n of LENGTHS) {
        for (const off of n < 200 ? [0, 3, 8, 9] : [0, 5]) {
          for (const p of DENSITIES) {
            const { bytes, bits } = bitmap(n, off, p, r);
            const k = bits.reduce((a, b) => a + b, 0);
            const dense = randomBytes(k * w, r);
            const dv = lab.buf(dense.length, dense);
            const vv = lab.buf(bytes.length, bytes);
            const o = lab.buf(n * w);
            const where = `spread w=${w} n=${n} off=${off} p=${p}`;
            assert.is(lab.k.pqSpread(w, dv.addr, vv.addr, off, n, o.addr), k, where);
            lab.guards(where);
            const want = new Uint8Array(n * w);
            let q = 0;
            for (let i = 0; i < n; i++) if (bits[i]) want.set(dense.subarray(q * w, ++q * w), i * w);
            assert.is(firstDiff(lab.bytes(o), want), -1, where);
            assert.equal(lab.bytes(vv), bytes, `${where}: validity untouched`);
            lab.reset();
          }
        }
      }
    }
  });

  test(`${tag} pqWiden: int32 / int64 → decimal128 (sign extension), lengths 0..129; bad width −3`, () => {
    const r = rng(0x6a3);
    for (const sw of [4, 8]) {
      for (const n of LENGTHS) {
        const vals = Array.from({ length: n }, (_, i) =>
          i % 5 === 0 ? (sw === 4 ? -(2n ** 31n) : -(2n ** 63n)) : i % 7 === 0 ? -1n : BigInt(Math.floor((r() - 0.5) * 2 ** (sw === 4 ? 32 : 52))));
        const src = sw === 4 ? new Uint8Array(Int32Array.from(vals, Number).buffer) : new Uint8Array(BigInt64Array.from(vals).buffer);
        const s = lab.buf(src.length, src);
        const d = lab.buf(n * 16);
        assert.is(lab.k.pqWiden(sw, s.addr, n, d.addr), 0);
        lab.guards(`widen ${sw} n=${n}`);
        const got = new BigInt64Array(lab.bytes(d).buffer);
        for (let i = 0; i < n; i++) {
          // The 128-bit value lo + hi·2^64 must equal the source value.
          const v = BigInt.asUintN(64, got[2 * i]) + (got[2 * i + 1] << 64n);
          if (v !== vals[i]) assert.unreachable(`widen ${sw} n=${n} row ${i}: ${v} ≠ ${vals[i]}`);
        }
        lab.reset();
      }
    }
    const b = lab.buf(64);
    assert.is(lab.k.pqWiden(2, b.addr, 1, b.addr), -3);
    lab.reset();
  });

  test(`${tag} pqByteArrayPlain: lengths 0..129 × value sizes 0..80 and long, appended after earlier pages; truncation −1, capacity −2`, () => {
    const r = rng(0x6a4);
    for (const n of LENGTHS) {
      for (const maxLen of [0, 5, 17, 40, 80, 3000]) {
        if (maxLen === 3000 && n % 16 !== 1) continue; // long values (memory.copy): a few lengths
        const vals = Array.from({ length: n }, () => randomBytes((r() * (maxLen + 1)) | 0, r));
        const total = vals.reduce((a, v) => a + v.length, 0);
        const used = 4 * n + total;
        const page = randomBytes(used + 7, r); // 7 bytes after the values: not consumed
        const pv = new DataView(page.buffer);
        for (let i = 0, at = 0; i < n; at += 4 + vals[i].length, i++) {
          pv.setUint32(at, vals[i].length, true);
          page.set(vals[i], at + 4);
        }
        const start = (r() * 50) | 0; // the previous pages' end
        const flat = new Uint8Array(total);
        for (let i = 0, at = 0; i < n; at += vals[i].length, i++) flat.set(vals[i], at);
        for (const slack of [0, 64]) {
          const where = `plain n=${n} maxLen=${maxLen} slack=${slack}`;
          const s = lab.buf(page.length, page);
          const offs = lab.buf((n + 1) * 4, i32Bytes([start]));
          const data = lab.buf(start + total + slack);
          const before = lab.bytes(data, 0, start);
          assert.is(lab.k.pqByteArrayPlain(s.addr, page.length, n, offs.addr, data.addr, start + total + slack), used, where);
          lab.guards(where);
          const want: number[] = [start];
          for (const v of vals) want.push(want[want.length - 1] + v.length);
          assert.equal(Array.from(lab.i32(offs)), want, `${where}: offsets`);
          const got = lab.bytes(data);
          assert.is(firstDiff(got.subarray(0, start), before), -1, `${where}: earlier pages kept`);
          assert.is(firstDiff(got.subarray(start, start + total), flat), -1, `${where}: bytes`);
          lab.reset();
        }
        if (n === 0) continue;
        // Truncated anywhere inside the values: −1. One byte less of capacity: −2.
        const cut = (r() * used) | 0;
        const s = lab.buf(cut, page);
        const offs = lab.buf((n + 1) * 4, i32Bytes([start]));
        const data = lab.buf(start + total);
        assert.is(lab.k.pqByteArrayPlain(s.addr, cut, n, offs.addr, data.addr, start + total), -1, `plain n=${n} cut ${cut}`);
        if (total > 0) {
          const s2 = lab.buf(page.length, page);
          assert.is(lab.k.pqByteArrayPlain(s2.addr, page.length, n, offs.addr, data.addr, start + total - 1), -2, `plain n=${n} cap - 1`);
        }
        lab.guards(`plain errors n=${n}`);
        lab.reset();
      }
    }
    // A length that would run far past src (huge u32), and a start offset outside the capacity.
    const s = lab.buf(8, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4));
    const offs = lab.buf(8, i32Bytes([0]));
    const data = lab.buf(16);
    assert.is(lab.k.pqByteArrayPlain(s.addr, 8, 1, offs.addr, data.addr, 16), -1);
    const offs2 = lab.buf(8, i32Bytes([17]));
    assert.is(lab.k.pqByteArrayPlain(s.addr, 8, 0, offs2.addr, data.addr, 16), -2);
    lab.guards('plain edge');
    lab.reset();
  });

  test(`${tag} pqByteArrayDict: lengths 0..129 × dictionary shapes; bad index −1, capacity −2`, () => {
    const r = rng(0x6a5);
    for (const n of LENGTHS) {
      for (const [dictLen, maxLen] of [[1, 0], [3, 4], [7, 16], [50, 33], [5, 200]]) {
        const dict = Array.from({ length: dictLen }, () => randomBytes((r() * (maxLen + 1)) | 0, r));
        const dOffs = [0];
        for (const v of dict) dOffs.push(dOffs[dOffs.length - 1] + v.length);
        const dData = Uint8Array.from(dict.flatMap((v) => Array.from(v)));
        const idx = Array.from({ length: n }, () => (r() * dictLen) | 0);
        const start = (r() * 40) | 0;
        const total = idx.reduce((a, j) => a + dict[j].length, 0);
        for (const slack of [0, 64]) {
          const where = `dict n=${n} dictLen=${dictLen} maxLen=${maxLen} slack=${slack}`;
          const dd = lab.buf(dData.length, dData);
          const doff = lab.buf(dOffs.length * 4, i32Bytes(dOffs));
          const ix = lab.buf(n * 4, i32Bytes(idx));
          const offs = lab.buf((n + 1) * 4, i32Bytes([start]));
          const data = lab.buf(start + total + slack);
          assert.is(lab.k.pqByteArrayDict(ix.addr, n, doff.addr, dd.addr, dictLen, offs.addr, data.addr, start + total + slack), 0, where);
          lab.guards(where);
          const want: number[] = [start];
          for (const j of idx) want.push(want[want.length - 1] + dict[j].length);
          assert.equal(Array.from(lab.i32(offs)), want, `${where}: offsets`);
          const flat = new Uint8Array(total);
          for (let i = 0, at = 0; i < n; at += dict[idx[i]].length, i++) flat.set(dict[idx[i]], at);
          assert.is(firstDiff(lab.bytes(data, start, start + total), flat), -1, `${where}: bytes`);
          if (n > 0) {
            const wrong = idx.slice();
            wrong[(r() * n) | 0] = r() < 0.5 ? dictLen : -5;
            const ix2 = lab.buf(n * 4, i32Bytes(wrong));
            assert.is(lab.k.pqByteArrayDict(ix2.addr, n, doff.addr, dd.addr, dictLen, offs.addr, data.addr, start + total + slack), -1, `${where}: bad index`);
            if (total > 0) assert.is(lab.k.pqByteArrayDict(ix.addr, n, doff.addr, dd.addr, dictLen, offs.addr, data.addr, start + total - 1), -2, `${where}: cap - 1`);
            lab.guards(`${where} errors`);
          }
          lab.reset();
        }
      }
    }
  });

  test(`${tag} pqSpreadOffsets: lengths 0..129 and large × bit offsets × null densities`, () => {
    const r = rng(0x6a6);
    for (const n of LENGTHS) {
      for (const off of n < 200 ? [0, 1, 6, 8, 13] : [3]) {
        for (const p of DENSITIES) {
          const { bytes, bits } = bitmap(n, off, p, r);
          const k = bits.reduce((a, b) => a + b, 0);
          const base = (r() * 1000) | 0;
          const dense = [base];
          for (let i = 0; i < k; i++) dense.push(dense[i] + ((r() * 20) | 0));
          const dv = lab.buf(dense.length * 4, i32Bytes(dense));
          const vv = lab.buf(bytes.length, bytes);
          const o = lab.buf((n + 1) * 4, i32Bytes([base]));
          const where = `spreadOffsets n=${n} off=${off} p=${p}`;
          assert.is(lab.k.pqSpreadOffsets(vv.addr, off, n, dv.addr, o.addr), k, where);
          lab.guards(where);
          const want = [base];
          let q = 0;
          for (let i = 0; i < n; i++) want.push(bits[i] ? dense[++q] : want[i]);
          assert.equal(Array.from(lab.i32(o)), want, where);
          lab.reset();
        }
      }
    }
  });

  test(`${tag} pqDefLevels: lengths 0..129 and large × bit offsets 0..9 × maxDef 0..3, over an existing bitmap`, () => {
    const r = rng(0x6a7);
    for (const n of LENGTHS) {
      for (const off of n < 200 ? [0, 1, 2, 5, 7, 8, 9] : [0, 3]) {
        for (const maxDef of [0, 1, 3]) {
          const levels = Array.from({ length: n }, () => (r() < 0.2 ? (r() * (maxDef + 2)) | 0 : maxDef));
          const before = randomBytes(Math.ceil((off + n) / 8) + 2, r);
          const lv = lab.buf(n * 4, i32Bytes(levels));
          const v = lab.buf(Math.ceil((off + n) / 8), before);
          const where = `defLevels n=${n} off=${off} maxDef=${maxDef}`;
          const bits: number[] = levels.map((l) => (l === maxDef ? 1 : 0));
          assert.is(lab.k.pqDefLevels(lv.addr, n, maxDef, v.addr, off), bits.reduce((a, b) => a + b, 0), where);
          lab.guards(where);
          assert.is(firstDiff(lab.bytes(v), expectBits(before, off, bits)), -1, where);
          lab.reset();
        }
      }
    }
  });

  test(`${tag} pqBits: lengths 0..129 and large × source and destination bit offsets 0..9`, () => {
    const r = rng(0x6a8);
    for (const n of [...LENGTHS, 100_003]) {
      const offs = n < 200 ? [0, 1, 3, 7, 8, 9] : [0, 5];
      for (const so of offs) {
        for (const dOff of offs) {
          const { bytes, bits } = bitmap(n, so, 0.5, r);
          const before = randomBytes(Math.ceil((dOff + n) / 8), r);
          const s = lab.buf(bytes.length, bytes);
          const d = lab.buf(before.length, before);
          const where = `bits n=${n} src+${so} dst+${dOff}`;
          assert.is(lab.k.pqBits(s.addr, so, n, d.addr, dOff), 0, where);
          lab.guards(where);
          assert.is(firstDiff(lab.bytes(d), expectBits(before, dOff, bits)), -1, where);
          assert.equal(lab.bytes(s), bytes, `${where}: src untouched`);
          lab.reset();
        }
      }
    }
    // Bits read are the ones asked for: a bitmap of exactly ceil((so + n) / 8) bytes (canaries after it).
    const { bytes } = bitmap(3, 6, 1, r);
    const s = lab.buf(bytes.length, bytes);
    const d = lab.buf(1);
    lab.k.pqBits(s.addr, 6, 3, d.addr, 0);
    assert.is(getBit(lab.bytes(d), 0) + getBit(lab.bytes(d), 1) + getBit(lab.bytes(d), 2), 3);
    lab.reset();
  });
}

test.run();
