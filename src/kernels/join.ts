/**
 * Hash join row pairs (assembly/join): `hashJoin(probeKeys, buildKeys)` gives, for every probe row,
 * the build rows whose keys equal its keys — as two int32 columns of row numbers to `take` with.
 *
 * Build: the group-by hash table (groupIdsHash) numbers the build keys; each group's key is gathered
 * (the probe compares against it directly) and a counting sort lists each group's rows (not needed
 * when the build keys are distinct). The table is sized so it never fills (capacity ≥ 2 × build
 * rows), so no rehash runs.
 * Probe: the keys are hashed in chunks and looked up without inserting; the pairs go into buffers that
 * the host grows (the kernel stops before a probe row whose pairs do not fit, the host doubles the
 * buffers, the kernel resumes from that row).
 *
 * Keys: one or more columns per side, the same key kind column by column (bring them to one type
 * first: the engine casts numbers to their common type and decodes dictionaries to utf8 unless both
 * sides share one dictionary). Null never matches (SQL); floats match with −0 = +0 and NaN = NaN;
 * strings by bytes.
 *
 * Result: pairs in probe-row order, each probe row's matches in build-row order. `how: 'left'` keeps
 * a probe row without a match once, with a null build row. Results live in `opts.scope` (default: the
 * first probe key's scope); the table and buckets in a temporary scope closed before returning.
 */
import { Column, columnType } from '../column.js';
import { bitmapBytes } from '../column-alloc.js';
import { InvalidOptionError, OutOfRangeError, UnsupportedTypeError } from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import { assertSameContext } from './check.js';
import { assertKeys, keyKind, writeKeyDescriptors } from './hash.js';
import { take } from './filter.js';
import { guard } from './module.js';

export interface HashJoinOptions {
  /** 'inner' (default) or 'left' (unmatched probe rows kept once, with a null build row). */
  how?: 'inner' | 'left';
  /** Scope for the two index columns (default: the first probe key's scope). */
  scope?: ArenaScope;
}

export interface HashJoinResult {
  /** int32 per pair: the probe row. */
  probe: Column;
  /** int32 per pair: the build row (null for an unmatched probe row of a left join). */
  build: Column;
  /** Number of pairs. */
  length: number;
}

/** Must match CHUNK in assembly/join (and assembly/groupby/table.ts): rows hashed per batch. */
const HASH_CHUNK = 1024;
const TABLE_BYTES = 16;
const MAX_PAIRS = 0x7fffffff;

