/** The people's view of `keys`: an aligned table with totals, colour only on a terminal. */
import { groupDigits } from '../formats/numberText';
import { printable } from '../formats/printable';
import { CheckpointInfo, numel, tensorBytes } from '../formats/tensorInfo';
import { count } from '../formats/plural';

export function formatKeysTable(info: CheckpointInfo, opts: { color: boolean }): string {
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const rows = info.tensors.map((t) => {
    const bytes = tensorBytes(t);
    // Names and dtypes are the file's words: escaped, so none can write to the terminal.
    // A quantized TF.js weight: what loading yields, then what is stored.
    const dtype = t.quantization ? `${t.dtype} (${t.quantization.dtype})` : t.dtype;
    return [printable(t.key), printable(dtype), `[${t.shape.join(', ')}]`, formatBytes(bytes)];
  });
  const header = ['key', 'dtype', 'shape', 'size'];
  // A loop, not Math.max(...rows): spreading 500,000 arguments overflows the stack.
  const widths = header.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < r.length; i++) if (r[i].length > widths[i]) widths[i] = r[i].length;
  const line = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();

  let params = 0;
  let bytes = 0;
  for (const t of info.tensors) {
    params += numel(t.shape);
    bytes += tensorBytes(t);
  }
  const out = [bold(line(header)), ...rows.map(line)];
  const what = [info.format, info.framework ? `${info.framework} layout` : undefined, info.shapeOrder === 'ggml' ? 'shapes in GGUF order (fastest-varying first)' : undefined]
    .filter(Boolean).join(', ');
  out.push('', `${count(info.tensors.length, 'tensor')}, ${count(params, 'parameter', 'parameters', groupDigits(params))}, ${formatBytes(bytes)} (${what})`);
  for (const n of info.notes) out.push(dim(`note: ${printable(n)}`));
  return out.join('\n') + '\n';
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
