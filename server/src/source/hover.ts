/**
 * Hover in a model source file: on `self.q_proj = nn.Linear(…)` (any line that defines tensors),
 * the keys the root model will have for it — layers folded into `{i}` — with shape, dtype and the
 * layout the framework stores them in, and the same keys in any checkpoint the caller passes.
 * The roots are the file's classes that no other class of the file instantiates.
 */
import { table } from '../formats/table';
import { CheckpointInfo, TensorInfo } from '../formats/tensorInfo';
import { lowerFile } from './loadModel';
import { inferModelInfo } from './readModelSource';
import { shapeText } from './sourceTable';

export interface SourceHover {
  markdown: string;
  /** 0-based, end exclusive: the defining call. */
  range: { line: number; column: number; endLine: number; endColumn: number };
}

const LAYOUT_TEXT: Record<string, string> = table({
  out_in: '`[out, in]` (torch `nn.Linear`)',
  in_out: '`[in, out]` (paddle `nn.Linear`, GPT-2 `Conv1D`): a torch `nn.Linear` weight needs a transpose',
  vocab_dim: '`[num_embeddings, dim]`',
});

export interface HoverOptions {
  overlay?: ReadonlyMap<string, string>;
  /** Checkpoints to look the keys up in (the workspace index's entries). */
  checkpoints?: CheckpointInfo[];
}

/** Hover at a 0-based line/column of a .py/.ts/.js file; undefined when nothing there defines a tensor. */
export async function hoverModelSource(file: string, line: number, column: number, opts: HoverOptions = {}): Promise<SourceHover | undefined> {
  const roots = await rootsOf(file, opts.overlay).catch(() => [] as string[]);
  const hits: { root: string; tensors: TensorInfo[] }[] = [];
  for (const root of roots) {
    const info = await inferModelInfo(file, root, { overlay: opts.overlay }).catch(() => undefined);
    if (!info) continue;
    const here = info.tensors.filter((t) => t.definition && t.definition.file === file
      && (t.definition.line === line || (line >= t.definition.line && line <= t.definition.endLine && (line !== t.definition.endLine || column <= t.definition.endColumn))));
    if (here.length) hits.push({ root, tensors: here });
  }
  if (!hits.length) return undefined;
  const def = hits[0].tensors[0].definition!;
  const parts: string[] = [];
  for (const { root, tensors } of hits) {
    parts.push(`**${root}**`, '', '| key | dtype | shape | layout |', '| --- | --- | --- | --- |');
    for (const [pattern, t] of fold(tensors)) {
      const only = t.conditional ? ` (only if ${t.conditional})` : '';
      // transformers saves some tensors under other names (or fused differently): both names are the tensor's.
      const saved = t.checkpointKey ? `<br>saved as \`${t.checkpointKey.replace(/(^|\.)\d+(?=\.|$)/g, '$1#')}\`` : t.checkpointConversion ? `<br>saved as ${t.checkpointConversion.keys.length} tensors (\`${t.checkpointConversion.keys[0].replace(/(^|\.)\d+(?=\.|$)/g, '$1#')}\`…; ${t.checkpointConversion.ops} at load)` : '';
      parts.push(`| \`${pattern}\`${only}${saved} | ${t.dtype} | \`${shapeText(t)}\` | ${t.layoutWhy ? `\`${t.layout === 'out_in' ? '[out, in]' : t.layout === 'in_out' ? '[in, out]' : t.layout}\` (used in ${t.layoutWhy.replace(/\|/g, '\\|')})` : t.layout ? LAYOUT_TEXT[t.layout] ?? `\`${t.layout}\`` : t.buffer ? 'buffer' : ''} |`);
    }
    for (const ck of opts.checkpoints ?? []) {
      const have = new Map(ck.tensors.map((x) => [x.key, x]));
      const nameIn = (t: TensorInfo) => (have.has(t.key) ? t.key : t.checkpointKey && have.has(t.checkpointKey) ? t.checkpointKey : undefined);
      const found = tensors.filter((t) => nameIn(t));
      if (found.length) {
        const t = have.get(nameIn(found[0])!)!;
        parts.push('', `In \`${ck.file}\`: \`${t.key}\` ${t.dtype} \`[${t.shape.join(', ')}]\`${found.length > 1 ? ` (and ${found.length - 1} more)` : ''}`);
      }
    }
    parts.push('');
  }
  return { markdown: parts.join('\n').trim(), range: { line: def.line, column: def.column, endLine: def.endLine, endColumn: def.endColumn } };
}

/** `blocks.0.x`, `blocks.1.x` … → `blocks.{0–11}.x`, keeping the first tensor of each pattern. */
function fold(tensors: TensorInfo[]): [string, TensorInfo][] {
  const groups = new Map<string, { t: TensorInfo; idx: number[][] }>();
  for (const t of tensors) {
    const nums: number[] = [];
    const pattern = t.key.replace(/(^|\.)(\d+)(?=\.|$)/g, (_, dot: string, n: string) => { nums.push(Number(n)); return `${dot}#`; });
    const g = groups.get(pattern);
    if (g) g.idx.push(nums); else groups.set(pattern, { t, idx: [nums] });
  }
  return [...groups].map(([pattern, { t, idx }]) => {
    let k = 0;
    const text = pattern.replace(/#/g, () => {
      const vals = [...new Set(idx.map((n) => n[k]))].sort((a, b) => a - b);
      k++;
      return vals.length === 1 ? String(vals[0]) : `{${vals[0]}–${vals[vals.length - 1]}}`;
    });
    return [text, t];
  });
}

async function rootsOf(file: string, overlay?: ReadonlyMap<string, string>): Promise<string[]> {
  const f = await lowerFile(file, overlay);
  const used = new Set<string>();
  const visit = (x: unknown): void => {
    if (!x || typeof x !== 'object') return;
    if (Array.isArray(x)) { x.forEach(visit); return; }
    const o = x as Record<string, unknown>;
    if (o.k === 'call' && (o.fn as { k?: string; id?: string })?.k === 'name') used.add((o.fn as { id: string }).id);
    for (const v of Object.values(o)) if (typeof v === 'object') visit(v);
  };
  for (const c of f.classes.values()) for (const m of c.methods.values()) visit(m.body);
  // A TF.js model is built by a function (its classes are layers): the functions no other one calls.
  if (f.language === 'ts') {
    for (const fn of f.functions.values()) visit(fn.body);
    const fns = [...f.functions.keys()].filter((n) => !used.has(n));
    if (fns.length) return fns;
  }
  const roots = [...f.classes.keys()].filter((c) => !used.has(c));
  return roots.length ? roots : [...f.classes.keys()];
}
