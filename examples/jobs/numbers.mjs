// Node functions for numbers.yaml. `function` nodes get the NodeContext; `script` nodes run on a
// worker thread and get { input, config, memory, counters, threadId }.
export function generate() {
  let seed = 12345;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 1000);
  return Array.from({ length: 300_000 }, next);
}

export function stats({ input, config }) {
  const xs = input.generate;
  let n = 0, sum = 0, min = Infinity, max = -Infinity;
  for (let i = config.shard; i < xs.length; i += config.of) {
    const x = xs[i];
    n++; sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { n, sum, min, max };
}

export function merge(ctx) {
  const parts = ['shard0', 'shard1', 'shard2'].map((s) => ctx.input(s));
  const n = parts.reduce((a, p) => a + p.n, 0);
  const sum = parts.reduce((a, p) => a + p.sum, 0);
  return { n, mean: sum / n, min: Math.min(...parts.map((p) => p.min)), max: Math.max(...parts.map((p) => p.max)) };
}
