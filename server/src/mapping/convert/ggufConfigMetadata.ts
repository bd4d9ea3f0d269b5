/**
 * GGUF architecture metadata built from a Hugging Face `config.json` (`--metadata-from config.json`),
 * the keys llama.cpp's `convert_hf_to_gguf.py` writes for the decoder families it maps to one
 * architecture — `general.architecture`, `general.name`, `{arch}.context_length`, `.embedding_length`,
 * `.feed_forward_length`, `.block_count`, `.attention.head_count(_kv)`, `.rope.freq_base`,
 * `.rope.dimension_count`, the norm epsilon, `.vocab_size`, and for mixtures of experts
 * `.expert_count`/`.expert_used_count` — with its value types (uint32 counts, float32 reals). A tokenizer
 * is not in config.json: a file llama.cpp can run also needs `tokenizer.ggml.*`, which
 * `--metadata-from FILE.gguf` carries over.
 */
import { GgufMetadata, ggufString } from './ggufLayout';

/** config.json's `model_type` → llama.cpp's architecture name (Mistral and Mixtral run as `llama`). */
const ARCH: Readonly<Record<string, string>> = {
  llama: 'llama', mistral: 'llama', mixtral: 'llama', qwen2: 'qwen2', qwen3: 'qwen3', gemma: 'gemma', gemma2: 'gemma2',
  phi3: 'phi3', starcoder2: 'starcoder2', gpt2: 'gpt2', gpt_neox: 'gptneox', falcon: 'falcon', bloom: 'bloom',
};

/** Families whose norms are RMSNorm (the key says so); the others use LayerNorm's epsilon key. */
const RMS = new Set(['llama', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'phi3']);

const UINT32 = 4;
const FLOAT32 = 6;
const STRING = 8;

type Entry = [key: string, type: number, value: number | string];

export function ggufMetadataFromConfig(config: Record<string, unknown>, name: string): GgufMetadata | { problem: string } {
  const modelType = typeof config.model_type === 'string' ? config.model_type : undefined;
  const arch = modelType ? ARCH[modelType] : undefined;
  if (!arch) return { problem: `model_type ${modelType === undefined ? 'is missing' : `"${modelType}"`}: architecture keys are built for ${Object.keys(ARCH).join(', ')}` };
  const num = (...keys: string[]) => { for (const k of keys) if (typeof config[k] === 'number') return config[k] as number; return undefined; };
  const heads = num('num_attention_heads', 'n_head');
  const hidden = num('hidden_size', 'n_embd');
  const entries: Entry[] = [
    ['general.architecture', STRING, arch],
    ['general.name', STRING, name],
  ];
  const u32 = (key: string, v: number | undefined) => { if (v !== undefined && Number.isInteger(v) && v >= 0) entries.push([`${arch}.${key}`, UINT32, v]); };
  const f32 = (key: string, v: number | undefined) => { if (v !== undefined) entries.push([`${arch}.${key}`, FLOAT32, v]); };
  u32('context_length', num('max_position_embeddings', 'n_positions', 'n_ctx'));
  u32('embedding_length', hidden);
  u32('feed_forward_length', num('intermediate_size', 'n_inner') ?? (hidden !== undefined ? 4 * hidden : undefined));
  u32('block_count', num('num_hidden_layers', 'n_layer'));
  u32('attention.head_count', heads);
  u32('attention.head_count_kv', num('num_key_value_heads') ?? heads);
  // transformers 5 keeps it under `rope_parameters`; 4.x at the top level.
  const rope = config.rope_parameters as Record<string, unknown> | undefined;
  f32('rope.freq_base', num('rope_theta') ?? (typeof rope?.rope_theta === 'number' ? rope.rope_theta : undefined));
  const headDim = num('head_dim') ?? (hidden !== undefined && heads ? hidden / heads : undefined);
  if (RMS.has(arch)) u32('rope.dimension_count', headDim);
  if (RMS.has(arch)) f32('attention.layer_norm_rms_epsilon', num('rms_norm_eps'));
  else f32('attention.layer_norm_epsilon', num('layer_norm_epsilon', 'layer_norm_eps'));
  u32('vocab_size', num('vocab_size'));
  u32('expert_count', num('num_local_experts', 'num_experts'));
  u32('expert_used_count', num('num_experts_per_tok'));
  return { bytes: Buffer.concat(entries.map(encode)), count: entries.length, alignment: 32 };
}

function encode([key, type, value]: Entry): Buffer {
  const t = Buffer.alloc(4);
  t.writeUInt32LE(type);
  if (type === STRING) return Buffer.concat([ggufString(key), t, ggufString(String(value))]);
  const v = Buffer.alloc(4);
  if (type === UINT32) v.writeUInt32LE(value as number);
  else v.writeFloatLE(value as number);
  return Buffer.concat([ggufString(key), t, v]);
}
