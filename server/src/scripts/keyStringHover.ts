/**
 * Hover on a key string in a .py/.ts file (`"blocks.0.norm1.weight"`, `f"blocks.{i}.norm1.weight"`,
 * `"layers.%d.fc1.weight"`): the tensors it names in every checkpoint the caller passes — dtype, shape,
 * and the Linear layout the framework stores — with `{i}` patterns folded over their layers. A string
 * that names no key is taken as the end of keys (`transpose_keys = ["attn.proj.weight"]`).
 */
import { CheckpointInfo, TensorInfo } from '../formats/tensorInfo';
import { linearLayout } from '../mapping/layout';
import { Match } from '../mapping/keyTrie';
import { isModelSourceSide, sideFromInfo } from '../mapping/sideData';
import { Segment } from '../mapping/syntax';
import { Pos } from '../source/ir';
import { contains } from './keyLiterals';
import { scanScript } from './scriptPairs';

export interface KeyStringHover {
  markdown: string;
  /** The string literal, prefix and quotes included. */
  range: Pos;
}

/** Rows past this many per checkpoint are counted, not listed. */
const ROWS = 8;

export async function hoverKeyString(path: string, text: string, line: number, character: number, checkpoints: CheckpointInfo[]): Promise<KeyStringHover | undefined> {
  if (!checkpoints.length) return undefined;
  const scan = await scanScript(path, text);
  const lit = scan.literals.find((l) => contains(l.pos, line, character));
  if (!lit) return undefined;
  const segments: Segment[] = lit.pattern.split('.').map((s) => (/^\{\w+\}$/.test(s) ? { kind: 'capture', name: s.slice(1, -1) } : { kind: 'literal', text: s }));
  const rows: string[] = [];
  let suffixOnly = true;
  for (const info of checkpoints) {
    const side = sideFromInfo(info, info.file, info.file);
    let matches: Match[] = side.trie.match(segments);
    let suffix = false;
    if (!matches.length && segments.every((s) => s.kind === 'literal')) {
      matches = side.keys.filter((k) => k.endsWith(`.${lit.pattern}`)).map((key) => ({ key, bindings: {} }));
      suffix = matches.length > 0;
    }
    if (!matches.length) continue;
    if (!suffix) suffixOnly = false;
    const groups = fold(matches, side.tensors, suffix);
    for (const [i, g] of groups.entries()) {
      if (i === ROWS) { rows.push(`| | … ${groups.length - ROWS} more | | | |`); break; }
      const layout = g.tensor.shape.length === 2 ? linearLayout(g.tensor, side.framework, isModelSourceSide(side)) : undefined;
      rows.push(`| ${i === 0 ? `\`${info.file}\`` : ''} | \`${g.label}\` | ${g.tensor.dtype} | \`[${g.tensor.shape.join(', ')}]\` | ${layout === 'out_in' ? '`[out, in]`' : layout === 'in_out' ? '`[in, out]`' : ''} |`);
    }
  }
  if (!rows.length) return undefined;
  const title = suffixOnly ? `keys ending in \`${lit.pattern}\`` : `\`${lit.pattern}\``;
  return { markdown: [`**${title}**`, '', '| checkpoint | key | dtype | shape | Linear layout |', '| --- | --- | --- | --- | --- |', ...rows].join('\n'), range: lit.pos };
}

interface Row { label: string; tensor: TensorInfo }

/**
 * One row per distinct dtype and shape: `blocks.{0–11}.norm1.weight` when the layers agree. Suffix
 * matches fold the numbers in their keys the same way (`blocks.{0–11}.attn.proj.weight`).
 */
function fold(matches: Match[], tensors: Map<string, TensorInfo>, suffix: boolean): Row[] {
  const groups = new Map<string, { tensor: TensorInfo; keys: string[] }>();
  for (const m of matches) {
    const t = tensors.get(m.key)!;
    const shapeKey = suffix ? `${m.key.replace(/(^|\.)\d+(?=\.|$)/g, '$1#')}|${t.dtype}|${t.shape.join()}` : `${t.dtype}|${t.shape.join()}`;
    const g = groups.get(shapeKey);
    if (g) g.keys.push(m.key); else groups.set(shapeKey, { tensor: t, keys: [m.key] });
  }
  return [...groups.values()].map(({ tensor, keys }) => {
    if (keys.length === 1) return { label: keys[0], tensor };
    // Each numeric segment that varies across the keys becomes the range it takes.
    const parts = keys.map((k) => k.split('.'));
    const label = parts[0].map((seg, i) => {
      const vals = [...new Set(parts.map((p) => p[i]))];
      if (vals.length === 1) return seg;
      const nums = vals.map(Number).sort((a, b) => a - b);
      const contiguous = nums.every((n, j) => j === 0 || n === nums[j - 1] + 1);
      return contiguous ? `{${nums[0]}–${nums[nums.length - 1]}}` : `{${nums.join(',')}}`;
    }).join('.');
    return { label, tensor };
  });
}
