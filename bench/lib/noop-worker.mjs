// piscina's task for the tiny-task benchmark (bench/runtime.bench.ts): does nothing.
export default function noop(x) {
  return x;
}
