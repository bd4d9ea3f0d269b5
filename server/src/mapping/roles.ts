/**
 * What a tensor *is* in its block, read from its key: attention q/k/v/o, the two MLP matrices, the
 * norms in block order, weight vs bias, the layer index. One synonym table serves both the
 * `suspicious-pairing` check and the auto-mapper, and covers the naming of HF BERT/ViT/CLIP/T5/GPT-2/
 * LLaMA/GPT-NeoX/BLOOM/Falcon/GPT-J/Phi/MPT/Baichuan, Meta LLaMA, llama.cpp's GGUF, PaddleNLP and timm.
 */
import { table } from '../formats/table';
import { kerasNamedKey } from './kerasVars';
import { splitKey } from './keySegments';
import { fillShape, nthNumber, NumberShapes } from './numberShapes';

export type Role = 'q' | 'k' | 'v' | 'o' | 'qkv' | 'kv' | 'ffn_in' | 'ffn_gate' | 'ffn_out' | 'norm' | 'embed' | 'pos_embed' | 'patch' | 'cls' | 'dist' | 'head';

export interface KeyRole {
  role?: Role;
  /** 1 for a block's first norm, 2 for its second (pre- or post-norm alike: order within the block). */
  normOrder?: 1 | 2;
  /** `weight`, `bias`, or another parameter name (`running_mean`, `scale`, …). */
  param?: string;
  /** The first integer segment: the layer index in a repeated block. */
  layer?: number;
  /**
   * The role was inferred from a module's position, not a word that names it (`output.dense` under
   * `attention`, `c_proj` under `attn`, a Flax `out`): weaker evidence, so a disagreement stays a warning.
   */
  guessed?: boolean;
}

/** Segment (lower-cased) → role; checked from the last segment backwards so `attention.output.dense` is `o`. */
const SEGMENT_ROLE: Record<string, Role> = table({
  query: 'q', q: 'q', q_proj: 'q', wq: 'q', q_lin: 'q', to_q: 'q', attn_q: 'q',
  key: 'k', k: 'k', k_proj: 'k', wk: 'k', k_lin: 'k', to_k: 'k', attn_k: 'k',
  value: 'v', v: 'v', v_proj: 'v', wv: 'v', v_lin: 'v', to_v: 'v', attn_v: 'v',
  out_proj: 'o', o_proj: 'o', o: 'o', wo_attn: 'o', out_lin: 'o', to_out: 'o', c_proj_attn: 'o', attn_output: 'o',
  qkv: 'qkv', qkv_proj: 'qkv', c_attn: 'qkv', in_proj: 'qkv', query_key_value: 'qkv', wqkv: 'qkv', w_pack: 'qkv', attn_qkv: 'qkv', kv: 'kv',
  intermediate: 'ffn_in', fc1: 'ffn_in', wi: 'ffn_in', wi_0: 'ffn_gate', wi_1: 'ffn_in', up_proj: 'ffn_in', w3: 'ffn_in', linear1: 'ffn_in', c_fc: 'ffn_in', lin1: 'ffn_in', up: 'ffn_in', dense_h_to_4h: 'ffn_in', fc_in: 'ffn_in', ffn_up: 'ffn_in', mlp_in: 'ffn_in',
  gate_proj: 'ffn_gate', w1: 'ffn_gate', gate: 'ffn_gate', ffn_gate: 'ffn_gate',
  fc2: 'ffn_out', wo: 'ffn_out', down_proj: 'ffn_out', w2: 'ffn_out', linear2: 'ffn_out', lin2: 'ffn_out', down: 'ffn_out', dense_4h_to_h: 'ffn_out', fc_out: 'ffn_out', ffn_down: 'ffn_out', mlp_out: 'ffn_out',
  word_embeddings: 'embed', embed_tokens: 'embed', tok_embeddings: 'embed', wte: 'embed', shared: 'embed', token_embedding: 'embed', embed_in: 'embed', token_embd: 'embed',
  position_embeddings: 'pos_embed', position_embedding: 'pos_embed', wpe: 'pos_embed', pos_embed: 'pos_embed', embed_positions: 'pos_embed', position_embd: 'pos_embed',
  patch_embeddings: 'patch', patch_embedding: 'patch', patch_embed: 'patch',
  cls_token: 'cls', class_embedding: 'cls',
  // DeiT's second token (HF `distillation_token`, PaddleClas/timm `dist_token`).
  distillation_token: 'dist', dist_token: 'dist',
  lm_head: 'head', classifier: 'head', head: 'head', embed_out: 'head',
});

/**
 * Embedding tables under spellings the table above does not list: PaddleNLP's CLIP says
 * `positional_embedding`, others `pos_embedding`, `token_embeddings`, `word_emb`. Checked after the table.
 */
