import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as A from 'apache-arrow';
import { Context } from '../../src/context.js';
import { Column, DType, columnType, dictionaryType } from '../../src/column.js';
import { allocColumn, columnFromArray } from '../../src/column-alloc.js';
import { InvalidOptionError, LengthMismatchError, OutOfRangeError, ScopeClosedError } from '../../src/errors.js';
import { Batch, exportBatch, exportTable, exportVector, importTable, importVector } from '../../src/arrow/index.js';
import * as agg from '../../src/kernels/aggregate.js';
import { rng } from '../helpers/rng.js';
import { FIXED_CASES, assertSameRows, dictionaryVector, fixedVector, randomStrings } from '../helpers/arrow.js';

const ctx = Context.create({ maxBytes: 1 << 30 });

/** Every buffer of an exported Data (and its dictionary's) is a view of the engine's SharedArrayBuffer. */
function assertViews(v: A.Vector, where: string): void {
  assert.is(v.data.length, 1, `one chunk ${where}`);
  const d = v.data[0];
  assert.is(d.values.buffer, ctx.mem.buffer, `values are a view ${where}`);
  if (d.nullCount > 0) assert.is(d.nullBitmap!.buffer, ctx.mem.buffer, `validity is a view ${where}`);
  else assert.ok(!d.nullBitmap || d.nullBitmap.length === 0, `no validity without nulls ${where}`);
  if (d.valueOffsets) assert.is(d.valueOffsets.buffer, ctx.mem.buffer, `offsets are a view ${where}`);
  if (d.dictionary) assertViews(d.dictionary, `${where} (dictionary)`);
  assert.ok(d.offset === 0, `offset 0 ${where}`);
}

test('every type exports as views of ctx.mem.buffer with the exact ArrayType and an explicit nullCount', () => {
  const r = rng(0xe1);
  const scope = ctx.scope();
  const vectors: A.Vector[] = [
    ...FIXED_CASES.map((c) => fixedVector(c.make(), 77, r, 0.3)),
    fixedVector(new A.Bool(), 77, r, 0.3),
    A.vectorFromArray(randomStrings(77, r, 0.3), new A.Utf8()),
    dictionaryVector(new A.Uint16(), ['a', 'bb', 'ccc'], 77, r, 0.3),
  ];
  for (const v of vectors) {
    const col = importVector(ctx, scope, v);
    const out = exportVector(col);
    const where = String(v.type);
    assertViews(out, where);
    assert.is(out.data[0].values.constructor, v.data[0].values.constructor, `ArrayType ${where}`);
    assert.is((out.data[0] as unknown as { _nullCount: number })._nullCount, v.nullCount, `nullCount given, not left to recount ${where}`);
    assert.is(out.data[0].values.byteOffset, col.values, `values at the column's address ${where}`);
    assertSameRows(out, v, where);
  }
  scope.close();
});

test('no nulls: the validity bitmap is omitted; all nulls: kept', () => {
  const scope = ctx.scope();
  const none = exportVector(columnFromArray(ctx, scope, columnType('int32'), new Int32Array([1, 2, 3])));
  assert.is(none.nullCount, 0);
  assert.ok(!none.data[0].nullBitmap || none.data[0].nullBitmap.length === 0);
  // A bitmap with no zero bits is a column without nulls (validity 0 after columnFromArray).
  const allValid = exportVector(columnFromArray(ctx, scope, columnType('int32'), new Int32Array([1, 2]), [true, true]));
  assert.is(allValid.nullCount, 0);
  const all = exportVector(columnFromArray(ctx, scope, columnType('float64'), new Float64Array(3), [false, false, false]));
  assert.is(all.nullCount, 3);
  assert.equal([...all].map((x) => x), [null, null, null]);
  scope.close();
});

