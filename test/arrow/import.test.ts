import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as A from 'apache-arrow';
import { Context } from '../../src/context.js';
import { DType } from '../../src/column.js';
import { ArrowImportError } from '../../src/errors.js';
import { exportVector, importTable, importVector, exportBatch, isContextBuffer } from '../../src/arrow/index.js';
import { rng, SCALE } from '../helpers/rng.js';
import {
  FIXED_CASES, assertLayout, assertSameRows, chunked, dictionaryVector, fixedVector, randomStrings,
} from '../helpers/arrow.js';

const ctx = Context.create({ maxBytes: 1 << 30 });

/** Import, check the layout and validity bit by bit, export, compare rows and the type. */
function roundTrip(v: A.Vector, where: string, wantType: A.DataType = v.type) {
  const scope = ctx.scope();
  try {
    const col = importVector(ctx, scope, v, { name: 'c' });
    assert.is(col.length, v.length, `length ${where}`);
    assert.is(col.nullCount, v.nullCount, `nullCount ${where}`);
    assertLayout(col, where);
    for (let i = 0; i < v.length; i++) {
      if (col.isValid(i) !== v.isValid(i)) assert.unreachable(`validity row ${i} ${where}`);
    }
    const out = exportVector(col);
    assert.is(String(out.type), String(wantType), `type ${where}`);
    assertSameRows(out, v, where);
    return col;
  } finally {
    scope.close();
  }
}

const LENGTHS = [0, 1, 7, 8, 9, 63, 64, 65, 200];

for (const c of FIXED_CASES) {
  test(`${c.label}: round trip at lengths ${LENGTHS.join(',')} × null rates 0 / 0.3 / 1`, () => {
    const r = rng(0xa11 + c.label.length);
    for (const n of LENGTHS) {
      for (const nullRate of [0, 0.3, 1]) roundTrip(fixedVector(c.make(), n, r, nullRate), `${c.label} n=${n} nulls=${nullRate}`);
    }
  });

  test(`${c.label}: sliced at offsets 0..17, and cut into chunks`, () => {
    const r = rng(0xb22 + c.label.length);
    const v = fixedVector(c.make(), 120, r, 0.3);
    for (let off = 0; off <= 17; off++) {
      roundTrip(v.slice(off, off + 50), `${c.label} slice(${off})`);
      roundTrip(chunked(v, off, 90, 4, r), `${c.label} 4 chunks from ${off}`);
    }
    roundTrip(chunked(v, 5, 0, 3, r), `${c.label} empty chunks`);
  });
}

test('timestamps keep unit and time zone; dates keep their kind', () => {
  const scope = ctx.scope();
  for (const c of FIXED_CASES.filter((x) => x.label.startsWith('timestamp') || x.label.startsWith('date'))) {
    const t = c.make();
    const col = importVector(ctx, scope, fixedVector(t, 10, rng(1), 0.2));
    const back = exportVector(col).type;
    assert.is(back.typeId, t.typeId, c.label);
    assert.is((back as A.Timestamp).unit, (t as A.Timestamp).unit, c.label);
    if (A.DataType.isTimestamp(t)) assert.is((back as A.Timestamp).timezone ?? null, t.timezone ?? null, c.label);
  }
  const ts = importVector(ctx, scope, fixedVector(new A.TimestampMicrosecond('Europe/Paris'), 3, rng(2), 0));
  assert.equal({ ...ts.type }, { name: 'timestamp', dtype: DType.I64, unit: 'microsecond', timezone: 'Europe/Paris' });
  assert.ok(exportVector(ts).data[0].values instanceof BigInt64Array);
  scope.close();
});