const EMBEDDING_SPELLINGS: [RegExp, Role][] = [
  [/^pos(ition(al)?)?_?(emb|embd|embed|embeds|embedding|embeddings)$/, 'pos_embed'],
  [/^(tok(en)?|word)s?_?(emb|embd|embed|embeds|embedding|embeddings)$/, 'embed'],
];

/** Norm names that say their order in the block. */
const NORM_ORDER: Record<string, 1 | 2> = table({
  norm1: 1, layer_norm1: 1, layernorm_before: 1, ln_1: 1, ln1: 1, input_layernorm: 1, attention_norm: 1, attn_norm: 1, self_attn_layer_norm: 1, norm_1: 1, ln_attn: 1,
  norm2: 2, layer_norm2: 2, layernorm_after: 2, ln_2: 2, ln2: 2, post_attention_layernorm: 2, ffn_norm: 2, final_layer_norm_block: 2, norm_2: 2, mlp_norm: 2, ln_mlp: 2,
});

const ATTENTION = new Set(['attention', 'self_attention', 'attn', 'self_attn']);

const NORM_WORDS = /^(layernorm|layer_norm|ln|norm|ln_f|final_layer_norm|final_layernorm|output_norm|post_layernorm|pre_layrnorm|pre_layernorm|rmsnorm|batchnorm|bn|groupnorm|gn|encoder_norm|decoder_norm)\d*$|^(layer|batch|group|rms)_normalization(_\d+)?$/;

/**
 * Roles depend on the key alone and every analysis asks for the same keys again (5,000 rules × 2 keys
 * on each pass): remembered, bounded so a stream of distinct keys cannot grow it without end.
 *
 * Keys with whole-number segments (`layers.17.mlp.weight`) are remembered by their shape instead
 * (`layers.#.mlp.weight`): a number segment reaches a role only as the layer index (the first one) or as
 * "a layer index is here", never by its value otherwise, so one shape holds for every layer. Per key, two
 * 100,000-key sides held a 200,000-entry Map (7 MiB) for a few hundred shapes; keyed by shape, the memo
 * stays small (numberShapes.ts). A key ending in a number (`history.0`: its `param`) and a Keras `vars/N`
 * key (its number names the parameter) are remembered per key.
 */
const roleMemo = new Map<string, Readonly<KeyRole>>();
const ROLE_MEMO_MAX = 500_000;
/** A shape's role, and which of its number segments (by position among them) gives the layer, or -1. */
const shapeMemo = new NumberShapes<ShapeRole>();

interface ShapeRole {
  role: Readonly<KeyRole>;
  layerFrom: number;
  /** The role with each layer index seen, made once. */
  byLayer: Readonly<KeyRole>[];
}

/**
 * Equal roles as one object: 100,000 keys of a side have a few thousand distinct roles (a layer
 * index times a parameter), so the memo holds an entry per key, not an object per key (~100 bytes each).
 */
const distinctRoles = new Map<string, Readonly<KeyRole>>();

export function keyRole(key: string): Readonly<KeyRole> {
  let r = roleMemo.get(key);
  if (r !== undefined) return r;
  if (roleMemo.size + shapeMemo.size >= ROLE_MEMO_MAX) {
    roleMemo.clear();
    shapeMemo.clear();
    distinctRoles.clear();
    shapedByKey = 0;
  }
  const known = key.includes('/vars/') ? undefined : shapeMemo.get(key, probeShape);
  if (known === undefined) {
    roleMemo.set(key, r = shared(computeKeyRole(key)));
    return r;
  }
  const layer = known.layerFrom < 0 ? -1 : nthNumber(key, known.layerFrom);
  r = layer < 0 ? known.role : (known.byLayer[layer] ??= shared({ ...known.role, layer }));
  // The first keys asked for are also remembered by themselves (a Map hit, ~75 ns, against ~500 for walking the
  // key for its shape): a 5,000-rule mapping's 10,000 keys all are; a side of 100,000 costs no more than this.
  if (shapedByKey < SHAPED_BY_KEY_MAX) {
    shapedByKey++;
    roleMemo.set(key, r);
  }
  return r;
}

/** Keys with a shape that are also remembered by key, at most (~0.6 MiB of Map). */
const SHAPED_BY_KEY_MAX = 16_384;
let shapedByKey = 0;

function shared(c: KeyRole): Readonly<KeyRole> {
  const id = `${c.role ?? ''}|${c.normOrder ?? ''}|${c.param ?? ''}|${c.layer ?? ''}|${c.guessed ?? ''}`;
  let r = distinctRoles.get(id);
  if (r === undefined) distinctRoles.set(id, r = Object.freeze(c));
  return r;
}

/** Values no real layer index has, one per number segment, so the probe says which one the layer came from. */
const PROBE_BASE = 1_000_000_001;

