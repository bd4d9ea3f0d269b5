/**
 * `--dtype fp16|bf16`: the candidate rewritten to behave as in half precision. Every stored value is
 * rounded to the half type — float initializers and Constant values, float graph inputs (a Cast pair
 * after each), and every float output of every operator computed from the inputs (a Cast to half and
 * back after its node) — while each operator itself computes in fp32, as GPU kernels accumulate.
 *
 * Why not a graph of FLOAT16 tensors: onnxruntime's CPU provider runs most fp16 operators by inserting
 * casts to fp32 and then removes cast pairs, lossy ones included, so a "native" fp16 graph on CPU
 * silently computes in fp32; and onnxruntime-node cannot pass bfloat16 tensors in or out at all. The
 * emulated graph rounds exactly where half-precision storage rounds, on every provider.
 *
 * A candidate that is already half precision (float16/bfloat16 weights, no float32 ones) runs as it
 * is: the runtime's own type checks then apply, and their errors name the node.
 */
import { bf16ToFloat, floatToBf16, floatToFp16, fp16ToFloat } from './hostTensor';
import { DT, GRAPH, OnnxModel, OnnxNode, editModel, intAttr, nodeProto, parseTensorHeader, rewriteNode, tensorAttr, tensorBytes, tensorProto } from './onnxModel';
import { dynamicValues, elemTypes } from './graphInfo';
import { lenField } from './protobuf';

export type HalfType = 'fp16' | 'bf16';

export interface HalfResult { bytes?: Buffer; alreadyHalf: boolean; rounded: { initializers: number; values: number } }

/** Reserved suffixes for the values this rewrite adds; never a layer of the model. */
export const HALF_SUFFIX = '__tp_';

export function halfTypeOf(m: OnnxModel): 'fp32' | 'half' | 'none' {
  let f32 = 0;
  let half = 0;
  for (const t of m.initializers) {
    if (t.dataType === DT.FLOAT) f32++;
    else if (t.dataType === DT.FLOAT16 || t.dataType === DT.BFLOAT16) half++;
  }
  return half > 0 && f32 === 0 ? 'half' : f32 > 0 ? 'fp32' : 'none';
}

function rounder(kind: HalfType): (v: number) => number {
  return kind === 'fp16' ? (v) => fp16ToFloat(floatToFp16(v)) : (v) => bf16ToFloat(floatToBf16(v));
}

function roundFloat32(raw: Uint8Array, round: (v: number) => number): Uint8Array {
  const src = new Float32Array(new Uint8Array(raw).buffer);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = round(src[i]);
  return new Uint8Array(out.buffer);
}

export function emulateHalf(m: OnnxModel, kind: HalfType): HalfResult {
  if (halfTypeOf(m) === 'half') return { alreadyHalf: true, rounded: { initializers: 0, values: 0 } };
  const round = rounder(kind);
  const halfCode = kind === 'fp16' ? DT.FLOAT16 : DT.BFLOAT16;
  const replace = new Map<OnnxModel['graphFields'][number], Uint8Array | null>();
  const before = new Map<OnnxModel['graphFields'][number], Uint8Array[]>();
  let initializers = 0;
  let values = 0;

  for (const t of m.initializers) {
    if (t.dataType !== DT.FLOAT) continue;
    replace.set(t.field, lenField(GRAPH.initializer, tensorProto(t.name, DT.FLOAT, t.dims, roundFloat32(tensorBytes(m, t.field), round))));
    initializers++;
  }

  const types = elemTypes(m);
  const dynamic = dynamicValues(m);
  const roundTrip = (from: string, to: string, tag: string): Buffer[] => [
    lenField(GRAPH.node, nodeProto({ name: `${tag}${HALF_SUFFIX}to_half`, op: 'Cast', inputs: [from], outputs: [`${to}${HALF_SUFFIX}half`], attrs: [intAttr('to', halfCode)] })),
    lenField(GRAPH.node, nodeProto({ name: `${tag}${HALF_SUFFIX}to_float`, op: 'Cast', inputs: [`${to}${HALF_SUFFIX}half`], outputs: [to], attrs: [intAttr('to', DT.FLOAT)] })),
  ];

  // Float graph inputs: round once, and let every consumer read the rounded value.
  const inputRename = new Map<string, string>();
  const inputCasts: Buffer[] = [];
  for (const v of m.inputs) {
    if (v.elemType !== DT.FLOAT) continue;
    const rounded = `${v.name}${HALF_SUFFIX}rounded`;
    inputRename.set(v.name, rounded);
    inputCasts.push(...roundTrip(v.name, rounded, v.name));
  }

  for (const n of m.nodes) {
    const attrs = constantAttrs(m, n, round);
    const outs = n.outputs.filter((o) => o !== '' && types.get(o) === DT.FLOAT && dynamic.has(o));
    const renameIn = n.inputs.some((i) => inputRename.has(i));
    if (!attrs && outs.length === 0 && !renameIn) continue;
    const outSet = new Set(outs);
    const body = rewriteNode(m, n, {
      rename: (name, isOutput) => (isOutput ? (outSet.has(name) ? `${name}${HALF_SUFFIX}full` : name) : inputRename.get(name) ?? name),
      attrs: attrs ?? undefined,
    });
    const parts: Buffer[] = [lenField(GRAPH.node, body)];
    for (const o of outs) parts.push(...roundTrip(`${o}${HALF_SUFFIX}full`, o, n.name || o));
    values += outs.length;
    replace.set(n.field, Buffer.concat(parts));
  }

  const firstNode = m.graphFields.find((f) => f.field === GRAPH.node);
  if (inputCasts.length && firstNode) before.set(firstNode, inputCasts);
  return { bytes: editModel(m, { replace, before }), alreadyHalf: false, rounded: { initializers, values } };
}

/** A Constant's float value, rounded: the attribute bytes to substitute, or undefined when nothing changes. */
function constantAttrs(m: OnnxModel, n: OnnxNode, round: (v: number) => number): Map<number, Uint8Array> | undefined {
  if (n.op !== 'Constant' && n.op !== 'ConstantOfShape') return undefined;
  const a = n.attrs.find((x) => x.name === 'value' && x.t);
  if (!a?.t) return undefined;
  const h = parseTensorHeader(m.buf, a.t);
  if (h.dataType !== DT.FLOAT) return undefined;
  const raw = roundFloat32(tensorBytes(m, a.t), round);
  return new Map([[a.field.tagStart, tensorAttr('value', tensorProto(h.name, DT.FLOAT, h.dims, raw))]]);
}
