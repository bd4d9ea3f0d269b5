/** Test and bench support: safetensors files with many tensors whose data is a sparse hole (no disk used). */
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';

export function sparseSafetensors(file: string, keys: Iterable<[string, number[]]>, dtype = 'F32', elemSize = 4): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [key, shape] of keys) {
    const len = shape.reduce((a, b) => a * b, 1) * elemSize;
    header[key] = { dtype, shape, data_offsets: [off, off + len] };
    off += len;
  }
  writeSafetensorsHeader(file, JSON.stringify(header), off);
}

/** A safetensors file of this header JSON, written as it is, and `dataBytes` of zeros left as a hole. */
export function writeSafetensorsHeader(file: string, headerJson: string, dataBytes: number): void {
  const json = Buffer.from(headerJson);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json]));
  const fd = openSync(file, 'r+');
  ftruncateSync(fd, 8 + json.length + dataBytes);
  closeSync(fd);
}
