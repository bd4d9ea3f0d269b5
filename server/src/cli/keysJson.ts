/**
 * `keys --json` written as it is made: the keys document (formats/keysDocument.ts) as compact JSON,
 * the tensor list in chunks, so 100,000 tensors never become one 12 MB string to build, escape with a
 * regular expression and write at once (that alone cost the command as much as reading the header).
 * A key of printable ASCII without `"` or `\` needs no escaping and is written as it is; anything else
 * goes through JSON.stringify and printableJson, as the whole document did before. A reader's columns
 * (tableOf) are written from directly: no object per tensor between the header bytes and the output.
 */
import { documentTensor, hasOptionalFields, keysDocument } from '../formats/keysDocument';
import { printableJson } from '../formats/printable';
import { CheckpointInfo, TensorInfo, tensorBytes } from '../formats/tensorInfo';
import { TensorTable, fieldsOf, tableOf } from '../formats/tensorTable';

const CHUNK = 1 << 16;
/** Printable ASCII except `"` and `\`: JSON writes it unchanged and no terminal escaping applies. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export function writeKeysJson(info: CheckpointInfo, write: (chunk: string) => void): void {
  for (const chunk of keysJsonChunks(info)) write(chunk);
}

/**
 * The document as chunks of ~64 KiB, made as they are taken: a writer that waits for a slow reader (a pipe)
 * between chunks holds one chunk, not the document (written without waiting, 100,000 tensors into a pipe
 * queued ~50 MiB in the process).
 */
export function* keysJsonChunks(info: CheckpointInfo): Generator<string> {
  const table = tableOf(info);
  // The frame without `tensors` read: on a table-backed info that would make every object.
  const frame = printableJson(JSON.stringify(keysDocument({ ...fieldsOf(info), tensors: [] })));
  // The first `"tensors":[]` is the field itself: inside a JSON string a quote is always escaped.
  const at = frame.indexOf('"tensors":[]') + '"tensors":['.length;
  const head = frame.slice(0, at);
  const last = yield* (table && !table.extras.length ? tableJson(table, head) : objectsJson(info.tensors, head));
  yield `${last}${frame.slice(at)}\n`;
}

/** The tensors after `out`, in chunks; returns what is left of the last. */
function* objectsJson(tensors: readonly TensorInfo[], out: string): Generator<string, string> {
  for (let i = 0; i < tensors.length; i++) {
    if (i > 0) out += ',';
    out += tensorJson(tensors[i]);
    if (out.length >= CHUNK) {
      yield out;
      out = '';
    }
  }
  return out;
}

function* tableJson(t: TensorTable, out: string): Generator<string, string> {
  // One test of the whole key arena: when it passes, every key is plain.
  const allPlain = PLAIN.test(t.keys);
  const plainDtype = t.dtypes.map((d) => PLAIN.test(d));
  let start = 0, q = 0;
  for (let i = 0; i < t.count; i++) {
    if (i > 0) out += ',';
    const end = t.keyEnds[i], k = t.ndim[i];
    const key = t.keys.slice(start, end);
    let shape = '', finite = true;
    for (let j = 0; j < k; j++) {
      const d = t.dims[q + j];
      if (!Number.isFinite(d)) finite = false;
      shape += j ? `,${d}` : `${d}`;
    }
    if (finite && t.file[i] >= 0 && plainDtype[t.dtype[i]] && (allPlain || PLAIN.test(key))) {
      out += `{"key":"${key}","dtype":"${t.dtypes[t.dtype[i]]}","shape":[${shape}],"bytes":${t.length[i]}}`;
    } else {
      const f = t.file[i];
      const tensor: TensorInfo = { key, dtype: t.dtypes[t.dtype[i]], shape: Array.from(t.dims.subarray(q, q + k)) };
      if (f >= 0) tensor.location = { file: t.files[f], offset: t.offset[i], length: t.length[i] };
      out += tensorJson(tensor);
    }
    start = end;
    q += k;
    if (out.length >= CHUNK) {
      yield out;
      out = '';
    }
  }
  return out;
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
  if (hasOptionalFields(t)) return false;
  if (!PLAIN.test(t.key) || !PLAIN.test(t.dtype)) return false;
  for (const d of t.shape) if (!Number.isFinite(d)) return false;
  return true;
}
