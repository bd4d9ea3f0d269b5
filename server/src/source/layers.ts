/**
 * The framework layers whose parameters inference knows: for each torch.nn / paddle.nn layer (and
 * GPT-2's `Conv1D`), the constructor's parameter names and the tensors it registers — names, shapes,
 * order and layout — exactly as the framework's own `__init__` does (checked against real
 * `state_dict()`s by the fixture generator for torch; Paddle from its sources).
 */
import { negate } from './alternatives';
import { asDim, asDims, bindArgs, truthy } from './coerce';
import { Dim, opDim } from './dims';
import { layerAttrs } from './layerAttrs';
import { isParamAttr } from './paddleParamAttr';
import { CallArgs, Framework, ModNode, Site, TensorVal, Value } from './values';

type Builder = (a: Map<string, Value>, node: ModNode, fw: Framework) => void;
interface Spec { params: string[]; build: Builder }

/** Layers without parameters: they register nothing, and inference says nothing about them. */
const STATELESS = new Set([
  'Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'Dropout1D', 'Dropout2D', 'Dropout3D', 'AlphaDropout', 'FeatureAlphaDropout',
  'ReLU', 'ReLU6', 'GELU', 'SiLU', 'Silu', 'Swish', 'Mish', 'Tanh', 'Sigmoid', 'Softmax', 'Softmax2d', 'LogSoftmax', 'LeakyReLU', 'ELU', 'SELU',
  'CELU', 'Hardswish', 'Hardsigmoid', 'Hardtanh', 'Softplus', 'Softsign', 'Tanhshrink', 'Threshold', 'GLU', 'LogSigmoid', 'QuickGELU',
  'Identity', 'Flatten', 'Unflatten', 'Upsample', 'UpsamplingNearest2D', 'UpsamplingBilinear2D', 'PixelShuffle', 'PixelUnshuffle',
  'MaxPool1d', 'MaxPool2d', 'MaxPool3d', 'AvgPool1d', 'AvgPool2d', 'AvgPool3d', 'MaxPool1D', 'MaxPool2D', 'MaxPool3D', 'AvgPool1D', 'AvgPool2D', 'AvgPool3D',
  'AdaptiveAvgPool1d', 'AdaptiveAvgPool2d', 'AdaptiveAvgPool3d', 'AdaptiveMaxPool1d', 'AdaptiveMaxPool2d', 'AdaptiveMaxPool3d',
  'AdaptiveAvgPool1D', 'AdaptiveAvgPool2D', 'AdaptiveAvgPool3D', 'AdaptiveMaxPool1D', 'AdaptiveMaxPool2D', 'AdaptiveMaxPool3D',
  'ZeroPad2d', 'ZeroPad2D', 'ConstantPad1d', 'ConstantPad2d', 'ConstantPad3d', 'ReflectionPad1d', 'ReflectionPad2d', 'ReplicationPad2d',
  'Pad1D', 'Pad2D', 'Pad3D', 'Unfold', 'Fold', 'CosineSimilarity', 'PairwiseDistance', 'ChannelShuffle',
  'CrossEntropyLoss', 'MSELoss', 'L1Loss', 'BCELoss', 'BCEWithLogitsLoss', 'NLLLoss', 'KLDivLoss', 'SmoothL1Loss',
]);

const tensor = (node: ModNode, shape: Dim[] | undefined, layout?: string, dtype = 'F32'): TensorVal =>
  ({ t: 'tensor', shape, dtype, param: true, site: node.site, layout });

/**
 * What a flag (`bias=`, `affine=`, Paddle's `bias_attr=`) makes of the tensors it governs: there, not
 * there, there only under a condition nothing here decides (listed as conditional, like an undecided
 * `if`), or not known at all (a gap: the tensors are listed, but may not exist).
 */
type Presence = boolean | { cond: string } | { gap: string };

