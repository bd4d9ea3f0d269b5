/**
 * Keras 3 names a layer's weights by position, not by name: `model.save_weights` writes
 * `layers/dense_1/vars/0`, the layer's path in snake case of its class (`dense`, then `dense_1`, … in
 * creation order) and the variable's index in the order the layer's `build` made them. For the built-in
 * layers that order is fixed by Keras' source (keras/src/layers/…: `add_weight` calls), so the index names
 * the parameter. A layer not listed here, or an index its class does not have, stays unnamed: its layout
 * and role are left unknown rather than guessed (a Conv2DTranspose kernel, say, is HWOI, not HWIO).
 */

/** What a built-in layer builds, in order (all optional parts present: `use_bias`, `center`, `scale`). */
const BUILD_ORDER: Record<string, readonly string[]> = {
  dense: ['kernel', 'bias'],
  conv1d: ['kernel', 'bias'], conv2d: ['kernel', 'bias'], conv3d: ['kernel', 'bias'],
  embedding: ['embeddings'],
  layer_normalization: ['gamma', 'beta'],
  batch_normalization: ['gamma', 'beta', 'moving_mean', 'moving_variance'],
};

/** The module kind a class is, as the other side's tensors show it (a Linear layout, a convolution layout, a role). */
export type ModuleKind = 'linear' | 'conv' | 'embed' | 'norm';

const KIND: Record<string, ModuleKind> = {
  dense: 'linear', conv1d: 'conv', conv2d: 'conv', conv3d: 'conv', embedding: 'embed', layer_normalization: 'norm', batch_normalization: 'norm',
};

export interface KerasVar {
  /** The layer's class in snake case (`layer_normalization`). */
  cls: string;
  /** Keras' counter: 0 for `dense`, 1 for `dense_1` — the instance's place in creation order. */
  counter: number;
  param: string;
  kind: ModuleKind;
}

const POSITIONAL = /(?:^|\/)([a-z][a-z0-9_]*?)(?:_(\d+))?\/vars\/(\d+)$/;

/** A Keras 3 positional weight name read as its layer and parameter, or undefined when the key is none or its class is not known here. */
export function kerasVar(key: string): KerasVar | undefined {
  const m = POSITIONAL.exec(key);
  if (!m) return undefined;
  const order = BUILD_ORDER[m[1]];
  const param = order?.[Number(m[3])];
  return param === undefined ? undefined : { cls: m[1], counter: m[2] === undefined ? 0 : Number(m[2]), param, kind: KIND[m[1]] };
}

/** The key with `vars/N` replaced by the parameter it is (`layers/dense/vars/0` → `layers/dense/kernel`); other keys unchanged. */
export function kerasNamedKey(key: string): string {
  const v = kerasVar(key);
  return v ? `${key.slice(0, key.lastIndexOf('/vars/'))}/${v.param}` : key;
}
