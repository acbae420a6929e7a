import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { Column, columnType, dictionaryType, DType } from '../../src/column.js';
import { columnFromArray, columnFromStrings, valuesView } from '../../src/column-alloc.js';
import { hashColumns } from '../../src/kernels/hash.js';
import { InvalidOptionError, LengthMismatchError, UnsupportedTypeError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import { boolColumn } from '../helpers/bools.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf } from '../helpers/columns.js';

const ctx = Context.create({ maxBytes: 1 << 28 });

const hashes = (cols: Column[], bits: 32 | 64 = 64): Array<bigint | number> => Array.from(valuesView(hashColumns(cols, { bits })));

test('every numeric type: equal values hash equal, different values (almost) never collide, n = 0..129', () => {
  const r = rng(1);
  const scope = ctx.scope();
  for (const name of NUMERIC_TYPES) {
    for (let n = 0; n <= 129; n++) {
      const data = randomArray(name, n, r);
      const col = columnFromArray(ctx, scope, typeOf(name), data);
      const h = hashes([col]);
      assert.is(h.length, n);
      const byValue = new Map<string, bigint | number>();
      for (let i = 0; i < n; i++) {
        const v = data[i];
        const k = typeof v === 'number' && Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '0' : String(v);
        const prev = byValue.get(k);
        if (prev !== undefined) assert.is(h[i], prev, `${name} value ${k}`);
        byValue.set(k, h[i]);
      }
      // 64-bit hashes of distinct values: a collision among ≤ 130 values would be a bug.
      assert.is(new Set(byValue.values()).size, byValue.size, `${name} n=${n}`);
    }
  }
  scope.close();
});

test('floats: -0 = +0 and every NaN payload hashes alike (f32 and f64)', () => {
  const scope = ctx.scope();
  const f64 = new Float64Array(new BigUint64Array([0x0n, 0x8000000000000000n, 0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff0000000000001n, 0x7ff8dead0000beefn]).buffer);
  const h = hashes([columnFromArray(ctx, scope, columnType('float64'), f64)]);
  assert.is(h[0], h[1]);
  assert.is(new Set(h.slice(2)).size, 1);
  assert.is.not(h[0], h[2]);
  const f32 = new Float32Array(new Uint32Array([0, 0x80000000, 0x7fc00000, 0xffc00000, 0x7f800001]).buffer);
  const g = hashes([columnFromArray(ctx, scope, columnType('float32'), f32)]);
  assert.is(g[0], g[1]);
  assert.is(new Set(g.slice(2)).size, 1);
  scope.close();
});

test('nulls hash to one fixed value whatever lies under them', () => {
  const r = rng(2);
  const scope = ctx.scope();
  const a = columnFromArray(ctx, scope, columnType('int64'), randomArray('int64', 100, r), randomValidity(100, r, 0.5));
  const b = columnFromArray(ctx, scope, columnType('float32'), randomArray('float32', 100, r), randomValidity(100, r, 0.5));
  const s = columnFromStrings(ctx, scope, Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? null : `v${i}`)));
  const nullHashes = new Set<bigint | number>();
  for (const c of [a, b, s]) {
    const h = hashes([c]);
    for (let i = 0; i < c.length; i++) if (!c.isValid(i)) nullHashes.add(h[i]);
  }
  assert.is(nullHashes.size, 1);
  scope.close();
});

test('utf8: hashes depend on the string bytes only (not offsets, not neighbours), all lengths 0..70', () => {
  const r = rng(3);
  const scope = ctx.scope();
  const strs: string[] = [];
  for (let len = 0; len <= 70; len++) {
    strs.push(Array.from({ length: len }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join(''));
  }
  // Same strings in a different order and with different neighbours / padding around them.
  const a = columnFromStrings(ctx, scope, strs);
  const shuffled = strs.map((s, i) => ({ s, i, k: r() })).sort((x, y) => x.k - y.k);
  const b = columnFromStrings(ctx, scope, ['#'.repeat(13), ...shuffled.map((x) => x.s), 'z'.repeat(99)]);
  const ha = hashes([a]);
  const hb = hashes([b]);
  shuffled.forEach((x, j) => assert.is(hb[j + 1], ha[x.i], `string of length ${x.i}`));
  // Every single-byte change (first, middle, last byte) changes the hash; so does length.
  const variants: string[] = [];
  for (const s of strs) {
    if (s.length === 0) continue;
    for (const pos of [0, s.length >> 1, s.length - 1]) variants.push(s.slice(0, pos) + 'Z' + s.slice(pos + 1));
    variants.push(s + '\0');
  }
  const all = new Set([...ha, ...hashes([columnFromStrings(ctx, scope, variants)])]);
  assert.is(all.size, new Set([...strs, ...variants]).size);
  scope.close();
});

test('distribution: 200k distinct ints and strings, no 64-bit collisions, low bits spread evenly', () => {
  const scope = ctx.scope();
  const n = 200_000;
  const ints = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from({ length: n }, (_, i) => i));
  const strs = columnFromStrings(ctx, scope, Array.from({ length: n }, (_, i) => `key-${i}`));
  for (const col of [ints, strs]) {
    const h = hashColumns([col]);
    const v = valuesView(h) as BigUint64Array;
    assert.is(new Set(v).size, n, col.type.name);
    // 1024 buckets by the low 10 bits and by the top 10 bits (the hash table uses the high half).
    for (const shift of [0n, 54n]) {
      const buckets = new Uint32Array(1024);
      for (const x of v) buckets[Number((x >> shift) & 1023n)]++;
      const mean = n / 1024;
      const chi2 = buckets.reduce((a, b) => a + (b - mean) ** 2 / mean, 0);
      assert.ok(chi2 < 1023 + 6 * Math.sqrt(2 * 1023), `${col.type.name} shift ${shift}: chi2 ${chi2.toFixed(0)}`);
    }
  }
  scope.close();
});