function presence(v: Value, name: string, paddleAttr: boolean): Presence {
  // Paddle's `*_attr`: `False` removes the tensor; `None`, a `ParamAttr`, a name string or `True` keep it.
  const direct = paddleAttr
    ? v.t === 'bool' ? v.v : v.t === 'none' || v.t === 'str' || isParamAttr(v) || (v.t === 'module' && v.node.plain) ? true : undefined
    : v.t === 'alt' ? undefined : truthy(v);
  if (direct !== undefined) return direct;
  if (v.t === 'sym') return v.dflt ? presence(v.dflt, name, paddleAttr) : { cond: `\`${v.name}\`` };
  if (v.t === 'alt') {
    const a = presence(v.a, name, paddleAttr), b = presence(v.b, name, paddleAttr);
    if (a === b) return a;
    if (a === true && b === false) return { cond: v.cond };
    if (a === false && b === true) return { cond: negate([v.cond]) };
  }
  return { gap: `\`${name}=\` could not be evaluated: the tensors it governs are listed, but may not exist` };
}

/** Whether the governed tensors are listed; where that is undecided, `names` on `node` say so (a condition or a gap). */
function enabled(a: Map<string, Value>, name: string, node: ModNode, paddleAttr: boolean, ...names: string[]): boolean {
  const v = a.get(name);
  const p = v === undefined ? true : presence(v, name, paddleAttr);
  mark(node, p, names);
  return p !== false;
}

function mark(node: ModNode, p: Presence, names: string[]): void {
  if (typeof p === 'boolean') return;
  for (const n of names) {
    if ('cond' in p) node.cond.set(n, [...(node.cond.get(n) ?? []), p.cond]);
    else node.gaps.push({ name: n, gap: { site: node.site, message: p.gap } });
  }
}

const flagOf = (a: Map<string, Value>, name: string, paddleAttr: boolean): Presence => {
  const v = a.get(name);
  return v === undefined ? true : presence(v, name, paddleAttr);
};

function linear(fw: Framework, node: ModNode, inF: Dim | undefined, outF: Dim | undefined, bias: boolean): void {
  const paddle = fw === 'paddle';
  node.params.set('weight', tensor(node, inF !== undefined && outF !== undefined ? (paddle ? [inF, outF] : [outF, inF]) : undefined, paddle ? 'in_out' : 'out_in'));
  if (bias) node.params.set('bias', tensor(node, outF !== undefined ? [outF] : undefined));
}

function conv(rank: number, transposed: boolean): Spec {
  return {
    params: ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', transposed ? 'output_padding' : 'dilation', 'groups'],
    build(a, node, fw) {
      const paddle = fw === 'paddle';
      // Positional order differs after `groups` between torch and paddle; keywords are what people write.
      const inC = asDim(a.get('in_channels'));
      const outC = asDim(a.get('out_channels'));
      const k = asDims(a.get('kernel_size'), rank);
      const groups = asDim(a.get('groups')) ?? 1;
      const div = (x: Dim | undefined) => (x === undefined ? undefined : opDim('//', x, groups));
      const first = transposed ? inC : outC;
      const second = transposed ? div(outC) : div(inC);
      const shape = first !== undefined && second !== undefined && k ? [first, second, ...k] : undefined;
      const spatial = ['W', 'HW', 'DHW'][rank - 1];
      node.params.set('weight', tensor(node, shape, transposed ? `IO${spatial}` : `OI${spatial}`));
      if (enabled(a, paddle ? 'bias_attr' : 'bias', node, paddle, 'bias')) node.params.set('bias', tensor(node, outC !== undefined ? [outC] : undefined));
    },
  };
}

function batchNorm(paramsOf: (fw: Framework) => string[]): Spec {
  return {
    params: ['num_features'],
    build(a, node, fw) {
      const names = paramsOf(fw);
      const c = asDim(a.get(names[0]) ?? a.get('num_features') ?? a.get('num_channels'));
      const s = c !== undefined ? [c] : undefined;
      if (fw === 'paddle') {
        if (enabled(a, names.includes('param_attr') ? 'param_attr' : 'weight_attr', node, true, 'weight')) node.params.set('weight', tensor(node, s));
        if (enabled(a, 'bias_attr', node, true, 'bias')) node.params.set('bias', tensor(node, s));
        // Paddle keeps the running statistics as non-trainable parameters named _mean and _variance.
        node.params.set('_mean', tensor(node, s));
        node.params.set('_variance', tensor(node, s));
        return;
      }
      if (enabled(a, 'affine', node, false, 'weight', 'bias')) {
        node.params.set('weight', tensor(node, s));
        node.params.set('bias', tensor(node, s));
      }
      if (enabled(a, 'track_running_stats', node, false, 'running_mean', 'running_var', 'num_batches_tracked')) {
        node.buffers.set('running_mean', { tensor: { ...tensor(node, s), param: false }, persistent: true });
        node.buffers.set('running_var', { tensor: { ...tensor(node, s), param: false }, persistent: true });
        node.buffers.set('num_batches_tracked', { tensor: { ...tensor(node, [], undefined, 'I64'), param: false }, persistent: true });
      }
    },
  };
}

