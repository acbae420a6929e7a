/**
 * The optional native addon (native/, node-addon-api): CPU topology and thread pinning.
 *
 * Loaded lazily, once per thread. When it is missing (the build failed at install, or no compiler),
 * fails to load, or AETHERFLOW_NO_NATIVE=1 forces the fallback, the runtime still works: topology
 * comes from `os` and /sys read in JS, and workers run unpinned — the owner thread says so once,
 * in one warning line.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../kernels/module.js';

export interface CacheSizes {
  /** Bytes; 0 when unknown. Per core for L1/L2 (as Linux reports cpu0's), per package for L3. */
  l1d: number;
  l1i: number;
  l2: number;
  l3: number;
}

export interface Topology {
  logicalCores: number;
  caches: CacheSizes;
  /** NUMA node of each logical core (index = core id); 0 where Linux exposes no nodes. */
  numaNode: number[];
  /** Where the facts came from. */
  source: 'native' | 'js';
}

interface Binding {
  topology(): { logicalCores: number; l1d: number; l1i: number; l2: number; l3: number; numaNode: number[] };
  /** sched_setaffinity(calling thread, {core}); false when the kernel refused. */
  pin(core: number): boolean;
  /** The core set the calling thread may run on. */
  affinity(): number[];
}

let binding: Binding | null | undefined;
let failure = '';
let warned = false;

export function addonPath(): string {
  return join(packageRoot(), 'native', 'build', 'Release', 'aetherflow_native.node');
}

/** The addon, or null (see `nativeFailure()` for why). */
export function loadNative(): Binding | null {
  if (binding !== undefined) return binding;
  if (process.env.AETHERFLOW_NO_NATIVE === '1') {
    failure = 'AETHERFLOW_NO_NATIVE=1';
    return (binding = null);
  }
  const file = addonPath();
  if (!existsSync(file)) {
    failure = `${file} is missing (the native build failed or was skipped at install)`;
    return (binding = null);
  }
  try {
    binding = createRequire(import.meta.url)(file) as Binding;
  } catch (e) {
    failure = `cannot load ${file}: ${(e as Error).message.split('\n')[0]}`;
    binding = null;
  }
  return binding;
}

export function nativeFailure(): string {
  loadNative();
  return failure;
}

/** One line on stderr, once per process, when workers will run unpinned. */
export function warnUnpinnedOnce(): void {
  if (warned) return;
  warned = true;
  console.warn(`aetherflow: native addon unavailable, workers run unpinned (${nativeFailure()})`);
}

let cached: Topology | undefined;

export function topology(): Topology {
  if (cached) return cached;
  const b = loadNative();
  if (b) {
    const t = b.topology();
    cached = { logicalCores: t.logicalCores, caches: { l1d: t.l1d, l1i: t.l1i, l2: t.l2, l3: t.l3 }, numaNode: t.numaNode, source: 'native' };
  } else {
    cached = jsTopology();
  }
  return cached;
}

/** Pins the calling thread to `core`. False when there is no addon or the OS refused. */
export function pinThread(core: number): boolean {
  const b = loadNative();
  return b !== null && b.pin(core);
}

// ---- fallback: the same facts from JS (Linux /sys when present, else os) ------------------------

const SYS = '/sys/devices/system/cpu';

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** "32K" / "512K" / "32768K" / "1M" → bytes. */
export function parseSize(s: string | undefined): number {
  if (!s) return 0;
  const m = /^(\d+)\s*([KMG]?)/i.exec(s);
  if (!m) return 0;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

function jsTopology(): Topology {
  const logicalCores = os.availableParallelism();
  const caches: CacheSizes = { l1d: 0, l1i: 0, l2: 0, l3: 0 };
  const dir = `${SYS}/cpu0/cache`;
  if (existsSync(dir)) {
    for (const idx of readdirSync(dir).filter((d) => d.startsWith('index'))) {
      const level = readText(`${dir}/${idx}/level`);
      const type = readText(`${dir}/${idx}/type`);
      const size = parseSize(readText(`${dir}/${idx}/size`));
      if (level === '1' && type === 'Data') caches.l1d = size;
      else if (level === '1' && type === 'Instruction') caches.l1i = size;
      else if (level === '2') caches.l2 = size;
      else if (level === '3') caches.l3 = size;
    }
  }
  const numaNode: number[] = [];
  for (let c = 0; c < logicalCores; c++) {
    let node = 0;
    try {
      const n = readdirSync(`${SYS}/cpu${c}`).find((d) => /^node\d+$/.test(d));
      if (n) node = Number(n.slice(4));
    } catch {
      // no /sys: one node
    }
    numaNode.push(node);
  }
  return { logicalCores, caches, numaNode, source: 'js' };
}

/**
 * Morsel rows from the L2 size: a morsel's input (8-byte values) plus what the op writes should sit
 * in half of L2, so the next morsel's prefetch does not evict it. Rounded down to a power of two,
 * clamped to [16K, 256K] rows; 64K rows when L2 is unknown.
 */
export function morselRowsFor(l2: number): number {
  if (!(l2 > 0)) return 65536;
  const rows = l2 / 2 / 8;
  const pow = 2 ** Math.floor(Math.log2(rows));
  return Math.min(262144, Math.max(16384, pow));
}
