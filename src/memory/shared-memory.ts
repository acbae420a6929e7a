/**
 * One shared `WebAssembly.Memory` per engine, and typed-array views over it that survive growth.
 *
 * `memory.grow` (from any thread) replaces the SharedArrayBuffer object that `memory.buffer` returns —
 * even `grow(0)` does — and views made over the old object keep their old length. So views are
 * rebuilt whenever the buffer's `byteLength` differs from the one they were made over; object
 * identity is never compared (another thread may have grown the memory, and this thread's first
 * look at `memory.buffer` after that hands out a new object).
 */
import { InvalidOptionError } from '../errors.js';

export const PAGE = 65536;
/** wasm32 ceiling: 65536 pages = 4 GiB (memory64 is behind a flag in Node 20). */
export const MAX_PAGES = 65536;

export interface SharedMemoryOptions {
  /** Fixed maximum in bytes (rounded up to 64 KiB pages). Default 4 GiB, the wasm32 ceiling. */
  maxBytes?: number;
  /** Initial size in bytes. Default 16 MiB. */
  initialBytes?: number;
}

export class SharedMemory {
  readonly memory: WebAssembly.Memory;
  readonly maxPages: number;
  #u8!: Uint8Array;
  #i32!: Int32Array;
  #u32!: Uint32Array;

  constructor(opts: SharedMemoryOptions | WebAssembly.Memory = {}) {
    if (opts instanceof WebAssembly.Memory) {
      // Adopting an existing Memory (a worker receives the engine's through workerData).
      if (!(opts.buffer instanceof SharedArrayBuffer)) {
        throw new InvalidOptionError('memory', 'non-shared WebAssembly.Memory', 'a Memory created with shared: true');
      }
      this.memory = opts;
      this.maxPages = MAX_PAGES;
    } else {
      const maxBytes = opts.maxBytes ?? MAX_PAGES * PAGE;
      if (!Number.isFinite(maxBytes) || maxBytes < PAGE || maxBytes > MAX_PAGES * PAGE) {
        throw new InvalidOptionError('maxBytes', maxBytes, `a byte count from ${PAGE} (64 KiB) to ${MAX_PAGES * PAGE} (4 GiB)`);
      }
      const initialBytes = opts.initialBytes ?? 16 * 1024 * 1024;
      if (!Number.isFinite(initialBytes) || initialBytes < 0) {
        throw new InvalidOptionError('initialBytes', initialBytes, 'a non-negative byte count');
      }
      this.maxPages = Math.ceil(maxBytes / PAGE);
      const initial = Math.max(1, Math.min(this.maxPages, Math.ceil(initialBytes / PAGE)));
      this.memory = new WebAssembly.Memory({ initial, maximum: this.maxPages, shared: true });
    }
    this.#rebuild();
  }

  /** The current SharedArrayBuffer (a new object after every growth, in every thread). */
  get buffer(): SharedArrayBuffer {
    return this.memory.buffer as unknown as SharedArrayBuffer;
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes the memory may reach (its fixed maximum). */
  get limit(): number {
    return this.maxPages * PAGE;
  }

  get u8(): Uint8Array {
    if (this.memory.buffer.byteLength !== this.#u8.byteLength) this.#rebuild();
    return this.#u8;
  }

  get i32(): Int32Array {
    if (this.memory.buffer.byteLength !== this.#i32.byteLength) this.#rebuild();
    return this.#i32;
  }

  get u32(): Uint32Array {
    if (this.memory.buffer.byteLength !== this.#u32.byteLength) this.#rebuild();
    return this.#u32;
  }

  /**
   * Grows the memory so that `[0, end)` is addressable. Returns false when that would pass the fixed
   * maximum (the caller turns that into a typed error with its own context). Grows geometrically
   * (×1.5) so that a stream of allocations does not grow — and replace every view — page by page.
   */
  ensure(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    const needPages = Math.ceil(end / PAGE);
    if (needPages > this.maxPages) return false;
    const havePages = have / PAGE;
    const target = Math.min(this.maxPages, Math.max(needPages, Math.ceil(havePages * 1.5)));
    try {
      this.memory.grow(target - havePages);
    } catch {
      // Another thread may have grown it meanwhile (then the delta was wrong, not the request),
      // or the OS refused the reservation: retry the exact need once before giving up.
      const now = this.memory.buffer.byteLength / PAGE;
      if (now >= needPages) return true;
      try {
        this.memory.grow(needPages - now);
      } catch {
        return this.memory.buffer.byteLength >= end;
      }
    }
    return true;
  }

  /** A view of `length` elements of `T` at byte address `ptr` over the *current* buffer. */
  view<T extends TypedArrayCtor>(ctor: T, ptr: number, length: number): InstanceType<T> {
    return new (ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => InstanceType<T>)(this.buffer, ptr, length);
  }

  #rebuild(): void {
    const buf = this.memory.buffer;
    this.#u8 = new Uint8Array(buf);
    this.#i32 = new Int32Array(buf);
    this.#u32 = new Uint32Array(buf);
  }
}

export type TypedArrayCtor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor
  | Int32ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor
  | BigInt64ArrayConstructor | BigUint64ArrayConstructor;