function probeShape(shape: string, count: number): ShapeRole {
  const role = computeKeyRole(fillShape(shape, (j) => String(PROBE_BASE + j)));
  const layerFrom = role.layer !== undefined && role.layer >= PROBE_BASE && role.layer < PROBE_BASE + count ? role.layer - PROBE_BASE : -1;
  if (layerFrom < 0) return { role: shared(role), layerFrom, byLayer: [] };
  const rest = { ...role };
  delete rest.layer;
  return { role: rest, layerFrom, byLayer: [] };
}

/** The role computed directly, without the memo (the property test holds the memo to it). */
export function keyRoleUncached(key: string): KeyRole {
  return computeKeyRole(key);
}

function computeKeyRole(key: string): KeyRole {
  const segs = roleSegments(key);
  const out: KeyRole = {};
  const last = segs[segs.length - 1];
  const body = segs.length > 1 ? segs.slice(0, -1) : segs;
  if (segs.length > 1) out.param = last;
  for (const s of segs) {
    const n = layerIndex(s);
    if (n !== undefined) { out.layer = n; break; }
  }
  // A parameter that is its own module (`patch_embed.cls_token`, `embeddings.position_embeddings`) plays
  // the role its own name says before any its container's name says.
  if (segs.length > 1 && !isWeightOrBias(last)) {
    const leaf = computeKeyRole(`${last}.weight`);
    if (leaf.role) return { ...out, role: leaf.role, ...(leaf.normOrder ? { normOrder: leaf.normOrder } : {}) };
  }
  const lower = body.map((s) => s.toLowerCase());
  for (let i = lower.length - 1; i >= 0; i--) {
    const s = lower[i];
    const flax = flaxRole(lower, i);
    if (flax) return { ...out, ...flax };
    const order = NORM_ORDER[s];
    if (order) { out.role = 'norm'; out.normOrder = order; return out; }
    if (NORM_WORDS.test(s)) {
      out.role = 'norm';
      out.normOrder = bertNormOrder(lower, i);
      return out;
    }
    if (s === 'dense' || s === 'proj' || s === 'c_proj' || s === 'output' || s === 'self' || ATTENTION.has(s) || FLAX_ATTENTION.test(s) || s === 'mlp' || s === 'projection') continue;
    // T5 and Meta LLaMA both say `wo`: the attention's output under `attention`/`SelfAttention`, else the MLP's.
    if (s === 'wo') { out.role = lower.slice(0, i).some((x) => x.includes('attention')) ? 'o' : 'ffn_out'; return out; }
    const r = SEGMENT_ROLE[s] ?? EMBEDDING_SPELLINGS.find(([re]) => re.test(s))?.[1];
    if (r) { out.role = r; return out; }
  }
  // BERT/ViT spell the attention output and the MLP output by position: attention.output.dense vs output.dense.
  const dense = lower.lastIndexOf('dense');
  out.guessed = true;
  if (dense > 0 && lower[dense - 1] === 'output') out.role = lower.slice(0, dense - 1).some((s) => s === 'attention') ? 'o' : 'ffn_out';
  // GPT-NeoX, BLOOM, Falcon and Phi name the attention's output projection `attention.dense` / `self_attention.dense` / `self_attn.dense`.
  else if (dense > 0 && dense === lower.length - 1 && ATTENTION.has(lower[dense - 1])) out.role = 'o';
  else if (lower.at(-1) === 'c_proj') out.role = lower.includes('attn') ? 'o' : lower.includes('mlp') ? 'ffn_out' : undefined;
  else if (lower.at(-1) === 'proj' && lower.includes('attn')) out.role = 'o';
  // Flax-style ports: the attention's output projection is its `out`.
  else if (lower.at(-1) === 'out' && lower.slice(0, -1).some((s) => ATTENTION.has(s) || FLAX_ATTENTION.test(s))) out.role = 'o';
  // Meta LLaMA calls its LM head a top-level `output` (`output.weight`); nested `output`s are BERT's blocks.
  else if (lower.length === 1 && lower[0] === 'output' && segs.length === 2) out.role = 'head';
  if (!out.role) delete out.guessed;
  return out;
}

/**
 * A key's segments as roles read them: split at `.` and `/` (TF, Keras, big_vision `.npz`), without a TF2
 * object-graph name's `.ATTRIBUTES/VARIABLE_VALUE` tail or a TF variable's `:0`, a Keras 3 `vars/N` read
 * as the parameter it is (kerasVars.ts).
 */
function roleSegments(key: string): string[] {
  return splitKey(kerasNamedKey(key.replace(/\/\.ATTRIBUTES\/VARIABLE_VALUE$/, '').replace(/:\d+$/, ''))).map((s) => s.text);
}

