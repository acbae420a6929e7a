// The arithmetic op table: for each op, a SIMD form (one v128 of lanes of T) and a scalar form (one
// T). Everything is @inline with `op` a compile-time constant at every call site, so binaryen folds
// the `if (op == …)` chains and the sizeof/isFloat/isSigned branches: each (op, T) instantiation of
// a driver in ./index.ts contains exactly one instruction sequence, no runtime op test.
//
// Integer semantics are those of two's complement with wrap-around (what the wasm instructions do):
// the host documents them. The one integer op wasm cannot do wrapping by itself is division
// (div_s traps on MIN / -1, both traps on / 0); it never goes through this table's SIMD form and
// its scalar form lives in ./index.ts (intDiv) where the validity bitmap is at hand.

import { ArithOp } from '../shared/codes';

/** Is there a SIMD form of `op` for lanes of T? Integer division is the only gap (wasm has none). */
// @ts-ignore: decorator
@inline export function hasSimd<T>(op: i32): bool {
  return op != ArithOp.DIV || isFloat<T>();
}

/**
 * i8x16 multiply, which wasm lacks. The low byte of a 16-bit product depends only on the low bytes
 * of the factors, so i16x8.mul gives the even bytes' products (mod 2^8) in the low halves; the odd
 * bytes are shifted down, multiplied the same way, and shifted back. Exact modulo 2^8 for signed and
 * unsigned lanes alike (the wrapping product does not depend on the sign interpretation).
 */
// @ts-ignore: decorator
@inline function mulI8x16(a: v128, b: v128): v128 {
  const even = v128.and(i16x8.mul(a, b), i16x8.splat(0x00ff));
  const odd = i16x8.shl(i16x8.mul(i16x8.shr_u(a, 8), i16x8.shr_u(b, 8)), 8);
  return v128.or(even, odd);
}

/** a op b, lane-wise. Only called when hasSimd<T>(op). */
// @ts-ignore: decorator
@inline export function simdBinary<T>(op: i32, a: v128, b: v128): v128 {
  if (op == ArithOp.ADD) return v128.add<T>(a, b);
  if (op == ArithOp.SUB) return v128.sub<T>(a, b);
  if (op == ArithOp.MUL) {
    if (isFloat<T>()) return v128.mul<T>(a, b);
    if (sizeof<T>() == 1) return mulI8x16(a, b);
    if (sizeof<T>() == 2) return i16x8.mul(a, b);
    if (sizeof<T>() == 4) return i32x4.mul(a, b);
    return i64x2.mul(a, b);
  }
  // DIV: floats only (hasSimd); IEEE, so x/0 is ±Inf or NaN, never a trap. The isFloat test is
  // resolved by asc itself (so v128.div is never instantiated for integer lanes).
  if (isFloat<T>()) return v128.div<T>(a, b);
  return unreachable();
}

/** op a, lane-wise (NEG, ABS). */
// @ts-ignore: decorator
@inline export function simdUnary<T>(op: i32, a: v128): v128 {
  if (op == ArithOp.NEG) {
    // Floats: flips the sign bit (NaN stays NaN, 0 → -0). Ints: 0 - a, so MIN stays MIN and
    // unsigned lanes wrap (neg 1 = MAX).
    if (isFloat<T>()) return v128.neg<T>(a);
    if (sizeof<T>() == 1) return i8x16.neg(a);
    if (sizeof<T>() == 2) return i16x8.neg(a);
    if (sizeof<T>() == 4) return i32x4.neg(a);
    return i64x2.neg(a);
  }
  // ABS: floats clear the sign bit; unsigned is the identity; signed MIN stays MIN (wraps).
  if (isFloat<T>()) return v128.abs<T>(a);
  if (!isSigned<T>()) return a;
  if (sizeof<T>() == 1) return i8x16.abs(a);
  if (sizeof<T>() == 2) return i16x8.abs(a);
  if (sizeof<T>() == 4) return i32x4.abs(a);
  return i64x2.abs(a);
}

/**
 * a op b for one element: the tails of the SIMD loops. Must agree bit for bit with simdBinary, which
 * it does because both are the same wasm arithmetic (AS computes i8/i16 in i32 and the store
 * truncates, which is the same wrap-around). Integer DIV is not here (see intDiv).
 */
// @ts-ignore: decorator
@inline export function scalarBinary<T>(op: i32, a: T, b: T): T {
  if (op == ArithOp.ADD) return a + b;
  if (op == ArithOp.SUB) return a - b;
  if (op == ArithOp.MUL) return a * b;
  return a / b;
}

// @ts-ignore: decorator
@inline export function scalarUnary<T>(op: i32, a: T): T {
  if (op == ArithOp.NEG) {
    if (isFloat<T>()) return -a;
    return <T>0 - a;
  }
  if (isFloat<T>()) {
    // f32.abs / f64.abs only clear the sign bit (NaN payloads kept), exactly like the SIMD form.
    if (sizeof<T>() == 4) return <T>Mathf.abs(<f32>a);
    return <T>Math.abs(<f64>a);
  }
  if (!isSigned<T>()) return a;
  return a < <T>0 ? <T>0 - a : a;
}
