/**
 * A bench for the Parquet page kernels (assembly/parquet): one context per kernel build (release and
 * debug — the debug build keeps the bounds asserts), and buffers surrounded by canaries, placed at
 * varying misalignments, so a test sees every byte a kernel writes outside what it was given.
 */
import * as assert from 'uvu/assert';
import { Context } from '../../src/context.js';
import type { ArenaScope } from '../../src/memory/arena.js';
import type { ParquetKernel } from '../../src/engine/io/parquet-kernel.js';

/** Bytes of canary on each side of every buffer. */
const GUARD = 48;
const canaryByte = (i: number): number => (i * 37 + 0x5b) & 0xff;

export interface Buf {
  /** Byte address of the buffer's first byte. */
  addr: number;
  /** Its size in bytes (what the kernel is given). */
  size: number;
  /** Address of the guard zone before it (size GUARD), then the buffer, then GUARD more. */
  base: number;
}

export class Lab {
  readonly ctx: Context;
  readonly k: ParquetKernel;
  #scope: ArenaScope;
  #bufs: Buf[] = [];
  #skew = 0;

  constructor(readonly flavor: 'release' | 'debug') {
    this.ctx = Context.create({ flavor, maxBytes: 1 << 30 });
    this.k = this.ctx.kernel as unknown as ParquetKernel;
    this.#scope = this.ctx.scope();
  }

  get u8(): Uint8Array {
    return this.ctx.mem.u8;
  }

  /** A buffer of `size` bytes (initial content: `init`, else a fixed junk pattern), canaries around it, at a rotating misalignment. */
  buf(size: number, init?: Uint8Array): Buf {
    const skew = (this.#skew = (this.#skew + 5) % 16);
    const base = this.#scope.alloc(GUARD * 2 + size + 16) + skew;
    const u8 = this.u8;
    for (let i = 0; i < GUARD; i++) {
      u8[base + i] = canaryByte(i);
      u8[base + GUARD + size + i] = canaryByte(i + 101);
    }
    const addr = base + GUARD;
    if (init) u8.set(init.subarray(0, size), addr);
    else for (let i = 0; i < size; i++) u8[addr + i] = (i * 11 + 0xc3) & 0xff;
    const b = { addr, size, base };
    this.#bufs.push(b);
    return b;
  }

  bytes(b: Buf, from = 0, to = b.size): Uint8Array {
    return this.u8.slice(b.addr + from, b.addr + to);
  }

  i32(b: Buf, n = b.size >>> 2): Int32Array {
    return new Int32Array(this.u8.slice(b.addr, b.addr + n * 4).buffer);
  }

  /** Fails when any canary of any buffer handed out since the last reset changed (and resets, so one failure does not fail the next test). */
  guards(where: string): void {
    const u8 = this.u8;
    for (const b of this.#bufs) {
      for (let i = 0; i < GUARD; i++) {
        let bad = '';
        if (u8[b.base + i] !== canaryByte(i)) bad = `${where}: write ${GUARD - i} bytes before a buffer of ${b.size}`;
        else if (u8[b.addr + b.size + i] !== canaryByte(i + 101)) bad = `${where}: write ${i} bytes past a buffer of ${b.size}`;
        if (bad) {
          this.reset();
          assert.unreachable(bad);
        }
      }
    }
  }

  /** Frees every buffer. */
  reset(): void {
    this.#scope.close();
    this.#scope = this.ctx.scope();
    this.#bufs = [];
  }
}

/** One Lab per kernel build, made on first use. */
const labs = new Map<string, Lab>();
export function labs2(): Lab[] {
  return (['release', 'debug'] as const).map((f) => {
    let l = labs.get(f);
    if (!l) labs.set(f, (l = new Lab(f)));
    return l;
  });
}

/** n random bytes. */
export const randomBytes = (n: number, r: () => number): Uint8Array => Uint8Array.from({ length: n }, () => (r() * 256) | 0);

/** Bytes as a short hex string for messages. */
export const hex = (b: Uint8Array, max = 48): string =>
  Array.from(b.subarray(0, max), (x) => x.toString(16).padStart(2, '0')).join(' ') + (b.length > max ? ' …' : '');

/** First index where a and b differ, or −1. */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
