/**
 * LLaMA's rotary embedding pairs dimensions differently in Meta's checkpoints (interleaved) and in
 * HF's (halves, `rotate_half`), so HF's conversion script permutes the rows of `wq` and `wk`; GGUF is
 * interleaved too (llama.cpp's convert_hf_to_gguf.py permutes HF's rows back). Keys and shapes alone
 * pair HF `q_proj` with Meta `wq` — and the port would compute garbage. The permutation needs the head
 * count: HF `config.json` or Meta `params.json` beside either checkpoint, or a GGUF's own metadata.
 * The auto-mapper writes it (automap/rotary.ts); the analysis flags a rule that lacks it.
 */
import * as path from 'node:path';
import { byConfig, readConfigFile } from './sideConfig';
import { SideData } from './sideData';

const HF = /(^|\.)self_attn\.(q|k)_proj\.weight$/;
/** Interleaved layouts: Meta's `attention.wq/wk`, llama.cpp's `blk.N.attn_q/attn_k`. */
const META = /(^|\.)attention\.w(q|k)\.weight$|(^|\.)blk\.\d+\.attn_(q|k)\.weight$/;

export type RotaryDirection = 'hf-to-meta' | 'meta-to-hf';

export interface Heads { heads: number; kvHeads: number; from: string }

/** Whether a source → target pairing crosses between the two row orders of LLaMA's q/k. */
export function rotaryDirection(source: string, target: string): RotaryDirection | undefined {
  if (HF.test(source) && META.test(target)) return 'hf-to-meta';
  if (META.test(source) && HF.test(target)) return 'meta-to-hf';
  return undefined;
}

export function isKeyRows(key: string): boolean {
  return /(k_proj|wk|attn_k)\.weight$/.test(key);
}

/** The head counts, from either side (a GGUF's metadata first, then config.json / params.json). */
export function rotaryHeads(src: SideData, tgt: SideData): Heads | undefined {
  return headsOf(src) ?? headsOf(tgt);
}

const headsOf = byConfig((side: SideData): Heads | undefined => ggufHeads(side) ?? configHeads(side));

/** The transforms that reorder the rows, or why they cannot be written. */
export function rotaryTransforms(shape: readonly number[], h: Heads, dir: RotaryDirection, isK: boolean): { transforms: string[] } | { why: string } {
  const n = isK ? h.kvHeads : h.heads;
  if (shape.length !== 2) return { why: `the weight is ${shape.length}-D, not a [rows, dim] matrix` };
  const [rows, dim] = shape;
  if (rows % (2 * n) !== 0) return { why: `${h.from} gives ${n} heads, which do not divide the ${rows} rows of this weight in pairs` };
  const half = rows / n / 2;
  // HF → Meta undoes HF's permute: view(n, 2, half, dim) → transpose(1, 2); Meta → HF applies it: view(n, half, 2, dim) → transpose(1, 2).
  const view = dir === 'hf-to-meta' ? `reshape(${n}, 2, ${half}, ${dim})` : `reshape(${n}, ${half}, 2, ${dim})`;
  return { transforms: [view, 'permute(0, 2, 1, 3)', `reshape(${rows}, ${dim})`] };
}

function configHeads(side: SideData): Heads | undefined {
  const dir = path.dirname(side.path);
  for (const [file, h, kv] of [['config.json', 'num_attention_heads', 'num_key_value_heads'], ['params.json', 'n_heads', 'n_kv_heads']] as const) {
    const json = readConfigFile(side, file);
    if (!json) continue;
    const n = json[h];
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) continue;
    const kvHeads = typeof json[kv] === 'number' ? (json[kv] as number) : n;
    return { heads: n, kvHeads, from: path.join(path.basename(dir), file) };
  }
  return undefined;
}

/** A GGUF states its head counts itself: `<architecture>.attention.head_count` and `head_count_kv`. */
function ggufHeads(side: SideData): Heads | undefined {
  const m = side.info.format === 'gguf' ? side.info.metadata : undefined;
  const arch = m?.['general.architecture'];
  if (!m || !arch) return undefined;
  const n = Number(m[`${arch}.attention.head_count`]);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  const kv = Number(m[`${arch}.attention.head_count_kv`] ?? n);
  return { heads: n, kvHeads: Number.isInteger(kv) && kv > 0 ? kv : n, from: `${path.basename(side.path)} metadata` };
}
