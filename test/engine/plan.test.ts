import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { columnType, type ColumnType } from '../../src/column.js';
import { col, lit, sum, mean, count, ExprTypeError, UnknownColumnError, typeOf } from '../../src/engine/expr.js';
import { plan, explain, sourceColumns, QueryError, type Step } from '../../src/engine/plan.js';

const schema = new Map<string, ColumnType>([
  ['l_quantity', columnType('float64')],
  ['l_extendedprice', columnType('float64')],
  ['l_discount', columnType('float64')],
  ['l_shipdate', columnType('date32')],
  ['l_returnflag', columnType('utf8')],
  ['l_orderkey', columnType('int64')],
  ['n', columnType('int32')],
]);

test('types: literals adapt to the column they meet; ints widen; floats win', () => {
  assert.is(typeOf(col('n').add(1).node, schema).name, 'int32');
  assert.is(typeOf(col('n').add(1.5).node, schema).name, 'float64');
  assert.is(typeOf(col('n').add(col('l_orderkey')).node, schema).name, 'int64');
  assert.is(typeOf(col('n').mul(col('l_quantity')).node, schema).name, 'float64');
  assert.is(typeOf(col('l_shipdate').le(lit.date('1998-09-02')).node, schema).name, 'bool');
  assert.is(typeOf(col('l_extendedprice').mul(lit(1).sub(col('l_discount'))).node, schema).name, 'float64');
});

test('date ± number stays a date; date − date is a count', () => {
  assert.is(typeOf(lit.date('1998-12-01').sub(90).node, schema).name, 'date32');
  assert.is(typeOf(col('l_shipdate').add(1).node, schema).name, 'date32');
  assert.is(typeOf(col('l_shipdate').le(lit.date('1998-12-01').sub(90)).node, schema).name, 'bool');
  assert.is(typeOf(col('l_shipdate').sub(lit.date('1998-12-01')).node, schema).name, 'int64');
});

test('lit.date is days since the epoch', () => {
  const n = lit.date('1970-01-11').node as { value: number };
  assert.is(n.value, 10);
  assert.throws(() => lit.date('not a date'), /lit\.date/);
});

test('an unknown column names the column and lists the available ones', () => {
  try {
    typeOf(col('l_quantiy').gt(1).node, schema);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnknownColumnError);
    assert.is((e as UnknownColumnError).column, 'l_quantiy');
    assert.match((e as Error).message, /available: l_quantity, l_extendedprice/);
  }
});

test('a type mismatch names the operator and both types', () => {
  try {
    typeOf(col('l_returnflag').gt(col('n')).node, schema);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ExprTypeError);
    assert.match((e as Error).message, /gt: utf8 vs int32/);
  }
  assert.throws(() => typeOf(col('n').and(col('n')).node, schema), (e: unknown) => e instanceof ExprTypeError && /and: int32 vs int32/.test((e as Error).message));
  assert.throws(() => typeOf(col('l_returnflag').add(1).node, schema), (e: unknown) => e instanceof ExprTypeError);
});

const q1: Step[] = [
  { kind: 'filter', predicate: col('l_shipdate').le(lit.date('1998-09-02')).node },
  { kind: 'derive', columns: [['disc_price', col('l_extendedprice').mul(lit(1).sub(col('l_discount'))).node]] },
  { kind: 'aggregate', keys: ['l_returnflag'], aggs: [['sum_qty', sum('l_quantity')], ['avg_price', mean('l_extendedprice')], ['sum_disc', sum('disc_price')], ['n', count()]] },
  { kind: 'sort', keys: [{ name: 'l_returnflag', descending: false, nullsFirst: false }] },
];

test('plan carries the schema through steps; the output schema is what the query returns', () => {
  const p = plan(schema, 'lineitem', q1);
  assert.equal([...p.output.keys()], ['l_returnflag', 'sum_qty', 'avg_price', 'sum_disc', 'n']);
  assert.is(p.output.get('n')!.name, 'int64');
  assert.is(p.output.get('sum_qty')!.name, 'float64');
  const text = explain(p);
  assert.match(text, /pipeline \(fused per morsel\): filter .* → derive disc_price = .* → hash aggregate by l_returnflag/);
  assert.match(text, /sort l_returnflag asc/);
});

test('projection pushdown: only the columns the query reads', () => {
  const p = plan(schema, 'lineitem', q1);
  assert.equal([...sourceColumns(p)].sort(), ['l_discount', 'l_extendedprice', 'l_quantity', 'l_returnflag', 'l_shipdate']);
});

