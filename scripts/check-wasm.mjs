#!/usr/bin/env node
// Build check: kernels must never allocate. The stub runtime's allocator keeps its bump pointer in a
// per-instance global starting at __heap_base, i.e. inside the host's arena — so one `new` in a kernel
// would silently corrupt the arena header, in every thread differently. The debug build keeps function
// names; fail the build if any allocator function was linked in.
import { readFileSync } from 'node:fs';
const bytes = readFileSync(new URL('../build/kernels.debug.wasm', import.meta.url));
const text = bytes.toString('latin1');
const bad = ['~lib/rt/stub/__alloc', '~lib/rt/stub/__new', '~lib/rt/common/', 'memory.grow'].filter((s) => text.includes(s));
if (bad.length) {
  console.error(`kernels.debug.wasm links the allocator (${bad.join(', ')}): a kernel allocates. Kernels must use host-provided buffers only.`);
  process.exit(1);
}