const SPECS: Record<string, (fw: Framework) => Spec | undefined> = {
  Linear: (fw) => ({
    params: ['in_features', 'out_features', fw === 'paddle' ? 'weight_attr' : 'bias', 'bias_attr'],
    build(a, node) {
      linear(fw, node, asDim(a.get('in_features')), asDim(a.get('out_features')), enabled(a, fw === 'paddle' ? 'bias_attr' : 'bias', node, fw === 'paddle', 'bias'));
    },
  }),
  Bilinear: () => ({
    params: ['in1_features', 'in2_features', 'out_features', 'bias'],
    build(a, node) {
      const [i1, i2, o] = ['in1_features', 'in2_features', 'out_features'].map((n) => asDim(a.get(n)));
      node.params.set('weight', tensor(node, i1 !== undefined && i2 !== undefined && o !== undefined ? [o, i1, i2] : undefined));
      if (enabled(a, 'bias', node, false, 'bias')) node.params.set('bias', tensor(node, o !== undefined ? [o] : undefined));
    },
  }),
  Conv1d: () => conv(1, false), Conv2d: () => conv(2, false), Conv3d: () => conv(3, false),
  Conv1D: (fw) => (fw === 'paddle' ? conv(1, false) : undefined),
  Conv2D: () => conv(2, false), Conv3D: () => conv(3, false),
  ConvTranspose1d: () => conv(1, true), ConvTranspose2d: () => conv(2, true), ConvTranspose3d: () => conv(3, true),
  Conv1DTranspose: () => conv(1, true), Conv2DTranspose: () => conv(2, true), Conv3DTranspose: () => conv(3, true),
  Embedding: () => ({
    params: ['num_embeddings', 'embedding_dim', 'padding_idx'],
    build(a, node) {
      const n = asDim(a.get('num_embeddings'));
      const d = asDim(a.get('embedding_dim'));
      node.params.set('weight', tensor(node, n !== undefined && d !== undefined ? [n, d] : undefined, 'vocab_dim'));
    },
  }),
  LayerNorm: (fw) => ({
    params: fw === 'paddle' ? ['normalized_shape', 'epsilon', 'weight_attr', 'bias_attr'] : ['normalized_shape', 'eps', 'elementwise_affine', 'bias'],
    build(a, node) {
      const s = asDims(a.get('normalized_shape'));
      if (fw === 'paddle') {
        if (enabled(a, 'weight_attr', node, true, 'weight')) node.params.set('weight', tensor(node, s));
        if (enabled(a, 'bias_attr', node, true, 'bias')) node.params.set('bias', tensor(node, s));
      } else if (enabled(a, 'elementwise_affine', node, false, 'weight', 'bias')) {
        node.params.set('weight', tensor(node, s));
        if (enabled(a, 'bias', node, false, 'bias')) node.params.set('bias', tensor(node, s));
      }
    },
  }),
  RMSNorm: (fw) => ({
    params: fw === 'paddle' ? ['hidden_size', 'epsilon'] : ['normalized_shape', 'eps', 'elementwise_affine'],
    build(a, node) {
      const s = asDims(a.get('normalized_shape') ?? a.get('hidden_size'));
      if (fw === 'paddle' || enabled(a, 'elementwise_affine', node, false, 'weight')) node.params.set('weight', tensor(node, s));
    },
  }),
  GroupNorm: (fw) => ({
    params: fw === 'paddle' ? ['num_groups', 'num_channels', 'epsilon', 'weight_attr', 'bias_attr'] : ['num_groups', 'num_channels', 'eps', 'affine'],
    build(a, node) {
      const c = asDim(a.get('num_channels'));
      const s = c !== undefined ? [c] : undefined;
      if (fw === 'paddle') {
        if (enabled(a, 'weight_attr', node, true, 'weight')) node.params.set('weight', tensor(node, s));
        if (enabled(a, 'bias_attr', node, true, 'bias')) node.params.set('bias', tensor(node, s));
      } else if (enabled(a, 'affine', node, false, 'weight', 'bias')) {
        node.params.set('weight', tensor(node, s));
        node.params.set('bias', tensor(node, s));
      }
    },
  }),
  BatchNorm1d: () => batchNorm(() => ['num_features']), BatchNorm2d: () => batchNorm(() => ['num_features']),
  BatchNorm3d: () => batchNorm(() => ['num_features']), SyncBatchNorm: () => batchNorm(() => ['num_features']),
  BatchNorm1D: () => batchNorm(() => ['num_features']), BatchNorm2D: () => batchNorm(() => ['num_features']),
  BatchNorm3D: () => batchNorm(() => ['num_features']),
  BatchNorm: (fw) => (fw === 'paddle' ? { ...batchNorm(() => ['num_channels', 'param_attr']), params: ['num_channels', 'act', 'is_test', 'momentum', 'epsilon', 'param_attr', 'bias_attr'] } : undefined),
  InstanceNorm1d: () => instanceNorm(), InstanceNorm2d: () => instanceNorm(), InstanceNorm3d: () => instanceNorm(),
  InstanceNorm1D: () => instanceNorm(), InstanceNorm2D: () => instanceNorm(), InstanceNorm3D: () => instanceNorm(),
  PReLU: (fw) => ({
    params: ['num_parameters', 'init'],
    build(a, node) {
      const n = asDim(a.get('num_parameters')) ?? 1;
      node.params.set(fw === 'paddle' ? '_weight' : 'weight', tensor(node, [n]));
    },
  }),
  MultiheadAttention: (fw) => (fw === 'torch' ? torchMha() : undefined),
  MultiHeadAttention: (fw) => (fw === 'paddle' ? paddleMha() : undefined),
};

