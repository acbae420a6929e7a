/**
 * The expression language of `query` nodes: a tiny SQL-like syntax that reads well in YAML and parses
 * into the engine's own expression trees (src/engine/expr.ts) — no second evaluator.
 *
 *   l_shipdate <= date '1998-09-02' and l_returnflag = 'R'
 *   l_extendedprice * (1 - l_discount) * (1 + l_tax)
 *   l_quantity between 10 and 20 or l_comment is not null
 *   cast(l_quantity as int32) / 2
 *
 * Grammar (keywords are case-insensitive; precedence from loosest to tightest):
 *
 *   expr    := or
 *   or      := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | cmp
 *   cmp     := sum [ op sum | 'between' sum 'and' sum | 'is' ['not'] 'null' ]     op: = == != <> < <= > >=
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/') unary)*
 *   unary   := '-' unary | primary
 *   primary := number | 'string' | date 'YYYY-MM-DD' | timestamp '…' | true | false | null
 *            | name | "quoted name" | abs(expr) | cast(expr as type) | '(' expr ')' | $param
 *
 * Aggregates (the values of `agg:`) are one call: count() count(*) count(x) sum(x) min(x) max(x)
 * mean(x) avg(x) count_distinct(x), where x is an expression.
 *
 * `$name` is a parameter: its value comes from the node's `params` (a fan-out branch's item), so one
 * query text serves every branch. Errors name the position: `at 14: expected ')' in "…"`.
 */
import { AetherError } from '../../errors.js';
import { AggExpr, Expr, col, count, countDistinct, lit, max, mean, min, sum, type LitValue } from '../../engine/expr.js';
import type { TypeName } from '../../column.js';

/** An expression that does not parse: the text, the 0-based offset and what was expected. */
export class ExprSyntaxError extends AetherError {
  constructor(readonly text: string, readonly offset: number, readonly detail: string) {
    super('ERR_EXPR_SYNTAX', `${detail} at character ${offset + 1} of "${text}"`);
  }
}

type Tok =
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'id'; v: string; quoted: boolean; at: number }
  | { t: 'param'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

const OPS = ['<=', '>=', '!=', '<>', '==', '=', '<', '>', '+', '-', '*', '/', '(', ')', ','];

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const at = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(s.slice(i))!;
      out.push({ t: 'num', v: Number(m[0]), at });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      // '' (or "") inside a literal is one quote, as in SQL.
      let v = '';
      i++;
      for (;;) {
        if (i >= s.length) throw new ExprSyntaxError(s, at, `unterminated ${c === "'" ? 'string' : 'quoted name'}`);
        if (s[i] === c) {
          if (s[i + 1] === c) { v += c; i += 2; continue; }
          i++;
          break;
        }
        v += s[i++];
      }
      out.push(c === "'" ? { t: 'str', v, at } : { t: 'id', v, quoted: true, at });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))!;
      out.push({ t: 'id', v: m[0], quoted: false, at });
      i += m[0].length;
      continue;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i));
      if (!m) throw new ExprSyntaxError(s, at, "expected a parameter name after '$'");
      out.push({ t: 'param', v: m[1], at });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => s.startsWith(o, i));
    if (!op) throw new ExprSyntaxError(s, at, `unexpected character '${c}'`);
    out.push({ t: 'op', v: op, at });
    i += op.length;
  }
  out.push({ t: 'end', at: s.length });
  return out;
}

const CMP: Record<string, 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'> = {
  '=': 'eq', '==': 'eq', '!=': 'ne', '<>': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge',
};
const TYPES: readonly TypeName[] = [
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64',
  'bool', 'utf8', 'date32', 'date64', 'timestamp',
];
const RESERVED = new Set(['and', 'or', 'not', 'between', 'is', 'null', 'true', 'false', 'as']);

export type Params = Readonly<Record<string, LitValue>>;

/** Accepts any `$param` (as 0): for checking syntax before the parameters' values are known. */
export const ANY_PARAMS: Params = new Proxy({}, { has: () => true, get: () => 0 });

class Parser {
  readonly #s: string;
  readonly #toks: Tok[];
  readonly #params: Params;
  #k = 0;

  constructor(s: string, params: Params) {
    this.#s = s;
    this.#toks = tokenize(s);
    this.#params = params;
  }

