/**
 * Layout conventions: which way round a side stores a Linear weight. torch and MLX keep `[out, in]`,
 * Paddle and JAX/Keras `[in, out]`; GPT-2's `Conv1D` is `[in, out]` even in torch; in ONNX it depends
 * on the consumer (`MatMul` B is `[in, out]`, `Gemm` with `transB=1` is `[out, in]`). Knowing both
 * sides' convention is what catches a missing transpose on a square matrix. Convolutions likewise:
 * torch, Paddle and ONNX store `[out, in, kh, kw]`, MLX `[out, kh, kw, in]`, JAX/Flax, Keras and TF.js `[kh, kw, in, out]`
 * — and a 3×3 convolution over 3 channels has the same shape in all three.
 */
import { Framework, TensorInfo } from '../formats/tensorInfo';
import { kerasNamedKey } from './kerasVars';

export type LinearLayout = 'out_in' | 'in_out';

const BY_FRAMEWORK: Partial<Record<Framework, LinearLayout>> = {
  torch: 'out_in', mlx: 'out_in', gguf: 'out_in', paddle: 'in_out', jax: 'in_out', tf: 'in_out', keras: 'in_out', tfjs: 'in_out',
};

/** Modules whose 2-D `weight` is a lookup table or a norm, never a Linear. */
const NOT_LINEAR = /(embed|wte|wpe|^shared$|token_type|position|norm|^ln|layernorm|^bn\d*$|batchnorm|rel_pos|relative_attention_bias)/i;

/**
 * The layout of a 2-D Linear weight on this side, or undefined when it is not one or the side does not
 * say. Model source says it tensor by tensor — the framework layer that owns it, or how the code uses
 * it — and a tensor it says nothing of has no layout: its name is no evidence there.
 */
export function linearLayout(t: TensorInfo, framework: Framework | undefined, modelSource = false): LinearLayout | undefined {
  if (t.shape.length !== 2) return undefined;
  if (modelSource) return t.layout === 'out_in' || t.layout === 'in_out' ? t.layout : undefined;
  const segs = keySegments(t.key);
  const param = segs[segs.length - 1];
  if (param !== 'weight' && param !== 'kernel' && !(t.consumers?.length)) return undefined;
  const module = segs[segs.length - 2] ?? '';
  if (segs.slice(0, -1).some((s) => NOT_LINEAR.test(s))) return undefined;
  if (framework === 'onnx') {
    const c = t.consumers ?? [];
    if (c.some((x) => x === 'Gemm.B.transB')) return 'out_in';
    if (c.some((x) => x === 'MatMul.B' || x === 'Gemm.B')) return 'in_out';
    return undefined;
  }
  // GPT-2 style Conv1D stores [in, out] in torch checkpoints.
  if (framework === 'torch' && /^c_(attn|proj|fc)$/.test(module)) return 'in_out';
  if (param === 'kernel') return 'in_out';
  return framework ? BY_FRAMEWORK[framework] : undefined;
}

/**
 * A key's module path: `.` (PyTorch, Paddle, Flax msgpack) or `/` (TensorFlow, big_vision `.npz`, HDF5)
 * separated; a TF2 object-graph name's `/.ATTRIBUTES/VARIABLE_VALUE` tail is no part of it, and a Keras 3
 * `vars/N` is the parameter it is (kerasVars.ts: `dense/vars/0` is a `kernel`).
 */
function keySegments(key: string): string[] {
  // Without a `/` neither tail can be there (every rule's tensors ask, so the common case skips two regexes).
  if (!key.includes('/')) return key.split('.');
  return kerasNamedKey(key.replace(/\/\.ATTRIBUTES\/VARIABLE_VALUE$/, '')).split(/[./]/);
}

/** A convolution weight's dimension order, one letter per dimension (O out, I in, H/W kernel). */
export type ConvLayout = 'OIHW' | 'OHWI' | 'HWIO' | 'OIW' | 'OWI' | 'WIO';

