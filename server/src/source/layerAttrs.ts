/**
 * The plain attributes a framework layer's `__init__` sets, so model code that reads them back
 * (`self.fc.in_features`, `self.conv.out_channels`, `norm.normalized_shape`, Paddle's
 * `conv._out_channels`) gets what torch / Paddle would hold: the constructor's argument, normalised
 * the way the framework does it (torch's `_pair` makes `kernel_size=3` the tuple `(3, 3)`, Paddle
 * keeps lists), or the framework's default.
 */
import { asDim } from './coerce';
import { opDim } from './dims';
import { Framework, NONE, Value, num } from './values';

/** How an attribute is made from the bound arguments: the argument (or its default) as is, or spread to the conv rank. */
type Attr = [attr: string, arg: string, dflt?: Value, shape?: 'rank' | 'tuple' | 'list'];

const f = (x: number): Value => ({ t: 'num', d: x, float: true });
const T: Value = { t: 'bool', v: true };

const conv = (paddle: boolean, transposed: boolean): Attr[] => {
  const p = paddle ? '_' : '';
  return [
    [`${p}in_channels`, 'in_channels'], [`${p}out_channels`, 'out_channels'], [`${p}kernel_size`, 'kernel_size', undefined, 'rank'],
    [`${p}stride`, 'stride', num(1), 'rank'], [`${p}padding`, 'padding', num(0), 'rank'], [`${p}dilation`, 'dilation', num(1), 'rank'],
    [`${p}groups`, 'groups', num(1)], ...(transposed ? [[`${p}output_padding`, 'output_padding', num(0), 'rank'] as Attr] : []),
  ];
};
const torchNorm: Attr[] = [['num_features', 'num_features'], ['eps', 'eps', f(1e-5)], ['momentum', 'momentum', f(0.1)], ['affine', 'affine', T], ['track_running_stats', 'track_running_stats', T]];
const paddleNorm: Attr[] = [['_num_features', 'num_features'], ['_momentum', 'momentum', f(0.9)], ['_epsilon', 'epsilon', f(1e-5)]];

const TORCH: Record<string, Attr[]> = {
  Linear: [['in_features', 'in_features'], ['out_features', 'out_features']],
  Bilinear: [['in1_features', 'in1_features'], ['in2_features', 'in2_features'], ['out_features', 'out_features']],
  Embedding: [['num_embeddings', 'num_embeddings'], ['embedding_dim', 'embedding_dim'], ['padding_idx', 'padding_idx', NONE]],
  LayerNorm: [['normalized_shape', 'normalized_shape', undefined, 'tuple'], ['eps', 'eps', f(1e-5)], ['elementwise_affine', 'elementwise_affine', T]],
  RMSNorm: [['normalized_shape', 'normalized_shape', undefined, 'tuple'], ['eps', 'eps', NONE], ['elementwise_affine', 'elementwise_affine', T]],
  GroupNorm: [['num_groups', 'num_groups'], ['num_channels', 'num_channels'], ['eps', 'eps', f(1e-5)], ['affine', 'affine', T]],
  PReLU: [['num_parameters', 'num_parameters', num(1)]],
  MultiheadAttention: [['embed_dim', 'embed_dim'], ['num_heads', 'num_heads'], ['batch_first', 'batch_first', { t: 'bool', v: false }]],
};
const PADDLE: Record<string, Attr[]> = {
  Embedding: [['_num_embeddings', 'num_embeddings'], ['_embedding_dim', 'embedding_dim'], ['_padding_idx', 'padding_idx', NONE]],
  LayerNorm: [['_normalized_shape', 'normalized_shape', undefined, 'list'], ['_epsilon', 'epsilon', f(1e-5)]],
  GroupNorm: [['_num_groups', 'num_groups'], ['_num_channels', 'num_channels'], ['_epsilon', 'epsilon', f(1e-5)]],
  MultiHeadAttention: [['embed_dim', 'embed_dim'], ['num_heads', 'num_heads']],
};
for (const r of [1, 2, 3]) {
  TORCH[`Conv${r}d`] = conv(false, false);
  TORCH[`ConvTranspose${r}d`] = conv(false, true);
  TORCH[`BatchNorm${r}d`] = torchNorm;
  TORCH[`InstanceNorm${r}d`] = torchNorm.map(([a, arg, d]) => [a, arg, a === 'affine' || a === 'track_running_stats' ? { t: 'bool', v: false } : d]);
  PADDLE[`Conv${r}D`] = conv(true, false);
  PADDLE[`Conv${r}DTranspose`] = conv(true, true);
  PADDLE[`BatchNorm${r}D`] = paddleNorm;
}
TORCH.SyncBatchNorm = torchNorm;
PADDLE.BatchNorm = [['_num_channels', 'num_channels'], ...paddleNorm.slice(1)];

/** The attributes of layer `name` built from `a` (its arguments bound by name); the conv rank from the name. */
export function layerAttrs(fw: Framework, name: string, a: ReadonlyMap<string, Value>): [string, Value][] {
  const table = (fw === 'paddle' ? PADDLE : TORCH)[name];
  if (!table) return [];
  const rank = Number(/(\d)[dD]/.exec(name)?.[1] ?? 1);
  const out: [string, Value][] = [];
  for (const [attr, arg, dflt, shape] of table) {
    const v = a.get(arg) ?? dflt;
    if (!v) continue;
    if (shape === 'rank' && (v.t === 'num' || v.t === 'sym')) out.push([attr, { t: 'list', items: Array.from({ length: rank }, () => v), tuple: fw === 'torch' }]);
    else if ((shape === 'tuple' || shape === 'list') && (v.t === 'num' || v.t === 'sym')) out.push([attr, { t: 'list', items: [v], tuple: shape === 'tuple' }]);
    else if ((shape === 'tuple' || shape === 'list') && v.t === 'list') out.push([attr, { ...v, tuple: shape === 'tuple' }]);
    else if (attr.endsWith('padding_idx') && v.t === 'num' && typeof v.d === 'number' && v.d < 0) {
      // torch and Paddle both store a negative padding index counted from the end.
      const n = a.get('num_embeddings');
      out.push([attr, n?.t === 'num' && typeof n.d === 'number' ? num(n.d + v.d) : v]);
    } else out.push([attr, v]);
  }
  if (fw === 'torch' && name === 'MultiheadAttention') {
    const e = a.get('embed_dim'), h = a.get('num_heads');
    const kd = a.get('kdim'), vd = a.get('vdim');
    out.push(['kdim', kd && kd.t !== 'none' ? kd : e ?? NONE], ['vdim', vd && vd.t !== 'none' ? vd : e ?? NONE]);
    const [ed, hd] = [asDim(e), asDim(h)];
    if (ed !== undefined && hd !== undefined && hd !== 0) out.push(['head_dim', num(opDim('//', ed, hd))]);
  }
  return out;
}
