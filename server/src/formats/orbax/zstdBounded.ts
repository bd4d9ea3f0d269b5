/**
 * Zstandard decompression that cannot be made to allocate more than a cap (fzstd would otherwise
 * allocate what a frame header says — up to 2 GiB — for a 20-byte bomb). A frame that declares its
 * content size is refused over the cap, else decoded into a buffer of exactly that size; one that
 * does not (tensorstore streams larger nodes) is refused if its window is over the cap, else decoded
 * in a stream that stops as soon as the output passes the cap. Single-frame data, as tensorstore writes it.
 */
import { Decompress, decompress } from 'fzstd';

const MAGIC = 0xfd2fb528;

/** The decompressed bytes, or a reason they were not produced (the caller names the file). */
export function zstdBounded(data: Uint8Array, cap: number): { bytes: Buffer } | { reason: string } {
  const size = declaredSize(data);
  if (size === undefined) return streamed(data, cap);
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

class OverCap extends Error {}

function streamed(data: Uint8Array, cap: number): { bytes: Buffer } | { reason: string } {
  // Not single-segment (else the size would be declared): byte 5 is the window descriptor (RFC 8878 §3.1.1.1.2).
  const base = 2 ** (10 + (data[5] >> 3));
  const window = base + (base / 8) * (data[5] & 7);
  if (window > cap) return { reason: `zstd frame asks for a ${window}-byte window, over the ${cap}-byte limit (a decompression bomb?)` };
  const chunks: Buffer[] = [];
  let total = 0;
  let done = false;
  const stream = new Decompress((chunk, final) => {
    total += chunk.length;
    if (total > cap) throw new OverCap();
    chunks.push(Buffer.from(chunk));
    if (final) done = true;
  });
  try {
    stream.push(data, true);
  } catch (e) {
    if (e instanceof OverCap) return { reason: `zstd data decompresses to more than the ${cap}-byte limit (a decompression bomb?)` };
    return { reason: `corrupt zstd data (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!done) return { reason: 'zstd data ends before its last block' };
  return { bytes: Buffer.concat(chunks, total) };
}

/** RFC 8878 §3.1.1.1: the frame header's Frame_Content_Size; undefined when it is not declared. */
function declaredSize(d: Uint8Array): number | string | undefined {
  if (d.length < 6 || (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0 !== MAGIC) return 'not a zstd frame (bad magic number)';
  const fhd = d[4];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  if (fcsBytes === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + dictBytes;
  if (d.length < at + fcsBytes) return 'zstd frame header is truncated';
  let size = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + d[at + i];
  return fcsBytes === 2 ? size + 256 : size;
}
