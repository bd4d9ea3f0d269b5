/**
 * Reads NumPy `.npy` files (format versions 1, 2 and 3) into host tensors: the inputs a porting
 * engineer saved from the original model's run. Little-endian C-order arrays of the dtypes models take;
 * anything else is refused with the reason, never guessed.
 */
import { table } from '../formats/table';
import { readRegularFileSync } from '../formats/openRegular';
import { HostDtype, HostTensor, elementCount, fromBytes } from './hostTensor';
import { ParityError } from './parityError';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

const DESCR: Readonly<Record<string, HostDtype>> = table({
  '<f4': 'float32', '<f8': 'float64', '<f2': 'float16', '<i8': 'int64', '<i4': 'int32', '<i2': 'int16',
  '|i1': 'int8', '|u1': 'uint8', '|b1': 'bool', '<u2': 'uint16', '<u4': 'uint32', '<u8': 'uint64',
});

const SIZE: Readonly<Record<HostDtype, number>> = {
  float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1, uint16: 2, uint32: 4, uint64: 8,
};

export function readNpyFile(file: string): HostTensor {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(file, 'a .npy file');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParityError(`${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return parseNpy(bytes, file);
}

export function parseNpy(bytes: Uint8Array, file: string): HostTensor {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (reason: string) => new ParityError(`${file}: not a readable .npy file: ${reason}`);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw bad('it does not start with \\x93NUMPY');
  const major = buf[6];
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw bad('truncated header');
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw bad(`format version ${major}.${buf[7]} (1, 2 and 3 are known)`);
  }
  if (headerStart + headerLen > buf.length) throw bad(`the header claims ${headerLen} bytes but the file has ${buf.length - headerStart} left`);
  const header = buf.subarray(headerStart, headerStart + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad(`header is not a descr/fortran_order/shape dictionary: ${header.trim()}`);
  if (fortran === 'True') throw bad('the array is in Fortran (column-major) order; save it with np.ascontiguousarray first');
  const dtype = DESCR[descr.replace(/^=/, '<')];
  if (!dtype) throw bad(`dtype '${descr}' is not supported (little-endian float16/32/64, int8–64, uint8–64 and bool are)`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => Number(s.replace(/L$/, '')));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw bad(`shape (${shapeText}) is not a list of sizes`);
  const count = elementCount(dims);
  const need = count * SIZE[dtype];
  const dataStart = headerStart + headerLen;
  if (buf.length - dataStart !== need) throw bad(`shape (${dims.join(', ')}) of ${descr} needs ${need} bytes of data, the file has ${buf.length - dataStart}`);
  return { dtype, dims, data: fromBytes(dtype, buf.subarray(dataStart)) };
}
