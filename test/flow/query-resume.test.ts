// Kill-and-resume with query nodes: their outputs are Arrow tables kept as .arrow files; a resumed run
// restores them as tables, and every output file ends byte-identical to an uninterrupted run's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { History } from '../../src/flow/history.js';
import { finish, killWhen, outputFiles, runIdOf, startCli } from '../helpers/cli.js';

const root = resolve(new URL('.', import.meta.url).pathname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'aetherflow-qresume-'));
const job = join(dir, 'job.yaml');
writeFileSync(job, `name: qresume
concurrency: 4
tasks:
  - name: gen
    type: function
    config: { module: ${JSON.stringify(join(root, 'test/fixtures/flow/query-gen.mjs'))}, export: facts }
  - name: filtered
    type: query
    depends_on: [gen]
    config:
      source: gen
      steps:
        - filter: qty >= 10 and price < 900
        - derive: { rev: "price * qty" }
  - name: slow
    type: shell
    depends_on: [filtered]
    config: { command: node, args: ["-e", "setTimeout(() => console.log('slept'), 1500)"] }
  - name: by_A
    type: query
    depends_on: [filtered, slow]
    config: &per
      source: filtered
      params: { f: A }
      steps:
        - filter: flag = $f
        - group_by: [flag, k]
          agg: { n: count(), rev: sum(rev), top: max(price) }
  - name: by_R
    type: query
    depends_on: [filtered, slow]
    config: { <<: *per, params: { f: R } }
  - name: both
    type: query
    depends_on: [by_A, by_R]
    config:
      source: [by_A, by_R]
      steps: [{ sort: [flag, -rev] }]
  - name: save
    type: query
    depends_on: [both]
    config: { source: both, write: "\${work_dir}/out/both.arrow" }
`);

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('SIGKILL after query nodes completed, --resume restores their tables, outputs byte-identical', async () => {
  const wA = join(dir, 'work-a'), wB = join(dir, 'work-b');
  const pb = startCli(['run', job, '--work-dir', wB]);
  const killed = finish(pb);
  await killWhen(pb, /COMPLETED filtered/);
  const a = await finish(startCli(['run', job, '--work-dir', wA]));
  assert.is(a.code, 0, a.stderr + a.stdout);
  const k = await killed;
  assert.is(k.signal, 'SIGKILL');
  const idB = runIdOf(k.stdout);
  const h = new History(wB);
  const states = Object.fromEntries(h.nodes(idB).map((n) => [n.node, `${n.state} ${n.output_file}`]));
  h.close();
  assert.equal(states, { gen: 'COMPLETED gen.arrow', filtered: 'COMPLETED filtered.arrow' });

  const resumed = await finish(startCli(['run', job, '--work-dir', wB, '--resume', idB]));
  assert.is(resumed.code, 0, resumed.stderr + resumed.stdout);
  assert.match(resumed.stdout, new RegExp(`^run ${idB} resumed: job 'qresume', 7 tasks, 2 already completed`));
  assert.not.match(resumed.stdout, /COMPLETED (gen|filtered)/);

  const dA = join(wA, 'runs', runIdOf(a.stdout)), dB = join(wB, 'runs', idB);
  assert.equal(outputFiles(dA), ['both.arrow', 'by_A.arrow', 'by_R.arrow', 'filtered.arrow', 'gen.arrow', 'out', 'save.json', 'slow.json']);
  assert.equal(outputFiles(dB), outputFiles(dA));
  for (const f of [...outputFiles(dA).filter((f) => f !== 'out'), 'out/both.arrow']) {
    assert.ok(readFileSync(join(dA, f)).equals(readFileSync(join(dB, f))), `${f} differs`);
  }
  // The fan-in result is what it should be: both flags, sorted by flag.
  const both = tableFromIPC(readFileSync(join(dA, 'both.arrow')));
  const flags = [...both.getChild('flag')!.toArray()] as string[];
  assert.equal([...new Set(flags)], ['A', 'R']);
  assert.equal(JSON.parse(readFileSync(join(dA, 'save.json'), 'utf8')), { path: 'out/both.arrow', rows: both.numRows, bytes: readFileSync(join(dA, 'out/both.arrow')).length });
});

test.run();
