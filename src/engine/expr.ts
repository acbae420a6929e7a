/**
 * Expressions of the query builder: `col('x').mul(lit(1).sub(col('d')))`, `col('s').le(lit.date('1998-09-02'))`.
 *
 * An `Expr` is an immutable tree; nothing is evaluated until the query runs. Types are resolved
 * against the input's schema when the query is planned (`typeOf`), so a misspelt column or a
 * string compared with a number fails before any data is touched, naming the column or both types.
 */
import { columnType, typeLabel, type ColumnType, type TimeUnit, type TypeName } from '../column.js';
import { AetherError, InvalidOptionError } from '../errors.js';

export type ArithName = 'add' | 'sub' | 'mul' | 'div';
export type CmpName = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export type LitValue = number | bigint | string | boolean | null;

export type ExprNode =
  | { readonly kind: 'col'; readonly name: string }
  | { readonly kind: 'lit'; readonly value: LitValue; readonly type?: ColumnType }
  | { readonly kind: 'arith'; readonly op: ArithName; readonly left: ExprNode; readonly right: ExprNode }
  | { readonly kind: 'neg' | 'abs' | 'not' | 'isNull' | 'isNotNull'; readonly arg: ExprNode }
  | { readonly kind: 'cmp'; readonly op: CmpName; readonly left: ExprNode; readonly right: ExprNode }
  | { readonly kind: 'between'; readonly arg: ExprNode; readonly lo: ExprNode; readonly hi: ExprNode }
  | { readonly kind: 'and' | 'or'; readonly left: ExprNode; readonly right: ExprNode }
  | { readonly kind: 'cast'; readonly arg: ExprNode; readonly to: ColumnType };

export type ExprLike = Expr | LitValue;

const toNode = (e: ExprLike): ExprNode => (e instanceof Expr ? e.node : lit(e).node);

export class Expr {
  constructor(readonly node: ExprNode) {}

  add(o: ExprLike): Expr { return arith('add', this, o); }
  sub(o: ExprLike): Expr { return arith('sub', this, o); }
  mul(o: ExprLike): Expr { return arith('mul', this, o); }
  div(o: ExprLike): Expr { return arith('div', this, o); }
  neg(): Expr { return new Expr({ kind: 'neg', arg: this.node }); }
  abs(): Expr { return new Expr({ kind: 'abs', arg: this.node }); }

  eq(o: ExprLike): Expr { return cmp('eq', this, o); }
  ne(o: ExprLike): Expr { return cmp('ne', this, o); }
  lt(o: ExprLike): Expr { return cmp('lt', this, o); }
  le(o: ExprLike): Expr { return cmp('le', this, o); }
  gt(o: ExprLike): Expr { return cmp('gt', this, o); }
  ge(o: ExprLike): Expr { return cmp('ge', this, o); }
  /** lo ≤ this ≤ hi (inclusive, like SQL BETWEEN). */
  between(lo: ExprLike, hi: ExprLike): Expr {
    return new Expr({ kind: 'between', arg: this.node, lo: toNode(lo), hi: toNode(hi) });
  }

  and(o: ExprLike): Expr { return new Expr({ kind: 'and', left: this.node, right: toNode(o) }); }
  or(o: ExprLike): Expr { return new Expr({ kind: 'or', left: this.node, right: toNode(o) }); }
  not(): Expr { return new Expr({ kind: 'not', arg: this.node }); }
  isNull(): Expr { return new Expr({ kind: 'isNull', arg: this.node }); }
  isNotNull(): Expr { return new Expr({ kind: 'isNotNull', arg: this.node }); }

  cast(to: TypeName | ColumnType): Expr {
    const t = typeof to === 'string' ? namedType(to) : to;
    return new Expr({ kind: 'cast', arg: this.node, to: t });
  }

  toString(): string {
    return show(this.node);
  }
}

function arith(op: ArithName, a: Expr, b: ExprLike): Expr {
  return new Expr({ kind: 'arith', op, left: a.node, right: toNode(b) });
}

function cmp(op: CmpName, a: Expr, b: ExprLike): Expr {
  return new Expr({ kind: 'cmp', op, left: a.node, right: toNode(b) });
}

