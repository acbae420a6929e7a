/**
 * The Parquet page-decoding kernels (assembly/parquet) from the host's side. Free of engine imports,
 * so a decode worker holds just these exports over its own kernel instance.
 *
 * Every pointer is a byte address in the kernel's memory; the host allocates every buffer. Results
 * are i32: ≥ 0 success (its meaning per kernel below), negative an error code (PqError). A kernel
 * never reads or writes outside the ranges it was given, whatever the input bytes — corrupt pages
 * give an error code, never a trap. After an error the outputs are unspecified (partly written).
 * Byte-array kernels may leave scratch bytes in [data + last offset, data + dataCap). Source and
 * destination buffers must not overlap. The contracts in full: assembly/parquet/README.md.
 */

/** Negative results of the pq* kernels. */
export const PqError = {
  /** Truncated or malformed input (snappy tags, RLE runs, byte-array lengths), or an index ≥ the dictionary length. */
  MALFORMED: -1,
  /** The output would pass its capacity (snappy: preamble length > dstCap; byte arrays: past dataCap). */
  CAPACITY: -2,
  /** A width / bit width the kernel does not take. */
  BAD_WIDTH: -3,
} as const;

/** The raw exports (a subset of KernelExports, so a worker can hold just these). */
export interface ParquetKernel {
  /**
   * Decompresses one raw snappy block src[0, srcLen) into dst[0, dstCap). Returns the bytes written
   * (= the varint preamble), −1 malformed/truncated (a copy with offset 0 or reaching before dst
   * included), −2 the preamble exceeds dstCap.
   */
  pqSnappy(src: number, srcLen: number, dst: number, dstCap: number): number;
  /**
   * Parquet RLE/bit-packed hybrid (no length prefix: the caller strips the v1 4-byte length): decodes
   * exactly `count` values of bitWidth (0..32) bits into out (u32 each). Returns bytes of src
   * consumed, −1 src ends before `count` values, −3 bitWidth > 32.
   */
  pqRle(src: number, srcLen: number, bitWidth: number, out: number, count: number): number;
  /** out[i] = dict[idx[i]] (width ∈ {1, 2, 4, 8, 16} bytes). 0 ok, −1 some idx[i] ≥ dictLen (unsigned), −3 bad width. */
  pqGather(width: number, idx: number, n: number, dict: number, dictLen: number, out: number): number;
  /**
   * PLAIN BYTE_ARRAY: n values of (u32 LE length, bytes). offsets[0] (at `offsets`) is already
   * written; writes offsets[1..n] and the bytes at data + offsets[i]. Returns bytes of src consumed,
   * −1 truncated, −2 past data + dataCap.
   */
  pqByteArrayPlain(src: number, srcLen: number, n: number, offsets: number, data: number, dataCap: number): number;
  /**
   * Strings from a dictionary (dictLen values: int32 dictOffsets[0..dictLen] over dictData, as
   * pqByteArrayPlain wrote them), same offsets/data convention as pqByteArrayPlain. 0 ok, −1 bad
   * index, −2 past dataCap.
   */
  pqByteArrayDict(idx: number, n: number, dictOffsets: number, dictData: number, dictLen: number, offsets: number, data: number, dataCap: number): number;
  /**
   * Validity bits [bitOffset, bitOffset + n) = (levels[i] == maxDef) (levels: i32 × n); bits below
   * bitOffset in the first byte kept, bits after the last one in its byte zeroed (writes only bytes
   * [bitOffset >> 3, ceil((bitOffset + n) / 8))). Returns the non-null count.
   */
  pqDefLevels(levels: number, n: number, maxDef: number, validity: number, bitOffset: number): number;
  /**
   * Rows i < n: out[i] = next dense value if validity bit (bitOffset + i) is set, else zero bytes.
   * width ∈ {1, 2, 4, 8, 16}. Returns dense values consumed, −3 bad width.
   */
  pqSpread(width: number, dense: number, validity: number, bitOffset: number, n: number, out: number): number;
  /**
   * The same for utf8 offsets: dense = int32 offsets of the non-null values (dense[0] == out[0]
   * already); writes out[1..n], a null row repeats the previous offset. Returns dense values consumed.
   */
  pqSpreadOffsets(validity: number, bitOffset: number, n: number, dense: number, out: number): number;
  /** Sign-extends n int32 / int64 (srcWidth 4 / 8) to 16-byte little-endian decimal128. 0 ok, −3 bad width. */
  pqWiden(srcWidth: number, src: number, n: number, dst: number): number;
  /**
   * Copies n bits from src bit srcBit to dst bit dstBit (LSB first), keeping dst bits below dstBit in
   * the first byte, bits after the last one in its byte zeroed (like pqDefLevels). Returns 0.
   */
  pqBits(src: number, srcBit: number, n: number, dst: number, dstBit: number): number;
}
