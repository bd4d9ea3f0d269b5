/**
 * The model diff: two checkpoints compared by key — tensors only in one, and tensors whose dtype or
 * shape changed (saying when the new shape is the old one transposed, the classic porting slip).
 * Shapes are compared in row-major order (GGUF's are reversed first).
 */
import { CheckpointInfo, TensorInfo } from '../formats/tensorInfo';
import { count } from '../formats/plural';

export interface TensorChange {
  key: string;
  before: { dtype: string; shape: number[] };
  after: { dtype: string; shape: number[] };
  transposed: boolean;
}

export interface CheckpointDiff {
  onlyInA: { key: string; dtype: string; shape: number[] }[];
  onlyInB: { key: string; dtype: string; shape: number[] }[];
  changed: TensorChange[];
  same: number;
}

export function diffCheckpoints(a: CheckpointInfo, b: CheckpointInfo): CheckpointDiff {
  const rowMajor = (info: CheckpointInfo, t: TensorInfo) => (info.shapeOrder === 'ggml' ? [...t.shape].reverse() : t.shape);
  const inB = new Map(b.tensors.map((t) => [t.key, t]));
  const inA = new Set(a.tensors.map((t) => t.key));
  const out: CheckpointDiff = { onlyInA: [], onlyInB: [], changed: [], same: 0 };
  for (const t of a.tensors) {
    const u = inB.get(t.key);
    const sa = rowMajor(a, t);
    if (!u) { out.onlyInA.push({ key: t.key, dtype: t.dtype, shape: sa }); continue; }
    const sb = rowMajor(b, u);
    const sameShape = sa.length === sb.length && sa.every((d, i) => d === sb[i]);
    if (sameShape && t.dtype === u.dtype) { out.same++; continue; }
    const transposed = sa.length === 2 && sb.length === 2 && sa[0] === sb[1] && sa[1] === sb[0] && sa[0] !== sa[1];
    out.changed.push({ key: t.key, before: { dtype: t.dtype, shape: sa }, after: { dtype: u.dtype, shape: sb }, transposed });
  }
  for (const u of b.tensors) if (!inA.has(u.key)) out.onlyInB.push({ key: u.key, dtype: u.dtype, shape: rowMajor(b, u) });
  return out;
}

/** The diff as unified-diff-like text (an editor colours it as `diff`). */
export function formatDiff(aName: string, bName: string, d: CheckpointDiff): string {
  const shape = (s: number[]) => `[${s.join(', ')}]`;
  const lines = [`--- ${aName}`, `+++ ${bName}`,
    `@@ ${count(d.same, 'tensor')} identical in dtype and shape; ${d.changed.length} changed; ${d.onlyInA.length} only in the first; ${d.onlyInB.length} only in the second @@`];
  for (const c of d.changed) {
    lines.push(`- ${c.key}  ${c.before.dtype} ${shape(c.before.shape)}`);
    lines.push(`+ ${c.key}  ${c.after.dtype} ${shape(c.after.shape)}${c.transposed ? '  (transposed)' : ''}`);
  }
  for (const t of d.onlyInA) lines.push(`- ${t.key}  ${t.dtype} ${shape(t.shape)}  (only in ${aName})`);
  for (const t of d.onlyInB) lines.push(`+ ${t.key}  ${t.dtype} ${shape(t.shape)}  (only in ${bName})`);
  return lines.join('\n') + '\n';
}
