import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import { ArenaOutOfMemory, ScopeClosedError, InvalidOptionError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';

test('allocations are 64-byte aligned and disjoint', () => {
  const ctx = Context.create({ maxBytes: 64 << 20, initialBytes: 1 << 20 });
  const s = ctx.scope();
  const r = rng(7);
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < 2000; i++) {
    const n = Math.floor(r() * (r() < 0.05 ? 300_000 : 2000));
    const p = s.alloc(n);
    assert.is(p % 64, 0, `allocation ${i} (${n} B) at ${p} is not 64-aligned`);
    spans.push([p, p + Math.max(n, 1)]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], `overlap at ${spans[i][0]}`);
  // Everything lies above the kernel's static data and inside the memory.
  assert.ok(spans[0][0] >= ctx.kernel.heapBase());
  assert.ok(spans[spans.length - 1][1] <= ctx.mem.byteLength);
  s.close();
});

test('close frees the whole scope: the same bytes are handed out again, top does not move', () => {
  const ctx = Context.create({ maxBytes: 256 << 20 });
  const s1 = ctx.scope();
  for (let i = 0; i < 100; i++) s1.alloc(100_000);
  const topAfterFirst = ctx.arena.stats().top;
  s1.close();
  for (let round = 0; round < 20; round++) {
    const s = ctx.scope();
    for (let i = 0; i < 100; i++) s.alloc(100_000);
    s.close();
  }
  assert.is(ctx.arena.stats().top, topAfterFirst);
  assert.is(ctx.arena.stats().liveScopes, 1); // the context's own scratch scope
});

test('a closed scope refuses allocation and a second close', () => {
  const ctx = Context.create({ maxBytes: 16 << 20 });
  const s = ctx.scope();
  s.alloc(10);
  s.close();
  assert.throws(() => s.alloc(10), (e: unknown) => e instanceof ScopeClosedError);
  assert.throws(() => s.close(), (e: unknown) => e instanceof ScopeClosedError);
});

test('out of memory is a typed error naming requested, free and limit — and the arena stays usable', () => {
  const ctx = Context.create({ maxBytes: 8 << 20, initialBytes: 1 << 20 });
  const s = ctx.scope();
  s.alloc(4 << 20);
  let err: unknown;
  try {
    s.alloc(6 << 20);
  } catch (e) {
    err = e;
  }
  assert.instance(err, ArenaOutOfMemory);
  const oom = err as ArenaOutOfMemory;
  assert.ok(oom.requested >= 6 << 20);
  assert.is(oom.limit, 8 << 20);
  assert.ok(oom.free < oom.requested && oom.free > 0);
  assert.match(oom.message, /requested .* free .* limit/);
  s.close();
  const s2 = ctx.scope();
  const p = s2.alloc(6 << 20); // after close + coalesce, the space is back
  assert.ok(p > 0);
  s2.close();
});

test('memory grows on demand; views taken after growth see the new length', () => {
  const ctx = Context.create({ maxBytes: 512 << 20, initialBytes: 1 << 20 });
  const before = ctx.mem.byteLength;
  const s = ctx.scope();
  const p = s.alloc(64 << 20);
  assert.ok(ctx.mem.byteLength >= p + (64 << 20));
  assert.ok(ctx.mem.byteLength > before);
  ctx.mem.u8[p + (64 << 20) - 1] = 42; // would throw/ignore on a stale view
  assert.is(new Uint8Array(ctx.mem.buffer)[p + (64 << 20) - 1], 42);
  s.close();
});

test('fragmented free segments coalesce to serve a large request', () => {
  const ctx = Context.create({ maxBytes: 64 << 20, initialBytes: 1 << 20 });
  const scopes = [];
  for (let i = 0; i < 20; i++) {
    const s = ctx.scope();
    s.alloc(2 << 20);
    scopes.push(s);
  }
  for (const s of scopes) s.close();
  const big = ctx.scope();
  assert.ok(big.alloc(40 << 20) > 0);
  big.close();
});

test('bad options are typed errors', () => {
  assert.throws(() => Context.create({ maxBytes: 5 * 2 ** 32 }), (e: unknown) => e instanceof InvalidOptionError && /maxBytes/.test((e as Error).message));
  const ctx = Context.create({ maxBytes: 16 << 20 });
  const s = ctx.scope();
  assert.throws(() => s.alloc(-1), (e: unknown) => e instanceof InvalidOptionError);
  assert.throws(() => s.alloc(NaN), (e: unknown) => e instanceof InvalidOptionError);
  s.close();
});

test.run();
