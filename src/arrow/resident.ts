/**
 * Is an Arrow buffer already in this context's shared memory (so import can skip the copy)?
 *
 * Object identity is not enough: `memory.grow` hands out a new SharedArrayBuffer object every time
 * (even `grow(0)`), and a buffer made before growth — an exported vector the caller still holds —
 * aliases the same bytes under a different, shorter object. `byteLength` does not decide it either:
 * two unrelated memories can have the same size. What does decide it is aliasing itself, so for a
 * SharedArrayBuffer we have not seen yet:
 *
 *   1. cheap filters: it is a SharedArrayBuffer, a whole number of 64 KiB pages, no longer than our
 *      memory is now (memories only grow), and long enough to hold our scratch area;
 *   2. the probe: write a random 8-byte nonce into *our* scratch (ctx.scratch — 256 bytes private to
 *      this thread's context, so nobody else reads or writes it while we do) and read the same
 *      address through the candidate; twice, with two nonces. Only a buffer over the same memory sees
 *      both (a foreign buffer matching two random 64-bit values by chance: 2^-128). The candidate is
 *      only ever read, so a foreign buffer is never disturbed.
 *
 * The answer is cached per buffer object (a WeakMap, so buffers still die normally).
 */
import type { Context } from '../context.js';
import { ALIGN } from '../memory/arena.js';
import { PAGE } from '../memory/shared-memory.js';

const verdicts = new WeakMap<Context, WeakMap<ArrayBufferLike, boolean>>();

/** True when `buf` is (a pre- or post-growth object of) the context's shared memory. */
export function isContextBuffer(ctx: Context, buf: ArrayBufferLike): boolean {
  if (buf === ctx.mem.buffer) return true;
  if (!(buf instanceof SharedArrayBuffer)) return false;
  let seen = verdicts.get(ctx);
  if (seen === undefined) verdicts.set(ctx, (seen = new WeakMap()));
  const cached = seen.get(buf);
  if (cached !== undefined) return cached;
  const verdict = probe(ctx, buf);
  seen.set(buf, verdict);
  return verdict;
}

const PROBE_BYTES = 8;

function probe(ctx: Context, buf: SharedArrayBuffer): boolean {
  const at = ctx.scratch;
  if (buf.byteLength % PAGE !== 0 || buf.byteLength > ctx.mem.byteLength || buf.byteLength < at + PROBE_BYTES) return false;
  const theirs = new Uint8Array(buf, at, PROBE_BYTES);
  const mine = ctx.mem.u8.subarray(at, at + PROBE_BYTES);
  const saved = mine.slice();
  try {
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < PROBE_BYTES; k++) mine[k] = (Math.random() * 256) | 0;
      for (let k = 0; k < PROBE_BYTES; k++) if (theirs[k] !== mine[k]) return false;
    }
    return true;
  } finally {
    mine.set(saved);
  }
}

/**
 * The byte address of `view`'s bytes [byteStart, byteStart + byteLength) in the context's memory, when
 * a column may point there directly: the view is over our memory, the address is 64-byte aligned
 * (the column layout's promise to kernels) and above the arena header (never the kernel's static
 * data, which every instantiation rewrites). Otherwise -1: the caller copies.
 */
export function residentAddress(ctx: Context, view: ArrayBufferView | null | undefined, byteStart: number, byteLength: number): number {
  if (!view || byteLength <= 0) return -1;
  const addr = view.byteOffset + byteStart;
  if (addr % ALIGN !== 0 || addr < ctx.arena.base + ALIGN) return -1;
  if (byteStart + byteLength > view.byteLength) return -1;
  return isContextBuffer(ctx, view.buffer) ? addr : -1;
}