function namedType(name: TypeName): ColumnType {
  if (name === 'dictionary') throw new InvalidOptionError('cast', name, 'a numeric, temporal, bool or utf8 type');
  if (name === 'timestamp') return columnType('timestamp', 'millisecond');
  return columnType(name);
}

/** A column of the input, by name. */
export function col(name: string): Expr {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('col', name, 'a column name');
  return new Expr({ kind: 'col', name });
}

const MS_PER_DAY = 86_400_000;

/**
 * A literal. Numbers adapt to the column they meet (an integer literal against an int32 column is an
 * int32; against a float64 column, a float64); bigint is int64; strings are utf8.
 */
export function lit(value: LitValue): Expr {
  const t = typeof value;
  if (value !== null && t !== 'number' && t !== 'bigint' && t !== 'string' && t !== 'boolean') {
    throw new InvalidOptionError('lit', value, 'a number, bigint, string, boolean or null');
  }
  return new Expr({ kind: 'lit', value });
}

/** A date32 literal (days since the epoch) from 'YYYY-MM-DD' or a Date. */
lit.date = (value: string | Date): Expr => {
  const ms = typeof value === 'string' ? Date.parse(value.length === 10 ? value + 'T00:00:00Z' : value) : value.getTime();
  if (!Number.isFinite(ms)) throw new InvalidOptionError('lit.date', value, "a date 'YYYY-MM-DD' or a valid Date");
  return new Expr({ kind: 'lit', value: Math.floor(ms / MS_PER_DAY), type: columnType('date32') });
};

/** A timestamp literal in the given unit (default millisecond) from an ISO string, Date or epoch number. */
lit.timestamp = (value: string | Date | number | bigint, unit: TimeUnit = 'millisecond'): Expr => {
  const ms = typeof value === 'string' ? Date.parse(value) : value instanceof Date ? value.getTime() : undefined;
  if (ms !== undefined && !Number.isFinite(ms)) throw new InvalidOptionError('lit.timestamp', value, 'an ISO timestamp, Date or epoch number');
  const scale: Record<TimeUnit, bigint> = { second: 1n, millisecond: 1000n, microsecond: 1_000_000n, nanosecond: 1_000_000_000n };
  const v = ms !== undefined ? (BigInt(ms) * scale[unit]) / 1000n : BigInt(value as number | bigint);
  return new Expr({ kind: 'lit', value: v, type: columnType('timestamp', unit) });
};

// ---------------------------------------------------------------------------------------------
// Aggregates

export type AggName = 'count' | 'sum' | 'min' | 'max' | 'mean' | 'countDistinct';

export class AggExpr {
  constructor(readonly op: AggName, readonly arg: ExprNode | undefined) {}
  toString(): string {
    return `${this.op}(${this.arg ? show(this.arg) : '*'})`;
  }
}

const aggArg = (x: string | Expr): ExprNode => (typeof x === 'string' ? col(x).node : x.node);

/** Number of rows (no argument) or of non-null values of an expression. */
export const count = (x?: string | Expr): AggExpr => new AggExpr('count', x === undefined ? undefined : aggArg(x));
export const sum = (x: string | Expr): AggExpr => new AggExpr('sum', aggArg(x));
export const min = (x: string | Expr): AggExpr => new AggExpr('min', aggArg(x));
export const max = (x: string | Expr): AggExpr => new AggExpr('max', aggArg(x));
export const mean = (x: string | Expr): AggExpr => new AggExpr('mean', aggArg(x));
export const countDistinct = (x: string | Expr): AggExpr => new AggExpr('countDistinct', aggArg(x));

// ---------------------------------------------------------------------------------------------
// Typing

/** A reference to a column that is not in the input: names it and lists what there is. */
export class UnknownColumnError extends AetherError {
  constructor(readonly column: string, readonly available: readonly string[]) {
    super('ERR_UNKNOWN_COLUMN', `unknown column '${column}' (available: ${available.join(', ') || 'none'})`);
  }
}

/** Operand types that an operator cannot combine: names the operator and both types. */
export class ExprTypeError extends AetherError {
  constructor(readonly op: string, readonly types: readonly string[], readonly expr: string) {
    super('ERR_EXPR_TYPE', `type mismatch in ${op}: ${types.join(' vs ')} (in ${expr})`);
  }
}

export type Schema = ReadonlyMap<string, ColumnType>;

