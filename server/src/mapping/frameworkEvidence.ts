/**
 * The framework of a checkpoint whose file does not say it (`safetensors.torch.save_file` writes no
 * `format` into `__metadata__`): its layout decides every transpose, so it is read from evidence and
 * never assumed. In order: a `config.json` beside it (`transformers_version` → torch; `paddlenlp_version`
 * or `paddleformers_version` → Paddle), buffer names only one framework writes (torch's
 * `num_batches_tracked`, Paddle BatchNorm's `_mean`/`_variance`), then the tensors' own shapes — a Linear
 * bias is as long as the weight's output dimension, and a block's Linear weights read or write the
 * model's width (its norms' length) — each weighed against what torch's and Paddle's conventions say
 * of that tensor (GPT-2's Conv1D is `[in, out]` in torch too). Undecided is undefined: the analysis then
 * asks for `framework source|target NAME`.
 */
import { statSync } from 'node:fs';
import { readRegularFileSync } from '../formats/openRegular';
import { besidePath } from '../formats/remote/besideFiles';
import { Framework, TensorInfo } from '../formats/tensorInfo';
import { ColumnMap } from '../index/tensorColumns';
import { linearLayout } from './layout';
import { keyRole } from './roles';

export interface FrameworkEvidence {
  framework: Framework;
  /** What said so, for the note: "config.json beside it has `transformers_version` 5.24.0". */
  why: string;
}

/** The mtime of the config.json beside a checkpoint (0 when absent): part of what the evidence depends on. */
export function configJsonStamp(checkpoint: string): number {
  return statSync(besidePath(checkpoint, 'config.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

export function frameworkFromEvidence(checkpoint: string, tensors: ReadonlyMap<string, TensorInfo>): FrameworkEvidence | undefined {
  return fromConfig(checkpoint) ?? fromBufferNames(tensors) ?? fromShapes(tensors);
}

function fromConfig(checkpoint: string): FrameworkEvidence | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readRegularFileSync(besidePath(checkpoint, 'config.json'), 'a config file').toString('utf8'));
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const c = json as Record<string, unknown>;
  for (const [field, framework] of [['paddlenlp_version', 'paddle'], ['paddleformers_version', 'paddle'], ['transformers_version', 'torch']] as const) {
    if (typeof c[field] === 'string') return { framework, why: `config.json beside it has \`${field}\` ${c[field] as string}` };
  }
  return undefined;
}

function fromBufferNames(tensors: ReadonlyMap<string, TensorInfo>): FrameworkEvidence | undefined {
  for (const k of tensors.keys()) {
    if (/(^|\.)num_batches_tracked$/.test(k)) return { framework: 'torch', why: `\`${k}\` is a buffer only torch's BatchNorm writes` };
    if (/\._(mean|variance)$/.test(k)) return { framework: 'paddle', why: `\`${k}\` is a buffer only Paddle's BatchNorm writes` };
  }
  return undefined;
}

type Layout = 'out_in' | 'in_out';
interface Vote { key: string; layout: Layout; because: string }

const READS_WIDTH = new Set(['q', 'k', 'v', 'qkv', 'kv', 'ffn_in', 'ffn_gate']);
const WRITES_WIDTH = new Set(['o', 'ffn_out']);

/** The layout each non-square Linear weight shows by its bias, or by the width its role reads or writes. */
function votes(tensors: ReadonlyMap<string, TensorInfo>): Vote[] {
  const width = modelWidth(tensors);
  const out: Vote[] = [];
  for (const [key, t] of ofRank(tensors, 2, (s) => s[0] !== s[1])) {
    if (!/(^|\.)weight$/.test(key)) continue;
    const [a, b] = t.shape;
    const bias = tensors.get(key.replace(/weight$/, 'bias'));
    if (bias?.shape.length === 1) {
      const n = bias.shape[0];
      if (n === a || n === b) out.push({ key, layout: n === a ? 'out_in' : 'in_out', because: `\`${bias.key}\` has ${n} values, the ${n === a ? 'first' : 'second'} dimension of \`${key}\` [${a}, ${b}]` });
      continue;
    }
    const role = keyRole(key).role;
    if (width === undefined || !role || (a !== width && b !== width)) continue;
    const reads = READS_WIDTH.has(role);
    if (!reads && !WRITES_WIDTH.has(role)) continue;
    // A layer reading the width has it as its input dimension; one writing it, as its output.
    const layout: Layout = (reads ? b === width : a === width) ? 'out_in' : 'in_out';
    out.push({ key, layout, because: `\`${key}\` [${a}, ${b}] ${reads ? 'reads' : 'writes'} the model's width ${width} (its norms' length)` });
  }
  return out;
}

/** The tensors of one rank whose shape `keep` accepts; over columns, only those are made (tensorColumns.ts). */
function* ofRank(tensors: ReadonlyMap<string, TensorInfo>, rank: number, keep: (shape: readonly number[]) => boolean = () => true): Generator<[string, TensorInfo]> {
  if (tensors instanceof ColumnMap) {
    yield* tensors.entriesOfRank(rank, keep);
    return;
  }
  for (const [key, t] of tensors) if (t.shape.length === rank && keep(t.shape)) yield [key, t];
}

/** The length most 1-D norm weights have: the model's hidden size. */
function modelWidth(tensors: ReadonlyMap<string, TensorInfo>): number | undefined {
  const counts = new Map<number, number>();
  for (const [key, t] of ofRank(tensors, 1)) if (keyRole(key).role === 'norm') counts.set(t.shape[0], (counts.get(t.shape[0]) ?? 0) + 1);
  let best: number | undefined;
  for (const [n, c] of counts) if (best === undefined || c > counts.get(best)!) best = n;
  return best;
}

/** The one framework among torch and Paddle whose conventions every vote agrees with. */
function fromShapes(tensors: ReadonlyMap<string, TensorInfo>): FrameworkEvidence | undefined {
  const vs = votes(tensors);
  if (vs.length === 0) return undefined;
  const agree = (['torch', 'paddle'] as const).filter((fw) => vs.every((v) => linearLayout(tensors.get(v.key)!, fw) === v.layout));
  if (agree.length !== 1) return undefined;
  const framework = agree[0];
  const shown = vs.find((v) => linearLayout(tensors.get(v.key)!, framework === 'torch' ? 'paddle' : 'torch') !== v.layout) ?? vs[0];
  return { framework, why: `its Linear weights are stored ${framework === 'torch' ? '[out, in]' : '[in, out]'}: ${shown.because}${vs.length > 1 ? ` (and ${vs.length - 1} more agree)` : ''}` };
}
