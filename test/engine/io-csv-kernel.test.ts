// The CSV kernel (assembly/csv) against the JS path it stands in for: same values, same nulls, same
// errors (with their lines), on seeded random inputs; floats also against `Number()` bit for bit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Table } from 'apache-arrow';
import { Engine } from '../../src/engine/engine.js';
import type { CsvReadOptions, CsvType } from '../../src/engine/io/csv.js';
import { AetherError } from '../../src/errors.js';
import { rng, SCALE } from '../helpers/rng.js';

const engine = await Engine.start({ memoryLimit: 256 << 20 });
const enc = new TextEncoder();

type Outcome = { ok: true; cols: unknown[][] } | { ok: false; code: string; message: string };

/** Reads `text` with the kernel (default) or the JS path; every value as a comparable string. */
async function read(text: string, csv: CsvReadOptions, kernel: boolean): Promise<Outcome> {
  const before = process.env.AETHERFLOW_CSV_KERNEL;
  process.env.AETHERFLOW_CSV_KERNEL = kernel ? '1' : '0';
  try {
    const ds = await engine.read(enc.encode(text), { format: 'csv', name: 'k.csv', csv: { threads: 0, ...csv } });
    try {
      const t: Table = await engine.query(ds).collect();
      try {
        return { ok: true, cols: t.schema.fields.map((f) => { const v = t.getChild(f.name)!; return Array.from({ length: v.length }, (_, i) => show(v.get(i))); }) };
      } finally {
        engine.release(t);
      }
    } finally {
      ds.release();
    }
  } catch (e) {
    if (e instanceof AetherError) return { ok: false, code: e.code, message: e.message };
    throw e;
  } finally {
    if (before === undefined) delete process.env.AETHERFLOW_CSV_KERNEL;
    else process.env.AETHERFLOW_CSV_KERNEL = before;
  }
}

/** -0 and NaN kept apart; bigints and bitmaps as text. */
function show(x: unknown): unknown {
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : Number.isNaN(x) ? 'NaN' : x;
  if (typeof x === 'bigint') return `${x}n`;
  if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
  return x;
}

async function same(text: string, csv: CsvReadOptions, label: string): Promise<Outcome> {
  const k = await read(text, csv, true);
  const j = await read(text, csv, false);
  assert.equal(k, j, label);
  return k;
}

// Windows of ~200 bytes after a 2-row inference sample, so nearly every row goes through the kernel.
const SMALL = { chunkBytes: 200, inferRows: 2 };

const floatText = (r: () => number): string => {
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');
  const pick = r();
  if (pick < 0.03) return ['inf', '-inf', 'NaN', 'nan', '+Infinity', '.', '-', '1e', '1e+', '--1', '1.2.3', '0x10', ' 1', '1 '][Math.floor(r() * 14)];
  const sign = r() < 0.3 ? '-' : r() < 0.1 ? '+' : '';
  const int = r() < 0.1 ? '' : r() < 0.2 ? '0'.repeat(1 + Math.floor(r() * 4)) + digits(Math.floor(r() * 5)) : digits(1 + Math.floor(r() * (r() < 0.2 ? 22 : 9)));
  const frac = r() < 0.6 ? '.' + digits(Math.floor(r() * (r() < 0.2 ? 20 : 6))) : '';
  const exp = r() < 0.25 ? (r() < 0.5 ? 'e' : 'E') + (r() < 0.5 ? '-' : r() < 0.5 ? '+' : '') + digits(1 + Math.floor(r() * 3)) : '';
  const s = sign + int + frac + exp;
  return s === '' || s === '+' || s === '-' ? '0' : s;
};

test('floats: the kernel equals Number() bit for bit (seeded differential)', async () => {
  const r = rng(20261122);
  const N = Math.round(40_000 * SCALE);
  const all: string[] = [];
  for (let i = 0; i < N; i++) all.push(floatText(r));
  // Valid decimals only: both paths must read them as Number() does.
  const plain = all.filter((s) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s));
  assert.ok(plain.length > N * 0.9, `${plain.length} plain decimals`);
  const text = 'x\n' + plain.join('\n') + '\n';
  const out = await same(text, { ...SMALL, schema: { x: 'float64' } }, 'floats');
  assert.ok(out.ok);
  const got = (out as { cols: unknown[][] }).cols[0];
  for (let i = 0; i < plain.length; i++) {
    const want = show(Number(plain[i]));
    if (got[i] !== want) assert.unreachable(`'${plain[i]}': kernel ${got[i]}, Number() ${want}`);
  }
  // Odd spellings (inf, nan, malformed): the kernel hands them to the JS parser, one file each.
  for (const s of all.filter((x) => !plain.includes(x)).slice(0, 40)) await same(`x\n1\n2\n${s}\n3\n`, { ...SMALL, schema: { x: 'float64' } }, `float '${s}'`);
  // float32: the f64 value rounded once more, like Math.fround.
  const f32 = await same(text, { ...SMALL, schema: { x: 'float32' } }, 'float32');
  assert.ok(f32.ok);
  const g32 = (f32 as { cols: unknown[][] }).cols[0];
  for (let i = 0; i < plain.length; i++) if (g32[i] !== show(Math.fround(Number(plain[i])))) assert.unreachable(`float32 '${plain[i]}'`);
});

