import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Column } from '../../src/column.js';
import { columnFromArray, columnFromStrings, stringsOf, valuesView } from '../../src/column-alloc.js';
import { UnsupportedTypeError } from '../../src/errors.js';
import { compare } from '../../src/kernels/compare.js';
import { filter as filterKernel } from '../../src/kernels/filter.js';
import { filter } from '../../src/runtime/plans.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { boolColumn, boolsOf, countNulls } from '../helpers/bools.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf } from '../helpers/columns.js';
import { rng } from '../helpers/rng.js';

let rt: Runtime;

test.before(async () => {
  // Small morsels (64 rows): every morsel boundary falls mid-word of the output bitmaps.
  rt = await Runtime.start({ workers: 2, maxBytes: 1 << 30, morselRows: 64 });
});

test.after(async () => {
  await rt.close();
});

type Row = number | bigint | boolean | string | null;

function rowsOf(col: Column): Row[] {
  if (col.type.name === 'bool') return boolsOf(col);
  if (col.type.name === 'utf8') return stringsOf(col);
  const v = valuesView(col);
  return Array.from({ length: col.length }, (_, i) => (col.isValid(i) ? v[i] : null));
}

/** Same rows (Object.is: NaN and −0 kept), same null count, no bitmap without nulls. */
function same(par: Column, one: Column, where: string): void {
  assert.is(par.length, one.length, `${where}: length`);
  const a = rowsOf(par);
  const b = rowsOf(one);
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${where} row ${i}: ${String(a[i])} vs ${String(b[i])}`);
  assert.is(par.nullCount, one.nullCount, `${where}: nullCount`);
  assert.is(par.nullCount, countNulls(par), `${where}: nullCount matches the bitmap`);
  if (par.nullCount === 0) assert.is(par.validity, 0, `${where}: no bitmap without nulls`);
}

const SIZES = [0, 1, 63, 64, 65, 1000, 20_000];

/** A selection (with nulls half the time) of density `keep`. */
function selection(n: number, r: () => number, keep: number, scope: import('../../src/memory/arena.js').ArenaScope): Column {
  const x = columnFromArray(rt.ctx, scope, typeOf('float64'), Float64Array.from({ length: n }, () => r()), n > 0 && r() < 0.5 ? randomValidity(n, r, 0.1) : undefined);
  return compare('lt', x, keep, { scope });
}

test('parallel filter equals the single-thread kernel: every numeric type, with and without nulls', async () => {
  const r = rng(99);
  for (const name of NUMERIC_TYPES) {
    for (const n of SIZES) {
      for (const nulls of [false, true]) {
        const scope = rt.ctx.scope();
        const col = columnFromArray(rt.ctx, scope, typeOf(name), randomArray(name, n, r), nulls && n > 0 ? randomValidity(n, r, 0.3) : undefined);
        const sel = selection(n, r, [0.05, 0.5, 0.97][n % 3], scope);
        same(await filter(rt, col, sel, { scope }), filterKernel(col, sel, { scope }), `${name} n=${n} nulls=${nulls}`);
        scope.close();
      }
    }
  }
});

test('parallel filter of bool and utf8 columns (nulls, empty and multi-byte strings)', async () => {
  const r = rng(7);
  const words = ['', 'a', 'héllo', '日本語', 'longer string with spaces', '🙂'];
  for (const n of SIZES) {
    for (const nulls of [false, true]) {
      const scope = rt.ctx.scope();
      const sel = selection(n, r, 0.6, scope);
      const bools = boolColumn(rt.ctx, scope, Array.from({ length: n }, () => (nulls && r() < 0.2 ? null : r() < 0.5)));
      same(await filter(rt, bools, sel, { scope }), filterKernel(bools, sel, { scope }), `bool n=${n} nulls=${nulls}`);
      const strs = columnFromStrings(rt.ctx, scope, Array.from({ length: n }, () => (nulls && r() < 0.2 ? null : words[Math.floor(r() * words.length)])));
      same(await filter(rt, strs, sel, { scope }), filterKernel(strs, sel, { scope }), `utf8 n=${n} nulls=${nulls}`);
      scope.close();
    }
  }
});

test('parallel filter refuses non-bool selections and other engines\' columns (typed errors)', async () => {
  const scope = rt.ctx.scope();
  const plain = columnFromArray(rt.ctx, scope, typeOf('int32'), Int32Array.from([1, 2, 3]));
  try {
    await filter(rt, plain, plain);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnsupportedTypeError);
  }
  scope.close();
});

test.run();
