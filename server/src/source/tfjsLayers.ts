/**
 * TF.js Layers API: what each `tf.layers.*` factory builds, from @tensorflow/tfjs-layers 4.x's own
 * `build(inputShape)` and `computeOutputShape` (layers/core.js, convolutional.js, normalization.js,
 * embeddings.js, recurrent.js, pooling.js, merge.js): its class name (which names it), the weights it
 * adds in order, and the shape it hands on. Shapes are symbolic where a size is (dims.ts); `null` is
 * TF.js's own unknown size (the batch, a free sequence length).
 */
import { Dim, opDim } from './dims';

export type TfDim = Dim | null;
export type TfShape = TfDim[];

/** A layer's options as plain data: numbers (maybe symbolic), strings, booleans, null, lists. */
export type Opt = TfDim | string | boolean | undefined | Opt[];
export type Opts = ReadonlyMap<string, Opt>;

export interface WeightSpec {
  name: string;
  /** Undefined when a size it needs is unknown (`null`, or an input shape that could not be followed). */
  shape?: Dim[];
  trainable: boolean;
  layout?: string;
}

export interface LayerKind {
  /** TF.js's class name: `getClassName()`, which the automatic name is made of. */
  cls: string;
  /** The weights `build(inputShape)` adds, in order. Absent: none. */
  weights?(o: Opts, input: TfShape[]): WeightSpec[];
  /** `computeOutputShape`; undefined when it cannot be followed. Absent: the input's shape. */
  output?(o: Opts, input: TfShape[]): TfShape | undefined;
  /** Takes a list of tensors (merge layers). */
  multi?: boolean;
}

const num = (o: Opts, k: string, d?: number): TfDim | undefined => {
  const v = o.get(k);
  return typeof v === 'number' || (typeof v === 'object' && v !== null && !Array.isArray(v)) ? v : v === null ? null : d;
};
const bool = (o: Opts, k: string, d: boolean): boolean => (typeof o.get(k) === 'boolean' ? (o.get(k) as boolean) : d);
const str = (o: Opts, k: string, d: string): string => (typeof o.get(k) === 'string' ? (o.get(k) as string) : d);
/** `kernelSize: 3` or `[3, 3]`, as `rank` sizes. */
function tuple(o: Opts, k: string, rank: number, d?: number): TfDim[] | undefined {
  const v = o.get(k);
  if (Array.isArray(v)) return v.length === rank && v.every(isDim) ? (v as TfDim[]) : undefined;
  const one = isDim(v) ? v : d;
  return one === undefined ? undefined : Array.from({ length: rank }, () => one);
}
const isDim = (v: Opt): v is TfDim => v === null || typeof v === 'number' || (typeof v === 'object' && !Array.isArray(v));

/** A weight's shape, or undefined when a size in it is unknown. */
function sized(ds: (TfDim | undefined)[]): Dim[] | undefined {
  return ds.every((d) => d !== null && d !== undefined) ? (ds as Dim[]) : undefined;
}
const w = (name: string, ds: (TfDim | undefined)[], layout?: string, trainable = true): WeightSpec => ({ name, shape: sized(ds), trainable, ...(layout ? { layout } : {}) });

const mul = (a: TfDim | undefined, b: TfDim | undefined): TfDim | undefined => (a === undefined || b === undefined ? undefined : a === null || b === null ? null : opDim('*', a, b));
const last = (s: TfShape | undefined): TfDim | undefined => (s && s.length ? s[s.length - 1] : undefined);

/** conv_utils.convOutputLength: `same` keeps ceil(n/stride); anything else (`valid`, and `causal` too, as TF.js computes it) is valid. */
function convLength(n: TfDim, k: TfDim, padding: string, stride: TfDim, dilation: TfDim): TfDim {
  if (n === null || k === null || stride === null || dilation === null) return null;
  const dk = opDim('+', k, opDim('*', opDim('-', k, 1), opDim('-', dilation, 1)));
  const len = padding === 'same' ? n : opDim('+', opDim('-', n, dk), 1);
  return opDim('//', opDim('+', len, opDim('-', stride, 1)), stride);
}

/** conv_utils.deconvLength. */
function deconvLength(n: TfDim, stride: TfDim, k: TfDim, padding: string): TfDim {
  if (n === null || stride === null || k === null) return null;
  if (padding === 'same') return opDim('*', n, stride);
  const extra = typeof k === 'number' && typeof stride === 'number' ? Math.max(k - stride, 0) : opDim('-', k, stride);
  return opDim('+', opDim('*', n, stride), extra);
}