test('integers of every width, in and out of range, long ones, signs and zeros', async () => {
  const r = rng(7);
  const vals = ['0', '-0', '+7', '007', '-128', '127', '128', '-129', '255', '256', '32767', '-32768', '65535', '65536',
    '2147483647', '-2147483648', '2147483648', '4294967295', '4294967296', '9007199254740993', '-9223372036854775808',
    '9223372036854775807', '9223372036854775808', '18446744073709551615', '18446744073709551616', '123456789012345678', '1234567890123456789',
    '-', '+', '1.0', '1e3', ' 1', 'x'];
  for (const t of ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'] as CsvType[]) {
    for (const v of vals) await same(`a,b\n1,2\n3,4\n5,${v}\n,7\n`, { ...SMALL, schema: { b: t, a: t } }, `${t} '${v}'`);
    const many = Array.from({ length: 300 }, () => String(Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 40)))));
    await same('a\n' + many.join('\n') + '\n', { ...SMALL, schema: { a: t } }, `${t} random`);
  }
});

test('dates, bools, strings: values, nulls, quotes, CRLF, blank lines, delimiters', async () => {
  const dates = ['1970-01-01', '2000-02-29', '1900-02-29', '2023-02-29', '0000-01-01', '9999-12-31', '2024-13-01', '2024-00-10', '2024-04-31', '2024-1-01', '2024/01/01', '"2024-01-02"', ''];
  for (const d of dates) await same(`d\n2020-01-01\n2020-01-02\n${d}\n2020-01-03\n`, { ...SMALL, schema: { d: 'date32' } }, `date '${d}'`);
  for (const b of ['true', 'FALSE', 'True', 'fAlSe', 'yes', 't', 'truee', '"true"', '']) await same(`b\ntrue\nfalse\n${b}\nfalse\n`, { ...SMALL, schema: { b: 'bool' } }, `bool '${b}'`);
  const r = rng(11);
  const pieces = ['a', 'b', ' ', ',', '""', '\n', '\r\n', 'é', 'xyz'];
  for (let c = 0; c < Math.round(200 * SCALE); c++) {
    const rows: string[] = ['s,n,t'];
    for (let i = 0; i < 20; i++) {
      let s = '';
      for (let k = Math.floor(r() * 5); k > 0; k--) s += pieces[Math.floor(r() * pieces.length)];
      const q = /[,"\r\n]/.test(s) || r() < 0.2 ? `"${s.replace(/"/g, '""')}"` : s;
      rows.push(`${q},${i},${r() < 0.2 ? '' : r() < 0.5 ? 'x' : '"y"'}`);
      if (r() < 0.1) rows.push('');
    }
    const eol = c % 3 === 0 ? '\r\n' : '\n';
    const text = rows.join(eol) + (c % 4 === 0 ? '' : eol);
    await same(text, { ...SMALL, schema: { s: 'utf8', n: 'int32', t: 'utf8' } }, `strings ${c}`);
    await same(text.replace(/,/g, ';'), { ...SMALL, delimiter: ';', schema: { s: 'utf8', n: 'int32', t: 'utf8' } }, `strings ${c} ;`);
  }
});

test('malformed rows and bad values: the same errors, with the same line and column', async () => {
  const good = 'a,b,c\n' + Array.from({ length: 40 }, (_, i) => `${i},${i / 4},x${i}`).join('\n') + '\n';
  const lines = good.split('\n');
  const cases = [
    (l: string[]) => { l[30] = '1,2'; },
    (l: string[]) => { l[30] = '1,2,3,4'; },
    (l: string[]) => { l[30] = '1,2.5,ab"c'; },
    (l: string[]) => { l[30] = '1,2.5,"ab"c'; },
    (l: string[]) => { l[30] = '1,2.5,"abc'; },
    (l: string[]) => { l[30] = 'x,2.5,abc'; },
    (l: string[]) => { l[30] = '1,2.5.5,abc'; },
    (l: string[]) => { l[20] = '1,2,"two\nlines"'; l[35] = '1,zz,c'; },
    (l: string[]) => { l[30] = '1,2.5,"abc"\r'; },
  ];
  for (const [i, edit] of cases.entries()) {
    const l = [...lines];
    edit(l);
    const out = await same(l.join('\n'), { ...SMALL, schema: { a: 'int64', b: 'float64', c: 'utf8' } }, `case ${i}`);
    if (i !== 2 && i !== 8) assert.not.ok(out.ok, `case ${i} must fail`); // a quote inside an unquoted field is data
    if (!out.ok) assert.match(out.message, /row \d+/, out.message);
  }
});

test('a quote inside an unquoted field (data) does not throw off the parse workers\' window cuts', async () => {
  // The cut goes by quote parity; the stray quote flips it, so a cut would land inside the quoted
  // field with a newline below. Kernel workers and JS workers (the timestamp column) must rewind.
  const rows = ['id,note,ts'];
  for (let i = 0; i < 60; i++) {
    const note = i === 20 ? 'ab"c' : i % 7 === 0 ? `"two\nlines ${i}"` : `n${i}`;
    rows.push(`${i},${note},2020-01-01T00:00:0${i % 10}`);
  }
  const text = rows.join('\n') + '\n';
  for (const withTs of [false, true]) {
    const t = withTs ? text : text.replace(/,2020-01-01T00:00:0\d/g, '').replace(',ts', '');
    const opts: CsvReadOptions = { chunkBytes: 64, inferRows: 2, ...(withTs ? {} : { schema: { id: 'int32', note: 'utf8' } }) };
    const one = await read(t, { ...opts, threads: 0 }, true);
    assert.ok(one.ok, JSON.stringify(one));
    assert.equal(await read(t, { ...opts, threads: 2 }, true), one, `workers, ts column: ${withTs}`);
    assert.equal(await read(t, { ...opts, threads: 2 }, false), one, `JS workers, ts column: ${withTs}`);
  }
});

test.after(() => engine.close());
test.run();
