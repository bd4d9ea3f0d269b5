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
/** One row's cells; the same object is refilled for every row (no object per tensor). */
interface Row { key: string; dtype: string; shape: string; size: number; params: number }

export function formatKeysTable(info: CheckpointInfo, opts: { color: boolean }): string {
  return [...keysTableChunks(info, opts)].join('');
}

/** The table as chunks of ~64 KiB, made as they are taken (cli/writeChunks.ts waits on a slow pipe between them). */
export function* keysTableChunks(info: CheckpointInfo, opts: { color: boolean }): Generator<string> {
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const header = ['key', 'dtype', 'shape', 'size'];
  const widths = header.map((h) => h.length);
  let params = 0, bytes = 0, n = 0;
  for (const r of rowsOf(info)) {
    widen(widths, 0, r.key);
    widen(widths, 1, r.dtype);
    widen(widths, 2, r.shape);
    widen(widths, 3, formatBytes(r.size));
    params += r.params;
    bytes += r.size;
    n++;
  }
  const line = (k: string, d: string, s: string, b: string) =>
    `${k.padEnd(widths[0])}  ${d.padEnd(widths[1])}  ${s.padEnd(widths[2])}  ${b.padStart(widths[3])}`.trimEnd();
  let out = bold(line(header[0], header[1], header[2], header[3])) + '\n';
  for (const r of rowsOf(info)) {
    out += line(r.key, r.dtype, r.shape, formatBytes(r.size)) + '\n';
    if (out.length >= CHUNK) {
      yield out;
      out = '';
    }
  }
  const what = [info.format, info.framework ? `${info.framework} layout` : undefined, info.shapeOrder === 'ggml' ? 'shapes in GGUF order (fastest-varying first)' : undefined]
    .filter(Boolean).join(', ');
  out += `\n${count(n, 'tensor')}, ${count(params, 'parameter', 'parameters', groupDigits(params))}, ${formatBytes(bytes)} (${what})\n`;
  for (const note of info.notes) out += dim(`note: ${printable(note)}`) + '\n';
  yield out;
}

function widen(widths: number[], i: number, s: string): void {
  if (s.length > widths[i]) widths[i] = s.length;
}

/** Each tensor's cells (names and dtypes escaped: they are the file's words) without an object per tensor. */
function* rowsOf(info: CheckpointInfo): Generator<Row> {
  const row: Row = { key: '', dtype: '', shape: '', size: 0, params: 0 };
  const t = tableOf(info);
  // Columns whose every tensor has its bytes located (a reader's): the span is the size.
  if (!t || t.extras.length || t.file.includes(-1)) {
    for (const x of info.tensors) {
      // A quantized TF.js weight: what loading yields, then what is stored.
      row.key = printable(x.key);
      row.dtype = printable(x.quantization ? `${x.dtype} (${x.quantization.dtype})` : x.dtype);
      row.shape = `[${x.shape.join(', ')}]`;
      row.size = tensorBytes(x);
      row.params = numel(x.shape);
      yield row;
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
    row.key = printable(t.keys.slice(start, end));
    row.dtype = dtypes[t.dtype[i]];
    row.shape = `${shape}]`;
    row.size = t.length[i];
    row.params = p;
    yield row;
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