function instanceNorm(): Spec {
  return {
    params: ['num_features', 'eps', 'momentum', 'affine', 'track_running_stats'],
    build(a, node, fw) {
      const c = asDim(a.get('num_features'));
      const s = c !== undefined ? [c] : undefined;
      if (fw === 'paddle') {
        // Paddle's instance norm names its scale `scale`, and has it unless weight_attr=False.
        if (enabled(a, 'weight_attr', node, true, 'scale')) node.params.set('scale', tensor(node, s));
        if (enabled(a, 'bias_attr', node, true, 'bias')) node.params.set('bias', tensor(node, s));
        return;
      }
      const affine = a.get('affine');
      if (affine && truthy(affine)) { node.params.set('weight', tensor(node, s)); node.params.set('bias', tensor(node, s)); }
      const track = a.get('track_running_stats');
      if (track && truthy(track)) {
        node.buffers.set('running_mean', { tensor: { ...tensor(node, s), param: false }, persistent: true });
        node.buffers.set('running_var', { tensor: { ...tensor(node, s), param: false }, persistent: true });
        node.buffers.set('num_batches_tracked', { tensor: { ...tensor(node, [], undefined, 'I64'), param: false }, persistent: true });
      }
    },
  };
}

function torchMha(): Spec {
  return {
    params: ['embed_dim', 'num_heads', 'dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first'],
    build(a, node) {
      const e = asDim(a.get('embed_dim'));
      const kdim = a.get('kdim') && a.get('kdim')!.t !== 'none' ? asDim(a.get('kdim')) : e;
      const vdim = a.get('vdim') && a.get('vdim')!.t !== 'none' ? asDim(a.get('vdim')) : e;
      const shape = (...ds: (Dim | undefined)[]) => (ds.every((d) => d !== undefined) ? (ds as Dim[]) : undefined);
      const same = kdim === e && vdim === e;
      if (same) {
        node.params.set('in_proj_weight', tensor(node, shape(e === undefined ? undefined : opDim('*', 3, e), e), 'out_in'));
      } else {
        node.params.set('q_proj_weight', tensor(node, shape(e, e), 'out_in'));
        node.params.set('k_proj_weight', tensor(node, shape(e, kdim), 'out_in'));
        node.params.set('v_proj_weight', tensor(node, shape(e, vdim), 'out_in'));
      }
      const biasFlag = flagOf(a, 'bias', false);
      const bias = biasFlag !== false;
      mark(node, biasFlag, ['in_proj_bias']);
      if (bias) node.params.set('in_proj_bias', tensor(node, shape(e === undefined ? undefined : opDim('*', 3, e))));
      if (a.get('add_bias_kv') && truthy(a.get('add_bias_kv'))) {
        node.params.set('bias_k', tensor(node, shape(1, 1, e)));
        node.params.set('bias_v', tensor(node, shape(1, 1, e)));
      }
      const out = new ModNode('NonDynamicallyQuantizableLinear', node.site, 'torch');
      linear('torch', out, e, e, bias);
      mark(out, biasFlag, ['bias']);
      node.children.set('out_proj', out);
    },
  };
}

