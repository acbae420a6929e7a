// Node functions of tpch-lite.yaml.
//
// `generate` (a function node, in-process) builds a deterministic lineitem-like table — the columns of
// TPC-H's lineitem that Q1 reads, 1 000 000 rows from a seeded generator, so every run (and every
// resumed run) sees the same bytes. `check` runs on a script-pool thread: its input table arrives as
// views of the engine's shared Memory (no copy), which the pool received as `memory`.
import { DateDay, Utf8, makeData, makeVector, tableFromArrays } from 'apache-arrow';

const DAY = 86_400_000;
const day = (iso) => Date.parse(iso + 'T00:00:00Z') / DAY;

/** xorshift32: small, fast and the same on every platform. */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * A utf8 column of one-character codes (offsets 0, 1, 2, …: every value is one byte long). Not a
 * dictionary: the engine cannot yet concatenate dictionary columns of several batches (each Parquet
 * row group is one), so the flags stay plain strings.
 */
const strings = (codes, values) => {
  const bytes = new Uint8Array(codes.length), offsets = new Int32Array(codes.length + 1);
  for (let i = 0; i < codes.length; i++) { bytes[i] = values[codes[i]].charCodeAt(0); offsets[i + 1] = i + 1; }
  return makeVector(makeData({ type: new Utf8(), length: codes.length, nullCount: 0, valueOffsets: offsets, data: bytes }));
};

export function generate(ctx) {
  const rows = Number(process.env.TPCH_LITE_ROWS ?? 1_000_000);
  const r = rng(20261122);
  const orderkey = new Int32Array(rows), quantity = new Float64Array(rows), price = new Float64Array(rows);
  const discount = new Float64Array(rows), tax = new Float64Array(rows), shipdate = new Int32Array(rows);
  const returnflag = new Int8Array(rows), linestatus = new Int8Array(rows);
  const first = day('1992-01-02'), span = day('1998-12-01') - first, cutoff = day('1995-06-17');
  for (let i = 0; i < rows; i++) {
    orderkey[i] = (i >> 2) + 1;
    const q = 1 + Math.floor(r() * 50);
    quantity[i] = q;
    price[i] = Math.round(q * (90_000 + Math.floor(r() * 20_001))) / 100; // quantity × part price, in cents
    discount[i] = Math.floor(r() * 11) / 100;
    tax[i] = Math.floor(r() * 9) / 100;
    const d = first + Math.floor(r() * span);
    shipdate[i] = d;
    // As in TPC-H: lines received before the cutoff are returned (R) or accepted (A), later ones N.
    returnflag[i] = d <= cutoff ? (r() < 0.5 ? 2 : 0) : 1;
    linestatus[i] = d > cutoff ? 1 : 0;
  }
  ctx.log(`generated ${rows} lineitem rows`);
  return tableFromArrays({
    l_orderkey: orderkey,
    l_quantity: quantity,
    l_extendedprice: price,
    l_discount: discount,
    l_tax: tax,
    l_returnflag: strings(returnflag, ['A', 'N', 'R']),
    l_linestatus: strings(linestatus, ['F', 'O']),
    l_shipdate: makeVector(makeData({ type: new DateDay(), length: rows, nullCount: 0, data: shipdate })),
  });
}

/**
 * Runs on a worker thread. `input.pricing_summary` is an arrow-js Table whose buffers are views of the
 * engine's shared Memory (`memory`, from the pool's workerData): the bytes were never copied.
 */
export function check({ input, memory, threadId }) {
  const t = input.pricing_summary;
  const counts = t.getChild('count_order').data[0].values;
  const shared = memory !== undefined && counts.buffer instanceof SharedArrayBuffer;
  // Same bytes when read straight out of the Memory at the column's offset: the table lives there.
  const direct = shared ? new counts.constructor(memory.buffer, counts.byteOffset, counts.length) : undefined;
  const zeroCopy = !!direct && direct.every((x, i) => x === counts[i]);
  let lines = 0n;
  for (const c of counts) lines += BigInt(c);
  return { thread: threadId, groups: t.numRows, lines: Number(lines), zeroCopy, memoryBytes: memory?.buffer.byteLength ?? 0 };
}

/** Prints the result table (in-process: a function node gets the NodeContext). */
export function report(ctx) {
  const t = ctx.input('pricing_summary');
  const c = ctx.input('check');
  const cols = t.schema.fields.map((f) => f.name);
  const rows = t.toArray().map((row) => cols.map((k) => {
    const v = row[k];
    return typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v);
  }));
  const w = cols.map((k, j) => Math.max(k.length, ...rows.map((r) => r[j].length)));
  const line = (cells) => cells.map((x, j) => (j < 2 ? x.padEnd(w[j]) : x.padStart(w[j]))).join('  ');
  const text = [line(cols), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
  process.stdout.write(`\nTPC-H Q1 (pricing summary) over ${c.lines} lines, checked on worker thread ${c.thread} ` +
    `(${c.zeroCopy ? 'zero-copy from the engine memory' : 'copied'}):\n${text}\n\n`);
  return { groups: t.numRows, lines: c.lines };
}
