import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseJob } from '../../src/flow/job.js';
import { JobValidationError } from '../../src/errors.js';

function issues(yaml: string) {
  try {
    parseJob(yaml, 'job.yaml', '/tmp');
  } catch (e) {
    assert.instance(e, JobValidationError);
    return (e as JobValidationError).issues.map((i) => `${i.line}:${i.field}:${i.message}`);
  }
  assert.unreachable('expected a JobValidationError');
  return [];
}

test('a valid job builds a flow with types, deps and options', async () => {
  const job = parseJob(`
name: ok
concurrency: 2
tasks:
  - name: a
    type: shell
    config: { command: node, args: ["-e", "process.stdout.write('7')"] }
  - name: b
    type: shell
    depends_on: [{ task: a, when: { path: stdout, equals: "7" } }]
    retries: 2
    timeout_ms: 5000
    config: { command: node, args: ["-e", "process.stdout.write('b')"] }
  - name: c
    type: shell
    depends_on: [{ task: a, when: { path: stdout, not_equals: "7" } }]
    config: { command: node, args: ["-e", "0"] }
  - name: d
    type: shell
    depends_on: [{ task: c, optional: true }, b]
    config: { command: node, args: ["-e", "0"] }
`, 'job.yaml', '/tmp');
  assert.is(job.flow.size, 4);
  assert.is(job.flow.options.concurrency, 2);
  assert.is(job.flow.nodes[1].retries, 2);
  assert.is(job.flow.nodes[1].timeoutMs, 5000);
  assert.is(job.workDir, '/tmp/.aetherflow/ok');
  const r = await job.flow.run();
  assert.is(r.state, 'completed', String(r.error));
  assert.is(r.nodeState('b'), 'COMPLETED');
  assert.is(r.nodeState('c'), 'SKIPPED');
  assert.is(r.nodeState('d'), 'COMPLETED');
});

test('YAML syntax error names the line', () => {
  const got = issues('name: x\ntasks:\n  - name: a\n    type: [shell\n');
  assert.ok(got.length >= 1);
  assert.match(got[0], /^\d+:\(yaml\):/);
  assert.ok(Number(got[0].split(':')[0]) >= 4);
});

test('missing field, wrong type, unknown field, unknown task type: file, line and field', () => {
  const got = issues(`name: bad
tasks:
  - name: a
    type: shell
    config: { command: node, arg: [] }
  - name: b
    type: htp
    depends_on: [a]
  - name: c
    type: shell
    retries: "3"
    config: { command: 5 }
  - type: shell
    config: { command: ls }
  - name: e
    type: shell
    config: {}
    colour: blue
`);
  assert.equal(got, [
    `5:tasks[0].config.arg:Unrecognized key: "arg" (task 'a', type shell)`,
    `7:tasks[1].type:unknown task type 'htp' (known: function, http, query, script, shell)`,
    '11:tasks[2].retries:Invalid input: expected number, received string',
    `12:tasks[2].config.command:Invalid input: expected string, received number (task 'c', type shell)`,
    '13:tasks[3].name:required field is missing (expected string, received undefined)',
    `17:tasks[4].config.command:required field is missing (expected string, received undefined) (task 'e', type shell)`,
    '18:tasks[4].colour:Unrecognized key: "colour"',
  ].map((s) => s.replace(/htp' \(known: [^)]*\)/, (m) => m)));
});

test('cycle and unknown dependency point at the depends_on entry', () => {
  const cyc = issues(`name: cyc
tasks:
  - name: a
    type: shell
    depends_on: [c]
    config: { command: echo }
  - name: b
    type: shell
    depends_on: [a]
    config: { command: echo }
  - name: c
    type: shell
    depends_on:
      - b
    config: { command: echo }
`);
  assert.equal(cyc, ['5:tasks[0].depends_on[0]:cycle: a → b → c → a']);
  const unk = issues(`name: u
tasks:
  - name: a
    type: shell
    config: { command: echo }
  - name: b
    type: shell
    depends_on:
      - a
      - ghost
    config: { command: echo }
`);
  assert.equal(unk, [`10:tasks[1].depends_on[1]:node 'b' depends on unknown node 'ghost'`]);
  const dup = issues('name: d\ntasks:\n  - name: a\n    type: shell\n    config: { command: echo }\n  - name: a\n    type: shell\n    config: { command: echo }\n');
  assert.equal(dup, [`6:tasks[1].name:duplicate task name 'a'`]);
});

test('the error message names file:line:column and field', () => {
  try {
    parseJob('name: x\ntasks: []\n', 'jobs/x.yaml', '/tmp');
    assert.unreachable();
  } catch (e) {
    const j = e as JobValidationError;
    assert.is(j.code, 'ERR_JOB_INVALID');
    assert.is(j.file, 'jobs/x.yaml');
    assert.is(j.line, 2);
    assert.is(j.field, 'tasks');
    assert.match(j.message, /^jobs\/x\.yaml:2:\d+: tasks: /);
  }
});

test.run();