/** Probe rows joined with the build rows of equal keys (see the module doc). */
export function hashJoin(probeKeys: readonly Column[], buildKeys: readonly Column[], opts: HashJoinOptions = {}): HashJoinResult {
  const op = 'join';
  assertKeys(op, probeKeys);
  assertKeys(op, buildKeys);
  assertSameContext(op, probeKeys[0], buildKeys[0]);
  const how = opts.how ?? 'inner';
  if (how !== 'inner' && how !== 'left') throw new InvalidOptionError('how', how, "'inner' or 'left'");
  if (probeKeys.length !== buildKeys.length) {
    throw new InvalidOptionError('join keys', `${probeKeys.length} probe vs ${buildKeys.length} build columns`, 'the same number of key columns on both sides');
  }
  probeKeys.forEach((p, i) => {
    const b = buildKeys[i];
    // Hashes and comparisons are per kind: two kinds would never match (or match by accident).
    if (keyKind(op, p) !== keyKind(op, b) || p.type.name !== b.type.name) throw new UnsupportedTypeError(op, [p.label, b.label], 'key columns must have one type on both sides (cast first)');
    if (p.type.name === 'dictionary' && p.dictionary !== b.dictionary) throw new UnsupportedTypeError(op, [p.label, b.label], 'dictionary keys must share one dictionary (decode to utf8 first)');
  });
  const ctx = probeKeys[0].ctx;
  const k = ctx.kernel;
  const n = probeKeys[0].length;
  const m = buildKeys[0].length;
  const out = opts.scope ?? probeKeys[0].scope;
  const tmp = ctx.scope();
  try {
    // 1. Build: group ids over the build keys, in a table that never fills (groups ≤ m ≤ capacity / 2).
    const bk = writeKeyDescriptors(op, tmp, buildKeys);
    const pk = writeKeyDescriptors(op, tmp, probeKeys);
    let capacity = 4;
    while (capacity < 2 * m) capacity *= 2;
    const table = tmp.alloc(TABLE_BYTES);
    const slots = tmp.calloc(capacity * 8);
    const firstRow = tmp.alloc((capacity / 2) * 4);
    const ids = tmp.alloc(m * 4);
    const hashes = tmp.alloc(HASH_CHUNK * 8);
    const t = table >>> 2;
    const u32 = ctx.mem.u32;
    u32[t] = slots;
    u32[t + 1] = capacity;
    u32[t + 2] = 0;
    u32[t + 3] = firstRow;
    const built = guard(op, () => k.groupIdsHash(bk, buildKeys.length, 0, m, table, ids, hashes));
    if (built !== m) throw new OutOfRangeError(op, 'build table groups', built, m); // cannot happen: sized for m groups
    const groups = ctx.mem.u32[t + 2];
    // Each group's key (its first row's): the probe compares against these, one load from the slot.
    const firstRows = new Column(ctx, tmp, { type: columnType('int32'), length: groups, values: firstRow });
    const gk = writeKeyDescriptors(op, tmp, buildKeys.map((c) => take(c, firstRows, { scope: tmp })));
    // 2. The build rows of each group; with distinct build keys, group g is just firstRow[g].
    const unique = groups === m;
    const bstart = unique ? 0 : tmp.alloc((groups + 1) * 4);
    const brows = unique ? firstRow : tmp.alloc(m * 4);
    if (!unique) guard(op, () => k.joinBuckets(ids, m, groups, bstart, brows));
    // 3. Probe into host-grown pair buffers (a foreign-key join fills exactly n pairs: start there).
    let cap = Math.max(1024, n);
    let outP = tmp.alloc(cap * 4);
    let outB = tmp.alloc(cap * 4);
    let written = 0;
    let row = 0;
    const state = ctx.scratch;
    for (;;) {
      const from = row;
      const w0 = written;
      row = guard(op, () => k.joinProbe(pk, gk, probeKeys.length, from, n, table, bstart, brows, outP, outB, w0, cap, how === 'left' ? 1 : 0, hashes, state));
      written = ctx.mem.i32[state >>> 2];
      if (row >= n) break;
      if (cap >= MAX_PAIRS) throw new OutOfRangeError(op, 'result pairs', cap * 2, MAX_PAIRS);
      cap = Math.min(MAX_PAIRS, cap * 2);
      const p2 = tmp.alloc(cap * 4);
      const b2 = tmp.alloc(cap * 4);
      ctx.mem.u8.copyWithin(p2, outP, outP + written * 4);
      ctx.mem.u8.copyWithin(b2, outB, outB + written * 4);
      outP = p2;
      outB = b2;
    }
    // 4. Exact-size results (the buffers above are freed with tmp).
    const pv = out.alloc(written * 4);
    const bv = out.alloc(written * 4);
    ctx.mem.u8.copyWithin(pv, outP, outP + written * 4);
    ctx.mem.u8.copyWithin(bv, outB, outB + written * 4);
    let validity = 0;
    let nulls = 0;
    if (how === 'left') {
      validity = out.alloc(bitmapBytes(written));
      nulls = guard(op, () => k.joinValidity(bv, written, validity));
    }
    const int32 = columnType('int32');
    return {
      probe: new Column(ctx, out, { type: int32, length: written, values: pv }),
      build: new Column(ctx, out, { type: int32, length: written, values: bv, validity: nulls === 0 ? 0 : validity, nullCount: nulls }),
      length: written,
    };
  } finally {
    tmp.close();
  }
}
