/**
 * A NumPy `.npy` file (`np.save`): one array, listed under the file's name without `.npy` (as `np.savez`
 * names members). Only the header is read, at most numpy's own 10 kB limit.
 */
import { basename, resolve } from 'node:path';
import type { ByteSource } from '../byteSource';
import { unreadable } from '../readerError';
import type { CheckpointInfo } from '../tensorInfo';
import { NPY_MAX_HEADER, parseNpyHeader } from './npyHeader';
import { npyTensor } from './npyTensor';

export async function readNpy(src: ByteSource): Promise<CheckpointInfo> {
  const header = parseNpyHeader(await src.read(0, Math.min(src.size, NPY_MAX_HEADER + 12), 'the .npy header'));
  if ('need' in header) throw unreadable(src.displayName, `the .npy header needs ${header.need} bytes, the file has ${src.size}: truncated?`);
  if ('error' in header) throw unreadable(src.displayName, header.error);
  const h = header.header;
  const key = basename(src.path).replace(/\.npy$/i, '');
  const { info, problem } = npyTensor(key, h, resolve(src.path), h.dataOffset, src.size - h.dataOffset);
  if (problem?.includes('truncated')) throw unreadable(src.displayName, problem);
  const notes = [`one array, listed under the file's name \`${key}\``];
  if (problem) notes.push(problem);
  if (h.bigEndian) notes.push('the array is big-endian, so it has no byte location');
  if (h.fortran) notes.push('the array is stored in Fortran (column-major) order: its location carries the strides');
  return { file: src.displayName, format: 'npy', tensors: [info], notes };
}
