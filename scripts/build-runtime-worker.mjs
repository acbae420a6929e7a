// Bundles the runtime's worker thread (src/runtime/worker.ts) into one CommonJS file,
// dist/src/runtime/worker.cjs, which src/runtime/runtime.ts starts when it is there.
//
// Why: a worker whose entry is an ES module pays for Node's ESM loader in that fresh isolate —
// ~15 ms of CPU before the first line runs (measured: import of an empty .mjs 14.7 ms vs require
// of an empty .cjs 0.4 ms, on this 2-core box), plus ~0.3 ms per module of the worker's ~20-module
// graph. With one bundled CJS file a worker is ready in its bare boot time (~25 ms) plus ~3 ms.
// esbuild is tsx's own dependency (a dev dependency here); without it the build skips this step
// and the runtime starts the ESM worker.js as before.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, process.argv[2] ?? 'dist', 'src', 'runtime', 'worker.cjs');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('build-runtime-worker: esbuild not found; workers will start from the ESM worker.js');
  process.exit(0);
}
mkdirSync(dirname(outfile), { recursive: true });
await esbuild.build({
  entryPoints: [join(root, 'src', 'runtime', 'worker.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // import.meta.url (packageRoot, createRequire in native.ts) → this file's URL in CJS.
  define: { 'import.meta.url': '__aetherflowWorkerUrl' },
  banner: { js: 'const __aetherflowWorkerUrl = require("node:url").pathToFileURL(__filename).href;' },
});
if (!existsSync(outfile)) throw new Error(`build-runtime-worker: ${outfile} was not written`);
