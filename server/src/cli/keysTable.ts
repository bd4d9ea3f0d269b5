/**
 * The people's view of `keys`: an aligned table with totals, colour only on a terminal. Written in
 * chunks in two passes (widths and totals, then lines), from a reader's columns where it filled them:
 * holding a row of strings per tensor until the end made 100,000 tensors mostly garbage-collector work.
 */
import { groupDigits } from '../formats/numberText';
import { printable } from '../formats/printable';
import { CheckpointInfo, numel, tensorBytes } from '../formats/tensorInfo';
import { tableOf } from '../formats/tensorTable';
import { count } from '../formats/plural';

const CHUNK = 1 << 16;
type RowFn = (key: string, dtype: string, shape: string, bytes: number, params: number) => void;

export function formatKeysTable(info: CheckpointInfo, opts: { color: boolean }): string {
  const chunks: string[] = [];
  writeKeysTable(info, opts, (c) => chunks.push(c));
  return chunks.join('');
}

export function writeKeysTable(info: CheckpointInfo, opts: { color: boolean }, write: (chunk: string) => void): void {
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const header = ['key', 'dtype', 'shape', 'size'];
  const widths = header.map((h) => h.length);
  let params = 0, bytes = 0, n = 0;
  forEachRow(info, (key, dtype, shape, size, p) => {
    widen(widths, 0, key);
    widen(widths, 1, dtype);
    widen(widths, 2, shape);
    widen(widths, 3, formatBytes(size));
    params += p;
    bytes += size;
    n++;
  });
  const line = (k: string, d: string, s: string, b: string) =>
    `${k.padEnd(widths[0])}  ${d.padEnd(widths[1])}  ${s.padEnd(widths[2])}  ${b.padStart(widths[3])}`.trimEnd();
  let out = bold(line(header[0], header[1], header[2], header[3])) + '\n';
  forEachRow(info, (key, dtype, shape, size) => {
    out += line(key, dtype, shape, formatBytes(size)) + '\n';
    if (out.length >= CHUNK) {
      write(out);
      out = '';
    }
  });
  const what = [info.format, info.framework ? `${info.framework} layout` : undefined, info.shapeOrder === 'ggml' ? 'shapes in GGUF order (fastest-varying first)' : undefined]
    .filter(Boolean).join(', ');
  out += `\n${count(n, 'tensor')}, ${count(params, 'parameter', 'parameters', groupDigits(params))}, ${formatBytes(bytes)} (${what})\n`;
  for (const note of info.notes) out += dim(`note: ${printable(note)}`) + '\n';
  write(out);
}

function widen(widths: number[], i: number, s: string): void {
  if (s.length > widths[i]) widths[i] = s.length;
}

/** Each tensor's cells (names and dtypes escaped: they are the file's words) without an object per tensor. */
function forEachRow(info: CheckpointInfo, fn: RowFn): void {
  const t = tableOf(info);
  // Columns whose every tensor has its bytes located (a reader's): the span is the size.
  if (!t || t.extras.length || t.file.includes(-1)) {
    for (const x of info.tensors) {
      // A quantized TF.js weight: what loading yields, then what is stored.
      const dtype = x.quantization ? `${x.dtype} (${x.quantization.dtype})` : x.dtype;
      fn(printable(x.key), printable(dtype), `[${x.shape.join(', ')}]`, tensorBytes(x), numel(x.shape));
    }
    return;
  }
  const dtypes = t.dtypes.map((d) => printable(d));
  let start = 0, q = 0;
  for (let i = 0; i < t.count; i++) {
    const end = t.keyEnds[i], k = t.ndim[i];
    let shape = '[', p = 1;
    for (let j = 0; j < k; j++) {
      const d = t.dims[q++];
      shape += j ? `, ${d}` : `${d}`;
      p *= d;
    }
    fn(printable(t.keys.slice(start, end)), dtypes[t.dtype[i]], `${shape}]`, t.length[i], p);
    start = end;
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
