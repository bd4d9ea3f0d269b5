/**
 * What the runner needs to know about a graph's values without running it: each value's element type
 * (exporters such as torch.onnx write no value_info for intermediates, so types are propagated from
 * the inputs and initializers by a small per-operator table; unknown operators leave their outputs
 * untyped) and which values depend on a graph input (the rest are constants folded at load time: a
 * weight's Transpose is not a layer).
 */
import { table } from '../formats/table';
import { DT, OnnxModel, OnnxNode, parseTensorHeader } from './onnxModel';

const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);
/** Operators whose output type is not their first input's (beyond the sets above). */
const FROM_INPUT: Readonly<Record<string, number>> = table({ Where: 1, CastLike: 1, OneHot: 2, Expand: 0 });

export function elemTypes(m: OnnxModel): Map<string, number> {
  const types = new Map<string, number>();
  for (const v of [...m.inputs, ...m.valueInfo, ...m.outputs]) if (v.elemType) types.set(v.name, v.elemType);
  for (const t of m.initializers) types.set(t.name, t.dataType);
  for (const n of m.nodes) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') continue;
    const out = outputType(n, types, m);
    if (out === undefined) continue;
    n.outputs.forEach((o, i) => {
      if (o === '' || types.has(o)) return;
      if (n.op === 'TopK' && i === 1) types.set(o, DT.INT64);
      else if (n.op === 'Dropout' && i === 1) types.set(o, DT.BOOL);
      else if (i === 0 || ['Split', 'LayerNormalization'].includes(n.op)) types.set(o, out);
    });
  }
  return types;
}

function outputType(n: OnnxNode, types: Map<string, number>, m: OnnxModel): number | undefined {
  if (BOOL_OUT.has(n.op)) return DT.BOOL;
  if (INT64_OUT.has(n.op)) return DT.INT64;
  if (n.op === 'Cast') return n.attrs.find((a) => a.name === 'to')?.i;
  if (n.op === 'Constant' || n.op === 'ConstantOfShape') {
    const t = n.attrs.find((a) => a.name === 'value')?.t;
    if (t) return parseTensorHeader(m.buf, t).dataType;
    if (n.op === 'ConstantOfShape') return DT.FLOAT;
    return undefined; // value_float & co. are rare in exported graphs
  }
  if (n.op === 'DequantizeLinear') return DT.FLOAT;
  const from = FROM_INPUT[n.op] ?? 0;
  const input = n.inputs[from];
  return input ? types.get(input) : undefined;
}

/** Values computed from a graph input, directly or not. */
export function dynamicValues(m: OnnxModel): Set<string> {
  const dyn = new Set(m.inputs.map((v) => v.name));
  for (const n of m.nodes) {
    // Nodes with subgraphs may read outer values implicitly: count them as dynamic.
    if (n.inputs.some((i) => dyn.has(i)) || n.attrs.some((a) => a.subgraph)) for (const o of n.outputs) if (o) dyn.add(o);
  }
  return dyn;
}

/** Node order is topological in a valid ONNX graph; this is each produced value's position in it. */
export function producerIndex(m: OnnxModel): Map<string, number> {
  const at = new Map<string, number>();
  m.nodes.forEach((n, i) => n.outputs.forEach((o) => { if (o) at.set(o, i); }));
  return at;
}

export const FLOATING: ReadonlySet<number> = new Set([DT.FLOAT, DT.FLOAT16, DT.BFLOAT16, DT.DOUBLE]);
