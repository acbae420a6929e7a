import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { columnFromArray, valuesView } from '../../src/column-alloc.js';
import type { Column } from '../../src/column.js';
import { UnsupportedTypeError } from '../../src/errors.js';
import { groupBySum as groupBySumKernel } from '../../src/kernels/groupby.js';
import { groupBySum, keyRangeJob } from '../../src/runtime/plans.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { randomArray, randomValidity, typeOf } from '../helpers/columns.js';
import { rng } from '../helpers/rng.js';

let rt: Runtime;

test.before(async () => {
  rt = await Runtime.start({ workers: 2, maxBytes: 1 << 30, morselRows: 1024 });
});

test.after(async () => {
  await rt.close();
});

const bit = (col: Column, i: number) => col.validity === 0 || ((col.ctx.mem.u8[col.validity + (i >>> 3)] >>> (i & 7)) & 1) === 1;

test('keyRange in parallel: min, max and valid count over morsels', async () => {
  const scope = rt.ctx.scope();
  const r = rng(5);
  const keys = Int32Array.from({ length: 70_000 }, () => Math.floor(r() * 2000) - 1000);
  const valid = randomValidity(keys.length, r, 0.1);
  const col = columnFromArray(rt.ctx, scope, typeOf('int32'), keys, valid);
  let min = Infinity, max = -Infinity, n = 0;
  keys.forEach((k, i) => { if (valid[i]) { n++; min = Math.min(min, k); max = Math.max(max, k); } });
  assert.equal(await rt.run(keyRangeJob(col)), { min: BigInt(min), max: BigInt(max), valid: n });
  scope.close();
});

for (const valueType of ['float64', 'int64', 'int32'] as const) {
  test(`groupBySum in parallel equals the single-thread kernel (${valueType} values, null keys and values)`, async () => {
    const scope = rt.ctx.scope();
    const r = rng(11);
    const n = 123_457;
    const keys = Int32Array.from({ length: n }, () => Math.floor(r() * 1000) + 17);
    const key = columnFromArray(rt.ctx, scope, typeOf('int32'), keys, randomValidity(n, r, 0.01));
    const value = columnFromArray(rt.ctx, scope, typeOf(valueType), randomArray(valueType, n, r, false), randomValidity(n, r, 0.05));
    const par = await groupBySum(rt, key, value);
    const one = groupBySumKernel(key, value);
    assert.is(par.groups, one.groups);
    const kv = valuesView(one.keys);
    const sv = valuesView(one.sums);
    for (let g = 0; g < one.groups; g++) {
      const isNullKey = !bit(one.keys, g);
      assert.is(isNullKey, par.nullKeyGroup && g === par.groups - 1, `group ${g}: null key`);
      if (!isNullKey) assert.is(par.keys[g], kv[g]);
      const want = bit(one.sums, g) ? sv[g] : null;
      const got = par.sums[g];
      if (typeof want === 'number' && typeof got === 'number') assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `group ${g}: ${got} vs ${want}`);
      else assert.is(got, want, `group ${g}`);
    }
    scope.close();
  });
}

test('groupBySum: non-int32 keys and huge domains are typed errors', async () => {
  const scope = rt.ctx.scope();
  const f = columnFromArray(rt.ctx, scope, typeOf('float64'), new Float64Array(10));
  try {
    await groupBySum(rt, f, f);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnsupportedTypeError);
  }
  const wide = columnFromArray(rt.ctx, scope, typeOf('int32'), Int32Array.from([0, 1e6]));
  try {
    await groupBySum(rt, wide, wide);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnsupportedTypeError);
  }
  scope.close();
});

test.run();
