/**
 * node --import tsx bench/utf8.bench.ts — UTF-8 validation (assembly/utf8), single thread, GB/s:
 * utf8Valid on l_comment text (SF 0.2 lineitem from the generator: ASCII, the common case) and on
 * the same text with multi-byte characters mixed in (about 1 in 3 characters non-ASCII), utf8Values
 * (the column check the readers run) on l_comment, and Buffer's isUtf8 (simdutf, native) for
 * scale. Prints medians; writes no results file.
 */
import { isUtf8 } from 'node:buffer';
import { Context } from '../src/context.js';
import type { Utf8Kernel } from '../src/engine/io/utf8-kernel.js';
import { rng } from '../test/helpers/rng.js';
import { generateLineitem } from './tpch/lineitem.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const ctx = Context.create({ maxBytes: 2 ** 30 });
const k = ctx.kernel as unknown as Utf8Kernel;
const scope = ctx.scope();
const place = (b: Uint8Array): number => {
  const p = scope.alloc(b.length + 64);
  ctx.mem.u8.set(b, p);
  return p;
};

const { offsets, bytes } = generateLineitem(0.2).l_comment;
const rows = offsets.length - 1;
// Mixed: each ASCII letter replaced, with probability 1/3, by a 2-, 3- or 4-byte character.
const r = rng(7);
const MULTI = ['é', 'ß', 'Ω', 'Ж', '中', '文', '€', '✓', '😀', '𝄞'].map((c) => Buffer.from(c));
const buf = new Uint8Array(bytes.length * 4);
let len = 0;
for (let i = 0; i < bytes.length; i++) {
  if (bytes[i] >= 97 && bytes[i] <= 122 && r() < 1 / 3) {
    const m = MULTI[(r() * MULTI.length) | 0];
    buf.set(m, len);
    len += m.length;
  } else buf[len++] = bytes[i];
}
const mixed = buf.subarray(0, len);

const at = place(bytes), mixedAt = place(mixed), offAt = place(new Uint8Array(offsets.buffer, offsets.byteOffset, offsets.byteLength));

function time(name: string, n: number, f: () => unknown, want: unknown): void {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const got = f();
    ms.push(performance.now() - t);
    if (got !== want) throw new Error(`${name}: ${got}, want ${want}`);
  }
  ms.sort((a, b) => a - b);
  const med = ms[ms.length >> 1];
  console.log(`${name.padEnd(44)} ${(n / 2 ** 20).toFixed(1).padStart(7)} MiB  ${med.toFixed(3).padStart(8)} ms  ${(n / med / 1e6).toFixed(2).padStart(6)} GB/s`);
}

console.log(`l_comment: ${rows} values; mixed: ${mixed.length} bytes`);
time('utf8Valid l_comment (ASCII)', bytes.length, () => k.utf8Valid(at, bytes.length), -1);
time('utf8Values l_comment (column check)', bytes.length, () => k.utf8Values(offAt, rows, at, bytes.length), -1);
time('utf8Valid mixed (1/3 of letters multi-byte)', mixed.length, () => k.utf8Valid(mixedAt, mixed.length), -1);
time('Buffer isUtf8 l_comment (simdutf)', bytes.length, () => isUtf8(bytes), true);
time('Buffer isUtf8 mixed (simdutf)', mixed.length, () => isUtf8(mixed), true);