/** The channel axis and spatial axes of an N-d convolution's input. */
function convAxes(o: Opts, input: TfShape): { ch: number; spatial: number[] } {
  const first = str(o, 'dataFormat', 'channelsLast') === 'channelsFirst';
  const rank = input.length;
  const spatial = Array.from({ length: rank - 2 }, (_, i) => (first ? i + 2 : i + 1));
  return { ch: first ? 1 : rank - 1, spatial };
}

function convOutput(o: Opts, input: TfShape, rank: number, channels: TfDim | undefined): TfShape | undefined {
  const k = tuple(o, 'kernelSize', rank);
  const s = tuple(o, 'strides', rank, 1);
  const d = tuple(o, 'dilationRate', rank, 1);
  if (!k || !s || !d || channels === undefined || input.length !== rank + 2) return undefined;
  const { ch, spatial } = convAxes(o, input);
  const out = [...input];
  spatial.forEach((ax, i) => { out[ax] = convLength(input[ax], k[i], str(o, 'padding', 'valid'), s[i], d[i]); });
  out[ch] = channels;
  return out;
}

function conv(cls: string, rank: number, layout: string): LayerKind {
  return {
    cls,
    weights: (o, [x]) => {
      const k = tuple(o, 'kernelSize', rank) ?? [];
      const inCh = x && x.length === rank + 2 ? x[convAxes(o, x).ch] : undefined;
      return [w('kernel', [...(k.length ? k : [undefined]), inCh, num(o, 'filters')], layout), ...(bool(o, 'useBias', true) ? [w('bias', [num(o, 'filters')])] : [])];
    },
    output: (o, [x]) => convOutput(o, x, rank, num(o, 'filters')),
  };
}

function pooling(cls: string, rank: number): LayerKind {
  return {
    cls,
    output: (o, [x]) => {
      const pool = tuple(o, 'poolSize', rank, 2);
      const strides = o.get('strides') === undefined || o.get('strides') === null ? pool : tuple(o, 'strides', rank);
      if (!pool || !strides || x.length !== rank + 2) return undefined;
      const { spatial } = convAxes(o, x);
      const out = [...x];
      spatial.forEach((ax, i) => { out[ax] = convLength(x[ax], pool[i], str(o, 'padding', 'valid'), strides[i], 1); });
      return out;
    },
  };
}

function globalPooling(cls: string): LayerKind {
  return { cls, output: (o, [x]) => [x[0], x[convAxes(o, x).ch]] };
}

const same = (cls: string): LayerKind => ({ cls });

function recurrent(cls: string, gates: number): LayerKind {
  return {
    cls,
    weights: (o, [x]) => {
      const units = num(o, 'units');
      const n = mul(units, gates);
      return [w('kernel', [last(x), n], 'in_out'), w('recurrent_kernel', [units, n], 'in_out'), ...(bool(o, 'useBias', true) ? [w('bias', [n])] : [])];
    },
    output: (o, [x]) => (bool(o, 'returnSequences', false) ? [x[0], x[1], num(o, 'units') ?? null] : [x[0], num(o, 'units') ?? null]),
  };
}

function merge(cls: string): LayerKind {
  return { cls, multi: true, output: (_o, xs) => xs[0] };
}

/** Normalised axes of a rank-`rank` input (negative ones from the end). */
function axes(v: Opt, rank: number, dflt: number): number[] | undefined {
  const list = Array.isArray(v) ? v : [v === undefined ? dflt : v];
  const out = list.map((a) => (typeof a === 'number' ? (a < 0 ? a + rank : a) : undefined));
  return out.every((a) => a !== undefined && a >= 0 && a < rank) ? (out as number[]) : undefined;
}

function product(ds: TfDim[]): TfDim {
  let p: TfDim = 1;
  for (const d of ds) p = mul(p, d) ?? null;
  return p;
}