const INT_RANK: Partial<Record<TypeName, number>> = { int8: 1, int16: 2, int32: 3, int64: 4, uint8: 1, uint16: 2, uint32: 3, uint64: 4 };
const isInt = (t: ColumnType) => INT_RANK[t.name] !== undefined;
const isFloat = (t: ColumnType) => t.name === 'float32' || t.name === 'float64';
const isNum = (t: ColumnType) => isInt(t) || isFloat(t);
const isTemporal = (t: ColumnType) => t.name === 'date32' || t.name === 'date64' || t.name === 'timestamp';
const isString = (t: ColumnType) => t.name === 'utf8' || t.name === 'dictionary';

/**
 * The common type two numeric operands are computed in: the wider of two ints of the same
 * signedness, int64 for mixed signedness, float64 as soon as a float is involved (float32 ∘ float32
 * stays float32). Literals adapt to the other side (see `lit`).
 */
export function commonNumeric(a: ColumnType, b: ColumnType): ColumnType {
  if (a.name === b.name) return a;
  if (isFloat(a) || isFloat(b)) return columnType('float64');
  const ua = a.name.startsWith('u'), ub = b.name.startsWith('u');
  const ra = INT_RANK[a.name] as number, rb = INT_RANK[b.name] as number;
  if (ua === ub) return ra >= rb ? a : b;
  return columnType('int64');
}

/** The type of a literal when it meets a column of type `other` (or stands alone). */
export function literalType(n: Extract<ExprNode, { kind: 'lit' }>, other?: ColumnType): ColumnType {
  if (n.type) return n.type;
  const v = n.value;
  if (typeof v === 'string') return other && isString(other) ? other : columnType('utf8');
  if (typeof v === 'boolean') return columnType('bool');
  if (typeof v === 'bigint') return other && isInt(other) ? other : columnType('int64');
  if (v === null) return other ?? columnType('int32');
  if (other && isNum(other)) return Number.isInteger(v) || isFloat(other) ? (isInt(other) && !Number.isInteger(v) ? columnType('float64') : other) : columnType('float64');
  if (other && isTemporal(other) && Number.isInteger(v)) return other;
  return Number.isInteger(v) && Math.abs(v) <= 2 ** 31 - 1 ? columnType('int32') : columnType('float64');
}

/** Resolves the result type of an expression against a schema, or throws naming what is wrong. */
export function typeOf(n: ExprNode, schema: Schema, root: ExprNode = n): ColumnType {
  switch (n.kind) {
    case 'col': {
      const t = schema.get(n.name);
      if (!t) throw new UnknownColumnError(n.name, [...schema.keys()]);
      return t;
    }
    case 'lit':
      return literalType(n);
    case 'arith': {
      // A number literal next to a date/timestamp is a count of days / units, not another date.
      const [a, b] = temporalOffset(n, schema, root) ?? operandTypes(n.left, n.right, schema, root);
      if (isNum(a) && isNum(b)) return n.op === 'div' && isInt(a) && isInt(b) ? commonNumeric(a, b) : commonNumeric(a, b);
      // date ± integer days, timestamp ± integer units, date - date → int
      if (isTemporal(a) && isInt(b) && (n.op === 'add' || n.op === 'sub')) return a;
      if (isTemporal(a) && isTemporal(b) && a.name === b.name && n.op === 'sub') return columnType('int64');
      throw new ExprTypeError(n.op, [typeLabel(a), typeLabel(b)], show(root));
    }
    case 'neg':
    case 'abs': {
      const a = typeOf(n.arg, schema, root);
      if (!isNum(a)) throw new ExprTypeError(n.kind, [typeLabel(a)], show(root));
      return a;
    }
    case 'cmp': {
      const [a, b] = operandTypes(n.left, n.right, schema, root);
      comparable(n.op, a, b, root);
      return columnType('bool');
    }
    case 'between': {
      const a = typeOf(n.arg, schema, root);
      for (const bound of [n.lo, n.hi]) {
        const b = bound.kind === 'lit' ? literalType(bound, a) : typeOf(bound, schema, root);
        comparable('between', a, b, root);
      }
      return columnType('bool');
    }
    case 'and':
    case 'or': {
      const a = typeOf(n.left, schema, root), b = typeOf(n.right, schema, root);
      if (a.name !== 'bool' || b.name !== 'bool') throw new ExprTypeError(n.kind, [typeLabel(a), typeLabel(b)], show(root));
      return a;
    }
    case 'not': {
      const a = typeOf(n.arg, schema, root);
      if (a.name !== 'bool') throw new ExprTypeError('not', [typeLabel(a)], show(root));
      return a;
    }
    case 'isNull':
    case 'isNotNull':
      typeOf(n.arg, schema, root);
      return columnType('bool');
    case 'cast': {
      const a = typeOf(n.arg, schema, root);
      const ok = (isNum(a) || isTemporal(a)) && (isNum(n.to) || isTemporal(n.to));
      if (!ok && a.name !== n.to.name) throw new ExprTypeError('cast', [typeLabel(a), typeLabel(n.to)], show(root));
      return n.to;
    }
  }
}

