import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { col, count, sum } from '../../src/engine/expr.js';
import { FileFormatError } from '../../src/engine/io/ipc.js';
import type { Dataset } from '../../src/engine/dataset.js';
import { AetherError, InvalidOptionError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import { datasetRows, typedFailure, typesOf } from '../helpers/engine.js';

const engine = await Engine.start({ memoryLimit: 256 << 20 });
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-csv-'));
const file = (name: string, text: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const rowsOf = (ds: Dataset) => datasetRows(engine, ds);
const failure = typedFailure;
const DAY = 86400000;

test('type inference: int64, float64, bool, date32, timestamp, utf8; empty fields are nulls', async () => {
  const p = file('infer.csv', [
    'i,f,b,d,ts,s,allnull',
    '1,1.5,true,2020-01-31,2020-01-31T10:00:00,x,',
    '-20,,FALSE,,2020-02-01 00:00:01.25,,',
    ',3e2,,1999-12-31,,"y, z",',
    '9007199254740993,-0.125,false,2000-02-29,2020-02-01T00:00:00Z,w,',
  ].join('\n') + '\n');
  const ds = await engine.read(p);
  assert.equal(typesOf(ds), { i: 'int64', f: 'float64', b: 'bool', d: 'date32', ts: 'timestamp', s: 'utf8', allnull: 'utf8' });
  assert.is(ds.schema.get('ts')!.unit, 'microsecond');
  assert.is(ds.schema.get('ts')!.timezone, 'UTC');
  const rows = await rowsOf(ds);
  assert.is(rows.length, 4);
  assert.equal(rows.map((r) => r.i), [1n, -20n, null, 9007199254740993n]);
  assert.equal(rows.map((r) => r.f), [1.5, null, 300, -0.125]);
  assert.equal(rows.map((r) => r.b), [true, false, null, false]);
  assert.equal(rows.map((r) => r.d), [Date.UTC(2020, 0, 31), null, Date.UTC(1999, 11, 31), Date.UTC(2000, 1, 29)]);
  assert.equal(rows.map((r) => r.s), ['x', null, 'y, z', 'w']);
  assert.equal(rows.map((r) => r.allnull), [null, null, null, null]);
  const ts = rows.map((r) => r.ts);
  assert.is(ts[0], Date.UTC(2020, 0, 31, 10));
  assert.is(ts[1], Date.UTC(2020, 1, 1, 0, 0, 1, 250));
  assert.is(ts[2], null);
  engine.release(ds as never);
  ds.release();
});

test('explicit schema: narrower ints, float32, utf8 for digits; the rest inferred', async () => {
  const p = file('schema.csv', 'a,b,c,d\n1,2.5,007,x\n-3,,010,y\n');
  const ds = await engine.read(p, { csv: { schema: { a: 'int32', b: 'float32', c: 'utf8' } } });
  assert.equal(typesOf(ds), { a: 'int32', b: 'float32', c: 'utf8', d: 'utf8' });
  const rows = await rowsOf(ds);
  assert.equal(rows, [{ a: 1, b: 2.5, c: '007', d: 'x' }, { a: -3, b: null, c: '010', d: 'y' }]);
  ds.release();
  // Out of range for the explicit type, and a schema naming no column.
  const e = await failure(engine.read(file('range.csv', 'a\n1\n300\n'), { csv: { schema: { a: 'int8' } } }));
  assert.instance(e, FileFormatError);
  assert.is((e as FileFormatError).row, 3);
  assert.is((e as FileFormatError).column, 'a');
  assert.instance(await failure(engine.read(p, { csv: { schema: { zz: 'int32' } } })), InvalidOptionError);
  assert.instance(await failure(engine.read(p, { csv: { schema: { a: 'decimal' as never } } })), InvalidOptionError);
});

test('quoting: delimiters, doubled quotes and newlines inside quotes; CRLF; quoted empty string vs null', async () => {
  const text = 'id,txt,n\r\n1,"a,b",10\r\n2,"say ""hi""",20\r\n3,"two\r\nlines",30\r\n4,"",40\r\n5,,50\r\n';
  const ds = await engine.read(file('quotes.csv', text));
  const rows = await rowsOf(ds);
  assert.equal(rows.map((r) => r.txt), ['a,b', 'say "hi"', 'two\r\nlines', '', null]);
  assert.equal(rows.map((r) => r.n), [10n, 20n, 30n, 40n, 50n]);
  ds.release();
});

test('delimiter option, header: false, no trailing newline, blank lines skipped', async () => {
  const ds = await engine.read(file('semi.csv', '1;x;2.5\n\n2;"y;z";3.5'), { csv: { delimiter: ';', header: false } });
  assert.equal([...ds.schema.keys()], ['column_1', 'column_2', 'column_3']);
  assert.equal(await rowsOf(ds), [{ column_1: 1n, column_2: 'x', column_3: 2.5 }, { column_1: 2n, column_2: 'y;z', column_3: 3.5 }]);
  ds.release();
  const tsv = await engine.read(file('t.tsv', 'a\tb\n1\thello world\n'), { format: 'csv', csv: { delimiter: '\t' } });
  assert.equal(await rowsOf(tsv), [{ a: 1n, b: 'hello world' }]);
  tsv.release();
  // header: false with a schema names the columns in order.
  const named = await engine.read(file('named.csv', '1,2\n3,4\n'), { csv: { header: false, schema: { x: 'int32', y: 'float64' } } });
  assert.equal(await rowsOf(named), [{ x: 1, y: 2 }, { x: 3, y: 4 }]);
  named.release();
});

test('chunking: tiny chunks (rows split across windows, quoted newlines) give the same rows; scan streams chunks', async () => {
  const r = rng(7);
  const lines = ['k,v,s'];
  const want: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 3000; i++) {
    const v = Math.round(r() * 1e6) / 100;
    const s = r() < 0.1 ? null : r() < 0.3 ? `q"${i}"\n,${i}` : `s${i}`;
    const enc = s === null ? '' : /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    lines.push(`${i % 17},${v},${enc}`);
    want.push({ k: BigInt(i % 17), v, s });
  }
  const p = file('chunks.csv', lines.join('\r\n') + '\r\n');
  for (const chunkBytes of [7, 64, 1000, 1 << 20]) {
    const ds = await engine.read(p, { csv: { chunkBytes, inferRows: 50 } });
    assert.equal(await rowsOf(ds), want, `chunkBytes ${chunkBytes}`);
    ds.release();
  }
  const scan = await engine.scan(p, { csv: { chunkBytes: 4096, inferRows: 100 } });
  let batches = 0;
  for await (const b of scan.batches(() => engine.ctx.scope())) batches++;
  assert.ok(batches > 10, `${batches} batches`);
  const out = await engine.query(scan).filter(col('k').eq(3)).agg({ n: count(), total: sum('v') }).collect();
  const sel = want.filter((x) => x.k === 3n);
  assert.is(Number(out.get(0)!.toJSON().n), sel.length);
  assert.ok(Math.abs((out.get(0)!.toJSON().total as number) - sel.reduce((a, x) => a + (x.v as number), 0)) < 1e-6);
  engine.release(out);
});

test('parse workers: windows parsed on other threads give the same rows, batches and error lines', async () => {
  const r = rng(11);
  const lines = ['k,v,s,d,b'];
  for (let i = 0; i < 20000; i++) {
    const s = r() < 0.1 ? '' : r() < 0.2 ? `"q""${i}""\n,${i}"` : `s${i}`;
    const v = r() < 0.05 ? '' : String(Math.round(r() * 1e6) / 100);
    const b = r() < 0.05 ? '' : String(r() < 0.5);
    lines.push(`${i % 17},${v},${s},2020-01-${String(1 + (i % 28)).padStart(2, '0')},${b}`);
  }
  const p = file('workers.csv', lines.join('\n') + '\n');
  const one = await engine.read(p, { csv: { chunkBytes: 8192, inferRows: 100, threads: 0 } });
  const two = await engine.read(p, { csv: { chunkBytes: 8192, inferRows: 100, threads: 2 } });
  assert.equal(typesOf(two), typesOf(one));
  assert.equal(two.data.map((b) => b.length), one.data.map((b) => b.length));
  assert.equal(await rowsOf(two), await rowsOf(one));
  one.release();
  two.release();
  // A bad value far into the file: same line either way (quoted newlines before it count).
  const bad = file('workers-bad.csv', lines.join('\n') + '\n1,x,y,2020-01-01,true\n');
  const line = lines.length + 1 + lines.reduce((n, l) => n + (l.match(/\n/g)?.length ?? 0), 0);
  for (const threads of [0, 2]) {
    const e = await failure(engine.read(bad, { csv: { chunkBytes: 8192, inferRows: 100, threads } }));
    assert.instance(e, FileFormatError);
    assert.is((e as FileFormatError).row, line, `threads ${threads}: ${e.message}`);
    assert.is((e as FileFormatError).column, 'v');
  }
});

test('bad rows are FileFormatErrors naming the file, the line and the column', async () => {
  const cases: Array<[string, string, number, string | undefined, RegExp]> = [
    ['short.csv', 'a,b,c\n1,2,3\n4,5\n', 3, 'c', /2 fields, expected 3/],
    ['long.csv', 'a,b\n1,2\n3,4,5\n', 3, undefined, /more than 2 fields/],
    ['unterminated.csv', 'a,b\n1,"abc\n2,3\n', 2, 'b', /unterminated/],
    ['afterquote.csv', 'a,b\n1,"x"y\n', 2, 'b', /after a closing quote/],
    ['badint.csv', 'a,b\n1,2\n3,4\n5,x\n', 4, 'b', /cannot parse 'x' as int64/],
    // The bad value lies past the inference sample, behind a quoted newline (line ≠ row + 1).
    ['late.csv', 'a,s\n1,"multi\nline"\n2,t\nzz,u\n', 5, 'a', /inferred from the first 2 rows/],
    ['baddate.csv', 'd\n2020-01-01\n2020-01-02\n2020-02-30\n', 4, 'd', /as date32/],
  ];
  for (const [name, text, line, column, re] of cases) {
    const p = file(name, text);
    const e = await failure(engine.read(p, { csv: { inferRows: 2 } }).catch((x) => { throw x; }), name);
    assert.instance(e, FileFormatError, name);
    const fe = e as FileFormatError;
    assert.is(fe.file, p, name);
    assert.is(fe.row, line, `${name}: ${fe.message}`);
    if (column) assert.is(fe.column, column, `${name}: ${fe.message}`);
    assert.match(fe.message, re, name);
  }
  assert.instance(await failure(engine.read(file('empty.csv', ''))), FileFormatError);
  assert.instance(await failure(engine.read(join(dir, 'missing.csv'))), FileFormatError);
  assert.instance(await failure(engine.read(file('x.csv', 'a\n1\n'), { csv: { delimiter: '::' } })), InvalidOptionError);
});

test('invalid UTF-8 in an unquoted and a quoted field → FileFormatError with line and column, on every path', async () => {
  // Rows: i, a timestamp (only in the JS-worker variant), s unquoted, q quoted (some with newlines inside).
  const build = (withTs: boolean, bad: { row: number; column: 's' | 'q'; bytes: number[] } | null): { bytes: Buffer; line: number } => {
    const parts: Buffer[] = [Buffer.from(`i,${withTs ? 'ts,' : ''}s,q\n`)];
    let line = 2, badLine = -1;
    for (let i = 0; i < 4000; i++) {
      const nl = i % 13 === 0;
      const isBad = bad !== null && i === bad.row;
      if (isBad) badLine = line;
      const field = (text: string, which: 's' | 'q') => (isBad && bad!.column === which ? Buffer.concat([Buffer.from(text), Buffer.from(bad!.bytes), Buffer.from('z')]) : Buffer.from(text));
      parts.push(Buffer.from(`${i},${withTs ? `2020-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,` : ''}`), field(`s${i}-é`, 's'), Buffer.from(',"'), field(`q${i}${nl ? '\n' : ''}中`, 'q'), Buffer.from('"\n'));
      line += nl ? 2 : 1;
    }
    return { bytes: Buffer.concat(parts), line: badLine };
  };
  const kernel = async (v: string, f: () => Promise<unknown>) => {
    const old = process.env.AETHERFLOW_CSV_KERNEL;
    process.env.AETHERFLOW_CSV_KERNEL = v;
    try { return await f(); } finally { if (old === undefined) delete process.env.AETHERFLOW_CSV_KERNEL; else process.env.AETHERFLOW_CSV_KERNEL = old; }
  };
  const BAD = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]; // invalid byte, overlong '/', surrogate, truncated '€'
  // Rows 0 and 3 are in the inference sample (read by the JS tokenizer); 2700 and 3777 in later windows.
  for (const [k, [row, column]] of ([[0, 's'], [3, 'q'], [2700, 's'], [3777, 'q']] as const).entries()) {
    for (const withTs of [false, true]) {
      const { bytes, line } = build(withTs, { row, column, bytes: BAD[k % BAD.length] });
      // The line by counting: the header, then a line per row plus one per quoted newline (rows i % 13 == 0) before it.
      assert.is(line, 2 + row + Math.ceil(row / 13));
      const p = file(`bad-utf8-${k}-${withTs}.csv`, bytes);
      for (const [path, threads] of [['1', 0], ['1', 2], ['0', 0], ['0', 2]] as const) {
        const what = `line ${line} ${column} ts=${withTs} kernel=${path} threads=${threads}`;
        const e = await kernel(path, () => failure(engine.read(p, { csv: { chunkBytes: 16384, inferRows: 100, threads } }), what));
        assert.instance(e, FileFormatError, what);
        const fe = e as FileFormatError;
        assert.is(fe.file, p, what);
        assert.is(fe.row, line, `${what}: ${fe.message}`);
        assert.is(fe.column, column, `${what}: ${fe.message}`);
        assert.match(fe.message, /not valid UTF-8/, what);
      }
    }
  }
  // Valid multi-byte text reads the same on the kernel and the JS path, and equals what was written.
  const { bytes } = build(false, null);
  const p = file('good-utf8.csv', bytes);
  const viaKernel = await kernel('1', async () => rowsOf(await engine.read(p, { csv: { chunkBytes: 16384, threads: 2 } })));
  const viaJs = await kernel('0', async () => rowsOf(await engine.read(p, { csv: { chunkBytes: 16384, threads: 0 } })));
  assert.equal(viaKernel, viaJs);
  assert.is(viaKernel.length, 4000);
  assert.equal(viaKernel[3900], { i: 3900n, s: 's3900-é', q: 'q3900\n中' });
});

