/**
 * Hover on a key string in a .py/.ts file (`"cls_token"`, `"blocks.0.norm1.weight"`,
 * `f"blocks.{i}.norm1.weight"`, `"layers.%d.fc1.weight"`, `f"{prefix}encoder.layer.{i}…"`): the tensors
 * it names on each side the caller passes — a conversion script's own source and target, or every
 * checkpoint of the workspace — with dtype, shape and the Linear layout the side stores, `{i}` patterns
 * folded over their layers. A dotted string that names no key is taken as the end of keys
 * (`transpose_keys = ["attn.proj.weight"]`).
 */
import { CheckpointInfo, TensorInfo } from '../formats/tensorInfo';
import { tensorShape } from '../mapping/diagnostics';
import { linearLayout } from '../mapping/layout';
import { Match } from '../mapping/keyTrie';
import { SideData, isModelSourceSide, sideFromInfo } from '../mapping/sideData';
import { Pos } from '../source/ir';
import { KeyLiteral, ScriptScan, contains, isDotted } from './keyLiterals';
import { segmentsOf } from './pairVariants';
import { scanScript } from './scriptPairs';

export interface KeyStringHover {
  markdown: string;
  /** The string literal, prefix and quotes included. */
  range: Pos;
}

/** Where to look a key up: a script's own side (`role`), or any checkpoint of the workspace. */
export interface KeySide { side: SideData; role?: 'source' | 'target' }

/** The workspace's checkpoints as places to look keys up, for a file that names no sides of its own. */
export const checkpointSides = (infos: CheckpointInfo[]): KeySide[] => infos.map((info) => ({ side: sideFromInfo(info, info.file, info.file) }));

/** Rows past this many per checkpoint are counted, not listed. */
const ROWS = 8;

export async function hoverKeyString(path: string, text: string, line: number, character: number, sides: KeySide[]): Promise<KeyStringHover | undefined> {
  if (!sides.length) return undefined;
  const scan = await scanScript(path, text);
  const lit = scan.literals.find((l) => contains(l.pos, line, character));
  if (!lit) return undefined;
  const patterns = readings(lit, scan);
  const rows: string[] = [];
  const titles = new Set<string>();
  for (const { side, role } of sides) {
    const found = lookUp(side, patterns, isDotted(lit));
    if (!found) continue;
    titles.add(found.suffix ? `keys ending in \`${found.pattern}\`` : `\`${found.pattern}\``);
    const groups = fold(found.matches, side.tensors, found.suffix);
    const where = `${role ? `${role} ` : ''}\`${side.written}\``;
    for (const [i, g] of groups.entries()) {
      if (i === ROWS) { rows.push(`| | … ${groups.length - ROWS} more | | | |`); break; }
      const layout = g.tensor.shape.length === 2 ? linearLayout(g.tensor, side.framework, isModelSourceSide(side)) : undefined;
      rows.push(`| ${i === 0 ? where : ''} | \`${g.label}\` | ${g.tensor.dtype} | \`${tensorShape(g.tensor)}\` | ${layout === 'out_in' ? '`[out, in]`' : layout === 'in_out' ? '`[in, out]`' : ''} |`);
    }
  }
  if (!rows.length) return undefined;
  return { markdown: [`**${[...titles].join(' · ')}**`, '', '| checkpoint | key | dtype | shape | Linear layout |', '| --- | --- | --- | --- | --- |', ...rows].join('\n'), range: lit.pos };
}

/**
 * The keys a literal may spell, as the checker reads it: as written, each constant-string prefix
 * variant (`f"{prefix}encoder…"` with `prefix` `""` or `"vit."`), and the list rewrite that strips a
 * prefix from its pair (`pair[1][4:] if pair[1].startswith("vit")`).
 */
function readings(lit: KeyLiteral, scan: ScriptScan): string[] {
  const out = [lit.pattern, ...(lit.variants ?? []).map((v) => v.pattern)];
  for (const rw of scan.rewrites ?? []) {
    for (const pair of scan.pairs) {
      if (pair.group !== rw.group || pair.pos.line >= rw.line) continue;
      const e = [pair.first, pair.second][rw.element];
      if (e.pos.line !== lit.pos.line || e.pos.column !== lit.pos.column) continue;
      for (const p of [...out]) if (p.startsWith(rw.prefix) && p.length > rw.strip) out.push(p.slice(rw.strip));
    }
  }
  return [...new Set(out)];
}

/**
 * The first reading that names keys of the side; failing that, for a dotted key with no captures, the
 * keys that end in it (`transpose_keys = ["attn.proj.weight"]`). A dot-less string (`"cls_token"`)
 * must be a whole key: `"weight"` is not every weight.
 */
function lookUp(side: SideData, patterns: string[], dotted: boolean): { pattern: string; matches: Match[]; suffix: boolean } | undefined {
  for (const pattern of patterns) {
    const matches = side.trie.match(segmentsOf(pattern));
    if (matches.length) return { pattern, matches, suffix: false };
  }
  if (!dotted) return undefined;
  for (const pattern of patterns) {
    if (pattern.includes('{')) continue;
    const matches = side.keys.filter((k) => k.endsWith(`.${pattern}`)).map((key) => ({ key, bindings: {} }));
    if (matches.length) return { pattern, matches, suffix: true };
  }
  return undefined;
}

interface Row { label: string; tensor: TensorInfo }

/**
 * One row per distinct dtype and shape: `blocks.{0–11}.norm1.weight` when the layers agree. Suffix
 * matches fold the numbers in their keys the same way (`blocks.{0–11}.attn.proj.weight`).
 */
function fold(matches: Match[], tensors: ReadonlyMap<string, TensorInfo>, suffix: boolean): Row[] {
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
