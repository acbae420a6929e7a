import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { History } from '../../src/flow/history.js';
import { finish, killWhen, outputFiles, runIdOf, startCli } from '../helpers/cli.js';

const root = resolve(new URL('.', import.meta.url).pathname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-resume-'));
const step = join(root, 'test/fixtures/flow/step.mjs');
const job = join(dir, 'job.yaml');
const SLOW_MS = 800;
writeFileSync(job, `name: resumable
tasks:
  - name: gen
    type: shell
    config: { command: node, args: [${JSON.stringify(step)}, gen] }
  - name: square
    type: shell
    depends_on: [gen]
    config: { command: node, args: [${JSON.stringify(step)}, square] }
  - name: slow
    type: shell
    depends_on: [square]
    config: { command: node, args: [${JSON.stringify(step)}, slow, "${SLOW_MS}"] }
  - name: sum
    type: shell
    depends_on: [slow]
    config: { command: node, args: [${JSON.stringify(step)}, sum] }
`);

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('SIGKILL mid-run, --resume skips completed nodes, outputs byte-identical to an uninterrupted run', async () => {
  const wA = join(dir, 'work-a'), wB = join(dir, 'work-b');
  // B: killed once `square` is recorded and `slow` is running.
  const pb = startCli(['run', job, '--work-dir', wB]);
  const killed = finish(pb);
  await killWhen(pb, /COMPLETED square/);
  // A: the uninterrupted reference, meanwhile.
  const a = await finish(startCli(['run', job, '--work-dir', wA]));
  assert.is(a.code, 0, a.stderr);
  const k = await killed;
  assert.is(k.signal, 'SIGKILL');
  const idB = runIdOf(k.stdout);

  const h = new History(wB);
  assert.is(h.getRun(idB)!.state, 'running'); // never got to record its end
  const states = Object.fromEntries(h.nodes(idB).map((n) => [n.node, n.state]));
  h.close();
  assert.equal(states, { gen: 'COMPLETED', square: 'COMPLETED' });

  const resumed = await finish(startCli(['run', job, '--work-dir', wB, '--resume', idB]));
  assert.is(resumed.code, 0, resumed.stderr + resumed.stdout);
  assert.match(resumed.stdout, new RegExp(`^run ${idB} resumed: job 'resumable', 4 tasks, 2 already completed`));
  assert.not.match(resumed.stdout, /COMPLETED gen/);
  assert.match(resumed.stdout, /\(2 resumed\)/);

  // gen and square ran exactly once in B; slow was cut short once and ran again.
  const execB = readFileSync(join(wB, 'exec.log'), 'utf8').trim().split('\n');
  assert.equal(execB.filter((s) => s === 'gen' || s === 'square'), ['gen', 'square']);
  assert.equal(readFileSync(join(wA, 'exec.log'), 'utf8'), 'gen\nsquare\nslow\nsum\n');

  const dA = join(wA, 'runs', runIdOf(a.stdout)), dB = join(wB, 'runs', idB);
  assert.equal(outputFiles(dB), outputFiles(dA));
  assert.equal(outputFiles(dA), ['data.txt', 'gen.json', 'result.txt', 'slow.json', 'slow.txt', 'square.json', 'squares.txt', 'sum.json']);
  for (const f of outputFiles(dA)) assert.ok(readFileSync(join(dA, f)).equals(readFileSync(join(dB, f))), `${f} differs`);

  const h2 = new History(wB);
  const row = h2.getRun(idB)!;
  h2.close();
  assert.is(row.state, 'completed');
  assert.is(row.attempts, 2);
});

test.run();