test('header only: zero rows with utf8 columns; byte input with a name', async () => {
  const ds = await engine.read(file('hdr.csv', 'a,b\n'), { csv: { schema: { b: 'int32' } } });
  assert.is(ds.rows, 0);
  assert.equal(typesOf(ds), { a: 'utf8', b: 'int32' });
  // Queries over an empty file give empty results (filter, aggregate, write).
  const none = await engine.query(ds).filter(col('b').gt(1)).collect();
  assert.is(none.numRows, 0);
  assert.equal(none.schema.fields.map((f) => f.name), ['a', 'b']);
  engine.release(none);
  const n = await engine.query(ds).agg({ n: count() }).collect();
  assert.is(Number(n.get(0)!.toJSON().n), 0);
  engine.release(n);
  const back = join(dir, 'hdr-out.csv');
  await engine.query(ds).write(back);
  assert.is(readFileSync(back, 'utf8'), 'a,b\n');
  ds.release();
  const bytes = new TextEncoder().encode('x,y\n1,2\n');
  const mem = await engine.read(bytes, { format: 'csv', name: 'inline' });
  assert.is(mem.label, 'inline');
  assert.equal(await rowsOf(mem), [{ x: 1n, y: 2n }]);
  mem.release();
  const e = await failure(engine.read(new TextEncoder().encode('x\n"'), { format: 'csv', name: 'inline-bad' }));
  assert.instance(e, FileFormatError);
  assert.is((e as FileFormatError).file, 'inline-bad');
});

