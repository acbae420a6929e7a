// Element-wise arithmetic: add, sub, mul, div (column∘column, column∘scalar, scalar∘column), neg,
// abs, and the fused mulAdd (x·k + y), over every numeric type. Output type = input type.
//
// Semantics (the host, src/kernels/arith.ts, documents the same to users):
//   integers  two's complement, WRAPPING on overflow (i8 127 + 1 = -128, u8 0 - 1 = 255,
//             i64 MAX * 2 = -2), as the wasm instructions do. neg/abs of MIN is MIN. neg of an
//             unsigned value wraps (neg 1u8 = 255); abs of unsigned is the identity.
//             x / 0 → null: the value written is 0 and the row's validity bit is cleared.
//             MIN / -1 → MIN (wraps, where wasm's div_s would trap). Division truncates toward 0.
//   floats    IEEE 754: x / 0 = ±Inf, 0 / 0 = NaN, NaN propagates; never null.
//   nulls     computed like any other row (the value under a null is unspecified); the validity of
//             the result is a separate pass, validityAnd (./validity.ts), run by the host first.
//
// Why no 64-element validity blocks here (unlike aggregate): an element-wise result does not depend
// on which inputs are null, so the value loop ignores validity entirely — a straight SIMD loop is
// the fastest thing — and nulls cost only the n/64-word bitmap AND. Integer division is the
// exception: it has to test every divisor anyway (wasm has no SIMD integer divide, and / 0 traps),
// so it runs a scalar loop that also clears the validity bit of each zero divisor.
//
// Layout of the code: ./ops.ts is the op table (SIMD form + scalar form per op); below are the
// generic drivers (binary, unary, mulAdd, intDiv), then the one dispatch switch per export. Scalars
// arrive as a pointer to 8 bytes of ctx.scratch holding the value as T; a driver loads it once and
// splats it. No v128 crosses the export boundary.

import { ArithOp, ArithShape, DType } from '../shared/codes';
import { lanes, at } from '../util';
import { hasSimd, simdBinary, simdUnary, scalarBinary, scalarUnary } from './ops';
import { clearBit } from './validity';

/**
 * out[i] = a[i] op b[i] for i < n; a (SCALAR_COLUMN) or b (COLUMN_SCALAR) may be a single T.
 * `op` and `shape` are compile-time constants at every call site (see byShape), so the scalar/column
 * choice of each operand folds away.
 *
 * Four vectors (64 bytes) per main-loop iteration: independent loads and ops overlap, and the loop
 * overhead (compare, branch, address adds) is paid once per 64 bytes. Then one vector at a time, then
 * a scalar tail — so every n works, and n < lanes never touches a vector load.
 *
 * JUSTIFICATION for the unchecked loads/stores: the host proved [a, a + n·sizeof<T>),
 * [b, …) and [out, …) lie inside the memory (check.ts assertInMemory), and every address here is
 * below p + n·sizeof<T>. `out` may equal `a` or `b` (in-place): each element is loaded before the
 * same element is stored, and vectors never straddle positions already written. Partial overlap is
 * rejected by the host.
 */