test('bool: values and validity realigned from any bit offset, across chunks', () => {
  const r = rng(0xb001);
  for (const n of LENGTHS) for (const nullRate of [0, 0.3, 1]) roundTrip(fixedVector(new A.Bool(), n, r, nullRate), `bool n=${n}`);
  const v = fixedVector(new A.Bool(), 150, r, 0.3);
  for (let off = 0; off <= 17; off++) {
    roundTrip(v.slice(off, off + 70), `bool slice(${off})`);
    roundTrip(chunked(v, off, 100, 5, r), `bool chunks from ${off}`);
  }
});

test('float16 widens exactly to float32 (exports as Float32)', () => {
  const r = rng(0xf16);
  const v = fixedVector(new A.Float16(), 3000, r, 0.2); // random bits: every half incl. NaN, ±Inf, subnormals
  roundTrip(v, 'float16', new A.Float32());
  roundTrip(chunked(v, 3, 1000, 3, r), 'float16 chunks', new A.Float32());
  const exact = A.makeVector(A.makeData({ type: new A.Float16(), data: new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000, 0x7c00]) }));
  const scope = ctx.scope();
  const got = exportVector(importVector(ctx, scope, exact)).toArray();
  assert.equal([...got], [1, -2, 2 ** -24, 65504, -0, Infinity]);
  assert.ok(Object.is(got[4], -0));
  scope.close();
});

const STRING_TYPES: Array<[string, () => A.DataType]> = [
  ['utf8', () => new A.Utf8()],
  ['large_utf8', () => new A.LargeUtf8()],
  ['utf8_view', () => new A.Utf8View()],
];

for (const [label, make] of STRING_TYPES) {
  test(`${label}: round trip to utf8 with nulls, slices 0..17, chunks, empty`, () => {
    const r = rng(0x57a + label.length);
    for (const n of [0, 1, 13, 64, 100]) {
      for (const nullRate of [0, 0.3, 1]) {
        roundTrip(A.vectorFromArray(randomStrings(n, r, nullRate), make()), `${label} n=${n} nulls=${nullRate}`, new A.Utf8());
      }
    }
    const v = A.vectorFromArray(randomStrings(120, r, 0.25), make());
    for (let off = 0; off <= 17; off++) {
      roundTrip(v.slice(off, off + 60), `${label} slice(${off})`, new A.Utf8());
      roundTrip(chunked(v, off, 90, 4, r), `${label} chunks from ${off}`, new A.Utf8());
    }
    roundTrip(chunked(v, 7, 0, 3, r), `${label} empty chunks`, new A.Utf8());
  });
}

test('utf8_view built by hand: inline and out-of-line views over two data buffers', () => {
  const enc = new TextEncoder();
  const buf0 = enc.encode('xxxxthis one is long enough');
  const buf1 = enc.encode('a second buffer, also long-ish');
  const views = new Uint8Array(16 * 4);
  const dv = new DataView(views.buffer);
  const inline = (row: number, s: string) => { const b = enc.encode(s); dv.setInt32(row * 16, b.length, true); views.set(b, row * 16 + 4); };
  const outOfLine = (row: number, len: number, buf: number, off: number, src: Uint8Array) => {
    dv.setInt32(row * 16, len, true);
    views.set(src.subarray(off, off + 4), row * 16 + 4); // prefix
    dv.setInt32(row * 16 + 8, buf, true);
    dv.setInt32(row * 16 + 12, off, true);
  };
  inline(0, 'short');
  outOfLine(1, 23, 0, 4, buf0);
  inline(2, '');
  outOfLine(3, 30, 1, 0, buf1);
  const v = A.makeVector(A.makeData({ type: new A.Utf8View(), length: 4, views, variadicBuffers: [buf0, buf1] }));
  assert.equal(v.toArray(), ['short', 'this one is long enough', '', 'a second buffer, also long-ish']);
  roundTrip(v, 'hand-built utf8 view', new A.Utf8());
  roundTrip(v.slice(1, 3), 'hand-built utf8 view sliced', new A.Utf8());

  // A view pointing past its data buffer is refused (kernels would read out of bounds).
  const bad = A.makeVector(A.makeData({ type: new A.Utf8View(), length: 4, views, variadicBuffers: [buf0, buf1.subarray(0, 10)] }));
  const scope = ctx.scope();
  assert.throws(() => importVector(ctx, scope, bad, { name: 's' }), (e: unknown) => e instanceof ArrowImportError && /column 's'/.test(e.message) && /outside data buffer 1/.test(e.message));
  scope.close();
});

