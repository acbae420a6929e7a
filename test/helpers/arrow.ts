/**
 * arrow-js vectors for the import/export tests: every type we take, random values and nulls, built
 * from raw buffers with makeData (so the physical layout is known exactly), plus slicing/chunking.
 */
import * as A from 'apache-arrow';
import * as assert from 'uvu/assert';
import type { Column } from '../../src/column.js';

export interface Case {
  label: string;
  make: () => A.DataType;
}

export const FIXED_CASES: Case[] = [
  { label: 'int8', make: () => new A.Int8() },
  { label: 'int16', make: () => new A.Int16() },
  { label: 'int32', make: () => new A.Int32() },
  { label: 'int64', make: () => new A.Int64() },
  { label: 'uint8', make: () => new A.Uint8() },
  { label: 'uint16', make: () => new A.Uint16() },
  { label: 'uint32', make: () => new A.Uint32() },
  { label: 'uint64', make: () => new A.Uint64() },
  { label: 'float32', make: () => new A.Float32() },
  { label: 'float64', make: () => new A.Float64() },
  { label: 'date32', make: () => new A.DateDay() },
  { label: 'date64', make: () => new A.DateMillisecond() },
  { label: 'timestamp[s]', make: () => new A.TimestampSecond() },
  { label: 'timestamp[ms, UTC]', make: () => new A.TimestampMillisecond('UTC') },
  { label: 'timestamp[us, Europe/Paris]', make: () => new A.TimestampMicrosecond('Europe/Paris') },
  { label: 'timestamp[ns, +05:30]', make: () => new A.TimestampNanosecond('+05:30') },
];

/** A random LSB-first bitmap of n bits (plus `pad` spare bytes), each bit set with probability 1 - nullRate. */
export function randomBitmap(n: number, r: () => number, nullRate: number): Uint8Array {
  const bm = new Uint8Array(Math.ceil(n / 8) + 8);
  for (let i = 0; i < n; i++) if (r() >= nullRate) bm[i >>> 3] |= 1 << (i & 7);
  return bm;
}

/** Random bytes into any typed array (every bit pattern: NaNs with payloads, -0, denormals, extremes). */
function fillRandom(view: ArrayBufferView, r: () => number): void {
  const u8 = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  for (let i = 0; i < u8.length; i++) u8[i] = (r() * 256) | 0;
}

/** A fixed-width (or bool) vector of n rows. */
export function fixedVector(type: A.DataType, n: number, r: () => number, nullRate: number): A.Vector {
  const nullBitmap = nullRate > 0 ? randomBitmap(n, r, nullRate) : undefined;
  if (A.DataType.isBool(type)) {
    const data = randomBitmap(n, r, 0.5);
    return A.makeVector(A.makeData({ type, length: n, nullBitmap, data }));
  }
  const data = new (type.ArrayType as new (n: number) => ArrayBufferView)(n);
  fillRandom(data, r);
  return A.makeVector(A.makeData({ type, length: n, nullBitmap, data } as never));
}

const ALPHABET = ['a', 'b', 'z', ' ', 'é', 'ß', '中', '😀', '\u0000', 'Q'];

export function randomString(r: () => number, maxLen = 30): string {
  const len = Math.floor(r() * (maxLen + 1));
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

export function randomStrings(n: number, r: () => number, nullRate: number): Array<string | null> {
  return Array.from({ length: n }, () => (r() < nullRate ? null : randomString(r)));
}

/** Dictionary<Utf8, index> over `dict`, with random codes (garbage codes in null rows). */
export function dictionaryVector(indices: A.Int, dict: ReadonlyArray<string | null>, n: number, r: () => number, nullRate: number): A.Vector {
  const type = new A.Dictionary(new A.Utf8(), indices as A.Int32);
  const codes = new (indices.ArrayType as new (n: number) => Int32Array)(n);
  const nullBitmap = nullRate > 0 ? randomBitmap(n, r, nullRate) : undefined;
  for (let i = 0; i < n; i++) {
    const valid = !nullBitmap || ((nullBitmap[i >>> 3] >>> (i & 7)) & 1) === 1;
    codes[i] = valid ? Math.floor(r() * dict.length) : 0x7f; // 0x7f: out of range on purpose in null rows
  }
  const dictionary = A.vectorFromArray(dict as string[], new A.Utf8());
  return A.makeVector(A.makeData({ type, length: n, nullBitmap, data: codes, dictionary }));
}

/**
 * The same rows as `v[offset, offset + length)`, as chunks cut at random points, each chunk a slice
 * (so every chunk has a non-zero `data.offset` in general).
 */
export function chunked(v: A.Vector, offset: number, length: number, pieces: number, r: () => number): A.Vector {
  const whole = v.data[0];
  const cuts = [offset, offset + length];
  for (let k = 1; k < pieces; k++) cuts.push(offset + Math.floor(r() * (length + 1)));
  cuts.sort((a, b) => a - b);
  const chunks: A.Data[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) chunks.push(whole.slice(cuts[k], cuts[k + 1] - cuts[k]));
  return new A.Vector(chunks);
}

/**
 * Row i as stored: null, the raw element of the values buffer for numeric and temporal types (so
 * 64-bit timestamps outside arrow-js's safe-number getters still compare), else arrow-js's getter.
 */
export function rawGet(v: A.Vector, row: number): unknown {
  let i = row;
  let k = 0;
  while (i >= v.data[k].length) i -= v.data[k++].length;
  const d = v.data[k];
  if (!d.getValid(i)) return null;
  const t = d.type;
  const raw = A.DataType.isInt(t) || A.DataType.isDate(t) || A.DataType.isTimestamp(t) ||
    (A.DataType.isFloat(t) && t.precision !== A.Precision.HALF);
  return raw ? (d.values as ArrayLike<unknown>)[i] : v.get(row);
}

/** Row-by-row equality (Object.is: NaN equals NaN, -0 is not 0). */
export function assertSameRows(got: A.Vector, want: A.Vector, where: string): void {
  assert.is(got.length, want.length, `length ${where}`);
  for (let i = 0; i < want.length; i++) {
    const g = rawGet(got, i);
    const w = rawGet(want, i);
    if (!Object.is(g, w)) assert.unreachable(`row ${i} ${where}: got ${String(g)}, want ${String(w)}`);
  }
}

/** The column layout promises of src/column.ts: 64-aligned buffers, validity iff nulls, bits past length 0. */
export function assertLayout(col: Column, where: string): void {
  for (const [what, addr] of [['values', col.values], ['validity', col.validity], ['offsets', col.offsets]] as const) {
    if (addr !== 0) assert.is(addr % 64, 0, `${what} 64-aligned ${where}`);
  }
  assert.is(col.validity === 0, col.nullCount === 0, `validity present iff nulls ${where}`);
  if (col.type.name === 'utf8') assert.is(new Int32Array(col.ctx.mem.buffer, col.offsets, 1)[0], 0, `offsets start at 0 ${where}`);
}