// @ts-ignore: decorator
@inline function binary<T>(op: i32, shape: i32, a: usize, b: usize, out: usize, n: i32): void {
  const aS = shape == ArithShape.SCALAR_COLUMN;
  const bS = shape == ArithShape.COLUMN_SCALAR;
  const sa: T = aS ? load<T>(a) : <T>0;
  const sb: T = bS ? load<T>(b) : <T>0;
  let i = 0;
  if (hasSimd<T>(op)) {
    const va = v128.splat<T>(sa);
    const vb = v128.splat<T>(sb);
    const L = lanes<T>();
    // `i <= n - 4L` rather than `i + 4L <= n`: no i32 overflow when n is near 2^31.
    for (const n4 = n - 4 * L; i <= n4; i += 4 * L) {
      const pa = at<T>(a, i), pb = at<T>(b, i), po = at<T>(out, i);
      const r0 = simdBinary<T>(op, aS ? va : v128.load(pa), bS ? vb : v128.load(pb));
      const r1 = simdBinary<T>(op, aS ? va : v128.load(pa, 16), bS ? vb : v128.load(pb, 16));
      const r2 = simdBinary<T>(op, aS ? va : v128.load(pa, 32), bS ? vb : v128.load(pb, 32));
      const r3 = simdBinary<T>(op, aS ? va : v128.load(pa, 48), bS ? vb : v128.load(pb, 48));
      v128.store(po, r0);
      v128.store(po, r1, 16);
      v128.store(po, r2, 32);
      v128.store(po, r3, 48);
    }
    for (const n1 = n - L; i <= n1; i += L) {
      const r = simdBinary<T>(op, aS ? va : v128.load(at<T>(a, i)), bS ? vb : v128.load(at<T>(b, i)));
      v128.store(at<T>(out, i), r);
    }
  }
  for (; i < n; i++) {
    const x: T = aS ? sa : load<T>(at<T>(a, i));
    const y: T = bS ? sb : load<T>(at<T>(b, i));
    store<T>(at<T>(out, i), scalarBinary<T>(op, x, y));
  }
}

/**
 * Integer division, scalar (wasm has no SIMD integer divide). A zero divisor writes 0 and clears the
 * row's validity bit; returns how many rows went from valid to null, so the host can keep an exact
 * null count without re-counting the bitmap. `validity` is the result bitmap, already holding the
 * AND of the inputs (validityAnd), never 0 — the host always allocates one for integer division.
 *
 * The two branches are almost never taken on real data (a zero or -1 divisor), so they predict
 * well; the divide itself (20-40 cycles for i64) dominates.
 */
// @ts-ignore: decorator
@inline function intDiv<T>(shape: i32, a: usize, b: usize, out: usize, validity: usize, n: i32): i32 {
  assert(validity != 0, 'intDiv needs a validity bitmap');
  const aS = shape == ArithShape.SCALAR_COLUMN;
  const bS = shape == ArithShape.COLUMN_SCALAR;
  const sa: T = aS ? load<T>(a) : <T>0;
  const sb: T = bS ? load<T>(b) : <T>0;
  let nulled = 0;
  for (let i = 0; i < n; i++) {
    const x: T = aS ? sa : load<T>(at<T>(a, i));
    const y: T = bS ? sb : load<T>(at<T>(b, i));
    let r: T = <T>0;
    if (y == <T>0) {
      nulled += clearBit(validity, i);
    } else if (isSigned<T>() && y == <T>-1) {
      // x / -1 = -x, wrapping (MIN / -1 = MIN); i32/i64 div_s would trap on MIN / -1.
      r = <T>0 - x;
    } else {
      r = x / y;
    }
    store<T>(at<T>(out, i), r);
  }
  return nulled;
}

/** out[i] = op a[i] (NEG, ABS). Same loop shape and safety argument as `binary`. */
// @ts-ignore: decorator
@inline function unary<T>(op: i32, a: usize, out: usize, n: i32): void {
  if (op == ArithOp.ABS && !isFloat<T>() && !isSigned<T>()) {
    // abs of unsigned is the identity: a copy (memmove semantics, so out == a is fine too).
    if (out != a) memory.copy(out, a, <usize>n << alignof<T>());
    return;
  }
  const L = lanes<T>();
  let i = 0;
  for (const n4 = n - 4 * L; i <= n4; i += 4 * L) {
    const pa = at<T>(a, i), po = at<T>(out, i);
    const r0 = simdUnary<T>(op, v128.load(pa));
    const r1 = simdUnary<T>(op, v128.load(pa, 16));
    const r2 = simdUnary<T>(op, v128.load(pa, 32));
    const r3 = simdUnary<T>(op, v128.load(pa, 48));
    v128.store(po, r0);
    v128.store(po, r1, 16);
    v128.store(po, r2, 32);
    v128.store(po, r3, 48);
  }
  for (const n1 = n - L; i <= n1; i += L) v128.store(at<T>(out, i), simdUnary<T>(op, v128.load(at<T>(a, i))));
  for (; i < n; i++) store<T>(at<T>(out, i), scalarUnary<T>(op, load<T>(at<T>(a, i))));
}