const INDEX_TYPES: Array<() => A.Int> = [() => new A.Int8(), () => new A.Int16(), () => new A.Int32(), () => new A.Uint8(), () => new A.Uint16(), () => new A.Uint32()];

test('dictionary<utf8>: every index type kept; nulls, slices 0..17, chunks sharing one dictionary', () => {
  const r = rng(0xd1c7);
  const dict = ['red', 'green', 'blue', '', 'ünïcødé', 'a much longer dictionary entry'];
  for (const mk of INDEX_TYPES) {
    const v = dictionaryVector(mk(), dict, 100, r, 0.3);
    const label = String(v.type);
    for (const n of [0, 1, 9, 64]) roundTrip(dictionaryVector(mk(), dict, n, r, 0.3), `${label} n=${n}`);
    for (let off = 0; off <= 17; off++) {
      roundTrip(v.slice(off, off + 40), `${label} slice(${off})`);
      roundTrip(chunked(v, off, 70, 3, r), `${label} chunks(${off})`);
    }
    const scope = ctx.scope();
    const col = importVector(ctx, scope, v);
    assert.is(col.type.name, 'dictionary');
    assert.is(col.dictionary!.length, dict.length, 'one shared dictionary is imported as it is');
    assert.is(String((exportVector(col).type as A.Dictionary).indices), String(mk()), 'index type kept');
    scope.close();
  }
});

test('dictionary: chunks with different dictionaries are unified and re-encoded', () => {
  const r = rng(0xd2);
  const a = dictionaryVector(new A.Int16(), ['x', 'y', 'z', 'y'], 50, r, 0.2); // duplicate 'y': one entry after
  const b = dictionaryVector(new A.Int16(), ['z', 'w', 'x'], 40, r, 0.2);
  const c = dictionaryVector(new A.Int16(), ['x', 'y', 'z', 'y', 'delta1', 'delta2'], 30, r, 0.0); // a delta of a
  const v = new A.Vector([...a.data, ...b.data.map((d) => d.slice(3, 30)), ...c.data]);
  const col = roundTrip(v, 'three dictionaries');
  const scope = ctx.scope();
  const again = importVector(ctx, scope, v);
  const strings = exportVector(again.dictionary!).toArray();
  assert.equal([...strings], ['x', 'y', 'z', 'w', 'delta1', 'delta2']);
  assert.is(col.type.dtype, DType.I16);
  scope.close();
});

test('dictionary: a unified dictionary that outgrows int8 codes widens them to int16', () => {
  const r = rng(0xd3);
  const d1 = Array.from({ length: 100 }, (_, i) => `first-${i}`);
  const d2 = Array.from({ length: 100 }, (_, i) => `second-${i}`);
  const v = new A.Vector([...dictionaryVector(new A.Int8(), d1, 60, r, 0.1).data, ...dictionaryVector(new A.Int8(), d2, 60, r, 0.1).data]);
  roundTrip(v, 'widened', new A.Dictionary(new A.Utf8(), new A.Int16()));
  const u = new A.Vector([...dictionaryVector(new A.Uint8(), [...d1, ...d1.map((s) => s + '!')], 10, r, 0).data,
    ...dictionaryVector(new A.Uint8(), d2, 10, r, 0).data]);
  roundTrip(u, 'widened unsigned', new A.Dictionary(new A.Utf8(), new A.Uint16()));
});

