import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { columnFromArray, columnFromStrings, valuesView } from '../../src/column-alloc.js';
import { UnsupportedTypeError } from '../../src/errors.js';
import { argsort as argsortKernel } from '../../src/kernels/sort.js';
import { argsort } from '../../src/runtime/plans.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf } from '../helpers/columns.js';
import { rng } from '../helpers/rng.js';

let rt: Runtime;

test.before(async () => {
  rt = await Runtime.start({ workers: 2, maxBytes: 1 << 30, morselRows: 1024 });
});

test.after(async () => {
  await rt.close();
});

/** The permutation must be the single-thread one exactly: stable, so there is only one. */
function samePerm(a: Int32Array, b: Int32Array, where: string): void {
  assert.is(a.length, b.length, `${where}: length`);
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) assert.unreachable(`${where}: position ${i}: row ${a[i]} vs ${b[i]}`);
}

test('parallel argsort = kernels.argsort: every numeric type, nulls, both directions, nulls first/last, odd run counts', async () => {
  const r = rng(31);
  for (const name of NUMERIC_TYPES) {
    for (const [n, runRows] of [[1, 64], [64, 64], [65, 64], [1000, 64], [5000, 192], [20_000, 1024], [3000, undefined]] as const) {
      const scope = rt.ctx.scope();
      // Few distinct values half the time: many ties, which is where stability shows.
      const data = randomArray(name, n, r);
      if (r() < 0.5) for (let i = 0; i < n; i++) (data as unknown as number[])[i] = (data as unknown as number[])[i % 7];
      const col = columnFromArray(rt.ctx, scope, typeOf(name), data, r() < 0.6 ? randomValidity(n, r, 0.15) : undefined);
      for (const descending of [false, true]) {
        for (const nullsFirst of [false, true]) {
          const one = argsortKernel(col, { descending, nullsFirst, scope });
          for (const algorithm of ['radix', 'merge'] as const) {
            const par = await argsort(rt, col, { descending, nullsFirst, runRows, morselRows: runRows, algorithm, scope });
            samePerm(valuesView(par) as Int32Array, valuesView(one) as Int32Array, `${algorithm} ${name} n=${n} runs/morsels of ${runRows} desc=${descending} nullsFirst=${nullsFirst}`);
          }
        }
      }
      scope.close();
    }
  }
});

test('parallel argsort: floats with NaN, ±0, ±Inf keep the kernel order', async () => {
  const r = rng(32);
  const n = 10_000;
  const scope = rt.ctx.scope();
  const specials = [NaN, -0, 0, Infinity, -Infinity, 1, -1];
  const col = columnFromArray(rt.ctx, scope, typeOf('float64'), Float64Array.from({ length: n }, () => specials[Math.floor(r() * specials.length)]));
  for (const descending of [false, true]) {
    for (const algorithm of ['radix', 'merge'] as const) {
      samePerm(valuesView(await argsort(rt, col, { descending, runRows: 640, morselRows: 640, algorithm })) as Int32Array, valuesView(argsortKernel(col, { descending })) as Int32Array, `${algorithm} specials desc=${descending}`);
    }
  }
  scope.close();
});

test('parallel argsort: runs that are all null (null blocks move whole), all-null columns', async () => {
  const r = rng(33);
  for (const rate of [0.97, 1]) {
    const n = 5000;
    const scope = rt.ctx.scope();
    const col = columnFromArray(rt.ctx, scope, typeOf('int64'), randomArray('int64', n, r), Array.from({ length: n }, () => r() >= rate));
    for (const nullsFirst of [false, true]) {
      for (const descending of [false, true]) {
        for (const algorithm of ['radix', 'merge'] as const) {
          const par = await argsort(rt, col, { nullsFirst, descending, runRows: 64, morselRows: 64, algorithm });
          samePerm(valuesView(par) as Int32Array, valuesView(argsortKernel(col, { nullsFirst, descending })) as Int32Array, `${algorithm} nulls ${rate} first=${nullsFirst} desc=${descending}`);
        }
      }
    }
    scope.close();
  }
});

test('parallel argsort refuses utf8 keys and bad options (typed errors)', async () => {
  const scope = rt.ctx.scope();
  const s = columnFromStrings(rt.ctx, scope, ['b', 'a']);
  try {
    await argsort(rt, s);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnsupportedTypeError);
  }
  scope.close();
});

test.run();