const CONV_BY_FRAMEWORK: Partial<Record<Framework, [ConvLayout, ConvLayout]>> = {
  torch: ['OIHW', 'OIW'], paddle: ['OIHW', 'OIW'], onnx: ['OIHW', 'OIW'], mlx: ['OHWI', 'OWI'], jax: ['HWIO', 'WIO'],
  tf: ['HWIO', 'WIO'], keras: ['HWIO', 'WIO'], tfjs: ['HWIO', 'WIO'],
};

/** The layout of a 1-D or 2-D convolution weight on this side, or undefined when it is not one or the side does not say. */
export function convLayout(t: TensorInfo, framework: Framework | undefined, modelSource = false): ConvLayout | undefined {
  if (t.shape.length !== 3 && t.shape.length !== 4) return undefined;
  if (modelSource) return CONV_LAYOUTS.has(t.layout ?? '') ? t.layout as ConvLayout : undefined;
  const segs = keySegments(t.key);
  const param = segs[segs.length - 1];
  if (param !== 'weight' && param !== 'kernel') return undefined;
  if (segs.slice(0, -1).some((s) => NOT_LINEAR.test(s))) return undefined;
  // A Flax `kernel` is HWIO whatever the file says.
  const pair = param === 'kernel' ? CONV_BY_FRAMEWORK.jax : framework ? CONV_BY_FRAMEWORK[framework] : undefined;
  const layout = pair?.[t.shape.length === 4 ? 0 : 1];
  // Stacked 3-D weights (MoE experts [E, out, in]) are no convolutions: a kernel is small.
  return layout && [...layout].every((c, i) => (c !== 'H' && c !== 'W') || t.shape[i] <= MAX_KERNEL) ? layout : undefined;
}

const CONV_LAYOUTS = new Set<string>(['OIHW', 'OHWI', 'HWIO', 'OIW', 'OWI', 'WIO']);

/** Kernel sizes beyond this are a stacked weight's hidden size, not a convolution's window. */
const MAX_KERNEL = 64;

/** `permute` dims taking `from` to `to` (output dimension i is input dimension perm[i]), or undefined if they differ in rank. */
export function convPermutation(from: ConvLayout, to: ConvLayout): number[] | undefined {
  if (from.length !== to.length) return undefined;
  return [...to].map((c) => from.indexOf(c));
}

/** `[out, in, kh, kw]`, for messages. */
export function describeConv(l: ConvLayout): string {
  const word: Record<string, string> = { O: 'out', I: 'in', H: 'kh', W: l.length === 3 ? 'k' : 'kw' };
  return `[${[...l].map((c) => word[c]).join(', ')}]`;
}

/** Frameworks whose `kernel` is named after them in messages (any other `kernel` is Flax's). */
const KERNEL_OWNER: Partial<Record<Framework, string>> = { tf: 'TensorFlow', keras: 'Keras', tfjs: 'TF.js' };

/** `[out, in]`, for messages. */
export function describeLinear(l: LinearLayout): string {
  return l === 'out_in' ? '[out, in]' : '[in, out]';
}

/**
 * Why a side's tensor has its Linear layout, for messages that name both sides: the use in the model
 * source, or the framework (of the checkpoint, or of the source's layer), GPT-2's Conv1D by name — so a
 * message never reads "torch stores it as [out, in], torch as [in, out]".
 */
export function layoutReason(t: TensorInfo, framework: Framework | undefined, modelSource: boolean): string {
  if (modelSource) return t.layoutWhy ? `used in ${t.layoutWhy}` : framework ?? 'its layer';
  const module = keySegments(t.key).at(-2) ?? '';
  if (framework === 'torch' && /^c_(attn|proj|fc)$/.test(module)) return 'GPT-2 Conv1D, torch';
  if (keySegments(t.key).at(-1) === 'kernel') return framework && KERNEL_OWNER[framework] ? `a ${KERNEL_OWNER[framework]} kernel` : 'a Flax kernel';
  return framework ?? 'unknown framework';
}
