/**
 * A kernel context: one shared Memory, the arena over it, and this thread's kernel instance.
 * The engine (and each worker) owns one; columns and scopes point back to it.
 */
import { compileKernel, instantiateKernel, type KernelExports } from './kernels/module.js';
import { Arena, ArenaScope, align64 } from './memory/arena.js';
import { SharedMemory, type SharedMemoryOptions } from './memory/shared-memory.js';

export const SCRATCH_BYTES = 256;

export interface ContextOptions extends SharedMemoryOptions {
  /** 'debug' instantiates the kernel build that keeps its assertions. Default: AETHERFLOW_DEBUG_KERNEL. */
  flavor?: 'release' | 'debug';
}

export class Context {
  readonly mem: SharedMemory;
  readonly arena: Arena;
  readonly kernel: KernelExports;
  readonly module: WebAssembly.Module;
  /**
   * 256 bytes private to this thread's context, for kernel scalars in and results out (a call writes
   * them, the kernel reads or fills them, the call reads them back — never across calls).
   */
  readonly scratch: number;
  readonly #system: ArenaScope;

  private constructor(mem: SharedMemory, module: WebAssembly.Module, kernel: KernelExports, arena: Arena) {
    this.mem = mem;
    this.module = module;
    this.kernel = kernel;
    this.arena = arena;
    this.#system = arena.open();
    this.scratch = this.#system.alloc(SCRATCH_BYTES);
  }

  /** A new memory, kernel instance and arena. */
  static create(opts: ContextOptions = {}): Context {
    const mem = new SharedMemory(opts);
    const module = compileKernel(opts.flavor);
    const kernel = instantiateKernel(module, mem.memory);
    const arena = new Arena(mem, align64(kernel.heapBase()), true);
    return new Context(mem, module, kernel, arena);
  }

  /** Another thread's view of an existing context (same Memory, same arena; its own kernel instance). */
  static attach(memory: WebAssembly.Memory, module: WebAssembly.Module, arenaBase: number): Context {
    const mem = new SharedMemory(memory);
    const kernel = instantiateKernel(module, memory);
    return new Context(mem, module, kernel, new Arena(mem, arenaBase, false));
  }

  get memory(): WebAssembly.Memory {
    return this.mem.memory;
  }

  /** Opens an arena scope: everything allocated in it is freed at once by `scope.close()`. */
  scope(): ArenaScope {
    return this.arena.open();
  }
}
