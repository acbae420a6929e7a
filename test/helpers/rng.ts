/** Seeded RNG for tests (mulberry32): every random test prints/uses a seed and is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Scale for stress loops: AETHERFLOW_QUICK=1 shrinks them for quick local runs. */
export const SCALE = process.env.AETHERFLOW_QUICK === '1' ? 0.1 : 1;
