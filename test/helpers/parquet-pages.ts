// Where the pages of a Parquet file are, as hyparquet reads their headers: for tests that check a file
// has the shape they mean it to have, and for mutations aimed at pages (the IO tests and
// scripts/fuzz-parquet.ts).
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';

/** One page: its type and encoding, where its header starts, where its payload starts and ends. */
export interface PageAt { type: string; encoding: string; header: number; data: number; end: number }

/** Every page of every column chunk of a file, by chunk (row group by row group, column by column). */
export function pagesOf(bytes: Uint8Array): PageAt[][] {
  const md = parquetMetadata(bytes.slice().buffer);
  const out: PageAt[][] = [];
  for (const rg of md.row_groups) {
    for (const c of rg.columns) {
      const m = c.meta_data!;
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      const end = start + Number(m.total_compressed_size);
      const reader = { view: new DataView(bytes.buffer, bytes.byteOffset), offset: start };
      const pages: PageAt[] = [];
      while (reader.offset < end) {
        const header = reader.offset;
        const h = parquetHeader(reader);
        const d = h.data_page_header ?? h.data_page_header_v2 ?? h.dictionary_page_header!;
        pages.push({ type: h.type, encoding: d.encoding, header, data: reader.offset, end: reader.offset + h.compressed_page_size });
        reader.offset += h.compressed_page_size;
      }
      out.push(pages);
    }
  }
  return out;
}
