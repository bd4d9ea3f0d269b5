/**
 * What the auto-mapper knows about one tensor before comparing it with anything: its role in the block
 * (roles.ts, also for parameters that are their own module, such as `cls_token`), weight vs bias vs
 * buffer, its Linear layout, where it sits (which repeated stack and layer, its rank in file order), its
 * name tokens, and for a top-level norm whether it comes before the blocks or after them.
 */
import { TensorInfo } from '../../formats/tensorInfo';
import { ConvLayout, LinearLayout, convLayout, linearLayout } from '../layout';
import { splitKey } from '../keySegments';
import { ModuleKind, kerasVar } from '../kerasVars';
import { KeyRole, Role, keyRole, layerIndex } from '../roles';
import { SideData, isModelSourceSide } from '../sideData';
import { namingKey, tokens } from './names';

export interface Feature {
  key: string;
  /** The key as names are compared (names.ts namingKey: `fc1/kernel` → `fc1.kernel`). */
  name: string;
  tensor: TensorInfo;
  /** Position in the side's file order. */
  index: number;
  /** The key's role exactly as the analysis reads it (its suspicious-pairing check must stay quiet). */
  raw: KeyRole;
  role?: Role;
  normOrder?: 1 | 2;
  /** `w` (weight-like, or a parameter that is its own module), `b` (bias-like) or `buffer`. */
  pclass: 'w' | 'b' | 'buffer';
  layout?: LinearLayout;
  /** Its convolution layout, where the side's framework says. */
  conv?: ConvLayout;
  /** The repeated stack this key belongs to (`encoder.layer`), its layer index and that segment's position. */
  stack?: string;
  layer?: number;
  layerSeg?: number;
  /** The name inside its layer (after the index), or the whole key outside any stack. */
  local: string;
  /** Tokens of `local`, and of the whole key (what a tensor outside a paired stack is compared by). */
  tokens: string[];
  keyTokens: string[];
  /** For norms outside the stacks: `early` (embedding / pre-norm) or `final`. */
  stage?: 'early' | 'final';
  /**
   * The kind of module the tensor belongs to: said by the layer's class for a Keras 3 positional weight
   * (`kindSaid`), else read from its layout or role (a bias from its module's weight). Keras' names say
   * nothing else (`dense_1/vars/0`), so there the class is the evidence a pairing rests on.
   */
  kind?: ModuleKind;
  kindSaid?: boolean;
}

const WEIGHT_LIKE = new Set(['weight', 'kernel', 'gamma', 'scale']);
const BIAS_LIKE = new Set(['bias', 'beta']);
/** Buffers: state a model keeps but does not train (masks, rotary tables, BatchNorm statistics). */
const BUFFER = /(^|\.)(position_ids|num_batches_tracked|inv_freq|token_type_ids|relative_position_index|masked_bias|running_mean|running_var|freqs)$|\.attn\.bias$/;

export function features(side: SideData): Feature[] {
  const fs = side.keys.map((key, index) => featureOf(side.tensors.get(key)!, index, side));
  const moduleKind = new Map<string, ModuleKind>();
  const moduleOf = (f: Feature) => f.name.slice(0, f.name.lastIndexOf('.'));
  for (const f of fs) if (f.kind && f.pclass === 'w') moduleKind.set(moduleOf(f), f.kind);
  for (const f of fs) if (!f.kind && f.pclass === 'b') f.kind = moduleKind.get(moduleOf(f));
  return fs;
}

function kindOf(f: Feature): ModuleKind | undefined {
  if (f.layout) return 'linear';
  if (f.conv) return 'conv';
  // A patch embedding is a convolution whose name keeps layout.ts from saying its layout (`embed`).
  if (f.role === 'patch' && f.tensor.shape.length >= 3) return 'conv';
  if (f.role === 'norm') return 'norm';
  return f.role === 'embed' || f.role === 'pos_embed' ? 'embed' : undefined;
}

function featureOf(t: TensorInfo, index: number, side: SideData): Feature {
  const key = t.key;
  // Names are compared with TF.js's words and generated layer names read as torch's (names.ts namingKey);
  // the key's own segments, `/` included, give its layer and the rules written.
  const name = namingKey(key);
  const parts = splitKey(key);
  const core = name.split('.');
  const last = core[core.length - 1];
  const raw = keyRole(name);
  let r = raw;
  const paramIsModule = core.length === 1 || (!WEIGHT_LIKE.has(last) && !BIAS_LIKE.has(last));
  // `embeddings.cls_token` is a parameter named like a module: read its role as if it were `cls_token.weight`.
  if (paramIsModule && !r.role) r = { ...keyRole(`${name}.weight`), layer: r.layer };
  const pclass = BUFFER.test(name) ? 'buffer' : BIAS_LIKE.has(last) && !paramIsModule ? 'b' : 'w';
  const f: Feature = {
    key, name, tensor: t, index, raw, role: r.role, normOrder: r.normOrder, pclass,
    layout: linearLayout(t, side.framework, isModelSourceSide(side)),
    conv: convLayout(t, side.framework, isModelSourceSide(side)),
    local: key, tokens: [], keyTokens: tokens(name),
  };
  const l = layerOfKey(key);
  if (l) {
    f.stack = l.stack;
    f.layer = l.layer;
    f.layerSeg = l.seg;
    f.local = l.seg + 1 < parts.length ? key.slice(parts[l.seg + 1].start) : '';
  }
  f.tokens = f.local === key ? f.keyTokens : tokens(f.local);
  if (f.role === 'norm') f.stage = normStage(f.keyTokens);
  const keras = kerasVar(key)?.kind;
  if (keras) { f.kind = keras; f.kindSaid = true; } else f.kind = kindOf(f);
  return f;
}

/**
 * A key's layer: its first segment that is a layer index (roles.ts layerIndex) — `encoder.layer.3.…` is
 * layer 3 of the stack `encoder.layer`, `Transformer/encoderblock_3/…` of `Transformer/encoderblock`.
 */
export function layerOfKey(key: string): { stack: string; seg: number; layer: number } | undefined {
  const parts = splitKey(key);
  const seg = parts.findIndex((p) => layerIndex(p.text) !== undefined);
  if (seg < 0) return undefined;
  const p = parts[seg];
  const stem = p.text.replace(/_?(?:\._)?\d+$/, '');
  return { stack: key.slice(0, Math.max(0, p.start - p.sep.length)) + (stem ? p.sep + stem : ''), seg, layer: layerIndex(p.text)! };
}

/** A norm outside the blocks is the embeddings' / pre-norm (`early`) or the final one. */
export function normStage(toks: readonly string[]): 'early' | 'final' {
  return toks.includes('pre') || toks.includes('embed') ? 'early' : 'final';
}