  fail(detail: string, at = this.#peek().at): never {
    throw new ExprSyntaxError(this.#s, at, detail);
  }
  #peek(): Tok {
    return this.#toks[this.#k];
  }
  #next(): Tok {
    return this.#toks[this.#k++];
  }
  /** The next token is the keyword `kw` (case-insensitive, unquoted): consume it. */
  #kw(kw: string): boolean {
    const t = this.#peek();
    if (t.t === 'id' && !t.quoted && t.v.toLowerCase() === kw) { this.#k++; return true; }
    return false;
  }
  #op(op: string): boolean {
    const t = this.#peek();
    if (t.t === 'op' && t.v === op) { this.#k++; return true; }
    return false;
  }
  #expectOp(op: string): void {
    if (!this.#op(op)) this.fail(`expected '${op}'`);
  }
  end(): void {
    const t = this.#peek();
    if (t.t !== 'end') this.fail(`unexpected ${describe(t)}`);
  }

  expr(): Expr {
    let e = this.#and();
    while (this.#kw('or')) e = e.or(this.#and());
    return e;
  }
  #and(): Expr {
    let e = this.#not();
    while (this.#kw('and')) e = e.and(this.#not());
    return e;
  }
  #not(): Expr {
    if (this.#kw('not')) return this.#not().not();
    return this.#cmp();
  }
  #cmp(): Expr {
    const left = this.#sum();
    const t = this.#peek();
    if (t.t === 'op' && CMP[t.v]) {
      this.#k++;
      return left[CMP[t.v]](this.#sum());
    }
    if (this.#kw('between')) {
      const lo = this.#sum();
      if (!this.#kw('and')) this.fail("expected 'and' in between … and …");
      return left.between(lo, this.#sum());
    }
    if (this.#kw('is')) {
      const negate = this.#kw('not');
      if (!this.#kw('null')) this.fail("expected 'null' after 'is'");
      return negate ? left.isNotNull() : left.isNull();
    }
    return left;
  }
  #sum(): Expr {
    let e = this.#product();
    for (;;) {
      if (this.#op('+')) e = e.add(this.#product());
      else if (this.#op('-')) e = e.sub(this.#product());
      else return e;
    }
  }
  #product(): Expr {
    let e = this.#unary();
    for (;;) {
      if (this.#op('*')) e = e.mul(this.#unary());
      else if (this.#op('/')) e = e.div(this.#unary());
      else return e;
    }
  }
  #unary(): Expr {
    if (this.#op('-')) {
      const t = this.#peek();
      // A negative number literal stays a literal (so it adapts to the column it meets).
      if (t.t === 'num') { this.#k++; return lit(-t.v); }
      return this.#unary().neg();
    }
    return this.#primary();
  }
  #primary(): Expr {
    const t = this.#next();
    switch (t.t) {
      case 'num': return lit(t.v);
      case 'str': return lit(t.v);
      case 'param': {
        if (!(t.v in this.#params)) {
          this.fail(`unknown parameter '$${t.v}' (known: ${Object.keys(this.#params).map((p) => '$' + p).join(', ') || 'none'})`, t.at);
        }
        return lit(this.#params[t.v]);
      }
      case 'op':
        if (t.v === '(') {
          const e = this.expr();
          this.#expectOp(')');
          return e;
        }
        return this.fail(`unexpected '${t.v}'`, t.at);
      case 'end':
        return this.fail('unexpected end of expression', t.at);
      case 'id': {
        if (t.quoted) return col(t.v);
        const w = t.v.toLowerCase();
        if (w === 'true' || w === 'false') return lit(w === 'true');
        if (w === 'null') return lit(null);
        if ((w === 'date' || w === 'timestamp') && this.#peek().t === 'str') {
          const s = this.#next() as Extract<Tok, { t: 'str' }>;
          try {
            return w === 'date' ? lit.date(s.v) : lit.timestamp(s.v);
          } catch {
            return this.fail(`invalid ${w} '${s.v}'`, s.at);
          }
        }
        if (this.#op('(')) return this.#call(w, t.at);
        if (RESERVED.has(w)) this.fail(`unexpected keyword '${t.v}'`, t.at);
        return col(t.v);
      }
    }
  }
  #call(fn: string, at: number): Expr {
    if (fn === 'abs') {
      const e = this.expr();
      this.#expectOp(')');
      return e.abs();
    }
    if (fn === 'cast') {
      const e = this.expr();
      if (!this.#kw('as')) this.fail("expected 'as' in cast(… as type)");
      const ty = this.#next();
      const name = ty.t === 'id' ? ty.v.toLowerCase() : '';
      if (!(TYPES as readonly string[]).includes(name)) this.fail(`unknown type (known: ${TYPES.join(', ')})`, ty.at);
      this.#expectOp(')');
      return e.cast(name as TypeName);
    }
    if (AGGS[fn]) this.fail(`aggregate ${fn}() is only allowed in 'agg'`, at);
    return this.fail(`unknown function '${fn}' (known: abs, cast)`, at);
  }

  /** agg := name '(' [ '*' | expr ] ')' */
  agg(): AggExpr {
    const t = this.#next();
    if (t.t !== 'id' || t.quoted) return this.fail('expected an aggregate: count, sum, min, max, mean, avg or count_distinct', t.at);
    const fn = t.v.toLowerCase();
    const make = AGGS[fn];
    if (!make) this.fail(`unknown aggregate '${t.v}' (known: ${Object.keys(AGGS).join(', ')})`, t.at);
    this.#expectOp('(');
    let a: AggExpr;
    if (fn === 'count' && (this.#op(')') || (this.#op('*') && (this.#expectOp(')'), true)))) {
      a = count();
    } else {
      if (this.#peek().t === 'op' && (this.#peek() as { v: string }).v === ')') this.fail(`${fn}() needs an argument`);
      a = make(this.expr());
      this.#expectOp(')');
    }
    this.end();
    return a;
  }
}

const AGGS: Record<string, (x: Expr) => AggExpr> = {
  count: (x) => count(x), sum, min, max, mean, avg: mean, count_distinct: countDistinct,
};

function describe(t: Tok): string {
  switch (t.t) {
    case 'end': return 'end';
    case 'num': return `number ${t.v}`;
    case 'str': return `string '${t.v}'`;
    case 'param': return `parameter $${t.v}`;
    case 'id': return `'${t.v}'`;
    case 'op': return `'${t.v}'`;
  }
}

/** Parses a scalar expression (filter, derive). Throws ExprSyntaxError. */
export function parseExpr(text: string, params: Params = {}): Expr {
  const p = new Parser(text, params);
  const e = p.expr();
  p.end();
  return e;
}

/** Parses an aggregate call (`sum(l_quantity)`, `count(*)`). Throws ExprSyntaxError. */
export function parseAgg(text: string, params: Params = {}): AggExpr {
  return new Parser(text, params).agg();
}

/** Parameters an expression mentions (`$year` → 'year'), for validation before any branch runs. */
export function paramsOf(text: string): string[] {
  try {
    return tokenize(text).filter((t): t is Extract<Tok, { t: 'param' }> => t.t === 'param').map((t) => t.v);
  } catch {
    return [];
  }
}