/**
 * out[i] = x[i] · k + y[i], k a scalar: the `x*2+y` case in one pass over memory instead of two
 * (mul into a temporary, then add), i.e. 3 streams of n·sizeof<T> bytes instead of 6. Not an IEEE
 * fused multiply-add: the product is rounded before the add (two roundings), exactly like
 * `x[i] * k + y[i]` in JS, so results match a JS loop bit for bit. Integers wrap.
 */
// @ts-ignore: decorator
@inline function mulAddT<T>(x: usize, k: usize, y: usize, out: usize, n: i32): void {
  const sk: T = load<T>(k);
  const vk = v128.splat<T>(sk);
  const L = lanes<T>();
  let i = 0;
  for (const n4 = n - 4 * L; i <= n4; i += 4 * L) {
    const px = at<T>(x, i), py = at<T>(y, i), po = at<T>(out, i);
    const r0 = simdBinary<T>(ArithOp.ADD, simdBinary<T>(ArithOp.MUL, v128.load(px), vk), v128.load(py));
    const r1 = simdBinary<T>(ArithOp.ADD, simdBinary<T>(ArithOp.MUL, v128.load(px, 16), vk), v128.load(py, 16));
    const r2 = simdBinary<T>(ArithOp.ADD, simdBinary<T>(ArithOp.MUL, v128.load(px, 32), vk), v128.load(py, 32));
    const r3 = simdBinary<T>(ArithOp.ADD, simdBinary<T>(ArithOp.MUL, v128.load(px, 48), vk), v128.load(py, 48));
    v128.store(po, r0);
    v128.store(po, r1, 16);
    v128.store(po, r2, 32);
    v128.store(po, r3, 48);
  }
  for (const n1 = n - L; i <= n1; i += L) {
    const r = simdBinary<T>(ArithOp.ADD, simdBinary<T>(ArithOp.MUL, v128.load(at<T>(x, i)), vk), v128.load(at<T>(y, i)));
    v128.store(at<T>(out, i), r);
  }
  for (; i < n; i++) {
    const p = scalarBinary<T>(ArithOp.MUL, load<T>(at<T>(x, i)), sk);
    store<T>(at<T>(out, i), scalarBinary<T>(ArithOp.ADD, p, load<T>(at<T>(y, i))));
  }
}

/** One binary op over the three operand shapes; `op` is a constant, `shape` becomes one. */
// @ts-ignore: decorator
@inline function byShape<T>(op: i32, shape: i32, a: usize, b: usize, out: usize, n: i32): i32 {
  switch (shape) {
    case ArithShape.COLUMN_COLUMN: binary<T>(op, ArithShape.COLUMN_COLUMN, a, b, out, n); return 0;
    case ArithShape.COLUMN_SCALAR: binary<T>(op, ArithShape.COLUMN_SCALAR, a, b, out, n); return 0;
    case ArithShape.SCALAR_COLUMN: binary<T>(op, ArithShape.SCALAR_COLUMN, a, b, out, n); return 0;
    default: return -1;
  }
}