test('kernel output: columns allocated and filled in the arena export as they are (int64 as BigInt64Array)', () => {
  const scope = ctx.scope();
  const n = 1000;
  const col = allocColumn(ctx, scope, columnType('int64'), n, { validity: true, name: 'k' });
  const vals = new BigInt64Array(ctx.mem.buffer, col.values, n);
  const bits = ctx.mem.u8;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    vals[i] = BigInt(i) * -1234567890123n;
    if (i % 7 !== 0) bits[col.validity + (i >>> 3)] |= 1 << (i & 7); else nulls++;
  }
  const filled = new Column(ctx, scope, { type: col.type, length: n, values: col.values, validity: col.validity, nullCount: nulls, name: 'k' });
  const out = exportVector(filled);
  assertViews(out, 'int64');
  assert.ok(out.data[0].values instanceof BigInt64Array);
  assert.is(out.type.toString(), 'Int64');
  assert.is(out.nullCount, nulls);
  for (let i = 0; i < n; i++) assert.is(out.get(i), i % 7 === 0 ? null : BigInt(i) * -1234567890123n);
  // The aggregate kernel and arrow-js agree on what the exported column holds.
  assert.is(agg.count(filled), n - nulls);
  scope.close();
});

test('types: timestamp unit/zone, date kind, dictionary index type survive; utf8 view / large utf8 come back as utf8', () => {
  const scope = ctx.scope();
  const ts = allocColumn(ctx, scope, columnType('timestamp', 'nanosecond', 'America/New_York'), 0);
  const t = exportVector(ts).type as A.Timestamp;
  assert.ok(A.DataType.isTimestamp(t));
  assert.is(t.unit, A.TimeUnit.NANOSECOND);
  assert.is(t.timezone, 'America/New_York');
  assert.is((exportVector(allocColumn(ctx, scope, columnType('date32'), 0)).type as A.Date_).unit, A.DateUnit.DAY);
  assert.is((exportVector(allocColumn(ctx, scope, columnType('date64'), 0)).type as A.Date_).unit, A.DateUnit.MILLISECOND);
  for (const mk of [() => new A.Int8(), () => new A.Uint32()]) {
    const v = dictionaryVector(mk(), ['x'], 4, rng(3), 0);
    const d = exportVector(importVector(ctx, scope, v)).type as A.Dictionary;
    assert.is(String(d.indices), String(mk()));
    assert.ok(A.DataType.isUtf8(d.dictionary));
  }
  for (const mk of [() => new A.Utf8View(), () => new A.LargeUtf8()]) {
    const v = A.vectorFromArray(['a', null, 'a string longer than twelve'], mk());
    const out = exportVector(importVector(ctx, scope, v));
    assert.ok(A.DataType.isUtf8(out.type));
    assert.equal(out.toArray(), ['a', null, 'a string longer than twelve']);
  }
  scope.close();
});

test('empty columns of every type export as empty vectors', () => {
  const scope = ctx.scope();
  const types = [
    ...(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'bool', 'date32', 'date64', 'utf8'] as const)
      .map((n) => columnType(n)),
    columnType('timestamp', 'second'),
  ];
  for (const type of types) {
    const col = allocColumn(ctx, scope, type, 0);
    if (type.name === 'utf8') new Int32Array(ctx.mem.buffer, col.offsets, 1)[0] = 0;
    const out = exportVector(col);
    assert.is(out.length, 0, type.name);
    assert.is(out.nullCount, 0, type.name);
  }
  const dict = importVector(ctx, scope, dictionaryVector(new A.Int32(), [], 0, rng(1), 0));
  assert.is(exportVector(dict).length, 0);
  assert.equal(dict.type, dictionaryType(DType.I32));
  scope.close();
});

test('exporting from a closed scope throws ScopeClosedError; a dictionary column without a dictionary is refused', () => {
  const scope = ctx.scope();
  const col = columnFromArray(ctx, scope, columnType('int32'), new Int32Array([1]));
  const bare = new Column(ctx, scope, { type: dictionaryType(DType.I32), length: 1, values: col.values });
  assert.throws(() => exportVector(bare), (e: unknown) => e instanceof InvalidOptionError);
  const wild = new Column(ctx, scope, { type: columnType('float64'), length: 10, values: ctx.mem.byteLength - 8, name: 'w' });
  assert.throws(() => exportVector(wild), (e: unknown) => e instanceof OutOfRangeError && /'w'/.test(e.message));
  scope.close();
  assert.throws(() => exportVector(col), (e: unknown) => e instanceof ScopeClosedError);
});

