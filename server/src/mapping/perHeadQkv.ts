/**
 * Fused q/k/v projections stored per head. GPT-NeoX (Pythia), BLOOM and Persimmon keep one
 * `query_key_value` matrix [3·H·D, C] whose rows run head by head — each head's q, then its k, then its
 * v (HF: `qkv.view(..., H, 3*D)`). A plain `chunk(3, k)` takes the rows of a third of the *heads*, all
 * three kinds mixed, and every shape still fits: only the numbers show it. The right split is
 * `reshape(H, 3, D, C) | chunk(3, k, 1) | reshape(H·D, C)`, and the head count comes from config.json.
 * The auto-mapper writes that split, and the analysis flags the plain chunk (or `cat` into such a
 * target) with the fix.
 */
import { table } from '../formats/table';
import { byConfig, readConfigFile } from './sideConfig';
import { SideData } from './sideData';

export interface PerHeadLayout {
  /** The architecture, as messages name it. */
  model: string;
  /** From config.json; undefined when only the key names said what the model is. */
  heads?: number;
  /** Where the layout was read: `config.json`, or `key names`. */
  from: string;
}

export const FUSED_QKV_KEY = /(^|\.)query_key_value\.(weight|bias)$/;

const PER_HEAD_MODELS: Record<string, string> = table({ gpt_neox: 'GPT-NeoX', gpt_neox_japanese: 'GPT-NeoX', bloom: 'BLOOM', persimmon: 'Persimmon' });

/** The side's per-head fused layout, or undefined when its fused projections (if any) are not per head. */
export const perHeadLayout: (side: SideData) => PerHeadLayout | undefined = byConfig(detect);

function detect(side: SideData): PerHeadLayout | undefined {
  if (side.info.format === 'python-source' || side.info.format === 'ts-source') return undefined;
  const fused = side.keys.some((k) => FUSED_QKV_KEY.test(k));
  if (!fused) return undefined;
  const config = readConfigFile(side, 'config.json');
  if (config) {
    const model = typeof config.model_type === 'string' ? PER_HEAD_MODELS[config.model_type] : undefined;
    if (!model) return undefined;   // a config that names another architecture (Falcon, ChatGLM) has its own layout
    const heads = [config.num_attention_heads, config.n_head].find((h): h is number => typeof h === 'number' && Number.isInteger(h) && h > 0);
    return { model, heads, from: 'config.json' };
  }
  if (side.keys.some((k) => k.startsWith('gpt_neox.'))) return { model: 'GPT-NeoX', from: 'key names' };
  if (side.keys.some((k) => /(^|\.)self_attention\.query_key_value\./.test(k)) && side.keys.some((k) => k.includes('word_embeddings_layernorm'))) {
    return { model: 'BLOOM', from: 'key names' };
  }
  return undefined;
}

/** The transforms that take part k of a per-head fused tensor of `shape` ([3·H·D, C] or [3·H·D]). */
export function perHeadSplit(shape: readonly number[], heads: number, k: number): string[] | undefined {
  const rows = shape[0];
  if (shape.length < 1 || shape.length > 2 || rows % (3 * heads) !== 0) return undefined;
  const d = rows / 3 / heads;
  const rest = shape.slice(1);
  return [`reshape(${[heads, 3, d, ...rest].join(', ')})`, `chunk(3, ${k}, 1)`, `reshape(${[heads * d, ...rest].join(', ')})`];
}

/** The transforms that interleave separate q, k and v of `partShape` ([H·D, C] or [H·D]) per head. */
export function perHeadJoin(partShape: readonly number[], heads: number, parts: number): string[] | undefined {
  const rows = partShape[0];
  if (partShape.length < 1 || partShape.length > 2 || rows % heads !== 0) return undefined;
  const d = rows / heads;
  const rest = partShape.slice(1);
  return [`reshape(${[heads, 1, d, ...rest].join(', ')})`, 'cat(1)', `reshape(${[parts * heads * d, ...rest].join(', ')})`];
}