/** For `date ± number`: [the temporal type, an integer type]; otherwise undefined. */
export function temporalOffset(n: Extract<ExprNode, { kind: 'arith' }>, schema: Schema, root: ExprNode): [ColumnType, ColumnType] | undefined {
  if ((n.op !== 'add' && n.op !== 'sub') || n.right.kind !== 'lit' || typeof n.right.value !== 'number' && typeof n.right.value !== 'bigint' || n.right.type) return undefined;
  const a = n.left.kind === 'lit' ? literalType(n.left) : typeOf(n.left, schema, root);
  if (!isTemporal(a)) return undefined;
  return [a, a.name === 'date32' ? columnType('int32') : columnType('int64')];
}

/** Operand types, with a literal side typed by the other side. */
export function operandTypes(l: ExprNode, r: ExprNode, schema: Schema, root: ExprNode): [ColumnType, ColumnType] {
  if (l.kind === 'lit' && r.kind !== 'lit') {
    const b = typeOf(r, schema, root);
    return [literalType(l, b), b];
  }
  const a = typeOf(l, schema, root);
  const b = r.kind === 'lit' ? literalType(r, a) : typeOf(r, schema, root);
  return [a, b];
}

function comparable(op: string, a: ColumnType, b: ColumnType, root: ExprNode): void {
  const ok =
    (isNum(a) && isNum(b)) ||
    (isTemporal(a) && isTemporal(b) && a.name === b.name) ||
    (isString(a) && isString(b)) ||
    (a.name === 'bool' && b.name === 'bool');
  if (!ok) throw new ExprTypeError(op, [typeLabel(a), typeLabel(b)], show(root));
}

/** Column names an expression reads. */
export function columnsOf(n: ExprNode, out: Set<string> = new Set()): Set<string> {
  switch (n.kind) {
    case 'col': out.add(n.name); break;
    case 'lit': break;
    case 'arith': case 'cmp': case 'and': case 'or': columnsOf(n.left, out); columnsOf(n.right, out); break;
    case 'between': columnsOf(n.arg, out); columnsOf(n.lo, out); columnsOf(n.hi, out); break;
    default: columnsOf(n.arg, out);
  }
  return out;
}

const SYM: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/', eq: '=', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

export function show(n: ExprNode): string {
  switch (n.kind) {
    case 'col': return n.name;
    case 'lit':
      if (n.type?.name === 'date32') return `date '${new Date(Number(n.value) * MS_PER_DAY).toISOString().slice(0, 10)}'`;
      return typeof n.value === 'string' ? `'${n.value}'` : typeof n.value === 'bigint' ? `${n.value}` : String(n.value);
    case 'arith': case 'cmp': return `(${show(n.left)} ${SYM[n.op]} ${show(n.right)})`;
    case 'and': case 'or': return `(${show(n.left)} ${n.kind.toUpperCase()} ${show(n.right)})`;
    case 'between': return `(${show(n.arg)} BETWEEN ${show(n.lo)} AND ${show(n.hi)})`;
    case 'cast': return `CAST(${show(n.arg)} AS ${typeLabel(n.to)})`;
    case 'isNull': return `(${show(n.arg)} IS NULL)`;
    case 'isNotNull': return `(${show(n.arg)} IS NOT NULL)`;
    default: return `${n.kind.toUpperCase()}(${show(n.arg)})`;
  }
}
