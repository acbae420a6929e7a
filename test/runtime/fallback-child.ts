// Child process for native.test.ts: starts a runtime as the environment dictates (the test sets
// AETHERFLOW_NO_NATIVE=1 or not), runs a sum, and prints one JSON line with what it saw.
import { columnFromArray } from '../../src/column-alloc.js';
import { columnType } from '../../src/column.js';
import { topology } from '../../src/runtime/native.js';
import { sumJob } from '../../src/runtime/plans.js';
import { Runtime } from '../../src/runtime/runtime.js';

async function main() {
  const rt = await Runtime.start({ workers: 2, maxBytes: 1 << 28 });
  const scope = rt.ctx.scope();
  const col = columnFromArray(rt.ctx, scope, columnType('int32'), Int32Array.from({ length: 300_000 }, (_, i) => i % 7));
  const sum = await rt.run(sumJob(col));
  const stats = rt.stats();
  await rt.close();
  const t = topology();
  process.stdout.write(JSON.stringify({ sum, cores: stats.perWorker.map((w) => w.core), source: t.source, morselRows: stats.morselRows, l2: t.caches.l2 }) + '\n');
}
main();