function paddleMha(): Spec {
  return {
    params: ['embed_dim', 'num_heads', 'dropout', 'kdim', 'vdim', 'need_weights', 'weight_attr', 'bias_attr'],
    build(a, node) {
      const e = asDim(a.get('embed_dim'));
      const kdim = a.get('kdim') && a.get('kdim')!.t !== 'none' ? asDim(a.get('kdim')) : e;
      const vdim = a.get('vdim') && a.get('vdim')!.t !== 'none' ? asDim(a.get('vdim')) : e;
      const biasFlag = flagOf(a, 'bias_attr', true);
      const bias = biasFlag !== false;
      for (const [name, inF] of [['q_proj', e], ['k_proj', kdim], ['v_proj', vdim], ['out_proj', e]] as const) {
        const l = new ModNode('Linear', node.site, 'paddle');
        linear('paddle', l, inF, e, bias);
        mark(l, biasFlag, ['bias']);
        node.children.set(name, l);
      }
    },
  };
}

/** GPT-2's `Conv1D(nf, nx)` (transformers.pytorch_utils): a Linear stored `[in, out]`. */
function gpt2Conv1D(a: Map<string, Value>, node: ModNode): void {
  const nf = asDim(a.get('nf'));
  const nx = asDim(a.get('nx'));
  node.params.set('weight', tensor(node, nf !== undefined && nx !== undefined ? [nx, nf] : undefined, 'in_out'));
  node.params.set('bias', tensor(node, nf !== undefined ? [nf] : undefined));
}

/** A layer name the table knows for some framework (its parameters, or that it has none). */
export function knowsLayer(name: string): boolean {
  return STATELESS.has(name) || Object.prototype.hasOwnProperty.call(SPECS, name);
}

export type LayerResult = { kind: 'layer'; node: ModNode } | { kind: 'stateless'; node: ModNode } | undefined;

/**
 * Builds the layer `name` of framework `fw` (`torch`/`paddle`) from call arguments, or undefined when
 * it is not one inference knows. `gpt2` selects transformers' Conv1D.
 */
export function buildLayer(fw: Framework | 'gpt2', name: string, args: CallArgs, site: Site): LayerResult {
  if (fw === 'gpt2') {
    const node = new ModNode('Conv1D', site, 'torch');
    gpt2Conv1D(bindArgs(args, ['nf', 'nx']), node);
    return { kind: 'layer', node };
  }
  if (STATELESS.has(name)) return { kind: 'stateless', node: new ModNode(name, site, fw) };
  const spec = SPECS[name]?.(fw);
  if (!spec) return undefined;
  const node = new ModNode(name, site, fw);
  const a = bindArgs(args, spec.params);
  spec.build(a, node, fw);
  for (const [k, v] of layerAttrs(fw, name, a)) node.attrs.set(k, v);
  return { kind: 'layer', node };
}