test('dictionary: null entries in the dictionary; utf8_view dictionary values', () => {
  const r = rng(0xd4);
  roundTrip(dictionaryVector(new A.Int32(), ['a', null, 'b'], 50, r, 0.2), 'null entry');
  const two = new A.Vector([...dictionaryVector(new A.Int32(), ['a', null], 20, r, 0).data, ...dictionaryVector(new A.Int32(), [null, 'c'], 20, r, 0).data]);
  roundTrip(two, 'null entries unified');
  const type = new A.Dictionary(new A.Utf8View(), new A.Int32());
  const dictionary = A.vectorFromArray(['view one', 'a longer view string here'], new A.Utf8View());
  const v = A.makeVector(A.makeData({ type, length: 4, data: new Int32Array([1, 0, 1, 1]), dictionary }));
  roundTrip(v, 'utf8 view dictionary', new A.Dictionary(new A.Utf8(), new A.Int32()));
});

test('dictionary: a dictionary holding a string twice is deduplicated (equal strings get one code)', () => {
  const scope = ctx.scope();
  const r = rng(0xd5);
  for (const [label, mk] of [['int8', () => new A.Int8()], ['uint16', () => new A.Uint16()], ['int32', () => new A.Int32()]] as const) {
    const dict = ['b', 'a', 'b', null, 'c', 'a', null, 'b'];
    const v = dictionaryVector(mk(), dict, 200, r, 0.2);
    const col = roundTrip(v, `duplicates ${label}`); // the same rows come back
    const again = importVector(ctx, scope, v);
    assert.equal([...exportVector(again.dictionary!).toArray()], ['b', 'a', null, 'c'], label);
    // Each string has exactly one code in use, so grouping by code groups by string.
    const seen = new Map<string | null, number>();
    const codes = exportVector(again);
    for (let i = 0; i < v.length; i++) {
      if (!v.isValid(i)) continue;
      const code = Number((codes.data[0].values as ArrayLike<number | bigint>)[i]);
      const s = v.get(i) as string | null;
      if (seen.has(s) && seen.get(s) !== code) assert.unreachable(`${label}: '${s}' has codes ${seen.get(s)} and ${code}`);
      seen.set(s, code);
    }
    assert.is(col.type.name, 'dictionary');
  }
  scope.close();
});

test('dictionary: a code outside the dictionary in a valid row is refused; in a null row it is fine', () => {
  const scope = ctx.scope();
  const dictionary = A.vectorFromArray(['a', 'b'], new A.Utf8());
  const type = new A.Dictionary(new A.Utf8(), new A.Int32());
  const bad = A.makeVector(A.makeData({ type, length: 3, data: new Int32Array([0, 5, 1]), dictionary }));
  assert.throws(() => importVector(ctx, scope, bad, { name: 'd' }), (e: unknown) => e instanceof ArrowImportError && /column 'd'/.test(e.message) && /code 5/.test(e.message));
  const nullRow = A.makeVector(A.makeData({ type, length: 3, data: new Int32Array([0, 5, 1]), dictionary, nullBitmap: new Uint8Array([0b101]) }));
  assert.equal(exportVector(importVector(ctx, scope, nullRow)).toArray(), ['a', null, 'b']);
  scope.close();
});