/** The Layers API factories (`tf.layers.dense`) by their names. */
export const TF_LAYERS: Record<string, LayerKind> = {
  dense: {
    cls: 'Dense',
    weights: (o, [x]) => [w('kernel', [last(x), num(o, 'units')], 'in_out'), ...(bool(o, 'useBias', true) ? [w('bias', [num(o, 'units')])] : [])],
    output: (o, [x]) => [...x.slice(0, -1), num(o, 'units') ?? null],
  },
  conv1d: conv('Conv1D', 1, 'WIO'),
  conv2d: conv('Conv2D', 2, 'HWIO'),
  conv3d: conv('Conv3D', 3, ''),
  conv2dTranspose: {
    cls: 'Conv2DTranspose',
    weights: (o, [x]) => {
      const k = tuple(o, 'kernelSize', 2) ?? [undefined, undefined];
      const inCh = x && x.length === 4 ? x[convAxes(o, x).ch] : undefined;
      return [w('kernel', [...k, num(o, 'filters'), inCh]), ...(bool(o, 'useBias', true) ? [w('bias', [num(o, 'filters')])] : [])];
    },
    output: (o, [x]) => {
      const k = tuple(o, 'kernelSize', 2);
      const s = tuple(o, 'strides', 2, 1);
      if (!k || !s || x.length !== 4) return undefined;
      const { ch, spatial } = convAxes(o, x);
      const out = [...x];
      spatial.forEach((ax, i) => { out[ax] = deconvLength(x[ax], s[i], k[i], str(o, 'padding', 'valid')); });
      out[ch] = num(o, 'filters') ?? null;
      return out;
    },
  },
  depthwiseConv2d: {
    cls: 'DepthwiseConv2D',
    weights: (o, [x]) => {
      const k = tuple(o, 'kernelSize', 2) ?? [undefined, undefined];
      const inCh = x && x.length === 4 ? x[convAxes(o, x).ch] : undefined;
      const dm = num(o, 'depthMultiplier', 1);
      return [w('depthwise_kernel', [...k, inCh, dm]), ...(bool(o, 'useBias', true) ? [w('bias', [mul(inCh, dm)])] : [])];
    },
    output: (o, [x]) => (x.length === 4 ? convOutput(o, x, 2, mul(x[convAxes(o, x).ch], num(o, 'depthMultiplier', 1))) : undefined),
  },
  separableConv2d: {
    cls: 'SeparableConv2D',
    weights: (o, [x]) => {
      const k = tuple(o, 'kernelSize', 2) ?? [undefined, undefined];
      const inCh = x && x.length === 4 ? x[convAxes(o, x).ch] : undefined;
      const dm = num(o, 'depthMultiplier', 1);
      return [
        w('depthwise_kernel', [...k, inCh, dm]),
        w('pointwise_kernel', [1, 1, mul(inCh, dm), num(o, 'filters')], 'HWIO'),
        ...(bool(o, 'useBias', true) ? [w('bias', [num(o, 'filters')])] : []),
      ];
    },
    output: (o, [x]) => convOutput(o, x, 2, num(o, 'filters')),
  },
  batchNormalization: {
    cls: 'BatchNormalization',
    weights: (o, [x]) => {
      const ax = x ? axes(o.get('axis'), x.length, -1) : undefined;
      const dim = ax && ax.length === 1 ? x[ax[0]] : undefined;
      return [
        ...(bool(o, 'scale', true) ? [w('gamma', [dim])] : []),
        ...(bool(o, 'center', true) ? [w('beta', [dim])] : []),
        w('moving_mean', [dim], undefined, false),
        w('moving_variance', [dim], undefined, false),
      ];
    },
  },
  layerNormalization: {
    cls: 'LayerNormalization',
    weights: (o, [x]) => {
      const ax = x ? axes(o.get('axis'), x.length, -1) : undefined;
      const shape = ax ? ax.map((a) => x[a]) : [undefined];
      return [...(bool(o, 'scale', true) ? [w('gamma', shape)] : []), ...(bool(o, 'center', true) ? [w('beta', shape)] : [])];
    },
  },
  embedding: {
    cls: 'Embedding',
    weights: (o) => [w('embeddings', [num(o, 'inputDim'), num(o, 'outputDim')])],
    output: (o, [x]) => [...x, num(o, 'outputDim') ?? null],
  },
  simpleRNN: recurrent('SimpleRNN', 1),
  lstm: recurrent('LSTM', 4),
  gru: recurrent('GRU', 3),
  prelu: {
    cls: 'PReLU',
    weights: (o, [x]) => (o.get('sharedAxes') === undefined ? [w('alpha', x ? x.slice(1) : [undefined])] : [w('alpha', [undefined])]),
  },
  activation: same('Activation'),
  dropout: same('Dropout'),
  spatialDropout1d: same('SpatialDropout1D'),
  gaussianNoise: same('GaussianNoise'),
  gaussianDropout: same('GaussianDropout'),
  alphaDropout: same('AlphaDropout'),
  reLU: same('ReLU'),
  leakyReLU: same('LeakyReLU'),
  elu: same('ELU'),
  softmax: same('Softmax'),
  thresholdedReLU: same('ThresholdedReLU'),
  masking: same('Masking'),
  flatten: { cls: 'Flatten', output: (_o, [x]) => [x[0], product(x.slice(1))] },
  reshape: {
    cls: 'Reshape',
    output: (o, [x]) => {
      const t = o.get('targetShape');
      if (!Array.isArray(t) || !t.every(isDim)) return undefined;
      const target = t as TfDim[];
      const free = target.findIndex((d) => d === -1);
      if (free < 0) return [x[0], ...target];
      const known = product(target.filter((_d, i) => i !== free));
      const total = product(x.slice(1));
      return [x[0], ...target.map((d, i) => (i !== free ? d : total === null || known === null ? null : opDim('//', total, known)))];
    },
  },
  permute: {
    cls: 'Permute',
    output: (o, [x]) => {
      const dims = o.get('dims');
      return Array.isArray(dims) && dims.every((d) => typeof d === 'number') ? [x[0], ...(dims as number[]).map((d) => x[d] ?? null)] : undefined;
    },
  },
  repeatVector: { cls: 'RepeatVector', output: (o, [x]) => [x[0], num(o, 'n') ?? null, x[1]] },
  maxPooling1d: pooling('MaxPooling1D', 1),
  maxPooling2d: pooling('MaxPooling2D', 2),
  averagePooling1d: pooling('AveragePooling1D', 1),
  averagePooling2d: pooling('AveragePooling2D', 2),
  globalAveragePooling1d: globalPooling('GlobalAveragePooling1D'),
  globalAveragePooling2d: globalPooling('GlobalAveragePooling2D'),
  globalMaxPooling1d: globalPooling('GlobalMaxPooling1D'),
  globalMaxPooling2d: globalPooling('GlobalMaxPooling2D'),
  upSampling2d: {
    cls: 'UpSampling2D',
    output: (o, [x]) => {
      const size = tuple(o, 'size', 2, 2);
      if (!size || x.length !== 4) return undefined;
      const { spatial } = convAxes(o, x);
      const out = [...x];
      spatial.forEach((ax, i) => { out[ax] = mul(x[ax], size[i]) ?? null; });
      return out;
    },
  },
  zeroPadding2d: {
    cls: 'ZeroPadding2D',
    output: (o, [x]) => {
      const p = o.get('padding');
      const pads: TfDim[][] | undefined = p === undefined ? [[1, 1], [1, 1]] : isDim(p) ? [[p, p], [p, p]]
        : Array.isArray(p) && p.length === 2 && p.every(isDim) ? [[p[0] as TfDim, p[0] as TfDim], [p[1] as TfDim, p[1] as TfDim]]
          : Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(isDim)) ? (p as TfDim[][]) : undefined;
      if (!pads || x.length !== 4) return undefined;
      const { spatial } = convAxes(o, x);
      const out = [...x];
      spatial.forEach((ax, i) => { const [a, b] = pads[i]; out[ax] = x[ax] === null || a === null || b === null ? null : opDim('+', opDim('+', x[ax]!, a), b); });
      return out;
    },
  },
  add: merge('Add'),
  multiply: merge('Multiply'),
  average: merge('Average'),
  maximum: merge('Maximum'),
  minimum: merge('Minimum'),
  dot: {
    cls: 'Dot',
    multi: true,
    // Dot.computeOutputShape: each input loses its axis, the second its batch too; rank 3 at most.
    output: (o, xs) => {
      const v = o.get('axes');
      const given = Array.isArray(v) ? v : [v, v];
      if (xs.length !== 2 || given.length !== 2 || xs.some((x) => x.length > 3)) return undefined;
      const ax = given.map((a, i) => (typeof a === 'number' && Number.isInteger(a) ? (a < 0 ? a + xs[i].length : a) : undefined));
      if (ax.some((a, i) => a === undefined || a < 0 || a >= xs[i].length)) return undefined;
      const out = [...xs[0].filter((_d, i) => i !== ax[0]), ...xs[1].filter((_d, i) => i !== ax[1]).slice(1)];
      return out.length === 1 ? [...out, 1] : out;
    },
  },
  concatenate: {
    cls: 'Concatenate',
    multi: true,
    output: (o, xs) => {
      if (!xs.length) return undefined;
      const ax = axes(o.get('axis'), xs[0].length, -1)?.[0];
      if (ax === undefined) return undefined;
      const out = [...xs[0]];
      let n: TfDim = 0;
      for (const x of xs) n = n === null || x[ax] === null || x[ax] === undefined ? null : opDim('+', n, x[ax]!);
      out[ax] = n;
      return out;
    },
  },
};

/** The aliases @tensorflow/tfjs-layers exports beside the factories (exports_layers.js). */
const ALIASES: Record<string, string> = {
  avgPool1d: 'averagePooling1d', avgPooling1d: 'averagePooling1d', avgPool2d: 'averagePooling2d', avgPooling2d: 'averagePooling2d',
  globalMaxPool1d: 'globalMaxPooling1d', globalMaxPool2d: 'globalMaxPooling2d', maxPool1d: 'maxPooling1d', maxPool2d: 'maxPooling2d',
};
for (const [alias, name] of Object.entries(ALIASES)) TF_LAYERS[alias] = TF_LAYERS[name];
