/**
 * One target tensor made from its rule and source tensors: views at the sources' byte locations
 * (strides, Paddle protocol-2 text), the rule's transforms, contiguous bytes out. The converter writes
 * what this returns; the parity runner injects it into an ONNX model — one definition of what a rule
 * does to data.
 */
import { TensorInfo } from '../../formats/tensorInfo';
import { Rule } from '../syntax';
import { ConvertError } from './errors';
import { runTransforms } from './runTransforms';
import { SourceFiles, castInto, materialize, sourceView } from './sourceData';
import { View } from './view';

export interface ProducedTensor { dtype: string; shape: number[]; data: Buffer }

/**
 * `what` names the tensor being made in messages (`\`key\` (mapping.tpmap:12)`). `castTo`: the target's
 * dtype, where the plan leaves a same-kind difference to it (plan.ts) — cast as a final `cast` would.
 */
export async function produceTensor(rule: Rule, sources: readonly TensorInfo[], files: SourceFiles, what: string, signal?: AbortSignal, castTo?: string): Promise<ProducedTensor> {
  const inputs: View[] = [];
  for (const s of sources) inputs.push(await sourceView(s, files));
  const io = { materialize: (v: View, w: string) => materialize(v, files, w), alloc: (n: number) => files.pool.take(n), cast: (d: Buffer, from: string, to: string) => castInto(d, from, to, files) };
  const out = await runTransforms(rule.transforms, inputs, io, what, signal);
  if (out.length !== 1) throw new ConvertError('mapping', `${what}: the rule yields ${out.length} tensors for one target (a list needs \`cat\`)`);
  const data = await materialize(out[0], files, what);
  if (castTo && castTo !== out[0].dtype) return { dtype: castTo, shape: out[0].shape, data: await castInto(data, out[0].dtype, castTo, files) };
  return { dtype: out[0].dtype, shape: out[0].shape, data };
}
