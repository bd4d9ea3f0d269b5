/**
 * TF.js's layer wrappers, `tf.layers.timeDistributed({layer})` and `tf.layers.bidirectional({layer})`
 * (tfjs-layers layers/wrappers.js), as layer kinds made from the kind of the layer they wrap: the wrapper
 * builds that layer's weights itself, under its own name scope.
 */
import { opDim } from './dims';
import { LayerKind, Opts, TfShape } from './tfjsLayers';

/** The layer a wrapper is given: a `tf.layers.*` kind with its options and name. */
export interface Wrapped { kind: LayerKind; opts: Opts; name: string }

/**
 * TimeDistributed: the inner layer is built on the input without its time axis (axis 1), and its weights
 * take the wrapper's scope alone (`time_distributed_TimeDistributed1/kernel`).
 */
function timeDistributed(inner: Wrapped): LayerKind {
  const step = (x: TfShape): TfShape => [x[0], ...x.slice(2)];
  return {
    cls: 'TimeDistributed',
    weights: (_o, [x]) => (x && x.length >= 3 ? inner.kind.weights?.(inner.opts, [step(x)]) ?? [] : inner.kind.weights?.(inner.opts, []) ?? []),
    output: (_o, [x]) => {
      if (x.length < 3) return undefined;
      const y = inner.kind.output ? inner.kind.output(inner.opts, [step(x)]) : step(x);
      return y ? [y[0], x[1], ...y.slice(1)] : undefined;
    },
  };
}

/**
 * Bidirectional: two copies of the inner layer made from its config, named `forward_<name>` and
 * `backward_<name>` (a given name draws no counter), forward's weights then backward's; `mergeMode`
 * (default `concat`) joins their outputs on the last axis.
 */
function bidirectional(inner: Wrapped): LayerKind {
  const scoped = (prefix: string, x: TfShape[]) => (inner.kind.weights?.(inner.opts, x) ?? []).map((w) => ({ ...w, name: `${prefix}_${inner.name}/${w.name}` }));
  return {
    cls: 'Bidirectional',
    weights: (_o, x) => [...scoped('forward', x), ...scoped('backward', x)],
    output: (o, [x]) => {
      const y = inner.kind.output ? inner.kind.output(inner.opts, [x]) : x;
      const mode = o.has('mergeMode') ? o.get('mergeMode') : 'concat';
      if (!y || !y.length) return undefined;
      if (mode === 'concat') {
        const d = y[y.length - 1];
        return [...y.slice(0, -1), d === null ? null : opDim('*', d, 2)];
      }
      return mode === 'sum' || mode === 'mul' || mode === 'ave' ? y : undefined;
    },
  };
}

export const TF_WRAPPERS: Record<string, (inner: Wrapped) => LayerKind> = { timeDistributed, bidirectional };
