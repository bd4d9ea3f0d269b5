/**
 * `.pt` / `.bin` as `torch.save(state_dict)` writes it in torch 2.x: an uncompressed zip whose
 * `data.pkl` is a protocol-2 pickle of a dict from keys to `torch._utils._rebuild_tensor_v2(storage,
 * 0, size, stride, False, OrderedDict())`, each storage a persistent id (`('storage', FloatStorage,
 * '3', 'cpu', numel)`) naming the entry `data/3` that holds its bytes; plus `byteorder`, `version`,
 * `.format_version` and `.storage_alignment`. Every entry's data starts on a 64-byte boundary (padding
 * in the local header's extra field), as `torch.load(mmap=True)` needs. Entries carry data
 * descriptors (the CRC-32 follows the data, so tensors stream); zip64 records once the file passes
 * 4 GiB. Loadable with `torch.load(weights_only=True)`: only allow-listed globals are named.
 */
import { Layout, OutTensor } from './atomicOutput';
import { PickleOut } from './pickleOut';
import * as zlib from 'node:zlib';

/** safetensors dtype → the torch storage class `torch.load` rebuilds it with. */
export const TORCH_STORAGES: Readonly<Record<string, string>> = Object.freeze({
  F64: 'DoubleStorage', F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage',
  I64: 'LongStorage', I32: 'IntStorage', I16: 'ShortStorage', I8: 'CharStorage', U8: 'ByteStorage', BOOL: 'BoolStorage',
});

const ALIGN = 64;
const FLAGS = 0x0808; // data descriptor follows the data; names are UTF-8
const U32 = 0xffffffff;

interface Entry { name: Buffer; size: number; data?: Buffer; offset: number; extra: Buffer; crc?: number }

function pickle(tensors: readonly OutTensor[]): Buffer {
  const p = new PickleOut(2).proto().emptyDict();
  if (tensors.length) p.mark();
  tensors.forEach((t, i) => {
    p.str(t.key).global('torch._utils', '_rebuild_tensor_v2');
    p.mark().mark().str('storage').global('torch', TORCH_STORAGES[t.dtype]).str(String(i)).str('cpu').int(t.shape.reduce((a, b) => a * b, 1)).tuple().binPersId();
    p.int(0);
    tuple(p, t.shape);
    const stride = t.shape.map((_, k) => t.shape.slice(k + 1).reduce((a, b) => a * b, 1));
    tuple(p, stride);
    p.bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  });
  if (tensors.length) p.setItems();
  return p.stop().take();
}

function tuple(p: PickleOut, xs: readonly number[]): void {
  if (xs.length > 3) p.mark();
  for (const x of xs) p.int(x);
  p.tuple(xs.length > 3 ? undefined : xs.length);
}

/** Padding in an extra field (id "FB", as miniz writes it) so the data after the local header is aligned. */
function alignExtra(headerStart: number, nameLength: number): Buffer {
  const base = headerStart + 30 + nameLength;
  let pad = (ALIGN - (base % ALIGN)) % ALIGN;
  if (pad === 0) return Buffer.alloc(0);
  if (pad < 4) pad += ALIGN;
  const b = Buffer.alloc(pad);
  b.writeUInt16LE(0x4246, 0);
  b.writeUInt16LE(pad - 4, 2);
  return b;
}

function localHeader(e: Entry, zip64: boolean): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4);
  h.writeUInt16LE(FLAGS, 6);
  // method 0 (stored), time, date, crc and sizes 0: the data descriptor and central directory have them.
  h.writeUInt16LE(e.name.length, 26);
  h.writeUInt16LE(e.extra.length, 28);
  return Buffer.concat([h, e.name, e.extra]);
}

function descriptor(crc: number, size: number, zip64: boolean): Buffer {
  const d = Buffer.alloc(zip64 ? 24 : 16);
  d.writeUInt32LE(0x08074b50, 0);
  d.writeUInt32LE(crc >>> 0, 4);
  if (zip64) { d.writeBigUInt64LE(BigInt(size), 8); d.writeBigUInt64LE(BigInt(size), 16); } else { d.writeUInt32LE(size, 8); d.writeUInt32LE(size, 12); }
  return d;
}

