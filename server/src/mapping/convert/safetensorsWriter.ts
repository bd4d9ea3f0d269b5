/** The safetensors container: one JSON header (every dtype, shape and offset) before all the data. */
import { Layout, OutTensor } from './atomicOutput';

export type { OutTensor } from './atomicOutput';

/** The header bytes: 8-byte little-endian length, then JSON padded with spaces to a multiple of 8. */
export function safetensorsHeader(tensors: readonly OutTensor[], metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.key] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.length / 8) * 8, 0x20);
  json.copy(padded);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([len, padded]);
}

export function safetensorsLayout(tensors: readonly OutTensor[], metadata: Record<string, string>): Layout {
  const header = safetensorsHeader(tensors, metadata);
  const none = Buffer.alloc(0);
  return { crc: false, before: (i) => (i === 0 ? header : none), tail: () => (tensors.length ? none : header) };
}
