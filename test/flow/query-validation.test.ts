import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tableFromArrays, tableFromIPC, Table, type Dictionary } from 'apache-arrow';
import { parseJob } from '../../src/flow/job.js';
import { parseAgg, parseExpr, ExprSyntaxError } from '../../src/flow/kinds/query-expr.js';
import { arrowCodec, normalizeDictionaryIds } from '../../src/flow/kinds/arrow-codec.js';
import { JobValidationError } from '../../src/errors.js';

function issues(yaml: string): string[] {
  try {
    parseJob(yaml, 'job.yaml', '/tmp');
  } catch (e) {
    assert.instance(e, JobValidationError);
    return (e as JobValidationError).issues.map((i) => `${i.line}:${i.column} ${i.field}: ${i.message}`);
  }
  assert.unreachable('expected a JobValidationError');
  return [];
}

const job = (config: string) => `name: v
tasks:
  - name: up
    type: function
    config: { module: ./x.mjs }
  - name: q
    type: query
    depends_on: [up]
    config:
${config}`;

test('expressions: precedence, between, is null, dates, quoted names and strings, casts, params', () => {
  const s = (t: string, p = {}) => parseExpr(t, p).toString();
  assert.is(s('a + b * 2 - -c'), '((a + (b * 2)) - NEG(c))');
  assert.is(s('x >= 1 and y < 2 or not z'), '(((x >= 1) AND (y < 2)) OR NOT(z))');
  assert.is(s('q between 1 and 10 AND r is not null'), '((q BETWEEN 1 AND 10) AND (r IS NOT NULL))');
  assert.is(s("d <= date '1998-09-02'"), "(d <= date '1998-09-02')");
  assert.is(s(`"odd name" = 'it''s'`), "(odd name = 'it's')");
  assert.is(s('cast(q as float64) / 2'), '(CAST(q AS float64) / 2)');
  assert.is(s('f = $flag and abs(x) <> -1.5e1', { flag: 'R' }), "((f = 'R') AND (ABS(x) != -15))");
  assert.is(parseAgg('count(*)').toString(), 'count(*)');
  assert.is(parseAgg('AVG(a * (1 - b))').toString(), 'mean((a * (1 - b)))');
  for (const [bad, msg] of [
    ['a +', /unexpected end of expression at character 4/],
    ['(a + b', /expected '\)' at character 7/],
    ['a = = b', /unexpected '=' at character 5/],
    ["s = 'open", /unterminated string at character 5/],
    ['sum(x) > 1', /aggregate sum\(\) is only allowed in 'agg'/],
    ['x = $nope', /unknown parameter '\$nope'/],
    ["d < date 'nope'", /invalid date 'nope'/],
    ['a b', /unexpected 'b' at character 3/],
  ] as const) {
    try {
      parseExpr(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.instance(e, ExprSyntaxError);
      assert.match((e as Error).message, msg, bad);
    }
  }
  assert.throws(() => parseAgg('median(x)'), /unknown aggregate 'median'/);
  assert.throws(() => parseAgg('sum()'), /sum\(\) needs an argument/);
});

test('bad query configs name the line and field before anything runs', () => {
  assert.equal(issues(job(`      source: up
      steps:
        - filter: qty >
        - derive: { x: "a * (b" }
        - group_by: k
          agg: { n: median(x) }
        - sort: []
        - limt: 3
        - limit: -1
        - join: { with: up }
`)), [
    "12:19 tasks[1].config.steps[0].filter: unexpected end of expression at character 6 of \"qty >\" (task 'q', type query)",
    "13:24 tasks[1].config.steps[1].derive.x: expected ')' at character 7 of \"a * (b\" (task 'q', type query)",
    "15:21 tasks[1].config.steps[2].agg.n: unknown aggregate 'median' (known: count, sum, min, max, mean, avg, count_distinct) at character 1 of \"median(x)\" (task 'q', type query)",
    "16:17 tasks[1].config.steps[3].sort: Too small: expected array to have >=1 items (task 'q', type query)",
    "17:17 tasks[1].config.steps[4].limt: unknown step 'limt' (known: filter, derive, group_by + agg, sort, limit, select, join) (task 'q', type query)",
    "18:18 tasks[1].config.steps[5].limit: Too small: expected number to be >=0 (task 'q', type query)",
    "19:17 tasks[1].config.steps[6].join.on: a key column, or a list of key columns / [left, right] pairs (task 'q', type query)",
  ]);
});

test('a missing source, a parameter without a value, an unknown key', () => {
  assert.equal(issues(job(`      steps:
        - filter: flag = $flag
`)), ["10:7 tasks[1].config.source: an upstream node name, { file: path }, or a list of node names (union) (task 'q', type query)"]);
  assert.equal(issues(job(`      source: up
      params: { other: 1 }
      steps:
        - filter: flag = $flag
`)), ["13:19 tasks[1].config.steps[0].filter: parameter '$flag' has no value in params (task 'q', type query)"]);
  assert.equal(issues(job(`      source: { file: x.arrow, fromat: arrow }
`)), ["10:40 tasks[1].config.source.fromat: Unrecognized key: \"fromat\" (task 'q', type query)"]);
  assert.equal(issues(job(`      source: up
      wrte: out.arrow
`)), ["11:13 tasks[1].config.wrte: Unrecognized key: \"wrte\" (task 'q', type query)"]);
});

test('tasks can share a config through YAML merge keys', () => {
  const j = parseJob(`name: merge
tasks:
  - name: up
    type: function
    config: { module: ./x.mjs }
  - name: a
    type: query
    depends_on: [up]
    config: &base { source: up, params: { f: A }, steps: [{ filter: "flag = $f" }] }
  - name: b
    type: query
    depends_on: [up]
    config: { <<: *base, params: { f: B } }
`, 'job.yaml', '/tmp');
  const b = j.flow.nodes.find((n) => n.name === 'b')!.config as { params: unknown; steps: unknown[] };
  assert.equal(b.params, { f: 'B' });
  assert.is(b.steps.length, 1);
});

test('Arrow IPC codec: round trip, and the same bytes whatever the dictionary ids', () => {
  const mk = () => tableFromArrays({ x: Float64Array.from([1.5, 2.5, -3]), s: ['a', 'b', 'a'], t: ['u', 'v', 'u'] });
  const t1 = mk();
  tableFromArrays({ z: ['burn', 'some', 'ids'] }); // moves arrow-js's dictionary id counter
  const t2 = mk();
  const ids = (t: Table) => t.schema.fields.filter((f) => f.typeId === -1).map((f) => (f.type as Dictionary).id);
  assert.not.equal(ids(t1), ids(t2));
  assert.equal(ids(normalizeDictionaryIds(t1)), [0, 1]);
  assert.ok(arrowCodec.test(t1));
  assert.not.ok(arrowCodec.test({ x: 1 }));
  const b1 = Buffer.from(arrowCodec.encode(t1) as Uint8Array), b2 = Buffer.from(arrowCodec.encode(t2) as Uint8Array);
  assert.ok(b1.equals(b2), 'byte-identical');
  const back = arrowCodec.decode(b1) as Table;
  assert.instance(back, Table);
  assert.equal(back.toArray().map((r) => r.toJSON()), t1.toArray().map((r) => r.toJSON()));
  assert.equal(tableFromIPC(b1).numRows, 3);
});

test.run();
