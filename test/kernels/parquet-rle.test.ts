import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { rng } from '../helpers/rng.js';
import { labs2, firstDiff, type Lab } from '../helpers/parquet.js';

// ---- a test-side encoder ----------------------------------------------------------------------

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Appends values as bit-packed groups (w bits each, LSB first); values.length is a multiple of 8. */
function packBits(out: number[], values: number[], w: number): void {
  // acc < 2^(7 + 32): exact in a double.
  let acc = 0;
  let have = 0;
  for (const v of values) {
    acc += (v >>> 0) * 2 ** have;
    have += w;
    while (have >= 8) {
      out.push(acc % 256);
      acc = Math.floor(acc / 256);
      have -= 8;
    }
  }
  assert.is(have, 0, 'groups of 8 end on a byte');
}

interface Encoded {
  bytes: Uint8Array;
  /** The values the stream holds, padding of the last bit-packed run included. */
  values: number[];
  /** Byte length of the runs that cover the first `count` values. */
  used: number;
}

/**
 * Encodes `values` as a random mix of RLE runs (of a repeated value) and bit-packed runs; the last
 * bit-packed run is padded to a whole group with random values (which a decoder must not write).
 */
function encode(values: number[], w: number, r: () => number, runs: 'mixed' | 'rle' | 'packed' = 'mixed'): Encoded {
  const out: number[] = [];
  const all: number[] = [];
  const mask = w === 32 ? 0xffffffff : (1 << w) - 1;
  let i = 0;
  while (i < values.length) {
    const rle = runs === 'rle' || (runs === 'mixed' && r() < 0.5);
    if (rle) {
      // Extend over equal values (at least 1).
      let j = i + 1;
      while (j < values.length && values[j] === values[i] && j - i < 5000) j++;
      varint(out, (j - i) * 2);
      for (let b = 0; b < (w + 7) >> 3; b++) out.push(Math.floor((values[i] >>> 0) / 256 ** b) & 0xff);
      for (let k = i; k < j; k++) all.push(values[i]);
      i = j;
    } else {
      const groups = 1 + ((r() * 6) | 0);
      const take = values.slice(i, i + groups * 8);
      const real = Math.ceil(take.length / 8);
      while (take.length < real * 8) take.push(((r() * 2 ** 32) >>> 0) & mask);
      varint(out, (real << 1) | 1);
      packBits(out, take, w);
      all.push(...take);
      i += real * 8;
    }
  }
  return { bytes: Uint8Array.from(out), values: all, used: out.length };
}

/** Values of w bits with runs in them (so RLE runs get length > 1). */
function someValues(n: number, w: number, r: () => number): number[] {
  const out: number[] = [];
  const max = 2 ** w;
  while (out.length < n) {
    const v = Math.floor(r() * max) >>> 0;
    const rep = r() < 0.3 ? 1 + ((r() * 30) | 0) : 1;
    for (let k = 0; k < rep && out.length < n; k++) out.push(v);
  }
  return out;
}

/** Decodes with the kernel; canaries around src and out. */
function decode(lab: Lab, bytes: Uint8Array, w: number, count: number, where: string): { rc: number; out: number[] } {
  const s = lab.buf(bytes.length, bytes);
  const o = lab.buf(count * 4);
  const rc = lab.k.pqRle(s.addr, bytes.length, w, o.addr, count);
  lab.guards(where);
  const out = rc >= 0 ? Array.from(new Uint32Array(lab.bytes(o).buffer)) : [];
  lab.reset();
  return { rc, out };
}

