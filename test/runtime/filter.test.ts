import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { columnFromArray, valuesView } from '../../src/column-alloc.js';
import { UnsupportedTypeError } from '../../src/errors.js';
import { compare } from '../../src/kernels/compare.js';
import { filter as filterKernel } from '../../src/kernels/filter.js';
import { filter } from '../../src/runtime/plans.js';
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

test('parallel filter equals the single-thread kernel: every numeric type, selections with nulls', async () => {
  const r = rng(99);
  for (const name of NUMERIC_TYPES) {
    for (const n of [0, 1, 1023, 1024, 1025, 40_000]) {
      const scope = rt.ctx.scope();
      const data = randomArray(name, n, r, false);
      const col = columnFromArray(rt.ctx, scope, typeOf(name), data);
      const keep = columnFromArray(rt.ctx, scope, typeOf('float64'), Float64Array.from({ length: n }, () => r()), n > 0 && r() < 0.5 ? randomValidity(n, r, 0.1) : undefined);
      const sel = compare('gt', keep, 0.3, { scope });
      const par = await filter(rt, col, sel, { scope });
      const one = filterKernel(col, sel, { scope });
      assert.is(par.length, one.length, `${name} n=${n}`);
      assert.equal(Array.from(valuesView(par) as ArrayLike<unknown>), Array.from(valuesView(one) as ArrayLike<unknown>), `${name} n=${n}`);
      scope.close();
    }
  }
});

test('parallel filter refuses columns with nulls and non-bool selections (typed errors)', async () => {
  const scope = rt.ctx.scope();
  const withNulls = columnFromArray(rt.ctx, scope, typeOf('int32'), Int32Array.from([1, 2, 3]), [true, false, true]);
  const plain = columnFromArray(rt.ctx, scope, typeOf('int32'), Int32Array.from([1, 2, 3]));
  const sel = compare('gt', plain, 1, { scope });
  for (const [c, s] of [[withNulls, sel], [plain, plain]] as const) {
    try {
      await filter(rt, c, s);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, UnsupportedTypeError);
    }
  }
  scope.close();
});

test.run();
