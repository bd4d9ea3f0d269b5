/**
 * Keras 3 weights: `model.save_weights('x.weights.h5')` (any HDF5 `.h5`), and `model.save('x.keras')`, a
 * zip of `config.json`, `metadata.json` and a stored `model.weights.h5`, read in place inside the zip.
 * Datasets are listed by their HDF5 path (`layers/dense/vars/0`), as h5py names them; Keras keeps Dense
 * kernels `[in, out]` and convolutions HWIO.
 */
import { resolve as resolvePath } from 'node:path';
import { ByteSource } from '../byteSource';
import { unreadable } from '../readerError';
import type { CheckpointInfo } from '../tensorInfo';
import { listEntries, withZip } from '../torchZip';
import { dataStarts } from '../zipDataStarts';
import { readHdf5 } from './hdf5';

export async function readKerasH5(src: ByteSource): Promise<CheckpointInfo> {
  const { tensors, notes } = await readHdf5({
    name: src.displayName, file: resolvePath(src.path), start: 0, size: src.size,
    read: (offset, length, what) => src.read(offset, length, what),
  });
  return info(src.displayName, tensors, notes);
}

export async function readKerasZip(path: string, displayName: string): Promise<CheckpointInfo> {
  return withZip(path, displayName, 'the .keras zip', async (src, zip) => {
    const entries = await listEntries(zip, displayName);
    const entry = entries.get('model.weights.h5');
    if (!entry) throw unreadable(displayName, 'the zip has no model.weights.h5: not a Keras 3 `.keras` file');
    if (entry.compressionMethod !== 0) throw unreadable(displayName, 'model.weights.h5 is compressed inside the zip; Keras stores it uncompressed, and HDF5 metadata cannot be read in place from a deflated member');
    const start = (await dataStarts(src, [entry], displayName)).get(entry)!;
    const { tensors, notes } = await readHdf5({
      name: `${displayName} (model.weights.h5)`, file: resolvePath(path), start, size: entry.compressedSize,
      read: (offset, length, what) => src.read(start + offset, length, what),
    });
    return info(displayName, tensors, notes);
  });
}

function info(file: string, tensors: CheckpointInfo['tensors'], notes: string[]): CheckpointInfo {
  if (tensors.some((t) => /(^|\/)vars\/\d+$/.test(t.key))) notes.push('Keras 3 names each layer\'s weights by position (`vars/0` is a Dense or convolution kernel, `vars/1` its bias)');
  return { file, format: 'keras-h5', framework: 'keras', tensors, notes };
}