test('join pruning: a join keeps only the columns later steps or the output read', () => {
  const right = plan(new Map<string, ColumnType>([['o_orderkey', columnType('int64')], ['o_priority', columnType('utf8')], ['o_comment', columnType('utf8')], ['o_total', columnType('float64')]]), 'orders', []);
  const join: Step = { kind: 'join', right, on: [['l_orderkey', 'o_orderkey']], how: 'inner' };
  // join → derive from both sides → filter → aggregate: kept = what the derive, filter and keys read
  const steps: Step[] = [
    join,
    { kind: 'derive', columns: [['x', col('l_quantity').mul(col('o_total')).node]] },
    { kind: 'filter', predicate: col('l_discount').gt(0).node },
    { kind: 'aggregate', keys: ['o_priority'], aggs: [['s', sum('x')]] },
  ];
  const p = plan(schema, 'lineitem', steps);
  const j = p.steps[0] as Extract<Step, { kind: 'join' }>;
  assert.equal([...(j.keep ?? [])].sort(), ['l_discount', 'l_quantity', 'o_priority', 'o_total']);
  assert.equal([...p.schemas[0].keys()], ['l_quantity', 'l_discount', 'o_priority', 'o_total'], 'the join output schema in source order');
  assert.equal([...p.output.keys()], ['o_priority', 's']);
  assert.match(explain(p), /gathers only l_quantity, l_discount, o_priority, o_total/);
  // Nothing after the join: every column is output, nothing is pruned (the step is the user's own).
  const all = plan(schema, 'lineitem', [join]);
  assert.is((all.steps[0] as Extract<Step, { kind: 'join' }>).keep, undefined);
  assert.is(all.steps[0], join);
  // A select after a sort after the join: the sort key is kept even though the select drops it.
  const sorted = plan(schema, 'lineitem', [join, { kind: 'sort', keys: [{ name: 'o_total', descending: true, nullsFirst: false }] }, { kind: 'select', names: ['l_orderkey', 'o_comment'] }]);
  assert.equal([...((sorted.steps[0] as Extract<Step, { kind: 'join' }>).keep ?? [])].sort(), ['l_orderkey', 'o_comment', 'o_total']);
});

test('bad steps are errors naming the step', () => {
  assert.throws(() => plan(schema, 's', [{ kind: 'filter', predicate: col('n').add(1).node }]), /filter: int32 vs bool/);
  assert.throws(() => plan(schema, 's', [{ kind: 'select', names: ['n', 'n'] }]), (e: unknown) => e instanceof QueryError && /step 1 \(select\)/.test((e as Error).message));
  assert.throws(() => plan(schema, 's', [{ kind: 'aggregate', keys: ['n'], aggs: [['n', sum('l_quantity')]] }]), /clashes/);
  assert.throws(() => plan(schema, 's', [{ kind: 'aggregate', keys: [], aggs: [['s', sum('l_returnflag')]] }]), /sum: utf8/);
  assert.throws(() => plan(schema, 's', [{ kind: 'sort', keys: [{ name: 'zz', descending: false, nullsFirst: false }] }]), (e: unknown) => e instanceof UnknownColumnError);
  assert.throws(() => plan(schema, 's', [{ kind: 'limit', n: -1, offset: 0 }]), /limit/);
  // after aggregation, only keys and aggregates exist
  assert.throws(() => plan(schema, 's', [...q1, { kind: 'filter', predicate: col('l_quantity').gt(1).node }]), (e: unknown) => e instanceof UnknownColumnError);
});

test('join pruning: a derive that replaces a join column keeps that column in its place', () => {
  const right = plan(new Map<string, ColumnType>([['o_orderkey', columnType('int64')], ['o_total', columnType('float64')], ['o_comment', columnType('utf8')]]), 'orders', []);
  const join: Step = { kind: 'join', right, on: [['l_orderkey', 'o_orderkey']], how: 'inner' };
  // Without pruning the derive replaces o_total where it stands (between l_* and o_comment); a join
  // that did not gather o_total would have the derive append it at the end instead.
  const p = plan(schema, 'lineitem', [join, { kind: 'derive', columns: [['o_total', lit(1.5).node], ['n', lit(2).node]] }]);
  assert.equal([...p.output.keys()], [...schema.keys(), 'o_orderkey', 'o_total', 'o_comment']);
  // Same after a filter that reads another column: the order of the output is the user's.
  const f = plan(schema, 'lineitem', [join, { kind: 'derive', columns: [['l_quantity', lit(0).node]] }, { kind: 'filter', predicate: col('o_total').gt(0).node }]);
  assert.equal([...f.output.keys()], [...schema.keys(), 'o_orderkey', 'o_total', 'o_comment']);
});

test.run();
