/**
 * Hover text for a mapping: a key's dtype, shape and file (for a pattern, how many keys it covers); for
 * a rule, the shape after each transform next to the target's; for a transform, what it does; for a
 * `set` line's name, the constructor parameter it binds, with its default.
 */
import { tensorCount } from '../index/tensorColumns';
import { fmtShape, tensorShape } from './diagnostics';
import { expandRule, traceTransforms } from './ruleCheck';
import { Sides } from './sides';
import { SideData, isModelSourceSide } from './sideData';
import { describeLinear, layoutReason, linearLayout } from './layout';
import { Span } from './syntax';
import { locate } from './locate';
import { describeSettable, settableValues } from './setValues';
import { TRANSFORM_DOCS } from './transforms';
import { MappingFile } from './syntax';
import { TensorInfo } from '../formats/tensorInfo';

export interface HoverResult { span: Span; markdown: string }

const side = (s: Sides['source']): SideData | undefined => (s?.ok ? s.side : undefined);

export function hoverAt(file: MappingFile, offset: number, sides: Sides): HoverResult | undefined {
  const at = locate(file, offset);
  const src = side(sides.source);
  const tgt = side(sides.target);
  switch (at.kind) {
    case 'side-path': {
      const s = at.directive.kind === 'source' ? sides.source : sides.target;
      const span = { start: at.directive.path!.start, end: at.directive.className?.end ?? at.directive.path!.end };
      if (!s) return undefined;
      if (!s.ok) return { span, markdown: `**${at.directive.kind}**: cannot be read — ${s.failure.message}` };
      const info = s.side.info;
      return { span, markdown: [`**${at.directive.kind}** \`${s.side.written}\``, '',
        `${info.format}${s.side.framework ? `, ${s.side.framework} layout` : ''} — ${tensorCount(info)} tensors`,
        ...(info.notes.length ? ['', ...info.notes.map((n) => `- ${n}`)] : [])].join('\n') };
    }
    case 'source-key':
    case 'target-key': {
      const data = at.kind === 'source-key' ? src : tgt;
      if (!data) return undefined;
      const lines: string[] = [];
      const isPattern = at.pattern.segments.some((s) => s.kind !== 'literal');
      // The tensor whose layout the hover describes: the key itself, or a pattern's first match.
      let first: TensorInfo | undefined;
      if (isPattern) {
        const matches = data.trie.match(at.pattern.segments);
        first = matches[0] && data.tensors.get(matches[0].key);
        lines.push(`\`${at.pattern.text}\` matches ${matches.length} key${matches.length === 1 ? '' : 's'} of \`${data.written}\``);
        for (const m of matches.slice(0, 4)) lines.push(`- \`${m.key}\` ${describe(data.tensors.get(m.key)!)}`);
        if (matches.length > 4) lines.push(`- … ${matches.length - 4} more`);
      } else {
        const t = data.tensors.get(at.pattern.text);
        if (!t) return { span: at.pattern, markdown: `\`${at.pattern.text}\` is not in \`${data.written}\`` };
        lines.push(`\`${t.key}\` ${describe(t)}`, '', `${at.kind === 'source-key' ? 'source' : 'target'}: \`${data.written}\``);
        first = t;
      }
      if (first) {
        const fromCode = isModelSourceSide(data);
        const layout = linearLayout(first, data.framework, fromCode);
        if (layout) lines.push('', `stored as a Linear weight ${describeLinear(layout)} (${layoutReason(first, data.framework, fromCode)})`);
        else if (fromCode && first.shape.length === 2 && !first.layout) lines.push('', 'layout unknown: nothing in the code says how it is used, so no transpose is checked');
      }
      const flow = ruleFlow(at.rule, src, tgt);
      if (flow) lines.push('', flow);
      return { span: at.pattern, markdown: lines.join('\n') };
    }
    case 'transform': {
      const doc = TRANSFORM_DOCS[at.transform.name.text];
      const lines = [doc ? `**${doc.signature}** — ${doc.doc}` : `unknown transform \`${at.transform.name.text}\``];
      const flow = ruleFlow(at.rule, src, tgt, at.index);
      if (flow) lines.push('', flow);
      return { span: at.transform, markdown: lines.join('\n') };
    }
    case 'none': {
      // `set NAME = …`: the parameter it binds, its default and what the side was built with.
      const item = at.item;
      if (item?.kind !== 'set' || !item.name || offset < item.name.start || offset > item.name.end) return undefined;
      const v = settableValues(sides).find((x) => x.name === item.name!.text);
      return { span: item.name, markdown: v ? `\`${v.name}\`: ${describeSettable(v)}` : `\`${item.name.text}\` is not a constructor parameter or config value the model source uses` };
    }
    default:
      return undefined;
  }
}

function describe(t: TensorInfo): string {
  return `**${t.dtype}** \`${tensorShape(t)}\``;
}

/** The first instance of a rule, step by step: `[768, 3072] → transpose → [3072, 768] (target [3072, 768] ✓)`. */
function ruleFlow(rule: Parameters<typeof expandRule>[0], src?: SideData, tgt?: SideData, highlight?: number): string | undefined {
  if (!src) return undefined;
  const inst = expandRule(rule, src)[0];
  if (!inst) return undefined;
  const tensors = inst.sources.map((k) => src.tensors.get(k));
  if (tensors.some((t) => !t)) return undefined;
  const trace = traceTransforms(rule, tensors as TensorInfo[]);
  const fmt = (ts: { shape: number[]; dtype: string }[]) => ts.map((t) => `${t.dtype} ${fmtShape(t.shape)}`).join(' + ');
  const parts = [fmt(trace.steps[0])];
  rule.transforms.forEach((t, i) => {
    if (i + 1 < trace.steps.length) parts.push(`${i === highlight ? '**' : ''}${t.name.text}${t.parens ? '(…)' : ''}${i === highlight ? '**' : ''} → ${fmt(trace.steps[i + 1])}`);
  });
  if (trace.failure) parts.push(`✗ ${trace.failure}`);
  const target = inst.target ? tgt?.tensors.get(inst.target) : undefined;
  const last = trace.steps[trace.steps.length - 1];
  const ok = target && !trace.failure && last.length === 1 && last[0].dtype === target.dtype && fmtShape(last[0].shape) === fmtShape(target.shape);
  const tail = target ? ` — target \`${target.key}\` ${target.dtype} ${tensorShape(target)} ${ok ? '✓' : '✗'}` : '';
  return `${inst.sources.length > 1 ? 'sources' : `\`${inst.sources[0]}\``}: ${parts.join(' → ')}${tail}`;
}
