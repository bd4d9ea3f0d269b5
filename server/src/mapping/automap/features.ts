/**
 * What the auto-mapper knows about one tensor before comparing it with anything: its role in the block
 * (roles.ts, also for parameters that are their own module, such as `cls_token`), weight vs bias vs
 * buffer, its Linear layout, where it sits (which repeated stack and layer, its rank in file order), its
 * name tokens, and for a top-level norm whether it comes before the blocks or after them.
 */
import { TensorInfo } from '../../formats/tensorInfo';
import { ConvLayout, LinearLayout, convLayout, linearLayout } from '../layout';
import { KeyRole, Role, keyRole } from '../roles';
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
}

const WEIGHT_LIKE = new Set(['weight', 'kernel', 'gamma', 'scale']);
const BIAS_LIKE = new Set(['bias', 'beta']);
/** Buffers: state a model keeps but does not train (masks, rotary tables, BatchNorm statistics). */
const BUFFER = /(^|\.)(position_ids|num_batches_tracked|inv_freq|token_type_ids|relative_position_index|masked_bias|running_mean|running_var|freqs)$|\.attn\.bias$/;

export function features(side: SideData): Feature[] {
  return side.keys.map((key, index) => featureOf(side.tensors.get(key)!, index, side));
}

function featureOf(t: TensorInfo, index: number, side: SideData): Feature {
  const key = namingKey(t.key);
  const segs = key.split('.');
  const last = segs[segs.length - 1];
  const raw = keyRole(key);
  let r = raw;
  const paramIsModule = segs.length === 1 || (!WEIGHT_LIKE.has(last) && !BIAS_LIKE.has(last));
  // `embeddings.cls_token` is a parameter named like a module: read its role as if it were `cls_token.weight`.
  if (paramIsModule && !r.role) r = { ...keyRole(`${key}.weight`), layer: r.layer };
  const pclass = BUFFER.test(key) ? 'buffer' : BIAS_LIKE.has(last) && !paramIsModule ? 'b' : 'w';
  const layerSeg = segs.findIndex((s) => /^\d+$/.test(s));
  const f: Feature = {
    key: t.key, name: key, tensor: t, index, raw, role: r.role, normOrder: r.normOrder, pclass,
    layout: linearLayout(t, side.framework, isModelSourceSide(side)),
    conv: convLayout(t, side.framework, isModelSourceSide(side)),
    local: key, tokens: [], keyTokens: tokens(key),
  };
  if (layerSeg >= 0) {
    f.stack = segs.slice(0, layerSeg).join('.');
    f.layer = Number(segs[layerSeg]);
    f.layerSeg = layerSeg;
    f.local = segs.slice(layerSeg + 1).join('.');
  }
  f.tokens = f.local === key ? f.keyTokens : tokens(f.local);
  if (f.role === 'norm') f.stage = normStage(f.keyTokens);
  return f;
}

/** A norm outside the blocks is the embeddings' / pre-norm (`early`) or the final one. */
export function normStage(toks: readonly string[]): 'early' | 'final' {
  return toks.includes('pre') || toks.includes('embed') ? 'early' : 'final';
}
