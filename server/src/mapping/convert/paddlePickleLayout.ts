/**
 * `.pdparams` as `paddle.save(state_dict)` writes it: a pickle of a dict from parameter names to numpy
 * arrays, each array by value (`numpy.core.multiarray._reconstruct`, then its state with the raw
 * bytes — protocol 2, for Paddle on Python 2-era pickles, has no bytes: `_codecs.encode(text, 'latin1')`). Paddle stores bfloat16 as uint16, which `paddle.load` and `set_state_dict` take back as
 * bfloat16 parameters. `numpy.core` (not numpy 2's `numpy._core`) so numpy 1.x loads it too; numpy 2
 * resolves it without a warning.
 */
import { Layout, OutTensor } from './atomicOutput';
import { PickleOut } from './pickleOut';

/** safetensors dtype → numpy's typestr (without the byte order). */
export const PADDLE_NUMPY_DTYPES: Readonly<Record<string, string>> = Object.freeze({
  F64: 'f8', F32: 'f4', F16: 'f2', BF16: 'u2', I64: 'i8', I32: 'i4', I16: 'i2', I8: 'i1', U8: 'u1', BOOL: 'b1',
});

function shapeTuple(p: PickleOut, shape: readonly number[]): void {
  if (shape.length > 3) p.mark();
  for (const d of shape) p.int(d);
  p.tuple(shape.length > 3 ? undefined : shape.length);
}

/** Paddle's own protocols 2 and 3 split a parameter over this size into slices; here it is refused instead. */
export const OLD_PROTOCOL_MAX = 2 ** 30 - 1;

export function paddlePickleLayout(tensors: readonly OutTensor[], protocol: 2 | 3 | 4 = 4): Layout {
  const head = (i: number, data: Buffer): Buffer => {
    const p = new PickleOut(protocol);
    if (i === 0) p.proto().emptyDict().mark();
    const t = tensors[i];
    const typestr = PADDLE_NUMPY_DTYPES[t.dtype];
    p.str(t.key);
    p.global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).tuple(1).bytes(Buffer.from('b')).tuple(3).reduce();
    p.mark().int(1);
    shapeTuple(p, t.shape);
    p.global('numpy', 'dtype').str(typestr).bool(false).bool(true).tuple(3).reduce();
    p.mark().int(3).str(typestr.endsWith('1') ? '|' : '<').none().none().none().int(-1).int(-1).int(0).tuple().build();
    p.bool(false);
    if (protocol === 2) p.latin1Header(data.length); else p.bytesHeader(data.length);
    return p.take();
  };
  const closeArray = (protocol === 2 ? new PickleOut(protocol).latin1Close() : new PickleOut(protocol)).tuple().build().take();
  return {
    crc: false,
    before: head,
    // Protocol 2 has no bytes: the data goes as latin-1 text in UTF-8 (a byte over 0x7f takes two).
    ...(protocol === 2 ? { encode: (_i: number, data: Buffer) => Buffer.from(data.toString('latin1'), 'utf8') } : {}),
    after: () => closeArray,
    tail: () => {
      const p = new PickleOut(protocol);
      if (tensors.length === 0) p.proto().emptyDict();
      else p.setItems();
      return p.stop().take();
    },
  };
}
