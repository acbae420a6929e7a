/**
 * Bounds checks on Arrow IPC metadata before apache-arrow decodes it.
 *
 * apache-arrow reads flatbuffers without a verifier: a corrupted vector length (a schema's fields, a
 * field's children, a batch's nodes/buffers) makes it loop up to 2^32 times building objects, and the
 * process dies out of heap (found by the fuzz test). This walks the same tables first and checks that
 * every vector, string and table it reaches lies inside its buffer, with a budget on the number of
 * tables visited (shared sub-tables could otherwise make the walk exponential).
 *
 * Only structure is checked — not that the values make sense; the reader and importer check those.
 *
 *   Message  { version: short, header_type: ubyte, header: table, bodyLength: long, custom_metadata: [KeyValue] }
 *   Footer   { version: short, schema: Schema, dictionaries: [Block], recordBatches: [Block], custom_metadata }
 *   Schema   { endianness, fields: [Field], custom_metadata: [KeyValue], features: [long] }
 *   Field    { name: string, nullable, type_type: ubyte, type: table, dictionary: DictionaryEncoding,
 *              children: [Field], custom_metadata: [KeyValue] }
 *   RecordBatch { length: long, nodes: [FieldNode 16 B], buffers: [Buffer 16 B], compression: table, variadicBufferCounts: [long] }
 *   DictionaryBatch { id: long, data: RecordBatch, isDelta: bool }
 */

class Bad extends Error {}

const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY = 2;
const HEADER_RECORD_BATCH = 3;
const TYPE_UNION = 14;
const MAX_DEPTH = 64;

class Walker {
  readonly #dv: DataView;
  readonly #end: number;
  #budget: number;

  constructor(readonly bytes: Uint8Array) {
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#end = bytes.byteLength;
    this.#budget = Math.max(64, bytes.byteLength >>> 2);
  }

  #check(p: number, n: number): void {
    if (p < 0 || n < 0 || p + n > this.#end) throw new Bad(`offset ${p}+${n} outside the ${this.#end}-byte metadata`);
  }

  u32(p: number): number {
    this.#check(p, 4);
    return this.#dv.getUint32(p, true);
  }

  u16(p: number): number {
    this.#check(p, 2);
    return this.#dv.getUint16(p, true);
  }

  u8(p: number): number {
    this.#check(p, 1);
    return this.#dv.getUint8(p);
  }

