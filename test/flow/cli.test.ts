import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { History } from '../../src/flow/history.js';
import { finish, startCli } from '../helpers/cli.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'aetherflow-cli-'));

/** Runs the CLI from source (the way the tests run everything: through tsx), to its exit. */
const cli = (args: string[]) => finish(startCli(args));

const ok = join(dir, 'ok.yaml');
const failing = join(dir, 'failing.yaml');
const bad = join(dir, 'bad.yaml');
writeFileSync(ok, `name: ok
tasks:
  - name: hello
    type: shell
    config: { command: node, args: ["-e", "console.log('hi')"] }
  - name: world
    type: shell
    depends_on: [hello]
    config: { command: node, args: ["-e", "console.log('there')"] }
`);
writeFileSync(failing, `name: failing
tasks:
  - name: boom
    type: shell
    config: { command: node, args: ["-e", "console.error('disk on fire'); process.exit(4)"] }
  - name: after
    type: shell
    depends_on: [boom]
    config: { command: node, args: ["-e", "0"] }
`);
writeFileSync(bad, `name: bad
tasks:
  - name: a
    type: shell
    config:
      command: node
      timeout_ms: soon
`);

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('run: exit 0, plain progress lines, summary table, history', async () => {
  const r = await cli(['run', ok]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /^run [\w-]+ started: job 'ok', 2 tasks/);
  assert.ok(lines.some((l) => /COMPLETED hello/.test(l)));
  assert.ok(lines.some((l) => /COMPLETED world/.test(l)));
  assert.match(r.stdout, /node\s+type\s+state/);
  assert.match(r.stdout, /run [\w-]+ COMPLETED in .* — 2 completed/);
  const id = lines[0].split(' ')[1];
  const h = await inProcess(['history', ok, '--run', id]);
  assert.is(h.code, 0, h.stderr);
  assert.match(h.stdout, new RegExp(`run ${id} completed`));
  assert.match(h.stdout, /COMPLETED hello .*hello\.json/);
});

test('run: a failing node → exit 1, its error and logs shown, downstream skipped', async () => {
  const r = await cli(['run', failing]);
  assert.is(r.code, 1);
  assert.match(r.stdout, /FAILED\s+boom .*exited with code 4: disk on fire/);
  assert.match(r.stdout, /\| disk on fire/);
  assert.match(r.stdout, /SKIPPED\s+after — upstream 'boom' FAILED/);
  assert.match(r.stdout, /FAILED in/);
});

/** Runs `main` in-process (no tsx start-up per case), capturing what it writes. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = process.stdout.write, err = process.stderr.write;
  let stdout = '', stderr = '';
  process.stdout.write = ((b: string) => { stdout += b; return true; }) as typeof out;
  process.stderr.write = ((b: string) => { stderr += b; return true; }) as typeof err;
  try {
    const code = await main(['node', 'aetherflow', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('validate / graph / history / bad input exit codes', async () => {
  const v = await inProcess(['validate', ok]);
  assert.is(v.code, 0);
  assert.match(v.stdout, /ok .*ok\.yaml: job 'ok', 2 tasks \(shell\)/);
  const vb = await inProcess(['validate', bad]);
  assert.is(vb.code, 2);
  assert.match(vb.stderr, /bad\.yaml:7:\d+\s+tasks\[0\]\.config\.timeout_ms: Invalid input: expected number, received string/);
  const g = await inProcess(['graph', ok]);
  assert.is(g.code, 0);
  assert.match(g.stdout, /^flowchart TD\n/);
  assert.match(g.stdout, /n0 --> n1/);
  const gd = await inProcess(['graph', ok, '--format', 'dot']);
  assert.match(gd.stdout, /^digraph "ok" \{/);
  assert.match(gd.stdout, /"hello" -> "world";/);
  const gx = await inProcess(['graph', ok, '--format', 'png']);
  assert.is(gx.code, 2);
  const missing = await inProcess(['run', join(dir, 'nope.yaml')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /nope\.yaml/);
  const unknown = await inProcess(['frobnicate']);
  assert.is(unknown.code, 2);
  const badResume = await inProcess(['run', ok, '--resume', 'no-such-run']);
  assert.is(badResume.code, 2);
  assert.match(badResume.stderr, /no run 'no-such-run'/);
  const hist = await inProcess(['history', ok]);
  assert.is(hist.code, 0);
  assert.match(hist.stdout, /completed/);
});

test('run --keep-outputs: older runs lose their outputs, keep their rows; bad values leave no run behind', async () => {
  const work = join(dir, 'keep-work');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await inProcess(['run', ok, '--work-dir', work, '--keep-outputs', '2', '--no-progress']);
    assert.is(r.code, 0, r.stderr);
    ids.push(r.stdout.split('\n')[0].split(' ')[1]);
    if (i === 2) assert.match(r.stdout, /deleted the outputs of 1 older run\(s\) \(--keep-outputs 2\)/);
  }
  assert.equal(readdirSync(join(work, 'runs')).sort(), ids.slice(1).sort());
  const h = new History(work);
  try {
    assert.is(h.runs('ok').length, 3, 'rows of pruned runs stay');
    // A pruned run resumes by running every task again (its outputs are gone).
    assert.is(h.resumeRun(ids[0], 'ok').size, 0);
    assert.is(h.resumeRun(ids[2], 'ok').size, 2);
  } finally {
    h.close();
  }
  for (const [flag, value] of [['--keep-outputs', '0'], ['--keep-outputs', 'many'], ['--concurrency', '1.5']]) {
    const r = await inProcess(['run', ok, '--work-dir', join(dir, 'bad-opts'), flag, value]);
    assert.is(r.code, 2, `${flag} ${value}`);
    assert.match(r.stderr, new RegExp(`${flag} must be an integer ≥ 1, got '${value}'`));
  }
  assert.not.ok(existsSync(join(dir, 'bad-opts')), 'no history opened for a bad option');
});

test.run();
