/**
 * LLaMA's rotary embedding pairs dimensions differently in Meta's checkpoints (interleaved) and in
 * HF's (halves, `rotate_half`), so HF's conversion script permutes the rows of `wq` and `wk`. Keys and
 * shapes alone pair HF `q_proj` with Meta `wq` correctly — and the port would still compute garbage.
 * GGUF is interleaved too (llama.cpp's convert_hf_to_gguf.py permutes HF's rows back). With the head
 * count (HF `config.json` or Meta `params.json` beside either checkpoint, or a GGUF's own metadata) the
 * rule gets the permutation as transforms; without it the rule says what is missing.
 */
import * as path from 'node:path';
import { readRegularFileSync } from '../../formats/openRegular';
import { SideData } from '../sides';
import { ProposedRule } from './propose';

const HF = /(^|\.)self_attn\.(q|k)_proj\.weight$/;
/** Interleaved layouts: Meta's `attention.wq/wk`, llama.cpp's `blk.N.attn_q/attn_k`. */
const META = /(^|\.)attention\.w(q|k)\.weight$|(^|\.)blk\.\d+\.attn_(q|k)\.weight$/;

interface Heads { heads: number; kvHeads: number; from: string }

export function applyRotaryPermutation(rules: ProposedRule[], src: SideData, tgt: SideData): void {
  let heads: Heads | undefined | null = null; // null: not looked up yet
  for (const r of rules) {
    if (r.sources.length !== 1) continue;
    const s = r.sources[0];
    const hfToMeta = HF.test(s) && META.test(r.target);
    const metaToHf = META.test(s) && HF.test(r.target);
    if (!hfToMeta && !metaToHf) continue;
    if (heads === null) heads = headCount(src) ?? headCount(tgt);
    const isK = /(k_proj|wk|attn_k)\.weight$/.test(s);
    const shape = src.tensors.get(s)?.shape;
    if (!heads || !shape || shape.length !== 2) {
      r.confidence = Math.min(r.confidence, 0.5);
      r.note = 'LLaMA q/k rows need the rotary permutation: put config.json (HF) or params.json (Meta) with the head count beside a checkpoint';
      continue;
    }
    const n = isK ? heads.kvHeads : heads.heads;
    const [rows, dim] = shape;
    if (rows % (2 * n) !== 0) {
      r.confidence = Math.min(r.confidence, 0.5);
      r.note = `${heads.from} gives ${n} heads, which do not divide the ${rows} rows of this weight in pairs`;
      continue;
    }
    const half = rows / n / 2;
    // HF → Meta undoes HF's permute: view(n, 2, half, dim) → transpose(1, 2); Meta → HF applies it: view(n, half, 2, dim) → transpose(1, 2).
    const view = hfToMeta ? `reshape(${n}, 2, ${half}, ${dim})` : `reshape(${n}, ${half}, 2, ${dim})`;
    r.transforms = [view, 'permute(0, 2, 1, 3)', `reshape(${rows}, ${dim})`, ...r.transforms];
    r.note = `rotary permutation of LLaMA's ${isK ? 'k' : 'q'} rows (${n} head${n === 1 ? '' : 's'}, from ${heads.from})`;
  }
}

function headCount(side: SideData): Heads | undefined {
  const fromGguf = ggufHeads(side);
  if (fromGguf) return fromGguf;
  const dir = path.dirname(side.path);
  for (const [file, h, kv] of [['config.json', 'num_attention_heads', 'num_key_value_heads'], ['params.json', 'n_heads', 'n_kv_heads']] as const) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readRegularFileSync(path.join(dir, file), 'a config file').toString('utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    const heads = json[h];
    if (typeof heads !== 'number' || !Number.isInteger(heads) || heads <= 0) continue;
    const kvHeads = typeof json[kv] === 'number' ? (json[kv] as number) : heads;
    return { heads, kvHeads, from: path.join(path.basename(dir), file) };
  }
  return undefined;
}

/** A GGUF states its head counts itself: `<architecture>.attention.head_count` and `head_count_kv`. */
function ggufHeads(side: SideData): Heads | undefined {
  const m = side.info.format === 'gguf' ? side.info.metadata : undefined;
  const arch = m?.['general.architecture'];
  if (!m || !arch) return undefined;
  const heads = Number(m[`${arch}.attention.head_count`]);
  if (!Number.isInteger(heads) || heads <= 0) return undefined;
  const kv = Number(m[`${arch}.attention.head_count_kv`] ?? heads);
  return { heads, kvHeads: Number.isInteger(kv) && kv > 0 ? kv : heads, from: `${path.basename(side.path)} metadata` };
}