for (const lab of labs2()) {
  const tag = `[${lab.flavor}]`;

  test(`${tag} rle: every bit width 0..32 × lengths 0..129 and large, mixed runs, against the encoder (and hyparquet)`, () => {
    const r = rng(0x41e);
    for (let w = 0; w <= 32; w++) {
      for (const n of [...Array.from({ length: 130 }, (_, i) => i), 1000, 4096 + 3]) {
        for (const runs of ['mixed', 'packed'] as const) {
          const values = someValues(n, w, r);
          const enc = encode(values, w, r, runs);
          const where = `w=${w} n=${n} ${runs}`;
          // (hyparquet reads a byte per bit-packed run even at w = 0, where groups have none; its
          // 32-bit accumulator limits it to w ≤ 24.)
          if (w >= 1 && w <= 24 && n > 0) {
            // The encoder against an independent decoder.
            const check = new Array<number>(n);
            readRleBitPackedHybrid({ view: new DataView(enc.bytes.buffer), offset: 0 }, w, check, enc.bytes.length);
            assert.is(firstDiff(check, values), -1, `${where}: hyparquet reads the encoder's stream`);
          }
          const { rc, out } = decode(lab, enc.bytes, w, n, where);
          assert.is(rc, n === 0 ? 0 : enc.used, `${where}: bytes consumed`);
          const at = firstDiff(out, values.map((v) => v >>> 0));
          if (at >= 0) assert.unreachable(`${where}: value ${at}: got ${out[at]}, want ${values[at] >>> 0}`);
        }
      }
    }
  });

  test(`${tag} rle: fewer values than the stream holds — only count written, consumed stops after the covering run`, () => {
    const r = rng(0x41f);
    for (const w of [1, 3, 8, 13, 18, 25, 31]) {
      const values = someValues(400, w, r);
      const enc = encode(values, w, r);
      for (const count of [0, 1, 7, 8, 9, 63, 64, 65, 200, 399]) {
        const { rc, out } = decode(lab, enc.bytes, w, count, `w=${w} count=${count}`);
        assert.ok(rc >= 0 && rc <= enc.bytes.length, `w=${w} count=${count}: rc ${rc}`);
        assert.equal(out, values.slice(0, count).map((v) => v >>> 0), `w=${w} count=${count}`);
      }
    }
  });

  test(`${tag} rle: long RLE fills and long bit-packed runs (SIMD paths), at odd output alignments`, () => {
    const r = rng(0x420);
    for (const w of [0, 1, 2, 7, 12, 17, 18, 24, 25, 26, 32]) {
      const values = someValues(20_000, w, r);
      for (const runs of ['rle', 'packed'] as const) {
        const enc = encode(values, w, r, runs);
        const { rc, out } = decode(lab, enc.bytes, w, values.length, `w=${w} ${runs}`);
        assert.is(rc, enc.used);
        assert.is(firstDiff(out, values.map((v) => v >>> 0)), -1, `w=${w} ${runs}`);
      }
    }
  });

  test(`${tag} rle: truncated streams give −1, a last run short of its padding is read, bad width −3`, () => {
    const r = rng(0x421);
    for (const w of [0, 1, 5, 8, 9, 16, 20, 32]) {
      const values = someValues(100, w, r);
      const enc = encode(values, w, r);
      // Cut anywhere before the bytes of the last needed value: −1 (or, for w = 0, only header cuts).
      for (let cut = 0; cut < enc.bytes.length; cut++) {
        const { rc, out } = decode(lab, enc.bytes.subarray(0, cut), w, values.length, `w=${w} cut=${cut}`);
        if (rc >= 0) {
          // Accepted only if the values are all there (a bit-packed run short of its padding).
          assert.equal(out, values.map((v) => v >>> 0), `w=${w} cut=${cut}: accepted, so complete`);
          assert.is(rc, cut, `w=${w} cut=${cut}: consumed all there is`);
        } else assert.is(rc, -1, `w=${w} cut=${cut}`);
      }
    }
    // A bit-packed run of 1 group (8 values) of 3 bits, asked for 5 values, with only 2 of its 3 bytes.
    const s = [3, 0b10001000, 0b11000110];
    const { rc, out } = decode(lab, Uint8Array.from(s), 3, 5, 'short padding');
    assert.is(rc, 3);
    assert.equal(out, [0, 1, 2, 3, 4]);
    assert.is(decode(lab, Uint8Array.from(s), 3, 6, 'one value short').rc, -1);
    // Run headers longer than 5 bytes; bit widths outside 0..32.
    assert.is(decode(lab, Uint8Array.of(0x81, 0x80, 0x80, 0x80, 0x80, 0x00), 1, 1, 'long header').rc, -1);
    assert.is(decode(lab, Uint8Array.of(2, 1), 33, 1, 'w=33').rc, -3);
    assert.is(decode(lab, Uint8Array.of(2, 1), -1, 1, 'w=-1').rc, -3);
    // Empty runs (an RLE run of 0 with its value byte, a bit-packed run of 0 groups) are legal.
    assert.equal(decode(lab, Uint8Array.of(0, 1, 1, 4, 7), 3, 2, 'empty runs'), { rc: 5, out: [7, 7] });
    // An RLE run's value wider than w bits (a definition level of 2 at w = 1) is corrupt: −1 (found
    // by scripts/fuzz-parquet.ts: arrow-rs reads such a level as present, we read it as null).
    assert.is(decode(lab, Uint8Array.of(4, 2), 1, 2, 'value 2 at w=1').rc, -1);
    assert.is(decode(lab, Uint8Array.of(4, 0x9e), 1, 2, 'value 0x9e at w=1').rc, -1);
    assert.is(decode(lab, Uint8Array.of(4, 8), 3, 2, 'value 8 at w=3').rc, -1);
    assert.is(decode(lab, Uint8Array.of(4, 0, 2), 9, 2, 'value 512 at w=9').rc, -1);
    assert.equal(decode(lab, Uint8Array.of(4, 0xff, 1), 9, 2, 'value 511 at w=9'), { rc: 3, out: [511, 511] });
    assert.equal(decode(lab, Uint8Array.of(4, 0xff, 0xff, 0xff, 0xff), 32, 2, 'w=32'), { rc: 5, out: [0xffffffff, 0xffffffff] });
  });

  test(`${tag} rle: mutation fuzz — no trap, nothing written outside out, −1 or a length inside src`, () => {
    const r = rng(0x422);
    for (let c = 0; c < 1500; c++) {
      const w = (r() * 33) | 0;
      const values = someValues(1 + ((r() * 300) | 0), w, r);
      const enc = encode(values, w, r);
      const b = enc.bytes.slice();
      for (let f = 1 + ((r() * 3) | 0); f > 0; f--) if (b.length) b[(r() * b.length) | 0] = (r() * 256) | 0;
      const count = values.length + ((r() * 40) | 0) - 20;
      const { rc } = decode(lab, b, w, Math.max(0, count), `fuzz ${c}`);
      assert.ok(rc >= -1 && rc <= b.length, `fuzz ${c}: rc ${rc}`);
    }
  });
}

test.run();