test('memory.grow after export: the old views still read right (old length); a new export sees the new buffer', () => {
  const scope = ctx.scope();
  const r = rng(0x6706);
  const src = A.vectorFromArray(randomStrings(500, r, 0.2), new A.Utf8());
  const col = importVector(ctx, scope, src);
  const before = exportVector(col);
  const oldBuf = ctx.mem.buffer;
  const big = ctx.scope();
  big.alloc(ctx.mem.byteLength); // forces growth
  assert.is.not(ctx.mem.buffer, oldBuf);
  assert.is(before.data[0].values.buffer, oldBuf);
  assert.ok((before.data[0].values.buffer as SharedArrayBuffer).byteLength < ctx.mem.byteLength, 'old view keeps the old length');
  assertSameRows(before, src, 'view from before growth');
  const after = exportVector(col);
  assert.is(after.data[0].values.buffer, ctx.mem.buffer);
  assertSameRows(after, src, 'view from after growth');
  big.close();
  scope.close();
});

test('exportTable / exportBatch: fields in order, one record batch of views; IPC round trip', () => {
  const r = rng(0x7b1);
  const scope = ctx.scope();
  const cols = {
    id: importVector(ctx, scope, fixedVector(new A.Int64(), 50, r, 0)),
    x: importVector(ctx, scope, fixedVector(new A.Float64(), 50, r, 0.2)),
    name: importVector(ctx, scope, A.vectorFromArray(randomStrings(50, r, 0.2), new A.Utf8View())),
    tag: importVector(ctx, scope, dictionaryVector(new A.Int8(), ['p', 'q'], 50, r, 0.1)),
    ok: importVector(ctx, scope, fixedVector(new A.Bool(), 50, r, 0.1)),
    when: importVector(ctx, scope, fixedVector(new A.TimestampMillisecond('UTC'), 50, r, 0.1)),
  };
  const table = exportTable(cols);
  assert.equal(table.schema.fields.map((f) => f.name), ['id', 'x', 'name', 'tag', 'ok', 'when']);
  assert.is(table.batches.length, 1);
  assert.is(table.numRows, 50);
  for (const f of table.schema.fields) assertViews(table.getChild(f.name)!, f.name);

  // Through Arrow IPC and back: the same rows and types (dictionary ids differ, so compare by string).
  const again = A.tableFromIPC(A.tableToIPC(table));
  for (const f of table.schema.fields) {
    assertSameRows(again.getChild(f.name)!, table.getChild(f.name)!, `ipc ${f.name}`);
    assert.is(String(again.getChild(f.name)!.type), String(f.type), `ipc type ${f.name}`);
  }

  // A batch exports the same way, and importTable(exportBatch(b)) borrows every buffer.
  const batch = new Batch(cols);
  const t2 = exportBatch(batch);
  const back = importTable(ctx, scope, t2);
  for (const name of batch.names) {
    assert.is(back.column(name).values, batch.column(name).values, `borrowed ${name}`);
    assert.is(back.column(name).validity, batch.column(name).validity, `borrowed validity ${name}`);
  }
  scope.close();
});

test('Batch: shared length, unique names, lookups that name the known columns', () => {
  const scope = ctx.scope();
  const a = columnFromArray(ctx, scope, columnType('int32'), new Int32Array(3));
  const b = columnFromArray(ctx, scope, columnType('float64'), new Float64Array(3));
  const c = columnFromArray(ctx, scope, columnType('float64'), new Float64Array(4));
  const batch = new Batch([['a', a], ['b', b]]);
  assert.is(batch.length, 3);
  assert.is(batch.numColumns, 2);
  assert.equal(batch.names, ['a', 'b']);
  assert.ok(batch.has('a') && !batch.has('z'));
  assert.throws(() => batch.column('z'), (e: unknown) => e instanceof InvalidOptionError && /'a', 'b'/.test(e.message));
  assert.throws(() => new Batch({ a, c }), (e: unknown) => e instanceof LengthMismatchError);
  assert.throws(() => new Batch([['a', a], ['a', b]]), (e: unknown) => e instanceof InvalidOptionError);
  assert.throws(() => new Batch({ a }, 5), (e: unknown) => e instanceof LengthMismatchError);
  assert.is(new Batch([], 7).length, 7);
  assert.is(exportTable(new Batch([], 0)).numRows, 0);
  const other = Context.create({ maxBytes: 1 << 24 });
  const os = other.scope();
  assert.throws(() => new Batch({ a, o: columnFromArray(other, os, columnType('int32'), new Int32Array(3)) }), (e: unknown) => e instanceof InvalidOptionError);
  os.close();
  scope.close();
});

test.run();
