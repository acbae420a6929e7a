/**
 * DuckDB as the reference engine of the differential tests (`@duckdb/node-api`, in memory, offline).
 *
 * Data goes in through DuckDB's appender (typed, exact: no text round trip, NaN and nulls survive);
 * results come back as rows of plain JS values, normalized to one representation shared with
 * `arrowRows` so a row from either engine compares cell by cell with `sameCell`:
 *   null · string · boolean · number (floats, ints ≤ 32 bits) · bigint (64-bit ints, sums, counts) ·
 *   dates as day numbers since the epoch.
 */
import { DuckDBInstance, dateValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { DataType, type Table } from 'apache-arrow';

export type Cell = null | string | boolean | number | bigint;
export type Row = Record<string, Cell>;

/** A column to load: its DuckDB type and JS values (null = SQL NULL; dates as day numbers). */
export interface DuckColumn {
  name: string;
  type: 'TINYINT' | 'SMALLINT' | 'INTEGER' | 'BIGINT' | 'UTINYINT' | 'USMALLINT' | 'UINTEGER' | 'UBIGINT' | 'FLOAT' | 'DOUBLE' | 'DATE' | 'VARCHAR' | 'BOOLEAN';
  values: ArrayLike<Cell>;
}

export interface Duck {
  conn: DuckDBConnection;
  close(): void;
}

export async function openDuck(): Promise<Duck> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  return {
    conn,
    close() {
      conn.closeSync();
      db.closeSync();
    },
  };
}

function appendCell(a: DuckDBAppender, type: DuckColumn['type'], v: Cell): void {
  if (v === null || v === undefined) return a.appendNull();
  switch (type) {
    case 'TINYINT': return a.appendTinyInt(Number(v));
    case 'SMALLINT': return a.appendSmallInt(Number(v));
    case 'INTEGER': return a.appendInteger(Number(v));
    case 'BIGINT': return a.appendBigInt(BigInt(v as number | bigint));
    case 'UTINYINT': return a.appendUTinyInt(Number(v));
    case 'USMALLINT': return a.appendUSmallInt(Number(v));
    case 'UINTEGER': return a.appendUInteger(Number(v));
    case 'UBIGINT': return a.appendUBigInt(BigInt(v as number | bigint));
    case 'FLOAT': return a.appendFloat(Number(v));
    case 'DOUBLE': return a.appendDouble(Number(v));
    case 'DATE': return a.appendDate(dateValue(Number(v)));
    case 'VARCHAR': return a.appendVarchar(String(v));
    case 'BOOLEAN': return a.appendBoolean(Boolean(v));
  }
}

/** CREATE TABLE name (...) and append every row. */
export async function duckLoad(duck: Duck, table: string, cols: readonly DuckColumn[]): Promise<void> {
  await duck.conn.run(`CREATE OR REPLACE TABLE ${table} (${cols.map((c) => `"${c.name}" ${c.type}`).join(', ')})`);
  const a = await duck.conn.createAppender(table);
  const n = cols[0]?.values.length ?? 0;
  for (let i = 0; i < n; i++) {
    for (const c of cols) appendCell(a, c.type, c.values[i]);
    a.endRow();
  }
  a.closeSync();
}

const MS_PER_DAY = 86_400_000;

function normalizeDuck(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Math.round(v.getTime() / MS_PER_DAY);
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}

/** Runs SQL and returns its rows, normalized. */
export async function duckRows(duck: Duck, sql: string): Promise<Row[]> {
  const reader = await duck.conn.runAndReadAll(sql);
  const names = reader.columnNames();
  return reader.getRowsJS().map((r) => Object.fromEntries(names.map((n, i) => [n, normalizeDuck(r[i])])));
}

/** An apache-arrow Table as rows in the same representation as `duckRows`. */
export function arrowRows(t: Table): Row[] {
  const cols = t.schema.fields.map((f) => {
    const v = t.getChild(f.name)!;
    const isDate = DataType.isDate(f.type);
    const get = (i: number): Cell => {
      const x = v.get(i) as unknown;
      if (x === null || x === undefined) return null;
      if (isDate) return Math.round((x instanceof Date ? x.getTime() : Number(x)) / MS_PER_DAY);
      return x as Cell;
    };
    return [f.name, get] as const;
  });
  const rows: Row[] = [];
  for (let i = 0; i < t.numRows; i++) rows.push(Object.fromEntries(cols.map(([n, get]) => [n, get(i)])));
  return rows;
}

/**
 * One cell against the other: integers exactly (bigint or number, whichever each side uses), other
 * numbers to a relative `tol` (NaN equals NaN), everything else strictly.
 */
export function sameCell(a: Cell, b: Cell, tol = 1e-9): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    if (typeof a === 'number' && !Number.isInteger(a)) return false;
    if (typeof b === 'number' && !Number.isInteger(b)) return false;
    return BigInt(a as number | bigint) === BigInt(b as number | bigint);
  }
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    if (a === b) return true;
    return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));
  }
  return a === b;
}

/**
 * A text key of a row for order-insensitive comparison: exact cells first (strings, integers,
 * booleans, nulls — group keys, ids), then floats rounded to 12 digits, so rows that differ only in
 * the last bits of a float sum still pair up.
 */
export function rowKey(r: Row): string {
  const exact: string[] = [], approx: string[] = [];
  for (const k of Object.keys(r).sort()) {
    const v = r[k];
    if (typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v)) approx.push(`${k}=${v.toPrecision(12)}`);
    else exact.push(`${k}=${typeof v === 'bigint' ? v.toString() : String(v)}`);
  }
  return exact.join('|') + '#' + approx.join('|');
}

/**
 * Compares two row lists: in order when `ordered`, else as multisets (both sorted by `rowKey`).
 * Returns null when they agree, else a message naming the first differing row and column.
 */
export function diffRows(ours: Row[], ref: Row[], ordered: boolean, tol = 1e-9): string | null {
  if (ours.length !== ref.length) return `row count: ours ${ours.length}, duckdb ${ref.length}`;
  const a = ordered ? ours : sortByKey(ours);
  const b = ordered ? ref : sortByKey(ref);
  for (let i = 0; i < a.length; i++) {
    const keys = new Set([...Object.keys(a[i]), ...Object.keys(b[i])]);
    for (const k of keys) {
      if (!sameCell(a[i][k] ?? null, b[i][k] ?? null, tol)) {
        return `row ${i} column ${k}: ours ${show(a[i][k])}, duckdb ${show(b[i][k])} (ours ${JSON.stringify(a[i], bigintJson)}, duckdb ${JSON.stringify(b[i], bigintJson)})`;
      }
    }
  }
  return null;
}

const cmpStr = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** Sorted by rowKey, each key computed once (the comparator would compute it O(n log n) times). */
function sortByKey(rows: Row[]): Row[] {
  return rows.map((r) => [rowKey(r), r] as const).sort((x, y) => cmpStr(x[0], y[0])).map(([, r]) => r);
}
const show = (v: Cell | undefined) => (typeof v === 'bigint' ? `${v}n` : JSON.stringify(v));
const bigintJson = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);