test('unsupported types throw ArrowImportError naming the column and the type', () => {
  const scope = ctx.scope();
  const cases: Array<[string, A.Vector]> = [
    ['bin', A.vectorFromArray([new Uint8Array([1])], new A.Binary())],
    ['dec', A.makeVector(A.makeData({ type: new A.Decimal(2, 10, 128), length: 1, data: new Uint32Array(4) }))],
    ['lst', A.vectorFromArray([[1, 2]], new A.List(new A.Field('x', new A.Int32())))],
    ['nul', A.makeVector(A.makeData({ type: new A.Null(), length: 3 }))],
    ['dur', A.makeVector(A.makeData({ type: new A.DurationSecond(), length: 1, data: new BigInt64Array(1) }))],
    ['tim', A.makeVector(A.makeData({ type: new A.TimeMillisecond(), length: 1, data: new Int32Array(1) }))],
    ['dint', A.makeVector(A.makeData({ type: new A.Dictionary(new A.Int32(), new A.Int32()), length: 1, data: new Int32Array(1), dictionary: A.vectorFromArray([1], new A.Int32()) }))],
  ];
  for (const [name, v] of cases) {
    assert.throws(
      () => importVector(ctx, scope, v, { name }),
      (e: unknown) => e instanceof ArrowImportError && e.code === 'ERR_ARROW_IMPORT' && e.column === name && e.type === String(v.type) && e.message.includes(`column '${name}'`),
      `${name} (${v.type})`,
    );
  }
  const table = new A.Table({ ok: A.vectorFromArray([1, 2], new A.Int32()), weird: A.vectorFromArray([[1], [2]], new A.List(new A.Field('x', new A.Int32()))) });
  assert.throws(() => importTable(ctx, scope, table), (e: unknown) => e instanceof ArrowImportError && e.column === 'weird');
  assert.throws(() => importVector(ctx, scope, [] as never), (e: unknown) => e instanceof ArrowImportError);
  scope.close();
});

test('a validity bitmap shorter than the rows is refused', () => {
  const scope = ctx.scope();
  const v = A.makeVector(A.makeData({ type: new A.Int32(), length: 20, nullCount: 1, nullBitmap: new Uint8Array([0xfe]), data: new Int32Array(20) }));
  assert.throws(() => importVector(ctx, scope, v, { name: 'short' }), (e: unknown) => e instanceof ArrowImportError && /validity bitmap holds 8 bits/.test(e.message));
  scope.close();
});

test('zero copy: a vector already in this memory is borrowed (same addresses), also after memory.grow', () => {
  const owner = ctx.scope();
  const r = rng(0x2c);
  const src = {
    f64: importVector(ctx, owner, fixedVector(new A.Float64(), 1000, r, 0.3)),
    bool: importVector(ctx, owner, fixedVector(new A.Bool(), 1000, r, 0.3)),
    utf8: importVector(ctx, owner, A.vectorFromArray(randomStrings(300, r, 0.2), new A.Utf8())),
    dict: importVector(ctx, owner, dictionaryVector(new A.Uint8(), ['p', 'q', 'r'], 500, r, 0.2)),
  };
  const exported = Object.fromEntries(Object.entries(src).map(([k, c]) => [k, exportVector(c)])) as Record<keyof typeof src, A.Vector>;
  const check = (label: string) => {
    const scope = ctx.scope();
    for (const key of Object.keys(src) as Array<keyof typeof src>) {
      const col = importVector(ctx, scope, exported[key]);
      assert.is(col.values, src[key].values, `${label} ${key} values borrowed`);
      assert.is(col.validity, src[key].validity, `${label} ${key} validity borrowed`);
      assert.is(col.offsets, src[key].offsets, `${label} ${key} offsets borrowed`);
      if (key === 'dict') {
        assert.is(col.dictionary!.values, src.dict.dictionary!.values, `${label} dictionary bytes borrowed`);
        assert.is(col.dictionary!.offsets, src.dict.dictionary!.offsets, `${label} dictionary offsets borrowed`);
      }
      assertSameRows(exportVector(col), exported[key], `${label} ${key}`);
      const copied = importVector(ctx, scope, exported[key], { copy: true });
      assert.is.not(copied.values, src[key].values, `${label} ${key} copy: true copies`);
      assertSameRows(exportVector(copied), exported[key], `${label} ${key} copied`);
    }
    scope.close();
  };
  check('before growth');
  // Grow the memory: memory.buffer is a new object; the exported views still hold the old one.
  const before = ctx.mem.buffer;
  const big = ctx.scope();
  big.alloc(ctx.mem.byteLength);
  assert.is.not(ctx.mem.buffer, before, 'growth hands out a new buffer object');
  assert.is(exported.f64.data[0].values.buffer, before);
  assert.ok(isContextBuffer(ctx, before), 'the pre-growth buffer is recognised as ours');
  check('after growth');
  big.close();

  // A vector whose 8-row slice starts 64 bytes in (f64) is still aligned: values borrowed, the
  // validity bitmap (bit 8 → byte 1, not 64-aligned) copied.
  const scope = ctx.scope();
  const sliced = importVector(ctx, scope, exported.f64.slice(8, 100));
  assert.is(sliced.values, src.f64.values + 64);
  assert.is.not(sliced.validity, src.f64.validity);
  assertSameRows(exportVector(sliced), exported.f64.slice(8, 100), 'aligned slice');
  // Unaligned slice: copied.
  assert.is.not(importVector(ctx, scope, exported.f64.slice(3, 50)).values, src.f64.values + 24);
  // Bitmaps 512 bits (64 bytes) in: borrowed when whole bytes; when the last byte would carry the
  // neighbours' bits past the slice, copied so those bits read 0.
  const whole = importVector(ctx, scope, exported.bool.slice(512, 528));
  assert.is(whole.values, src.bool.values + 64);
  const ragged = importVector(ctx, scope, exported.bool.slice(512, 525));
  const u8 = ctx.mem.u8;
  if (u8[src.bool.values + 65] >>> 5 !== 0) assert.is.not(ragged.values, src.bool.values + 64);
  assert.is(u8[ragged.values + 1] >>> 5, 0, 'bits past the length are 0');
  assertSameRows(exportVector(ragged), exported.bool.slice(512, 525), 'ragged bool slice');
  scope.close();
  owner.close();
});