function central(e: Entry, crc: number, zip64: boolean): Buffer {
  const big = zip64 && (e.size >= U32 || e.offset >= U32);
  const extra = big ? Buffer.alloc(4 + 24) : Buffer.alloc(0);
  if (big) { extra.writeUInt16LE(0x0001, 0); extra.writeUInt16LE(24, 2); extra.writeBigUInt64LE(BigInt(e.size), 4); extra.writeBigUInt64LE(BigInt(e.size), 12); extra.writeBigUInt64LE(BigInt(e.offset), 20); }
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4);
  h.writeUInt16LE(zip64 ? 45 : 20, 6);
  h.writeUInt16LE(FLAGS, 8);
  h.writeUInt32LE(crc >>> 0, 16);
  h.writeUInt32LE(big ? U32 : e.size, 20);
  h.writeUInt32LE(big ? U32 : e.size, 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  h.writeUInt32LE(big ? U32 : e.offset, 42);
  return Buffer.concat([h, e.name, extra]);
}

function endRecords(count: number, cdOffset: number, cdSize: number, zip64: boolean): Buffer {
  const out: Buffer[] = [];
  if (zip64) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeUInt16LE(45, 12);
    z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(count), 24);
    z.writeBigUInt64LE(BigInt(count), 32);
    z.writeBigUInt64LE(BigInt(cdSize), 40);
    z.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
    loc.writeUInt32LE(1, 16);
    out.push(z, loc);
  }
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(Math.min(count, 0xffff), 8);
  e.writeUInt16LE(Math.min(count, 0xffff), 10);
  e.writeUInt32LE(zip64 ? U32 : cdSize, 12);
  e.writeUInt32LE(zip64 ? U32 : cdOffset, 16);
  out.push(e);
  return Buffer.concat(out);
}

/** `prefix` names the archive's folder (torch uses the file's stem; any name loads). */
export function torchZipLayout(tensors: readonly OutTensor[], prefix = 'archive'): Layout {
  const small = (name: string, data: Buffer) => ({ name, data });
  const before = [small('data.pkl', pickle(tensors)), small('.format_version', Buffer.from('1')), small('.storage_alignment', Buffer.from(String(ALIGN))), small('byteorder', Buffer.from('little'))];
  const after = [small('version', Buffer.from('3\n'))];
  const total = tensors.reduce((a, t) => a + t.byteLength, 0) + [...before, ...after].reduce((a, s) => a + s.data.length, 0);
  const zip64 = total + (tensors.length + 8) * 256 >= U32;
  const dd = zip64 ? 24 : 16;
  // Every entry's offset and header, in file order, before any data exists.
  const entries: Entry[] = [];
  let pos = 0;
  const add = (name: string, size: number, data?: Buffer) => {
    const n = Buffer.from(`${prefix}/${name}`, 'utf8');
    const e: Entry = { name: n, size, data, offset: pos, extra: alignExtra(pos, n.length) };
    if (data) e.crc = zlib.crc32(data);
    pos += 30 + n.length + e.extra.length + size + dd;
    entries.push(e);
    return e;
  };
  const head = before.map((s) => add(s.name, s.data.length, s.data));
  const data = tensors.map((t, i) => add(`data/${i}`, t.byteLength));
  const tailEntries = after.map((s) => add(s.name, s.data.length, s.data));
  const whole = (e: Entry) => Buffer.concat([localHeader(e, zip64), e.data!, descriptor(e.crc!, e.size, zip64)]);
  const prelude = Buffer.concat(head.map(whole));
  return {
    crc: true,
    before: (i) => (i === 0 ? Buffer.concat([prelude, localHeader(data[0], zip64)]) : localHeader(data[i], zip64)),
    after: (i, crc) => { data[i].crc = crc; return descriptor(crc, data[i].size, zip64); },
    tail: () => {
      const rest = Buffer.concat([tensors.length ? Buffer.alloc(0) : prelude, ...tailEntries.map(whole)]);
      const cd = Buffer.concat(entries.map((e) => central(e, e.crc ?? 0, zip64)));
      return Buffer.concat([rest, cd, endRecords(entries.length, pos, cd.length, zip64)]);
    },
  };
}
