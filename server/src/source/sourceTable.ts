/**
 * The people's view of a model source's inferred tensors: key, dtype, shape (open dimensions by
 * name), the layer's layout and the defining line, then totals and what the defaults decided.
 */
import { groupDigits } from '../formats/numberText';
import { CheckpointInfo, TensorInfo, numel } from '../formats/tensorInfo';
import { count } from '../formats/plural';

export const shapeText = (t: TensorInfo) => `[${(t.dims ?? t.shape).join(', ')}]`;

export function formatSourceTable(info: CheckpointInfo, opts: { color: boolean }): string {
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const header = ['key', 'dtype', 'shape', 'layout', 'line'];
  // A key only one branch of an undecided condition has is marked `?` and explained below the table.
  const rows = info.tensors.map((t) => [t.conditional ? `${t.key} ?` : t.key, t.dtype, shapeText(t), t.layout ?? (t.buffer ? 'buffer' : ''), t.definition ? String(t.definition.line + 1) : '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [bold(line(header)), ...rows.map(line)];
  const known = info.tensors.filter((t) => !t.dims);
  const params = known.reduce((a, t) => a + numel(t.shape), 0);
  const open = info.tensors.length - known.length;
  out.push('', `${count(info.tensors.length, 'tensor')}, ${count(params, 'parameter', 'parameters', groupDigits(params))}${open ? ` in the ${known.length} with known shapes` : ''} (${info.format}${info.framework ? `, ${info.framework} layout` : ''})`);
  const defaults = Object.entries(info.bindings ?? {}).map(([k, b]) => `${k}=${b.value}`);
  if (defaults.length) out.push(dim(`config: ${defaults.join(', ')}`));
  const conds = [...new Set(info.tensors.flatMap((t) => (t.conditional ? [t.conditional] : [])))];
  for (const c of conds) out.push(dim(`?: only if ${c} (${count(info.tensors.filter((t) => t.conditional === c).length, 'tensor')})`));
  for (const n of info.notes) out.push(dim(`note: ${n}`));
  return out.join('\n') + '\n';
}