test('zero copy: another context\'s memory, or a plain SharedArrayBuffer, is copied', () => {
  const other = Context.create({ maxBytes: 1 << 26 });
  const os = other.scope();
  const col = importVector(other, os, fixedVector(new A.Int32(), 100, rng(9), 0.1));
  const v = exportVector(col);
  assert.ok(!isContextBuffer(ctx, other.mem.buffer));
  assert.ok(isContextBuffer(other, other.mem.buffer));
  const scope = ctx.scope();
  const mine = importVector(ctx, scope, v);
  assert.ok(mine.values !== col.values || mine.ctx !== col.ctx);
  assertSameRows(exportVector(mine), v, 'from another context');
  assert.is(exportVector(mine).data[0].values.buffer, ctx.mem.buffer);
  const sab = new SharedArrayBuffer(1 << 16);
  assert.ok(!isContextBuffer(ctx, sab));
  scope.close();
  os.close();
});

test('a 1M-row float64 vector round-trips with identical bits (NaN payloads included)', () => {
  const n = 1_000_000;
  const raw = new Float64Array(n);
  const u32 = new Uint32Array(raw.buffer);
  const r = rng(0x1f64);
  for (let i = 0; i < u32.length; i++) u32[i] = (r() * 2 ** 32) >>> 0;
  const v = A.makeVector(raw);
  const scope = ctx.scope();
  const t0 = performance.now();
  const col = importVector(ctx, scope, v);
  const t1 = performance.now();
  const out = exportVector(col);
  const t2 = performance.now();
  const got = out.data[0].values as Float64Array;
  assert.is(got.buffer, ctx.mem.buffer);
  const a = new Uint8Array(raw.buffer);
  const b = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  assert.is(b.length, a.length);
  assert.ok(Buffer.compare(Buffer.from(a), Buffer.from(b.slice())) === 0, 'bytes identical');
  if (process.env.AETHERFLOW_VERBOSE) console.log(`import 1M f64: ${(t1 - t0).toFixed(2)} ms, export ${(t2 - t1).toFixed(3)} ms`);
  scope.close();
});

