import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng } from '../helpers/rng.js';
import { labs2, hex, type Lab } from '../helpers/parquet.js';
import type { Utf8Kernel } from '../../src/engine/io/utf8-kernel.js';

// utf8Valid / utf8Values (assembly/utf8) against a scalar reference that decodes code points (not
// the kernel's byte-range table) and against TextDecoder's fatal mode as an independent oracle,
// on both kernel builds, buffers between canaries.

/** Offset of the first byte of the first ill-formed sequence, −1 when well-formed: decode each code point, then reject overlongs, surrogates, > U+10FFFF. */
function refInvalid(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let need: number, cp: number, min: number;
    if ((c & 0xe0) === 0xc0) [need, cp, min] = [1, c & 0x1f, 0x80];
    else if ((c & 0xf0) === 0xe0) [need, cp, min] = [2, c & 0x0f, 0x800];
    else if ((c & 0xf8) === 0xf0) [need, cp, min] = [3, c & 0x07, 0x10000];
    else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

const fatal = new TextDecoder('utf-8', { fatal: true });
function oracleValid(b: Uint8Array): boolean {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
}

const enc = new TextEncoder();
const ascii = (n: number, r: () => number): Uint8Array => Uint8Array.from({ length: n }, () => 32 + ((r() * 95) | 0));
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

/** Random text mixing ASCII with 2-, 3- and 4-byte characters (weights per class). */
function mixed(chars: number, r: () => number, w = [0.5, 0.2, 0.2, 0.1]): Uint8Array {
  let s = '';
  for (let i = 0; i < chars; i++) {
    const x = r();
    let cp: number;
    if (x < w[0]) cp = 32 + ((r() * 95) | 0);
    else if (x < w[0] + w[1]) cp = 0x80 + ((r() * (0x800 - 0x80)) | 0);
    else if (x < w[0] + w[1] + w[2]) {
      cp = 0x800 + ((r() * (0x10000 - 0x800)) | 0);
      if (cp >= 0xd800 && cp <= 0xdfff) cp -= 0x1000; // a surrogate is no character: encode would replace it
    } else cp = 0x10000 + ((r() * (0x110000 - 0x10000)) | 0);
    s += String.fromCodePoint(cp);
  }
  return enc.encode(s);
}

function check(lab: Lab, b: Uint8Array, where: string): number {
  const k = lab.k as unknown as Utf8Kernel;
  const buf = lab.buf(b.length, b);
  const got = k.utf8Valid(buf.addr, b.length);
  const want = refInvalid(b);
  assert.is(got, want, `${where}: ${hex(b.subarray(Math.max(0, want - 8)))}`);
  assert.is(got === -1, oracleValid(b), `${where}: TextDecoder disagrees with the reference`);
  lab.guards(where);
  return got;
}

// Each class of ill-formed sequence (the bytes from the first bad sequence on; the offset is its first byte).
const INVALID: Array<[string, number[]]> = [
  ['lone continuation 80', [0x80]], ['lone continuation BF', [0xbf]], ['continuation after ASCII run', [0x41, 0x80].slice(1)],
  ['C0 overlong', [0xc0, 0x80]], ['C1 overlong', [0xc1, 0xbf]], ['2-byte lead + ASCII', [0xc3, 0x41]],
  ['E0 overlong', [0xe0, 0x80, 0x80]], ['E0 9F overlong', [0xe0, 0x9f, 0xbf]], ['3-byte bad third', [0xe1, 0x80, 0x41]],
  ['surrogate D800', [0xed, 0xa0, 0x80]], ['surrogate DFFF', [0xed, 0xbf, 0xbf]],
  ['F0 overlong', [0xf0, 0x80, 0x80, 0x80]], ['F0 8F overlong', [0xf0, 0x8f, 0xbf, 0xbf]], ['F4 90 > U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['4-byte bad fourth', [0xf1, 0x80, 0x80, 0x41]],
  ...[0xf5, 0xf6, 0xf7, 0xf8, 0xfb, 0xfc, 0xfe, 0xff].map((b): [string, number[]] => [`lead ${b.toString(16)}`, [b, 0x80, 0x80, 0x80]]),
];
// Cut by the end of the buffer (the sequence would be valid with its last bytes).
const TRUNCATED: number[][] = [[0xc3], [0xe2, 0x82], [0xe2], [0xf0, 0x9f, 0x98], [0xf0, 0x9f], [0xf4]];
// Valid edge characters: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF.
const EDGES = [0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff].map((cp) => enc.encode(String.fromCodePoint(cp)));

for (const lab of labs2()) {
  const tag = `[${lab.flavor}]`;
  const k = lab.k as unknown as Utf8Kernel;

  test(`${tag} utf8Valid: ASCII of every length 0..129, one bad byte at every position`, () => {
    const r = rng(0x7f1);
    for (let n = 0; n <= 129; n++) {
      const b = ascii(n, r);
      assert.is(check(lab, b, `ascii n=${n}`), -1);
      for (let i = 0; i < n; i++) {
        for (const bad of [0x80, 0xff, 0xc0]) {
          const m = b.slice();
          m[i] = bad;
          assert.is(check(lab, m, `n=${n} byte ${bad.toString(16)} at ${i}`), i);
        }
      }
      lab.reset();
    }
  });

  test(`${tag} utf8Valid: each class of ill-formed sequence at offsets 0..80, and truncated at the end`, () => {
    const r = rng(0x7f2);
    for (const [name, seq] of INVALID) {
      for (let pre = 0; pre <= 80; pre++) {
        const b = cat(ascii(pre, r), Uint8Array.from(seq), mixed(20, r));
        assert.is(check(lab, b, `${name} after ${pre}`), pre);
        // After valid multi-byte text instead of ASCII too.
        const m = mixed(pre, r);
        assert.is(check(lab, cat(m, Uint8Array.from(seq), ascii(30, r)), `${name} after ${pre} mixed chars`), m.length);
      }
      lab.reset();
    }
    for (const t of TRUNCATED) {
      for (let pre = 0; pre <= 70; pre++) {
        assert.is(check(lab, cat(ascii(pre, r), Uint8Array.from(t)), `truncated ${hex(Uint8Array.from(t))} after ${pre}`), pre);
      }
      lab.reset();
    }
  });

  test(`${tag} utf8Valid: valid 2/3/4-byte characters straddling every 16- and 64-byte edge`, () => {
    const r = rng(0x7f3);
    for (const ch of EDGES) {
      for (let pre = 0; pre <= 140; pre++) {
        assert.is(check(lab, cat(ascii(pre, r), ch, ascii((r() * 70) | 0, r)), `U+ char ${hex(ch)} at ${pre}`), -1);
        assert.is(check(lab, cat(ascii(pre, r), ch), `char ${hex(ch)} last at ${pre}`), -1);
      }
      lab.reset();
    }
  });

  test(`${tag} utf8Valid: seeded random text and mutations (1..3 bytes) vs reference and TextDecoder`, () => {
    const r = rng(0x7f4);
    for (let t = 0; t < 1500; t++) {
      const weights = [[1, 0, 0, 0], [0.5, 0.2, 0.2, 0.1], [0, 0.3, 0.5, 0.2], [0.9, 0.05, 0.04, 0.01]][t & 3];
      const b = mixed((r() * 300) | 0, r, weights);
      check(lab, b, `random ${t}`);
      const m = b.slice();
      const flips = 1 + ((r() * 3) | 0);
      for (let f = 0; f < flips && m.length > 0; f++) m[(r() * m.length) | 0] = r() < 0.5 ? (r() * 256) | 0 : 0x80 | ((r() * 64) | 0);
      check(lab, m, `mutation ${t}`);
      if (t % 100 === 99) lab.reset();
    }
    lab.reset();
  });

  test(`${tag} utf8Valid: large buffers (1 MiB ASCII, 1 MiB mixed) and len < 0`, () => {
    const r = rng(0x7f5);
    const a = ascii(1 << 20, r);
    assert.is(check(lab, a, 'ascii 1 MiB'), -1);
    a[(1 << 20) - 3] = 0xe2;
    assert.is(check(lab, a, 'ascii 1 MiB, cut 3-byte at the end'), (1 << 20) - 3);
    check(lab, mixed(300_000, r), 'mixed');
    assert.is(k.utf8Valid(lab.buf(4).addr, -1), -3);
    lab.reset();
  });

  test(`${tag} utf8Values: values starting inside a sequence, offsets outside the data not read`, () => {
    const r = rng(0x7f6);
    for (let t = 0; t < 400; t++) {
      // Values of valid text; then sometimes one offset moved into the middle of a multi-byte character.
      const vals = Array.from({ length: (r() * 40) | 0 }, () => (r() < 0.2 ? new Uint8Array(0) : mixed((r() * 12) | 0, r, t & 1 ? [1, 0, 0, 0] : [0.4, 0.2, 0.3, 0.1])));
      const data = cat(...vals);
      const offs = [0];
      for (const v of vals) offs.push(offs[offs.length - 1] + v.length);
      if (t % 3 === 0 && vals.length > 1) {
        const i = 1 + ((r() * (vals.length - 1)) | 0);
        offs[i] = Math.min(offs[i + 1], offs[i] + 1 + ((r() * 2) | 0)); // may be inside a sequence
      }
      const n = vals.length;
      // Reference: each value on its own.
      let wantRow = -1;
      for (let i = 0; i < n && wantRow < 0; i++) if (refInvalid(data.subarray(offs[i], offs[i + 1])) >= 0) wantRow = i;
      const ob = lab.buf(4 * (n + 1), new Uint8Array(Int32Array.from(offs).buffer));
      const db = lab.buf(data.length, data);
      const at = k.utf8Values(ob.addr, n, db.addr, data.length);
      lab.guards(`values ${t}`);
      assert.is(at < 0, wantRow < 0, `values ${t}: kernel ${at}, reference row ${wantRow}`);
      if (wantRow >= 0) {
        // The kernel points at a byte inside an ill-formed value (the first one, or a later one whose start is bad).
        const row = offs.findLastIndex((o, i) => i < n && o <= at);
        assert.ok(refInvalid(data.subarray(offs[row], offs[row + 1])) >= 0, `values ${t}: byte ${at} is in row ${row}, which is valid`);
      }
      if (t % 50 === 49) lab.reset();
    }
    // Offsets past the data (and negative) are skipped, not read: an empty data buffer of 0 bytes.
    const ob = lab.buf(16, new Uint8Array(Int32Array.of(0, 5, -1, 1 << 30).buffer));
    const db = lab.buf(0);
    assert.is(k.utf8Values(ob.addr, 4, db.addr, 0), -1);
    // A non-ASCII buffer with one offset into a 2-byte character (é = C3 A9 at 1..2): its start is byte 2.
    const d2 = lab.buf(4, Uint8Array.of(0x61, 0xc3, 0xa9, 0x62));
    const o2 = lab.buf(12, new Uint8Array(Int32Array.of(0, 2, 9).buffer));
    assert.is(k.utf8Values(o2.addr, 3, d2.addr, 4), 2);
    assert.is(k.utf8Values(o2.addr, 1, d2.addr, 4), -1);
    assert.is(k.utf8Values(o2.addr, -1, d2.addr, 4), -3);
    lab.guards('values edges');
    lab.reset();
  });
}

test.run();
