/** Random column data for kernel tests: every numeric type, with nulls and special values. */
import { columnType, type TypeName } from '../../src/column.js';
import type { NumericArray } from '../../src/column-alloc.js';

export const NUMERIC_TYPES = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64'] as const;
export type NumericName = (typeof NUMERIC_TYPES)[number];

const CTORS = {
  int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,
  float32: Float32Array, float64: Float64Array,
} as const;

export const typeOf = (name: NumericName) => columnType(name as Exclude<TypeName, 'dictionary' | 'timestamp'>);

const BITS: Record<NumericName, number> = {
  int8: 8, int16: 16, int32: 32, int64: 64, uint8: 8, uint16: 16, uint32: 32, uint64: 64, float32: 32, float64: 64,
};

/**
 * n random values of the type. Integers cover the whole range (so sums overflow narrow types and
 * wrap 64-bit ones); floats mix magnitudes and, when `special`, NaN, ±0 and ±Infinity.
 */
export function randomArray(name: NumericName, n: number, r: () => number, special = true): NumericArray {
  const arr = new CTORS[name](n);
  for (let i = 0; i < n; i++) {
    if (name === 'float32' || name === 'float64') {
      const k = r();
      let v: number;
      if (special && k < 0.03) v = [NaN, 0, -0, Infinity, -Infinity][Math.floor(r() * 5)];
      else v = (r() - 0.5) * 10 ** Math.floor(r() * 6 - 2);
      (arr as Float64Array)[i] = v;
    } else if (BITS[name] === 64) {
      const hi = BigInt(Math.floor(r() * 2 ** 32));
      const lo = BigInt(Math.floor(r() * 2 ** 32));
      (arr as BigInt64Array)[i] = (hi << 32n) | lo; // wraps into range for both signed and unsigned
    } else {
      (arr as Int32Array)[i] = Math.floor(r() * 2 ** 32); // truncated to the element width by the array
    }
  }
  return arr;
}

export function randomValidity(n: number, r: () => number, nullRate: number): boolean[] {
  return Array.from({ length: n }, () => r() >= nullRate);
}
