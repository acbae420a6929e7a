// `npm start` until the pipeline layer lands: kernels over generated data, with results and timings.
import { Context, columnFromArray, columnType, kernels } from '../src/index.js';

const N = 10_000_000;
const ctx = Context.create();
const scope = ctx.scope();
const data = new Float64Array(N);
for (let i = 0; i < N; i++) data[i] = Math.sin(i) * 100;
const x = columnFromArray(ctx, scope, columnType('float64'), data);

function timed<T>(label: string, f: () => T): T {
  const t0 = performance.now();
  const r = f();
  console.log(`${label.padEnd(28)} ${String(r).padEnd(24)} ${(performance.now() - t0).toFixed(2)} ms`);
  return r;
}
console.log(`AetherFlow kernels over ${N.toLocaleString()} float64 rows in shared memory\n`);
timed('sum(x)', () => kernels.sum(x));
timed('min(x)', () => kernels.min(x));
timed('max(x)', () => kernels.max(x));
timed('mean(x)', () => kernels.mean(x));
timed('count(x)', () => kernels.count(x));
scope.close();