test('importTable: several record batches → one Batch; exportBatch gives the columns back', () => {
  const r = rng(0x7ab);
  const mk = (n: number) => new A.Table({
    i: fixedVector(new A.Int64(), n, r, 0.2),
    s: A.vectorFromArray(randomStrings(n, r, 0.2), new A.Utf8View()),
    b: fixedVector(new A.Bool(), n, r, 0.1),
    ts: fixedVector(new A.TimestampNanosecond('UTC'), n, r, 0),
    d: dictionaryVector(new A.Int8(), ['u', 'v'], n, r, 0.3),
  });
  const first = mk(40);
  // An empty record batch in the middle (arrow-js cannot build a Table from empty Vectors, so from the schema).
  const table = first.concat(new A.Table(first.schema, [new A.RecordBatch(first.schema, undefined)]), mk(25), mk(33));
  assert.is(table.batches.length, 4);
  const scope = ctx.scope();
  const batch = importTable(ctx, scope, table);
  assert.is(batch.length, 98);
  assert.equal(batch.names, ['i', 's', 'b', 'ts', 'd']);
  assert.is(batch.column('s').name, 's');
  const back = exportBatch(batch);
  assert.is(back.numRows, 98);
  assert.equal(back.schema.fields.map((f) => f.name), ['i', 's', 'b', 'ts', 'd']);
  for (const name of batch.names) {
    const want = table.getChild(name)!;
    const got = back.getChild(name)!;
    assertSameRows(got, want, `column ${name}`);
  }
  assert.is(String(back.getChild('s')!.type), 'Utf8');
  assert.is(String(back.getChild('ts')!.type), String(new A.TimestampNanosecond('UTC')));
  // A RecordBatch imports too; an empty table gives empty columns.
  assert.is(importTable(ctx, scope, table.batches[2]).length, 25);
  const empty = importTable(ctx, scope, new A.Table(table.schema));
  assert.is(empty.length, 0);
  assert.is(empty.column('d').type.name, 'dictionary');
  scope.close();
});

test('Arrow IPC input: Utf8View columns (as Polars writes them) and per-batch dictionaries, read back by arrow-js', () => {
  const r = rng(0x1bc);
  const mk = (n: number, dict: string[]) => new A.Table({
    s: A.vectorFromArray(randomStrings(n, r, 0.2), new A.Utf8View()),
    d: dictionaryVector(new A.Int32(), dict, n, r, 0.2),
  });
  const a = mk(30, ['x', 'y']);
  // The second batch's dictionary extends the first (a delta): same field, so the same dictionary id.
  const b0 = mk(20, ['x', 'y', 'z']);
  const b = new A.Table(a.schema, b0.batches.map((rb) => new A.RecordBatch(a.schema, rb.data)));
  const src = a.concat(b);
  const table = A.tableFromIPC(A.tableToIPC(src, 'stream'));
  assert.is(String(table.getChild('s')!.type), 'Utf8View');
  assert.is(table.batches.length, 2);
  const scope = ctx.scope();
  const batch = importTable(ctx, scope, table);
  const back = exportBatch(batch);
  assertSameRows(back.getChild('s')!, src.getChild('s')!, 'utf8 view via IPC');
  assertSameRows(back.getChild('d')!, src.getChild('d')!, 'dictionary via IPC');
  assert.equal([...exportVector(batch.column('d').dictionary!)], ['x', 'y', 'z']);
  scope.close();
});

test(`random mixed chunks (seeded, ${Math.round(40 * SCALE)} rounds)`, () => {
  const r = rng(0x5eed);
  const all = [...FIXED_CASES.map((c) => c.make), () => new A.Bool()];
  for (let round = 0; round < Math.round(40 * SCALE); round++) {
    const make = all[Math.floor(r() * all.length)];
    const v = fixedVector(make(), 300, r, r() * 0.5);
    const off = Math.floor(r() * 64);
    roundTrip(chunked(v, off, Math.floor(r() * (300 - off)), 1 + Math.floor(r() * 6), r), `round ${round} ${make()}`);
  }
});

test.run();
