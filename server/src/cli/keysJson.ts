/**
 * `keys --json` written as it is made: the keys document (formats/keysDocument.ts) as compact JSON,
 * the tensor list in chunks, so 100,000 tensors never become one 12 MB string to build, escape with a
 * regular expression and write at once (that alone cost the command as much as reading the header).
 * A key of printable ASCII without `"` or `\` needs no escaping and is written as it is; anything else
 * goes through JSON.stringify and printableJson, as the whole document did before.
 */
import { documentTensor, keysDocument } from '../formats/keysDocument';
import { printableJson } from '../formats/printable';
import { CheckpointInfo, TensorInfo, tensorBytes } from '../formats/tensorInfo';

const CHUNK = 1 << 16;
/** Printable ASCII except `"` and `\`: JSON writes it unchanged and no terminal escaping applies. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export function writeKeysJson(info: CheckpointInfo, write: (chunk: string) => void): void {
  const tensors = info.tensors;
  const frame = printableJson(JSON.stringify(keysDocument({ ...info, tensors: [] })));
  // The first `"tensors":[]` is the field itself: inside a JSON string a quote is always escaped.
  const at = frame.indexOf('"tensors":[]') + '"tensors":['.length;
  let out = frame.slice(0, at);
  for (let i = 0; i < tensors.length; i++) {
    if (i > 0) out += ',';
    out += tensorJson(tensors[i]);
    if (out.length >= CHUNK) {
      write(out);
      out = '';
    }
  }
  write(`${out}${frame.slice(at)}\n`);
}

function tensorJson(t: TensorInfo): string {
  if (!isPlain(t)) return printableJson(JSON.stringify(documentTensor(t)));
  let shape = '';
  for (let i = 0; i < t.shape.length; i++) shape += i ? `,${t.shape[i]}` : `${t.shape[i]}`;
  return `{"key":"${t.key}","dtype":"${t.dtype}","shape":[${shape}],"bytes":${tensorBytes(t)}}`;
}

/**
 * A tensor whose document entry is key, dtype, shape and bytes only (no model-source or ONNX field),
 * with strings that need no escaping and a finite numeric shape.
 */
function isPlain(t: TensorInfo): boolean {
  if (t.dims || t.layout || t.layoutWhy || t.quantization || t.constant || t.graph || t.definition || t.tiedTo || t.conditional || t.checkpointKey || t.checkpointConversion) return false;
  if (!PLAIN.test(t.key) || !PLAIN.test(t.dtype)) return false;
  for (const d of t.shape) if (!Number.isFinite(d)) return false;
  return true;
}
