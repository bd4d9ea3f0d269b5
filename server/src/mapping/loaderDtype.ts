/**
 * What a model class's own loader does with a tensor whose dtype is not its parameter's — measured with
 * the pinned frameworks: torch 2.13's `load_state_dict` copies into the parameter, casting (an F16 tensor
 * into an F32 Linear loads as F32); Paddle 3.3.1's `set_state_dict` refuses ("Variable dtype not match …
 * need tensor with dtype paddle.float32 but load tensor with dtype paddle.float16"). `check` and `convert`
 * both decide from this, so what one reports as an error the other refuses to write.
 */
import { SideData } from './sideData';

/** Whether loading into this model-source side casts a tensor of another dtype (true) or refuses it (false). */
export function loaderCasts(side: SideData): boolean {
  return side.framework !== 'paddle';
}

/** The sentence both `check` and `convert` give for a result dtype the class's parameter does not have. */
export function classDtypeMessage(side: SideData, key: string, out: string, param: string): string {
  return loaderCasts(side)
    ? `\`${key}\` is written ${out}; the class's parameter is ${param} and load_state_dict casts it back on load, so the cast only loses precision`
    : `\`${key}\` would be ${out} but the class's parameter is ${param}, and Paddle's set_state_dict refuses a tensor of another dtype: add \`| cast(${param})\``;
}
