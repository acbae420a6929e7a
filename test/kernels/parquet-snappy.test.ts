import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { snappyUncompress } from 'hyparquet';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { rng } from '../helpers/rng.js';
import { labs2, firstDiff, hex, randomBytes, type Lab } from '../helpers/parquet.js';

// ---- an independent reference and a stream builder --------------------------------------------

/**
 * Scalar reference decoder with the kernel's contract: the bytes, −1 malformed/truncated, −2 the
 * preamble exceeds cap. Written from the format description, byte at a time.
 */
function refSnappy(src: Uint8Array, cap: number): Uint8Array | number {
  let ip = 0;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    if (ip >= src.length || shift > 28) return -1;
    const b = src[ip++];
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (len > 0xffffffff) return -1;
  if (len > cap) return -2;
  const out = new Uint8Array(len);
  let op = 0;
  while (ip < src.length) {
    const tag = src[ip++];
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const extra = n - 59;
        if (ip + extra > src.length) return -1;
        n = 0;
        for (let k = 0; k < extra; k++) n += src[ip + k] * 256 ** k;
        ip += extra;
      }
      n += 1;
      if (ip + n > src.length || op + n > len) return -1;
      out.set(src.subarray(ip, ip + n), op);
      ip += n;
      op += n;
    } else {
      const extra = kind === 1 ? 1 : kind === 2 ? 2 : 4;
      if (ip + extra > src.length) return -1;
      let n: number;
      let off = 0;
      if (kind === 1) {
        n = ((tag >>> 2) & 7) + 4;
        off = ((tag >>> 5) << 8) | src[ip];
      } else {
        n = (tag >>> 2) + 1;
        for (let k = 0; k < extra; k++) off += src[ip + k] * 256 ** k;
      }
      ip += extra;
      if (off === 0 || off > op || op + n > len) return -1;
      for (let k = 0; k < n; k++) out[op + k] = out[op + k - off];
      op += n;
    }
  }
  return op === len ? out : -1;
}

/** Builds a stream element by element and the output it stands for. */
class Stream {
  bytes: number[] = [];
  out: number[] = [];
  /** A literal; `extra` forces the long length form with that many bytes (1..4). */
  literal(data: ArrayLike<number>, extra = data.length > 60 ? Math.max(1, Math.ceil(Math.log2(data.length) / 8)) : 0): this {
    const m = data.length - 1;
    if (extra === 0) this.bytes.push(m << 2);
    else {
      this.bytes.push((59 + extra) << 2);
      for (let k = 0; k < extra; k++) this.bytes.push(Math.floor(m / 256 ** k) & 0xff);
    }
    for (let i = 0; i < data.length; i++) {
      this.bytes.push(data[i]);
      this.out.push(data[i]);
    }
    return this;
  }
  /** A copy in form 1 (len 4..11, off < 2048), 2 (len 1..64, off < 65536) or 4 (len 1..64). */
  copy(form: 1 | 2 | 4, len: number, off: number): this {
    if (form === 1) this.bytes.push(1 | ((len - 4) << 2) | ((off >> 8) << 5), off & 0xff);
    else if (form === 2) this.bytes.push(2 | ((len - 1) << 2), off & 0xff, off >> 8);
    else this.bytes.push(3 | ((len - 1) << 2), off & 0xff, (off >> 8) & 0xff, (off >> 16) & 0xff, (off >>> 24) & 0xff);
    for (let k = 0; k < len; k++) this.out.push(this.out[this.out.length - off]);
    return this;
  }
  /** The stream: varint preamble (the output length unless given) + elements. */
  build(preamble = this.out.length): Uint8Array {
    const head: number[] = [];
    let v = preamble;
    while (v >= 0x80) {
      head.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    head.push(v);
    return Uint8Array.from([...head, ...this.bytes]);
  }
}

// ---- running the kernel -----------------------------------------------------------------------

/** Runs pqSnappy with canaries around src and dst; checks them. */
function run(lab: Lab, src: Uint8Array, cap: number, where: string): { rc: number; out: Uint8Array } {
  const s = lab.buf(src.length, src);
  const d = lab.buf(cap);
  const rc = lab.k.pqSnappy(s.addr, src.length, d.addr, cap);
  lab.guards(where);
  assert.equal(lab.bytes(s), src, `${where}: src untouched`);
  const out = rc >= 0 ? lab.bytes(d, 0, rc) : new Uint8Array(0);
  lab.reset();
  return { rc, out };
}

/** The kernel's answer must be the reference's, byte for byte. */
function agrees(lab: Lab, src: Uint8Array, cap: number, where: string): number {
  const want = refSnappy(src, cap);
  const { rc, out } = run(lab, src, cap, where);
  if (typeof want === 'number') {
    if (rc !== want) assert.unreachable(`${where}: rc ${rc}, want ${want} (stream ${hex(src)})`);
  } else {
    if (rc !== want.length) assert.unreachable(`${where}: rc ${rc}, want ${want.length} (stream ${hex(src)})`);
    const at = firstDiff(out, want);
    if (at >= 0) assert.unreachable(`${where}: byte ${at} differs`);
  }
  return rc;
}

const WORDS = 'the quick furiously regular deposits sleep carefully final packages across ironic accounts pending requests blithely express foxes'.split(' ');

/** Text like TPC-H comments: random words, spaces, the odd period. */
function text(n: number, r: () => number): Uint8Array {
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const w = WORDS[(r() * WORDS.length) | 0] + (r() < 0.1 ? '. ' : ' ');
    for (let k = 0; k < w.length && i < n; k++) out[i++] = w.charCodeAt(k);
  }
  return out;
}

