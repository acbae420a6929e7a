// Parquet page decoding (the reader in src/engine/io walks pages and calls these on page bytes in a
// worker's own kernel instance). Contracts and error codes: README.md beside this file.
//
//   snappy.ts   pqSnappy                              raw snappy block → page bytes
//   rle.ts      pqRle                                 RLE / bit-packed hybrid → u32 values
//   fixed.ts    pqGather pqSpread pqWiden             dictionary gather, nulls in, decimal widen
//   strings.ts  pqByteArrayPlain pqByteArrayDict      BYTE_ARRAY → Arrow offsets + bytes
//               pqSpreadOffsets
//   levels.ts   pqDefLevels pqBits                    validity bitmaps, booleans
//   bits.ts     (helpers)                             bounded bit reads, the bitmap writer

export { pqSnappy } from './snappy';
export { pqRle } from './rle';
export { pqGather, pqSpread, pqWiden } from './fixed';
export { pqByteArrayPlain, pqByteArrayDict, pqSpreadOffsets } from './strings';
export { pqDefLevels, pqBits } from './levels';
