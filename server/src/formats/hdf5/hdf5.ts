/**
 * HDF5 metadata without dataset data (HDF5 File Format Specification, version 3): the superblock
 * (versions 0–3), object headers (versions 1 and 2, with continuation blocks), groups stored either the
 * old way (a symbol table: a v1 B-tree of symbol table nodes naming entries in a local heap) or the new
 * way (link messages in the header). Datasets become tensors keyed by their path without the leading
 * `/` (what h5py's `visititems` names them); a contiguous dataset's bytes are its location.
 *
 * Not read: dense link storage (a fractal heap, used for groups of many links under `libver='latest'`)
 * and chunked/compressed data (listed, with no location). Hard links may form cycles and share objects:
 * each object header is visited once. Chosen over jsfive and h5wasm: both need the whole file in memory.
 */
import { unreadable } from '../readerError';
import type { TensorInfo } from '../tensorInfo';
import { MessageReader, type Sizes, parseDataspace, parseDatatype, parseLayout, parseLink } from './hdf5Messages';

/** Where the HDF5 bytes are: a file, or a stored member of a zip (a `.keras`). */
export interface Hdf5Bytes {
  name: string;
  /** Absolute path of the file the bytes are in, and where the HDF5 image starts there. */
  file: string;
  start: number;
  size: number;
  read(offset: number, length: number, what: string): Promise<Buffer>;
}

const SIGNATURE = Buffer.from('\x89HDF\r\n\x1a\n', 'latin1');
const MAX_DEPTH = 64;
const MAX_OBJECTS = 1_000_000;
const MAX_HEADER_BYTES = 1 << 20;

interface Walk {
  bytes: Hdf5Bytes;
  sizes: Sizes;
  base: number;
  visited: Set<number>;
  tensors: TensorInfo[];
  notes: Set<string>;
  objects: number;
}

export async function readHdf5(bytes: Hdf5Bytes): Promise<{ tensors: TensorInfo[]; notes: string[] }> {
  const fail = (why: string, at?: number) => unreadable(bytes.name, why, at);
  // The superblock may sit at 0, 512, 1024, … (a user block before it); h5py writes it at 0.
  let at = -1;
  for (let o = 0; o < bytes.size && o <= 1 << 20; o = o === 0 ? 512 : o * 2) {
    if ((await bytes.read(o, Math.min(8, bytes.size - o), 'the HDF5 signature')).equals(SIGNATURE)) { at = o; break; }
  }
  if (at < 0) throw fail('no HDF5 signature: not an HDF5 file');
  const sb = await bytes.read(at, Math.min(bytes.size - at, 128), 'the superblock');
  const version = sb[8];
  let sizes: Sizes, base: number, root: number;
  if (version <= 1) {
    sizes = { offset: sb[13], length: sb[14] };
    checkSizes(sizes, fail);
    const m = new MessageReader(sb, sizes, (w) => fail(`superblock: ${w}`, at));
    m.pos = version === 0 ? 24 : 28;
    base = m.addr();
    m.addr(); m.addr(); m.addr(); // free space, end of file, driver info
    m.addr(); // the root's link name offset
    root = m.addr();
  } else if (version <= 3) {
    sizes = { offset: sb[9], length: sb[10] };
    checkSizes(sizes, fail);
    const m = new MessageReader(sb, sizes, (w) => fail(`superblock: ${w}`, at));
    m.pos = 12;
    base = m.addr();
    m.addr(); m.addr(); // superblock extension, end of file
    root = m.addr();
  } else throw fail(`superblock version ${version} (this reader knows 0–3)`, at + 8);
  // Addresses are relative to the base address, the superblock's own position unless it says otherwise.
  const w: Walk = { bytes, sizes, base: base >= 0 ? base : at, visited: new Set(), tensors: [], notes: new Set(), objects: 0 };
  await walkObject(w, root, '', 0);
  return { tensors: w.tensors, notes: [...w.notes] };
}

function checkSizes(s: Sizes, fail: (why: string) => Error): void {
  if (![2, 4, 8].includes(s.offset) || ![2, 4, 8].includes(s.length)) throw fail(`offsets of ${s.offset} and lengths of ${s.length} bytes (HDF5 uses 2, 4 or 8)`);
}

async function read(w: Walk, address: number, length: number, what: string): Promise<Buffer> {
  const at = w.base + address;
  if (address < 0 || length < 0 || at + length > w.bytes.size) throw unreadable(w.bytes.name, `${what} (${length} bytes at address ${address}) lies outside the file: truncated or corrupt`);
  return w.bytes.read(at, length, what);
}

interface Message { type: number; body: Buffer }