test('several columns combine in order; 32-bit hashes fold the halves; dictionaries hash their codes', () => {
  const scope = ctx.scope();
  const a = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([1, 2, 1, 2, 1]));
  const b = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([2, 1, 2, 1, 1]));
  const s = columnFromStrings(ctx, scope, ['x', 'y', 'x', 'y', 'x']);
  const ab = hashes([a, b]);
  const ba = hashes([b, a]);
  assert.is(ab[0], ab[2]);
  assert.is.not(ab[0], ab[1]);
  assert.is.not(ab[0], ba[0]); // (1, 2) vs (2, 1)
  assert.is.not(ab[4], hashes([a])[4]); // combining changes the hash
  const abs = hashes([a, b, s]);
  assert.is(abs[0], abs[2]);
  const h64 = hashes([a, s]) as bigint[];
  const h32 = hashes([a, s], 32) as number[];
  h64.forEach((h, i) => assert.is(h32[i], Number((h >> 32n) ^ (h & 0xffffffffn))));
  assert.is(hashColumns([a], { bits: 32 }).type.name, 'uint32');
  const codes = columnFromArray(ctx, scope, columnType('uint8'), Uint8Array.from([0, 1, 0]));
  const dict = new Column(ctx, scope, { type: dictionaryType(DType.U8), length: 3, values: codes.values, dictionary: columnFromStrings(ctx, scope, ['p', 'q']) });
  const hd = hashes([dict]);
  assert.is(hd[0], hd[2]);
  assert.is(hd[0], hashes([codes])[0]);
  scope.close();
});

test('bool keys: equal bits hash equal, the bit under a null is ignored', () => {
  const scope = ctx.scope();
  const vals = [true, false, null, true, null, false, true];
  const h1 = hashes([boolColumn(ctx, scope, vals, true)]);
  const h2 = hashes([boolColumn(ctx, scope, vals, false)]);
  assert.equal(h1, h2);
  assert.is(h1[0], h1[3]);
  assert.is(h1[1], h1[5]);
  assert.is(h1[2], h1[4]);
  assert.is(new Set(h1).size, 3);
  scope.close();
});

test('canaries around the output; timestamps and dates hash as their integers', () => {
  const scope = ctx.scope();
  const r = rng(9);
  for (const n of [0, 1, 7, 8, 9, 63, 64, 65]) {
    const col = columnFromArray(ctx, scope, columnType('date64'), randomArray('int64', n, r) as BigInt64Array, randomValidity(n, r, 0.2));
    const before = scope.alloc(64);
    ctx.mem.u8.fill(0xa5, before, before + 64);
    const out = ctx.scope();
    // The output is the first allocation of a fresh scope: paint its 64-byte-rounded block first.
    const probe = out.alloc(0);
    ctx.mem.u8.fill(0xa5, probe, probe + 64 + Math.ceil((n * 8) / 64) * 64 + 64);
    const h = hashColumns([col], { scope: out });
    for (let q = h.values + n * 8; q < h.values + Math.max(64, Math.ceil((n * 8) / 64) * 64); q++) assert.is(ctx.mem.u8[q], 0xa5, `n=${n} +${q - h.values}`);
    assert.ok(ctx.mem.u8.subarray(before, before + 64).every((b) => b === 0xa5));
    const asInt = columnFromArray(ctx, scope, columnType('int64'), valuesView(col) as BigInt64Array, Array.from({ length: n }, (_, i) => col.isValid(i)));
    assert.equal(Array.from(valuesView(h)), hashes([asInt]));
    out.close();
  }
  scope.close();
});

test('bad input: typed errors', () => {
  const scope = ctx.scope();
  const a = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([1, 2, 3]));
  const b = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from([1, 2]));
  const bool = new Column(ctx, scope, { type: columnType('bool'), length: 3, values: a.values });
  assert.throws(() => hashColumns([a, b]), (e: unknown) => e instanceof LengthMismatchError);
  const asText = new Column(ctx, scope, { type: { name: 'list' as 'bool', dtype: 99 as DType }, length: 3, values: a.values });
  assert.throws(() => hashColumns([asText]), (e: unknown) => e instanceof UnsupportedTypeError && /hash/.test((e as Error).message));
  assert.is(hashColumns([bool]).length, 3);
  assert.throws(() => hashColumns([a], { bits: 16 as 32 }), (e: unknown) => e instanceof InvalidOptionError && /bits/.test((e as Error).message));
  assert.throws(() => hashColumns([]), (e: unknown) => e instanceof InvalidOptionError);
  scope.close();
});

test.run();