function dispatch<T>(op: i32, shape: i32, a: usize, b: usize, out: usize, validity: usize, n: i32): i32 {
  switch (op) {
    case ArithOp.ADD: return byShape<T>(ArithOp.ADD, shape, a, b, out, n);
    case ArithOp.SUB: return byShape<T>(ArithOp.SUB, shape, a, b, out, n);
    case ArithOp.MUL: return byShape<T>(ArithOp.MUL, shape, a, b, out, n);
    case ArithOp.DIV: {
      if (isFloat<T>()) return byShape<T>(ArithOp.DIV, shape, a, b, out, n);
      switch (shape) {
        case ArithShape.COLUMN_COLUMN: return intDiv<T>(ArithShape.COLUMN_COLUMN, a, b, out, validity, n);
        case ArithShape.COLUMN_SCALAR: return intDiv<T>(ArithShape.COLUMN_SCALAR, a, b, out, validity, n);
        case ArithShape.SCALAR_COLUMN: return intDiv<T>(ArithShape.SCALAR_COLUMN, a, b, out, validity, n);
        default: return -1;
      }
    }
    case ArithOp.NEG: unary<T>(ArithOp.NEG, a, out, n); return 0;
    case ArithOp.ABS: unary<T>(ArithOp.ABS, a, out, n); return 0;
    default: return -1;
  }
}

/**
 * arith(op, dtype, shape, a, b, out, validity, n) → rows nulled by the op (integer DIV by zero;
 * 0 for every other op), or −1 if op/type/shape is not supported (the host validates first: −1 is a
 * last line of defence).
 *   a, b      value buffers, or (per `shape`) a pointer to one scalar of the type; b is ignored by
 *             NEG and ABS
 *   out       n values of the type; may be a or b itself
 *   validity  the result bitmap, already a AND b (validityAnd); only integer DIV uses it (and then
 *             it must not be 0)
 */
export function arith(op: i32, dtype: i32, shape: i32, a: usize, b: usize, out: usize, validity: usize, n: i32): i32 {
  switch (dtype) {
    case DType.I8: return dispatch<i8>(op, shape, a, b, out, validity, n);
    case DType.I16: return dispatch<i16>(op, shape, a, b, out, validity, n);
    case DType.I32: return dispatch<i32>(op, shape, a, b, out, validity, n);
    case DType.I64: return dispatch<i64>(op, shape, a, b, out, validity, n);
    case DType.U8: return dispatch<u8>(op, shape, a, b, out, validity, n);
    case DType.U16: return dispatch<u16>(op, shape, a, b, out, validity, n);
    case DType.U32: return dispatch<u32>(op, shape, a, b, out, validity, n);
    case DType.U64: return dispatch<u64>(op, shape, a, b, out, validity, n);
    case DType.F32: return dispatch<f32>(op, shape, a, b, out, validity, n);
    case DType.F64: return dispatch<f64>(op, shape, a, b, out, validity, n);
    default: return -1;
  }
}

/**
 * mulAdd(dtype, x, k, y, out, n) → 0, or −1 for an unsupported type. out[i] = x[i]·k + y[i] with k
 * one scalar of the type at address `k` (ctx.scratch). Validity is the host's validityAnd(x, y).
 */
export function mulAdd(dtype: i32, x: usize, k: usize, y: usize, out: usize, n: i32): i32 {
  switch (dtype) {
    case DType.I8: mulAddT<i8>(x, k, y, out, n); return 0;
    case DType.I16: mulAddT<i16>(x, k, y, out, n); return 0;
    case DType.I32: mulAddT<i32>(x, k, y, out, n); return 0;
    case DType.I64: mulAddT<i64>(x, k, y, out, n); return 0;
    case DType.U8: mulAddT<u8>(x, k, y, out, n); return 0;
    case DType.U16: mulAddT<u16>(x, k, y, out, n); return 0;
    case DType.U32: mulAddT<u32>(x, k, y, out, n); return 0;
    case DType.U64: mulAddT<u64>(x, k, y, out, n); return 0;
    case DType.F32: mulAddT<f32>(x, k, y, out, n); return 0;
    case DType.F64: mulAddT<f64>(x, k, y, out, n); return 0;
    default: return -1;
  }
}

export { validityAnd } from './validity';
