/**
 * Which layout convention a NumPy archive's arrays follow, from their names: `.npz` and `.npy` carry no
 * framework, but Flax/big_vision names (`…/Dense_0/kernel`, `…/LayerNorm_0/scale`) are JAX's, whose Dense
 * kernels are `[in, out]` and convolutions HWIO.
 */
import type { Framework } from '../tensorInfo';

const FLAX_PARAM = /(^|[/.])(kernel|scale|embedding)$/;

export function frameworkByNames(keys: readonly string[]): { framework: Framework; note: string } | undefined {
  const hit = keys.find((k) => FLAX_PARAM.test(k));
  if (!hit) return undefined;
  return { framework: 'jax', note: `names like \`${hit}\` are Flax's: JAX layouts assumed (Dense kernels [in, out], convolutions HWIO)` };
}