test('write CSV (RFC 4180) and read it back: quotes, commas, newlines, empty vs null, dates, timestamps, bools', async () => {
  const text = [
    'i,f,b,d,ts,s',
    '1,0.1,true,2020-01-31,2020-01-31T10:00:00.123456,"a,b"',
    ',1e-7,,1970-01-01,,"say ""x"""',
    '-5,,false,,1969-12-31T23:59:59,"two\nlines"',
    '7,-2.5,true,2038-01-19,2100-01-01T00:00:00,""',
    '8,3,false,1900-03-01,2000-01-01T00:00:00,',
  ].join('\n');
  const src = await engine.read(file('rt.csv', text));
  const before = await rowsOf(src);
  const out = join(dir, 'rt-out.csv');
  const w = await engine.query(src).write(out);
  assert.is(w.rows, 5);
  assert.is(w.bytes, readFileSync(out).length);
  const back = await engine.read(out);
  assert.equal(typesOf(back), typesOf(src));
  assert.equal(await rowsOf(back), before);
  assert.match(readFileSync(out, 'utf8'), /"say ""x"""/);
  // Timestamps keep their microseconds through the text form.
  assert.match(readFileSync(out, 'utf8'), /2020-01-31T10:00:00\.123456/);
  // Another delimiter, no header.
  const semi = join(dir, 'rt-semi.csv');
  await engine.query(src).select('i', 's').write(semi, { csv: { delimiter: ';', header: false } });
  assert.ok(readFileSync(semi, 'utf8').startsWith('1;a,b\n'));
  src.release();
  back.release();
});

