import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-cli-'));

/** Runs the CLI from source (the way the tests run everything: through tsx). */
export function cli(args: string[], opts: { cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: opts.cwd ?? root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

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
  const h = await cli(['history', ok, '--run', id]);
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

test('validate / graph / bad input exit codes', async () => {
  const [v, vb, g, gd, missing, unknown, badResume] = await Promise.all([
    cli(['validate', ok]), cli(['validate', bad]), cli(['graph', ok]), cli(['graph', ok, '--format', 'dot']),
    cli(['run', join(dir, 'nope.yaml')]), cli(['frobnicate']), cli(['run', ok, '--resume', 'no-such-run']),
  ]);
  assert.is(v.code, 0);
  assert.match(v.stdout, /ok .*ok\.yaml: job 'ok', 2 tasks \(shell\)/);
  assert.is(vb.code, 2);
  assert.match(vb.stderr, /bad\.yaml:7:\d+\s+tasks\[0\]\.config\.timeout_ms: Invalid input: expected number, received string/);
  assert.is(g.code, 0);
  assert.match(g.stdout, /^flowchart TD\n/);
  assert.match(g.stdout, /n0 --> n1/);
  assert.match(gd.stdout, /^digraph "ok" \{/);
  assert.match(gd.stdout, /"hello" -> "world";/);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /nope\.yaml/);
  assert.is(unknown.code, 2);
  assert.is(badResume.code, 2);
  assert.match(badResume.stderr, /no run 'no-such-run'/);
});

test.run();