/**
 * A repeated block's index: a whole integer segment (`layer.3`), or the number of a block named with it
 * (TF BERT's `layer_3`, big_vision's `encoderblock_3`, HF TF's `layer_._3`). A Flax auto-name (`Dense_1`,
 * `LayerNorm_0`) is no layer index: it numbers modules of different kinds inside one block.
 */
export function layerIndex(seg: string): number | undefined {
  if (/^\d+$/.test(seg)) return Number(seg);
  const m = /^(?:\w*block|layers?|blocks?|h)_(?:\._)?(\d+)$/i.exec(seg);
  return m ? Number(m[1]) : undefined;
}

/** Flax modules named by class and position: `MultiHeadDotProductAttention_0`, `MlpBlock_0/Dense_0`, `LayerNorm_1`. */
const FLAX_ATTENTION = /^multiheaddotproductattention(_\d+)?$/;

/**
 * Roles of Flax auto-named modules in a block, as big_vision's ViT and google-research/vision_transformer
 * name them (transformers' convert_siglip_to_hf.py and convert_vit_timm_to_pytorch.py read them the same
 * way): the MLP's `Dense_0` is its input and `Dense_1` its output, `LayerNorm_0` the block's first norm and
 * `LayerNorm_1` (big_vision) or `LayerNorm_2` (the original ViT) its second.
 */
function flaxRole(lower: string[], i: number): Pick<KeyRole, 'role' | 'normOrder'> | undefined {
  const s = lower[i];
  const dense = /^dense_(\d+)$/.exec(s);
  if (dense && i > 0 && /^mlpblock(_\d+)?$/.test(lower[i - 1])) return dense[1] === '0' ? { role: 'ffn_in' } : dense[1] === '1' ? { role: 'ffn_out' } : undefined;
  const norm = /^layernorm_(\d+)$/.exec(s);
  if (norm && i > 0 && layerIndex(lower[i - 1]) !== undefined) return { role: 'norm', normOrder: norm[1] === '0' ? 1 : 2 };
  return undefined;
}

/** BERT's `attention.output.LayerNorm` is the block's first norm, `output.LayerNorm` its second. */
function bertNormOrder(lower: string[], i: number): 1 | 2 | undefined {
  if (i === 0 || lower[i - 1] !== 'output') return undefined;
  return lower.slice(0, i - 1).includes('attention') ? 1 : 2;
}

/** Why two keys' roles disagree, or undefined when nothing known disagrees. */
export function roleConflict(source: string, target: string): string | undefined {
  return keyRoleConflict(keyRole(source), keyRole(target));
}

/** roleConflict on roles already read (the auto-mapper compares each key with many). */
export function keyRoleConflict(a: KeyRole, b: KeyRole): string | undefined {
  if (a.param && b.param && isWeightOrBias(a.param) && isWeightOrBias(b.param) && isBias(a.param) !== isBias(b.param)) return `a ${a.param} is mapped to a ${b.param}`;
  if (a.role && b.role && a.role !== b.role && !compatibleRoles(a.role, b.role)) return `${describe(a)} is mapped to ${describe(b)}`;
  if (a.role === 'norm' && b.role === 'norm' && a.normOrder && b.normOrder && a.normOrder !== b.normOrder) {
    return `the block's ${ordinal(a.normOrder)} norm is mapped to its ${ordinal(b.normOrder)}`;
  }
  return undefined;
}

function isWeightOrBias(p: string): boolean {
  return p === 'weight' || p === 'bias' || p === 'kernel' || p === 'gamma' || p === 'beta';
}

/** Flax's `kernel`, Keras' `gamma` and torch's `weight` are one thing under three names; `beta` is a `bias`. */
function isBias(p: string): boolean {
  return p === 'bias' || p === 'beta';
}

/** Fused and split forms are not a disagreement: cat/chunk rules carry them. */
function compatibleRoles(a: Role, b: Role): boolean {
  const fused = (x: Role) => x === 'qkv' || x === 'kv';
  if (fused(a) && (b === 'q' || b === 'k' || b === 'v' || fused(b))) return true;
  return fused(b) && (a === 'q' || a === 'k' || a === 'v');
}

const ROLE_WORDS: Record<Role, string> = {
  q: 'the attention query', k: 'the attention key', v: 'the attention value', o: 'the attention output',
  qkv: 'the fused qkv', kv: 'the fused kv', ffn_in: 'the MLP input (fc1)', ffn_gate: 'the MLP gate', ffn_out: 'the MLP output (fc2)',
  norm: 'a norm', embed: 'the token embedding', pos_embed: 'the position embedding', patch: 'the patch embedding', cls: 'the class token', dist: 'the distillation token', head: 'the output head',
};

function describe(r: KeyRole): string {
  return ROLE_WORDS[r.role!];
}

function ordinal(n: 1 | 2): string {
  return n === 1 ? 'first' : 'second';
}