test('random round trip through write/read at scale with a filter and an aggregate', async () => {
  const r = rng(42);
  const n = 20000;
  const lines = ['id,price,flag,day,note'];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const price = Math.round(r() * 1e7) / 100;
    const flag = 'ANR'[Math.floor(r() * 3)];
    if (flag === 'A') total += price;
    const day = new Date(Date.UTC(1992, 0, 1) + Math.floor(r() * 2500) * DAY).toISOString().slice(0, 10);
    lines.push(`${i},${price},${flag},${day},note ${i}`);
  }
  const p = file('big.csv', lines.join('\n') + '\n');
  const ds = await engine.scan(p, { csv: { chunkBytes: 64 << 10 } });
  const out = await engine.query(ds).filter(col('flag').eq('A')).agg({ s: sum('price'), n: count() }).collect();
  assert.ok(Math.abs((out.get(0)!.toJSON().s as number) - total) < 1e-3);
  engine.release(out);
});

test('streaming: a CSV input 2× the memory limit goes through filter + aggregate', async () => {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const p = join(dir, 'big-stream.csv');
  // 9M rows × (int64 + float64) = 144 MB in memory: over twice the 64 MiB limit.
  await duck.run(`COPY (SELECT i % 13 AS k, (i % 1000) / 10 AS v FROM range(9000000) t(i)) TO '${p}' (FORMAT csv, HEADER)`);
  const small = await Engine.start({ memoryLimit: 64 << 20 });
  try {
    const scan = await small.scan(p, { csv: { chunkBytes: 4 << 20 } });
    const out = await small.query(scan).filter(col('k').eq(3)).agg({ n: count(), s: sum('v') }).collect();
    const want = (await duck.runAndReadAll(`SELECT count(*)::INTEGER n, sum((i % 1000) / 10) s FROM range(9000000) t(i) WHERE i % 13 = 3`)).getRowObjects()[0];
    assert.is(Number(out.get(0)!.toJSON().n), want.n);
    assert.ok(Math.abs((out.get(0)!.toJSON().s as number) - (want.s as number)) < 1e-6 * (want.s as number));
    small.release(out);
    assert.instance(await failure(small.read(p)), AetherError);
    assert.ok(small.ctx.mem.byteLength <= 64 << 20);
  } finally {
    await small.close();
  }
});

test.after(async () => {
  await engine.close();
});

test.run();
