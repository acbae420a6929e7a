/**
 * TPC-H Q1 and Q6 in the three engines of the benchmark, each returning rows normalized to plain
 * numbers/strings so results can be compared (counts exactly, floats to a relative tolerance).
 *
 * Q1's `DATE '1998-12-01' - INTERVAL '90' DAY` (the validation substitution, DELTA = 90) is written as
 * its value 1998-09-02; Q6 uses the validation substitutions DATE = 1994-01-01, DISCOUNT = 0.06,
 * QUANTITY = 24, with `0.06 ± 0.01` written as 0.05 and 0.07 in every engine (in binary floating
 * point 0.06 - 0.01 is 0.049999999999999996, which would change which rows match between engines
 * that fold it differently).
 */
import pl from 'nodejs-polars';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import type { Engine } from '../../src/engine/engine.js';
import type { Dataset } from '../../src/engine/dataset.js';
import { col, count, lit, mean, sum } from '../../src/engine/expr.js';

export type Row = Record<string, string | number>;

export const Q1_COLUMNS = ['l_returnflag', 'l_linestatus', 'sum_qty', 'sum_base_price', 'sum_disc_price', 'sum_charge', 'avg_qty', 'avg_price', 'avg_disc', 'count_order'] as const;

// ---------------------------------------------------------------------------------------------
// AetherFlow

export function q1Aether(engine: Engine, ds: Dataset) {
  return engine.query(ds)
    .filter(col('l_shipdate').le(lit.date('1998-09-02')))
    .derive({ disc_price: col('l_extendedprice').mul(lit(1).sub(col('l_discount'))) })
    .derive({ charge: col('disc_price').mul(lit(1).add(col('l_tax'))) })
    .groupBy('l_returnflag', 'l_linestatus')
    .agg({
      sum_qty: sum('l_quantity'),
      sum_base_price: sum('l_extendedprice'),
      sum_disc_price: sum('disc_price'),
      sum_charge: sum('charge'),
      avg_qty: mean('l_quantity'),
      avg_price: mean('l_extendedprice'),
      avg_disc: mean('l_discount'),
      count_order: count(),
    })
    .sort('l_returnflag', 'l_linestatus');
}

export function q6Aether(engine: Engine, ds: Dataset) {
  return engine.query(ds)
    .filter(
      col('l_shipdate').ge(lit.date('1994-01-01'))
        .and(col('l_shipdate').lt(lit.date('1995-01-01')))
        .and(col('l_discount').between(0.05, 0.07))
        .and(col('l_quantity').lt(24)),
    )
    .agg({ revenue: sum(col('l_extendedprice').mul(col('l_discount'))) });
}

export function rowsOfArrow(t: Table): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const r = t.get(i)!.toJSON() as Record<string, unknown>;
    out.push(normalize(r));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DuckDB

export const Q1_SQL = `
SELECT l_returnflag, l_linestatus,
       sum(l_quantity) AS sum_qty,
       sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
       avg(l_quantity) AS avg_qty,
       avg(l_extendedprice) AS avg_price,
       avg(l_discount) AS avg_disc,
       count(*) AS count_order
FROM lineitem
WHERE l_shipdate <= DATE '1998-09-02'
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus`;

export const Q6_SQL = `
SELECT sum(l_extendedprice * l_discount) AS revenue
FROM lineitem
WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'
  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24`;

export async function duckRows(conn: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await conn.runAndReadAll(sql);
  return (reader.getRowObjectsJS() as Record<string, unknown>[]).map(normalize);
}

// ---------------------------------------------------------------------------------------------
// Polars

const polarsDate = (iso: string) => pl.lit(new Date(iso + 'T00:00:00Z')).cast(pl.Date);

export function q1Polars(df: pl.DataFrame): pl.LazyDataFrame {
  const ext = pl.col('l_extendedprice'), disc = pl.col('l_discount');
  const discPrice = ext.mul(pl.lit(1).sub(disc));
  return df.lazy()
    .filter(pl.col('l_shipdate').ltEq(polarsDate('1998-09-02')))
    .groupBy(['l_returnflag', 'l_linestatus'])
    .agg(
      pl.col('l_quantity').sum().alias('sum_qty'),
      ext.sum().alias('sum_base_price'),
      discPrice.sum().alias('sum_disc_price'),
      discPrice.mul(pl.lit(1).add(pl.col('l_tax'))).sum().alias('sum_charge'),
      pl.col('l_quantity').mean().alias('avg_qty'),
      ext.mean().alias('avg_price'),
      disc.mean().alias('avg_disc'),
      pl.len().alias('count_order'),
    )
    .sort(['l_returnflag', 'l_linestatus']);
}

export function q6Polars(df: pl.DataFrame): pl.LazyDataFrame {
  return df.lazy()
    .filter(
      pl.col('l_shipdate').gtEq(polarsDate('1994-01-01'))
        .and(pl.col('l_shipdate').lt(polarsDate('1995-01-01')))
        .and(pl.col('l_discount').gtEq(0.05))
        .and(pl.col('l_discount').ltEq(0.07))
        .and(pl.col('l_quantity').lt(24)),
    )
    .select(pl.col('l_extendedprice').mul(pl.col('l_discount')).sum().alias('revenue'));
}

export function polarsRows(df: pl.DataFrame): Row[] {
  return (df.toRecords() as Record<string, unknown>[]).map(normalize);
}

// ---------------------------------------------------------------------------------------------
// Agreement

function normalize(r: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'bigint' ? Number(v) : (v as string | number);
  return out;
}

/** Counts, and sums of integer-valued doubles below 2^53: equal in every summation order. */
const EXACT = new Set(['count_order', 'sum_qty']);

/**
 * Throws naming the first difference: strings, counts and integer sums must be equal, other numbers equal to a
 * relative `tol`. Rows are compared in order after sorting by their string columns (so the check
 * does not depend on an engine's ORDER BY of dictionary vs string keys).
 */
export function assertAgree(what: string, ref: [string, Row[]], other: [string, Row[]], tol = 1e-9): void {
  const key = (r: Row) => Object.values(r).filter((v) => typeof v === 'string').join('\u0000');
  const sort = (rs: Row[]) => [...rs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const [an, a] = [ref[0], sort(ref[1])];
  const [bn, b] = [other[0], sort(other[1])];
  if (a.length !== b.length) throw new Error(`${what}: ${an} has ${a.length} rows, ${bn} ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    for (const k of Object.keys(a[i])) {
      const x = a[i][k], y = b[i][k];
      const ok = typeof x === 'number' && typeof y === 'number'
        ? (EXACT.has(k)
          ? x === y
          : Math.abs(x - y) <= tol * Math.max(Math.abs(x), Math.abs(y)))
        : x === y;
      if (!ok) throw new Error(`${what}: row ${i} column ${k}: ${an} ${String(x)} vs ${bn} ${String(y)}`);
    }
  }
}
