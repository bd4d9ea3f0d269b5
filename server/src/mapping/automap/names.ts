/**
 * Names as the auto-mapper compares them: a key's segments split into tokens, synonyms folded onto one
 * word (`layernorm`/`ln`/`layer_norm` → norm, `wte` → tok embed, `attn`/`attention` → attn), and the
 * words that say nothing about which tensor this is (`weight`, `dense`, `proj`) left out. Similarity
 * weighs rare tokens above common ones, so a prefix every key shares (`vision_model.`, `bert.`) counts
 * for little.
 */
import { table } from '../../formats/table';
import { kerasVar } from '../kerasVars';
import { splitKey } from '../keySegments';

/** Whole segments with a conventional meaning, rewritten before tokenising. */
const SEGMENT_SYNONYMS: Record<string, string> = table({
  ln_f: 'final norm', norm_f: 'final norm', wte: 'tok embed', wpe: 'pos embed', shared: 'tok embed',
  embed_tokens: 'tok embed', tok_embeddings: 'tok embed', word_embeddings: 'tok embed', token_embedding: 'tok embed',
  embed_positions: 'pos embed', position_embeddings: 'pos embed', position_embedding: 'pos embed', pos_embed: 'pos embed',
  cls_token: 'cls', class_embedding: 'cls', lm_head: 'head', distillation_token: 'dist token',
  // big_vision / Flax spellings
  encoder_norm: 'final norm', posembed_input: 'pos embed', pos_embedding: 'pos embed',
});

const TOKEN_SYNONYMS: Record<string, string> = table({
  attention: 'attn', selfattention: 'attn', embeddings: 'embed', embedding: 'embed', emb: 'embed',
  tokens: 'tok', token: 'tok', word: 'tok', position: 'pos', positions: 'pos', positional: 'pos',
  layers: 'layer', blocks: 'layer', block: 'layer', h: 'layer', mlp: 'mlp', ffn: 'mlp', feed: 'mlp', forward: 'mlp',
  f: 'final', query: 'q', key: 'k', value: 'v',
  mlpblock: 'mlp', multiheaddotproductattention: 'attn', encoderblock: 'layer', out: 'o',
});

/** Tokens that name no particular tensor. */
const STOP = new Set(['weight', 'bias', 'kernel', 'gamma', 'beta', 'scale', 'dense', 'proj', 'projection', 'linear', 'self', 'model', 'module', '']);

const NORM_SPELLINGS = /layer_?norm|layrnorm|rms_?norm|^ln(?=_|\d|$)/g;

/** TF.js/Keras parameter names that torch spells otherwise (`kernel`, `gamma`, `beta` are read as they are). */
const SLASH_PARAMS: Record<string, string> = table({
  embeddings: 'weight', moving_mean: 'running_mean', moving_variance: 'running_var', depthwise_kernel: 'kernel',
});

/** A layer name TF.js makes up: the class in snake case, `_`, the class, a counter (`dense_Dense4`, `conv2d_Conv2D1`). */
const TFJS_GENERATED = /^([a-z][a-z0-9_]*)_([A-Z][A-Za-z0-9]*?)(\d+)$/;

/** Keras 3 layer classes in the words torch names spell them with. */
const KERAS_WORD: Record<string, string> = table({
  dense: 'dense', conv1d: 'conv', conv2d: 'conv', conv3d: 'conv', embedding: 'embedding', layer_normalization: 'layernorm', batch_normalization: 'batchnorm',
});

/**
 * The name a key is compared by. `/`-separated keys (TF.js, Keras, TensorFlow) become dotted like
 * everyone else's; their parameter names take torch's words where those differ, and a layer name TF.js
 * generated is its kind and counter (`dense_Dense4` → `dense4`), not a word repeated twice. A Keras 3
 * positional weight (`layer_normalization_1/vars/0`) is its parameter under its class's word and its
 * place in creation order counted from 1, as torch authors count (`layernorm2.gamma`): Keras' own
 * counter starts at an unnumbered first instance, and its `_1` would read as torch's `norm1`.
 */
export function namingKey(key: string): string {
  if (!key.includes('/')) return key;
  // TF2's object-graph tail and a TF variable's `:0` name no parameter.
  const segs = key.replace(/\/\.ATTRIBUTES\/VARIABLE_VALUE$/, '').replace(/:\d+$/, '').split('/').filter((x) => x !== '');
  const keras = kerasVar(key);
  if (keras) segs.splice(segs.length - 3, 3, `${KERAS_WORD[keras.cls]}${keras.counter + 1}`, keras.param);
  const last = segs.length - 1;
  return segs.map((seg, i) => (i === last ? SLASH_PARAMS[seg] ?? seg : seg.replace(TFJS_GENERATED, '$1$3'))).join('.');
}

export function tokens(name: string): string[] {
  const out: string[] = [];
  // Segments at `.` and `/` (TF, big_vision), without TF2's object-graph tail or a TF variable's `:0`.
  const bare = name.replace(/\/\.ATTRIBUTES\/VARIABLE_VALUE$/, '').replace(/:\d+$/, '');
  for (const { text: raw } of splitKey(bare)) {
    const seg = raw.toLowerCase();
    const syn = SEGMENT_SYNONYMS[seg];
    const text = syn ?? seg.replace(NORM_SPELLINGS, '_norm_');
    for (const part of text.split(/[_\s]+|(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])/)) {
      const t = TOKEN_SYNONYMS[part] ?? part;
      if (!STOP.has(t)) out.push(t);
    }
  }
  return out;
}

/** Inverse document frequency over both sides' names: a token every key has weighs almost nothing. */
export class TokenWeights {
  private df = new Map<string, number>();
  private n = 0;

  add(toks: readonly string[]): void {
    this.n++;
    for (const t of new Set(toks)) this.df.set(t, (this.df.get(t) ?? 0) + 1);
  }

  weight(t: string): number {
    return Math.log(1 + (this.n + 1) / ((this.df.get(t) ?? 0) + 1));
  }

  /** Weighted Jaccard similarity of two token sets, 0…1. */
  similarity(a: readonly string[], b: readonly string[]): number {
    const A = new Set(a);
    const B = new Set(b);
    let common = 0;
    let union = 0;
    for (const t of A) {
      const w = this.weight(t);
      union += w;
      if (B.has(t)) common += w;
    }
    for (const t of B) if (!A.has(t)) union += this.weight(t);
    return union === 0 ? 0 : common / union;
  }
}