/** Every message of the object header at `address`, following continuation blocks (visited once each). */
async function headerMessages(w: Walk, address: number): Promise<Message[]> {
  const first = await read(w, address, Math.max(0, Math.min(16, w.bytes.size - w.base - address)), 'an object header');
  const out: Message[] = [];
  const blocks: { address: number; length: number }[] = [];
  let total = 0;
  const fail = (why: string) => unreadable(w.bytes.name, `the object header at address ${address}: ${why}`);
  if (first.subarray(0, 4).toString('latin1') === 'OHDR') {
    const head = await read(w, address, 4 + 1 + 1 + 16 + 4 + 8, 'an object header');
    if (head[4] !== 2) throw fail(`version ${head[4]}`);
    const flags = head[5];
    let pos = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
    const sizeBytes = 1 << (flags & 0x03);
    const m = new MessageReader(head, w.sizes, fail);
    m.pos = pos;
    const chunk0 = m.uint(sizeBytes);
    pos += sizeBytes;
    blocks.push({ address: address + pos, length: chunk0 });
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i];
      total += b.length;
      if (total > MAX_HEADER_BYTES || i > 1000) throw fail('more than 1 MiB of header messages');
      const buf = await read(w, b.address, b.length, 'object header messages');
      // Chunk 0's size counts its messages only; a continuation block's length spans its `OCHK` and checksum.
      let p = i === 0 ? 0 : 4;
      const end = i === 0 ? buf.length : buf.length - 4;
      while (p + 4 <= end) {
        const type = buf[p];
        const size = buf.readUInt16LE(p + 1);
        p += 4 + (flags & 0x04 ? 2 : 0);
        if (p + size > end) throw fail('a message runs past its block');
        collect(w, out, blocks, type, buf.subarray(p, p + size), fail);
        p += size;
      }
    }
    return out;
  }
  if (first.length < 16) throw fail('it runs past the end of the file');
  if (first[0] !== 1) throw fail(`version ${first[0]} (not 1, and no OHDR signature)`);
  const size = first.readUInt32LE(8);
  blocks.push({ address: address + 16, length: size });
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    total += b.length;
    if (total > MAX_HEADER_BYTES || i > 1000) throw fail('more than 1 MiB of header messages');
    const buf = await read(w, b.address, b.length, 'object header messages');
    let p = 0;
    while (p + 8 <= buf.length) {
      const type = buf.readUInt16LE(p);
      const msize = buf.readUInt16LE(p + 2);
      p += 8;
      if (p + msize > buf.length) throw fail('a message runs past its block');
      collect(w, out, blocks, type, buf.subarray(p, p + msize), fail);
      p += msize;
    }
  }
  return out;
}

function collect(w: Walk, out: Message[], blocks: { address: number; length: number }[], type: number, body: Buffer, fail: (why: string) => Error): void {
  if (type === 0x10) {
    const m = new MessageReader(body, w.sizes, fail);
    const address = m.addr();
    const length = m.len();
    // A continuation pointing back at a block already read would loop forever.
    if (blocks.some((b) => b.address === address)) throw fail('a continuation block named twice');
    blocks.push({ address, length });
  } else out.push({ type, body });
}