  /** A table at p: returns the position of field k (0 when absent). */
  table(p: number): (k: number) => number {
    if (--this.#budget < 0) throw new Bad('too many tables');
    this.#check(p, 4);
    const vt = p - this.#dv.getInt32(p, true);
    const vtSize = this.u16(vt);
    const tableSize = this.u16(vt + 2);
    if (vtSize < 4 || vtSize % 2 !== 0) throw new Bad(`bad vtable size ${vtSize}`);
    this.#check(vt, vtSize);
    this.#check(p, tableSize);
    return (k: number) => {
      const o = 4 + 2 * k;
      if (o >= vtSize) return 0;
      const off = this.#dv.getUint16(vt + o, true);
      if (off !== 0 && off >= tableSize) throw new Bad(`field ${k} outside its table`);
      return off === 0 ? 0 : p + off;
    };
  }

  /** The target of the offset stored at p. */
  ref(p: number): number {
    const t = p + this.u32(p);
    this.#check(t, 4);
    return t;
  }

  /** A vector referenced at p: [start, length], checked to fit with `elem` bytes per element. */
  vector(p: number, elem: number): [number, number] {
    const v = this.ref(p);
    const n = this.u32(v);
    this.#check(v + 4, n * elem);
    if (--this.#budget < 0) throw new Bad('too many vectors');
    return [v + 4, n];
  }

  /** Each table of a vector of tables referenced at p. */
  tables(p: number, each: (field: (k: number) => number) => void): void {
    if (!p) return;
    const [start, n] = this.vector(p, 4);
    for (let i = 0; i < n; i++) each(this.table(this.ref(start + 4 * i)));
  }

  keyValues(p: number): void {
    this.tables(p, (kv) => {
      if (kv(0)) this.vector(kv(0), 1);
      if (kv(1)) this.vector(kv(1), 1);
    });
  }

  field(f: (k: number) => number, depth: number): void {
    if (depth > MAX_DEPTH) throw new Bad('fields nested too deep');
    if (f(0)) this.vector(f(0), 1);
    const typeType = f(2) ? this.u8(f(2)) : 0;
    if (f(3)) {
      const t = this.table(this.ref(f(3)));
      if (typeType === TYPE_UNION && t(1)) this.vector(t(1), 4);
    }
    if (f(4)) {
      const d = this.table(this.ref(f(4)));
      if (d(1)) this.table(this.ref(d(1)));
    }
    this.tables(f(5), (c) => this.field(c, depth + 1));
    this.keyValues(f(6));
  }

  schema(s: (k: number) => number): void {
    this.tables(s(1), (f) => this.field(f, 0));
    this.keyValues(s(2));
    if (s(3)) this.vector(s(3), 8);
  }

  recordBatch(r: (k: number) => number): void {
    if (r(1)) this.vector(r(1), 16);
    if (r(2)) this.vector(r(2), 16);
    if (r(3)) this.table(this.ref(r(3)));
    if (r(4)) this.vector(r(4), 8);
  }

  message(): number {
    const m = this.table(this.ref(0));
    const type = m(1) ? this.u8(m(1)) : 0;
    if (m(2)) {
      const h = this.table(this.ref(m(2)));
      if (type === HEADER_SCHEMA) this.schema(h);
      else if (type === HEADER_RECORD_BATCH) this.recordBatch(h);
      else if (type === HEADER_DICTIONARY && h(1)) this.recordBatch(this.table(this.ref(h(1))));
    }
    this.keyValues(m(4));
    return type;
  }

  footer(): Array<[number, number]> {
    const f = this.table(this.ref(0));
    if (f(1)) this.schema(this.table(this.ref(f(1))));
    const blocks: Array<[number, number]> = [];
    for (const k of [2, 3]) {
      if (!f(k)) continue;
      const [start, n] = this.vector(f(k), 24);
      // Block { offset: long, metaDataLength: int, (pad), bodyLength: long }
      for (let i = 0; i < n; i++) blocks.push([Number(new DataView(this.bytes.buffer, this.bytes.byteOffset).getBigInt64(start + 24 * i, true)), this.u32(start + 24 * i + 8)]);
    }
    this.keyValues(f(4));
    return blocks;
  }
}

/** Checks one message's flatbuffer metadata; returns its header type. Throws an Error with the reason. */
function verifyMessage(meta: Uint8Array): number {
  try {
    return new Walker(meta).message();
  } catch (e) {
    if (e instanceof Bad) throw new Error(`corrupt message metadata: ${e.message}`);
    throw e;
  }
}

/**
 * Walks an IPC stream's messages (continuation, length, metadata, body) from `pos`, checking each
 * metadata flatbuffer; stops at the end marker or the end of the bytes. `limit` bounds the walk.
 */
function verifyStream(bytes: Uint8Array, pos: number, limit: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (pos + 4 <= limit) {
    let len = dv.getInt32(pos, true);
    pos += 4;
    if (len === -1) {
      if (pos + 4 > limit) return;
      len = dv.getInt32(pos, true);
      pos += 4;
    }
    if (len === 0) return; // end of stream
    if (len < 0 || pos + len > limit) return; // apache-arrow reports the short read itself
    verifyMessage(bytes.subarray(pos, pos + len));
    const m = new Walker(bytes.subarray(pos, pos + len));
    const t = m.table(m.ref(0));
    // bodyLength (field 3, a long) — read only when it lies inside the metadata.
    const body = t(3) && t(3) + 8 <= len ? Number(new DataView(bytes.buffer, bytes.byteOffset + pos, len).getBigInt64(t(3), true)) : 0;
    pos += len;
    if (!Number.isFinite(body) || body < 0 || pos + body > limit) return; // short body: the reader says so
    pos += body;
  }
}

/**
 * Checks the metadata of an IPC file (footer + the messages its blocks point at) or stream held in
 * memory. Throws an Error describing the first structural problem; the caller names the file.
 */
export function verifyIpc(bytes: Uint8Array): void {
  const magic = bytes.length >= 6 && Buffer.from(bytes.buffer, bytes.byteOffset, 6).toString('latin1') === 'ARROW1';
  if (!magic) {
    verifyStream(bytes, 0, bytes.length);
    return;
  }
  const n = bytes.length;
  if (n < 16) return; // too short: apache-arrow rejects it
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
  const footerLen = dv.getInt32(n - 10, true);
  const footerAt = n - 10 - footerLen;
  if (footerLen <= 0 || footerAt < 8) throw new Error(`footer length ${footerLen} does not fit the file`);
  let blocks: Array<[number, number]>;
  try {
    blocks = new Walker(bytes.subarray(footerAt, n - 10)).footer();
  } catch (e) {
    if (e instanceof Bad) throw new Error(`corrupt footer: ${e.message}`);
    throw e;
  }
  for (const [offset, metaLen] of blocks) {
    if (!Number.isSafeInteger(offset) || offset < 8 || offset + metaLen > footerAt) throw new Error(`a footer block points outside the file (offset ${offset})`);
    // A block's metadata: optional continuation, int32 length, flatbuffer.
    let p = offset;
    let len = dv.getInt32(p, true);
    p += 4;
    if (len === -1) {
      len = dv.getInt32(p, true);
      p += 4;
    }
    if (len <= 0 || p + len > footerAt) throw new Error(`a footer block's message (offset ${offset}) has length ${len}`);
    verifyMessage(bytes.subarray(p, p + len));
  }
  // The stream part (schema first, if the writer put one there) — messages the footer does not list.
  verifyStream(bytes, 8, footerAt);
}

/** verifyStream for a stream file on disk: reads only the metadata of each message, seeks over bodies. */
export async function verifyIpcStreamFile(path: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(8);
    let pos = 0;
    while (pos + 4 <= size) {
      await fh.read(head, 0, 8, pos);
      let len = head.readInt32LE(0);
      pos += 4;
      if (len === -1) {
        if (pos + 4 > size) return;
        len = head.readInt32LE(4);
        pos += 4;
      }
      if (len === 0 || len < 0 || pos + len > size) return;
      const meta = Buffer.alloc(len);
      await fh.read(meta, 0, len, pos);
      verifyMessage(meta);
      const m = new Walker(meta);
      const t = m.table(m.ref(0));
      const body = t(3) && t(3) + 8 <= len ? Number(meta.readBigInt64LE(t(3))) : 0;
      pos += len;
      if (!Number.isFinite(body) || body < 0 || pos + body > size) return;
      pos += body;
    }
  } finally {
    await fh.close();
  }
}