/** Sorted int64 keys (little endian), like l_orderkey. */
function keys(n: number, r: () => number): Uint8Array {
  const v = new BigInt64Array(Math.ceil(n / 8));
  let x = 1n;
  for (let i = 0; i < v.length; i++) v[i] = x += BigInt((r() * 3) | 0);
  return new Uint8Array(v.buffer, 0, n);
}

const KINDS: Array<[string, (n: number, r: () => number) => Uint8Array]> = [
  ['text', text],
  ['keys', keys],
  ['random', randomBytes],
  ['zeros', (n) => new Uint8Array(n)],
  ['period-7', (n) => Uint8Array.from({ length: n }, (_, i) => (i % 7) * 31)],
  ['mixed', (n, r) => Uint8Array.from({ length: n }, (_, i) => (i % 97 < 40 ? (r() * 256) | 0 : i % 5))],
];

// ---- tests ------------------------------------------------------------------------------------

for (const lab of labs2()) {
  const tag = `[${lab.flavor}]`;

  test(`${tag} snappy: hyparquet-writer round trips, lengths 0..129 and large, six data shapes`, () => {
    const r = rng(0x5a1);
    for (const [name, make] of KINDS) {
      for (const n of [...Array.from({ length: 130 }, (_, i) => i), 1000, 4099, 65536 + 17, 300_000]) {
        const data = make(n, r);
        const z = snappyCompress(data);
        // hyparquet's decoder is the oracle of the oracle: the stream is what it means.
        const check = new Uint8Array(n);
        if (n > 0) snappyUncompress(z, check);
        assert.equal(firstDiff(check, data), -1, `${name} ${n}: hyparquet round trip`);
        // Exact capacity, and spare capacity (the kernel must still write exactly n).
        for (const cap of [n, n + 37]) {
          const { rc, out } = run(lab, z, cap, `${name} n=${n} cap=${cap}`);
          assert.is(rc, n, `${name} n=${n}: rc`);
          assert.is(firstDiff(out, data), -1, `${name} n=${n}: bytes`);
        }
      }
    }
  });

  test(`${tag} snappy: literal lengths 1..60 short form, the 1–4 byte long forms, near and far from the ends`, () => {
    const r = rng(0x5a2);
    for (let len = 1; len <= 300; len++) {
      for (const extra of len <= 60 ? [0, 1, 2, 3, 4] : [1, 2, 3, 4]) {
        if (extra === 1 && len > 256) continue;
        for (const pad of [0, 3, 100]) {
          const s = new Stream();
          if (pad) s.literal(randomBytes(pad, r));
          s.literal(randomBytes(len, r), extra);
          if (pad) s.literal(randomBytes(pad, r));
          const z = s.build();
          const want = Uint8Array.from(s.out);
          const { rc, out } = run(lab, z, want.length, `literal ${len} extra ${extra} pad ${pad}`);
          assert.is(rc, want.length);
          assert.is(firstDiff(out, want), -1, `literal ${len} extra ${extra} pad ${pad}`);
        }
      }
    }
    // A long literal (70 000 bytes, 3 length bytes) in the middle of a stream.
    const s = new Stream().literal(randomBytes(20, r)).literal(randomBytes(70_000, r), 3).copy(2, 64, 1000).literal(randomBytes(5, r));
    assert.is(agrees(lab, s.build(), s.out.length, 'long literal'), s.out.length);
  });

  test(`${tag} snappy: copies of every form, overlapping offsets 1..16 × lengths 1..64, near and far from the ends`, () => {
    const r = rng(0x5a3);
    for (const form of [1, 2, 4] as const) {
      const lens = form === 1 ? [4, 5, 6, 7, 8, 9, 10, 11] : Array.from({ length: 64 }, (_, i) => i + 1);
      for (const len of lens) {
        for (const off of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 64, 65, 200, 1500]) {
          for (const tail of [0, 2, 120]) {
            const s = new Stream().literal(randomBytes(Math.max(off, 1), r));
            if (off < 200) s.literal(randomBytes(60, r));
            s.copy(form, len, off);
            if (tail) s.literal(randomBytes(tail, r));
            const z = s.build();
            const want = Uint8Array.from(s.out);
            const where = `copy form ${form} len ${len} off ${off} tail ${tail}`;
            const { rc, out } = run(lab, z, want.length, where);
            assert.is(rc, want.length, where);
            assert.is(firstDiff(out, want), -1, where);
          }
        }
      }
    }
    // Far offsets of the 2- and 4-byte forms (70 000 back).
    const big = new Stream().literal(randomBytes(70_000, r)).copy(4, 64, 70_000).copy(2, 33, 65_535).literal([1, 2, 3]);
    assert.is(agrees(lab, big.build(), big.out.length, 'far copies'), big.out.length);
  });

  test(`${tag} snappy: chains of short overlapping copies (runs and small periods) stay exact`, () => {
    const r = rng(0x5a4);
    for (let round = 0; round < 200; round++) {
      const s = new Stream().literal(randomBytes(16, r));
      const m = 1 + ((r() * 40) | 0);
      for (let e = 0; e < m; e++) {
        const pick = r();
        if (pick < 0.6) s.copy(2, 1 + ((r() * 64) | 0), 1 + ((r() * Math.min(16, s.out.length)) | 0));
        else if (pick < 0.8) s.copy(1, 4 + ((r() * 8) | 0), 1 + ((r() * Math.min(2047, s.out.length)) | 0));
        else s.literal(randomBytes(1 + ((r() * 20) | 0), r));
      }
      assert.is(agrees(lab, s.build(), s.out.length + ((r() * 3) | 0), `chain ${round}`), s.out.length);
    }
  });

  test(`${tag} snappy: malformed and over-capacity streams give −1 / −2 and write nothing outside dst`, () => {
    const r = rng(0x5a5);
    const ok = new Stream().literal(randomBytes(40, r)).copy(2, 30, 7).copy(1, 8, 40).literal(randomBytes(3, r));
    const n = ok.out.length;
    const z = ok.build();
    // Every proper prefix is truncated.
    for (let cut = 0; cut < z.length; cut++) assert.is(run(lab, z.subarray(0, cut), n, `prefix ${cut}`).rc, -1, `prefix ${cut}`);
    assert.is(run(lab, z, n - 1, 'cap n - 1').rc, -2);
    assert.is(run(lab, z, 0, 'cap 0').rc, -2);
    const cases: Array<[string, Uint8Array, number]> = [
      ['offset 0', new Stream().literal([1, 2, 3, 4]).copy(2, 4, 0).build(8), -1],
      ['offset 0 (form 1)', new Stream().literal([1, 2, 3, 4]).copy(1, 4, 0).build(8), -1],
      ['offset before dst', new Stream().literal([1, 2, 3, 4]).copy(2, 4, 5).build(8), -1],
      ['offset before dst (form 4)', new Stream().literal(randomBytes(100, r)).copy(4, 60, 0x80000000).literal(randomBytes(40, r)).build(200), -1],
      ['copy past the preamble', new Stream().literal([1, 2, 3, 4]).copy(2, 8, 4).build(10), -1],
      ['literal past the preamble', new Stream().literal(randomBytes(30, r)).build(29), -1],
      ['output short of the preamble', new Stream().literal(randomBytes(30, r)).build(31), -1],
      ['literal past src', new Stream().literal(randomBytes(30, r)).build().subarray(0, 20), -1],
      ['6-byte preamble', Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), -1],
      ['preamble over 32 bits', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x7f), -1],
      ['4-byte literal length 2^32', Uint8Array.of(10, 63 << 2, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), -1],
      ['empty stream, empty output', Uint8Array.of(0), 0],
      ['nothing at all', new Uint8Array(0), -1],
    ];
    for (const [name, stream, want] of cases) {
      assert.is(agrees(lab, stream, 1 << 12, name), want, name);
    }
    // Long streams that go wrong deep inside the fast loop.
    const long = new Stream().literal(randomBytes(5000, r));
    for (let i = 0; i < 100; i++) long.copy(2, 40, 1 + i * 13);
    const good = long.build();
    const bad = good.slice();
    bad[good.length - 150] = 2 | (63 << 2); // a copy tag whose offset bytes ask for ~64K back
    bad[good.length - 149] = 0xff;
    bad[good.length - 148] = 0xff;
    agrees(lab, bad, long.out.length, 'deep bad offset');
  });

  test(`${tag} snappy: mutation fuzz — no trap, no write outside dst, the reference's answer`, () => {
    const r = rng(0x5a6);
    const seeds = [text(3000, r), keys(2000, r), randomBytes(500, r), new Uint8Array(700), text(90, r)].map((d) => snappyCompress(d));
    let ok = 0;
    for (let c = 0; c < 2500; c++) {
      const z = seeds[c % seeds.length].slice();
      const kind = (r() * 4) | 0;
      let m: Uint8Array = z;
      if (kind === 0) for (let f = 1 + ((r() * 3) | 0); f > 0; f--) z[(r() * z.length) | 0] = (r() * 256) | 0;
      else if (kind === 1) m = z.subarray(0, (r() * z.length) | 0);
      else if (kind === 2) z[(r() * z.length) | 0] ^= 1 << ((r() * 8) | 0);
      else {
        const at = (r() * z.length) | 0;
        m = Uint8Array.from([...z.subarray(0, at), (r() * 256) | 0, ...z.subarray(at)]);
      }
      const pre = refSnappy(m, 1 << 20);
      const len = typeof pre === 'number' ? 64 : pre.length;
      const cap = r() < 0.8 ? len : Math.max(0, len + ((r() * 40) | 0) - 20);
      if (agrees(lab, m, cap, `fuzz ${c} kind ${kind}`) >= 0) ok++;
    }
    // The fuzz must reach both outcomes to mean anything.
    assert.ok(ok > 50 && ok < 2400, `valid after mutation: ${ok}`);
  });
}

test.run();