async function walkObject(w: Walk, address: number, path: string, depth: number): Promise<void> {
  if (w.visited.has(address)) return;
  w.visited.add(address);
  if (++w.objects > MAX_OBJECTS) throw unreadable(w.bytes.name, `more than ${MAX_OBJECTS} objects`);
  if (depth > MAX_DEPTH) throw unreadable(w.bytes.name, `groups nest more than ${MAX_DEPTH} deep at \`${path}\``);
  const messages = await headerMessages(w, address);
  const fail = (why: string) => unreadable(w.bytes.name, `\`${path || '/'}\`: ${why}`);
  const reader = (m: Message) => new MessageReader(m.body, w.sizes, fail);
  const find = (type: number) => messages.find((m) => m.type === type);
  const space = find(0x0001), type = find(0x0003), layout = find(0x0008);
  if (space && type) {
    let shape: number[] | undefined, dt: ReturnType<typeof parseDatatype>, lay: ReturnType<typeof parseLayout> | undefined;
    try {
      shape = parseDataspace(reader(space));
      dt = parseDatatype(reader(type));
      lay = layout ? parseLayout(reader(layout)) : undefined;
    } catch (e) {
      if (e instanceof RangeError) throw fail(e.message);
      throw e;
    }
    const info: TensorInfo = { key: path, dtype: dt.dtype, shape: shape ?? [] };
    let bytes = dt.size;
    for (const d of info.shape) bytes *= d;
    if (lay?.contiguous && !dt.bigEndian && !dt.dtype.startsWith('hdf5-')) {
      if (lay.contiguous.size !== bytes) w.notes.add(`a dataset's contiguous storage (${lay.contiguous.size} bytes) is not its shape's (${bytes}): no location for \`${path}\``);
      else if (w.base + lay.contiguous.address + bytes > w.bytes.size) w.notes.add(`a dataset's data runs past the end of the file: no location for \`${path}\``);
      else info.location = { file: w.bytes.file, offset: w.bytes.start + w.base + lay.contiguous.address, length: bytes };
    } else if (lay && !lay.contiguous) w.notes.add(`datasets stored ${lay.kind} (not contiguous) have no byte location`);
    w.tensors.push(info);
    return;
  }
  const prefix = path ? `${path}/` : '';
  for (const m of messages) {
    if (m.type === 0x0011) {
      const r = reader(m);
      const btree = r.addr();
      const heap = r.addr();
      for (const [name, child] of await symbolTable(w, btree, heap)) await walkObject(w, child, prefix + name, depth + 1);
    } else if (m.type === 0x0006) {
      let link;
      try { link = parseLink(reader(m)); } catch (e) { if (e instanceof RangeError) throw fail(e.message); throw e; }
      if (link.address !== undefined) await walkObject(w, link.address, prefix + link.name, depth + 1);
      else w.notes.add('soft and external links are not followed');
    } else if (m.type === 0x0002) {
      const r = reader(m);
      r.u8();
      const flags = r.u8();
      if (flags & 1) r.skip(8);
      if (r.addr() >= 0) throw fail('a group with dense link storage (a fractal heap: many links under libver="latest"), which this reader does not follow');
    }
  }
}

/** A v1 B-tree of group nodes → (name, object header address) pairs, names from the local heap. */
async function symbolTable(w: Walk, btree: number, heapAddress: number): Promise<[string, number][]> {
  const fail = (why: string) => unreadable(w.bytes.name, `a group's symbol table: ${why}`);
  const heapHead = await read(w, heapAddress, 8 + 2 * w.sizes.length + w.sizes.offset, 'a local heap');
  if (heapHead.toString('latin1', 0, 4) !== 'HEAP') throw fail(`no local heap at address ${heapAddress}`);
  const hm = new MessageReader(heapHead, w.sizes, fail);
  hm.pos = 8;
  const heapSize = hm.len();
  hm.len();
  const heapData = await read(w, hm.addr(), heapSize, 'a local heap\'s names');
  const out: [string, number][] = [];
  const seen = new Set<number>();
  const entrySize = 2 * w.sizes.offset + 24;
  const visit = async (node: number, level: number): Promise<void> => {
    if (seen.has(node)) throw fail('a B-tree node reached twice (a cycle)');
    seen.add(node);
    if (seen.size > 100_000) throw fail('more than 100,000 B-tree nodes');
    const head = await read(w, node, 8 + 2 * w.sizes.offset, 'a B-tree node');
    if (head.toString('latin1', 0, 4) !== 'TREE' || head[4] !== 0) throw fail(`no group B-tree node at address ${node}`);
    const nodeLevel = head[5];
    if (nodeLevel !== level && level >= 0) throw fail('a B-tree child at the wrong level');
    if (nodeLevel > 32) throw fail(`a B-tree of ${nodeLevel} levels`);
    const used = head.readUInt16LE(6);
    const body = await read(w, node + head.length, (used + 1) * w.sizes.length + used * w.sizes.offset, 'a B-tree node\'s entries');
    const m = new MessageReader(body, w.sizes, fail);
    const children: number[] = [];
    for (let i = 0; i < used; i++) { m.len(); children.push(m.addr()); }
    for (const child of children) {
      if (nodeLevel > 0) { await visit(child, nodeLevel - 1); continue; }
      const snod = await read(w, child, 8, 'a symbol table node');
      if (snod.toString('latin1', 0, 4) !== 'SNOD') throw fail(`no symbol table node at address ${child}`);
      const count = snod.readUInt16LE(6);
      const entries = await read(w, child + 8, count * entrySize, 'symbol table entries');
      const e = new MessageReader(entries, w.sizes, fail);
      for (let i = 0; i < count; i++) {
        e.pos = i * entrySize;
        const nameOffset = e.addr();
        const header = e.addr();
        const end = heapData.indexOf(0, nameOffset);
        if (nameOffset < 0 || nameOffset >= heapData.length || end < 0) throw fail('a name outside its local heap');
        out.push([heapData.toString('utf8', nameOffset, end), header]);
      }
    }
  };
  await visit(btree, -1);
  return out;
}
