/**
 * GGUF v3 as gguf-py's GGUFWriter and llama.cpp write it: "GGUF", version 3, the tensor and metadata
 * counts, the metadata key/values (carried over verbatim from a GGUF — the target's, or
 * `--metadata-from` — so tokenizer arrays and architecture keys survive byte for byte), each tensor's
 * name, dimensions in GGML's order (fastest first: row-major reversed), type and offset, then the data,
 * every tensor starting on the alignment (`general.alignment`, 32 by default).
 */
import { GGML_TYPES } from '../../formats/gguf';
import { Layout, OutTensor } from './atomicOutput';
import { q8_0Bytes, quantizeQ8_0 } from './q8_0';

/** safetensors dtype → ggml type id (the unquantised ones a conversion produces). */
export const GGUF_TYPES: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(
  Object.entries(GGML_TYPES).filter(([, [, block]]) => block === 1).map(([id, [name]]) => [name, Number(id)]),
));

/** The quantised types a conversion writes (`--quantize`). */
const GGUF_TYPES_QUANTISED = { Q8_0: 8 } as const;

export interface GgufMetadata {
  /** The key/value section's bytes, as they stand in a GGUF file. */
  bytes: Buffer;
  count: number;
  alignment: number;
}

/** A GGUF string: its UTF-8 length as a uint64, then the bytes. */
export function ggufString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b]);
}

/**
 * `q8_0`: the indices of the tensors written as Q8_0 (their data still arrives as the plan's float
 * dtype, and is quantised here on its way to the file).
 */
export function ggufLayout(tensors: readonly OutTensor[], meta: GgufMetadata = { bytes: Buffer.alloc(0), count: 0, alignment: 32 }, q8_0: ReadonlySet<number> = new Set()): Layout {
  const align = (n: number) => Math.ceil(n / meta.alignment) * meta.alignment;
  const sizes = tensors.map((t, i) => (q8_0.has(i) ? q8_0Bytes(t.shape) : t.byteLength));
  const offsets: number[] = [];
  let off = 0;
  for (const [i] of tensors.entries()) { off = align(off); offsets.push(off); off += sizes[i]; }
  const head = Buffer.alloc(24);
  head.write('GGUF', 0, 'latin1');
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(BigInt(tensors.length), 8);
  head.writeBigUInt64LE(BigInt(meta.count), 16);
  const infos = tensors.map((t, i) => {
    const fixed = Buffer.alloc(4 + 8 * t.shape.length + 4 + 8);
    fixed.writeUInt32LE(t.shape.length, 0);
    [...t.shape].reverse().forEach((d, k) => fixed.writeBigUInt64LE(BigInt(d), 4 + 8 * k));
    fixed.writeUInt32LE(q8_0.has(i) ? GGUF_TYPES_QUANTISED.Q8_0 : GGUF_TYPES[t.dtype], 4 + 8 * t.shape.length);
    fixed.writeBigUInt64LE(BigInt(offsets[i]), 8 + 8 * t.shape.length);
    return Buffer.concat([ggufString(t.key), fixed]);
  });
  const header = Buffer.concat([head, meta.bytes, ...infos]);
  const start = align(header.length);
  const prelude = Buffer.concat([header, Buffer.alloc(start - header.length)]);
  return {
    crc: false,
    before: (i) => (i === 0 ? prelude : Buffer.alloc(offsets[i] - (offsets[i - 1] + sizes[i - 1]))),
    ...(q8_0.size ? { encode: (i: number, data: Buffer) => (q8_0.has(i) ? quantizeQ8_0(data, tensors[i].dtype) : data) } : {}),
    tail: () => (tensors.length ? Buffer.alloc(0) : prelude),
  };
}
