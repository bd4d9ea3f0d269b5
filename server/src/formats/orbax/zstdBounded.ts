/**
 * Zstandard decompression that cannot be made to allocate more than a cap: a frame whose header
 * declares no content size, or more than the cap, is refused before anything is decoded, and the
 * output goes into a buffer of exactly the declared size (fzstd would otherwise allocate what the
 * header says — up to 2 GiB — for a 20-byte bomb). Only single-frame data, as tensorstore writes it.
 */
import { decompress } from 'fzstd';

const MAGIC = 0xfd2fb528;

/** The decompressed bytes, or a reason they were not produced (the caller names the file). */
export function zstdBounded(data: Uint8Array, cap: number): { bytes: Buffer } | { reason: string } {
  const size = declaredSize(data);
  if (typeof size === 'string') return { reason: size };
  if (size > cap) return { reason: `zstd frame declares ${size} decompressed bytes, over the ${cap}-byte limit (a decompression bomb?)` };
  const out = new Uint8Array(size);
  let got: Uint8Array;
  try {
    got = decompress(data, out);
  } catch (e) {
    return { reason: `corrupt zstd data (${e instanceof Error ? e.message : String(e)})` };
  }
  if (got.length !== size) return { reason: `zstd data decompresses to ${got.length} bytes, not the ${size} its frame declares` };
  return { bytes: Buffer.from(got.buffer, got.byteOffset, got.length) };
}

/** RFC 8878 §3.1.1.1: the frame header's Frame_Content_Size, or why there is none. */
function declaredSize(d: Uint8Array): number | string {
  if (d.length < 6 || (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0 !== MAGIC) return 'not a zstd frame (bad magic number)';
  const fhd = d[4];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  if (fcsBytes === 0) return 'zstd frame does not declare its decompressed size';
  const at = 5 + (singleSegment ? 0 : 1) + dictBytes;
  if (d.length < at + fcsBytes) return 'zstd frame header is truncated';
  let size = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + d[at + i];
  return fcsBytes === 2 ? size + 256 : size;
}
