/**
 * Inferred tensors as the `CheckpointInfo` every other part of Tensor Port reads: format
 * `python-source`/`ts-source`, numbers where the bindings resolved a dimension (NaN elsewhere, with
 * the expression in `dims`), and each tensor's defining line and layout.
 */
import * as path from 'node:path';
import { CheckpointInfo, IncompleteSource, SourceRange, TensorInfo } from '../formats/tensorInfo';
import { Dim, renderDim } from './dims';
import { withCheckpointSpace } from './hfKeySpace';
import { Inferred, InferredTensor } from './infer';
import { LoadedModel } from './loadModel';
import { Site } from './values';

/** `encoder.layers.3.attn.q.weight` → `encoder.layers.#.attn.q.weight`: every layer shares one declared shape. */
export const layerShapeKey = (key: string) => key.replace(/(^|\.)\d+(?=\.|$)/g, '$1#');

const rangeOf = (s: Site): SourceRange => ({ file: s.file, line: s.pos.line, column: s.pos.column, endLine: s.pos.endLine, endColumn: s.pos.endColumn });

/** `encoder` (modeling.py:123): `paddle.nn.TransformerEncoder` is not a layer Tensor Port knows — what it holds is not listed. */
export function incompleteNote(g: IncompleteSource): string {
  // A gap on a tensor that is listed (a flag not evaluated) says so itself.
  const tail = /\bare listed\b/.test(g.message) ? '' : '; what it registers there is not listed';
  return `${g.module ? `\`${g.module}\`` : 'the model'} is incomplete (${path.basename(g.at.file)}:${g.at.line + 1}): ${g.message}${tail}`;
}

export function tensorInfoOf(t: InferredTensor, declared?: readonly Dim[]): TensorInfo {
  const info: TensorInfo = {
    key: t.key,
    dtype: t.dtype,
    shape: t.shape ? t.shape.map((d) => (typeof d === 'number' ? d : NaN)) : [NaN],
    definition: rangeOf(t.site),
  };
  if (!t.shape) info.dims = ['?'];
  else if (t.shape.some((d) => typeof d !== 'number')) info.dims = t.shape.map((d) => (typeof d === 'number' ? d : renderDim(d)));
  if (declared && declared.some((d) => typeof d !== 'number')) info.declared = declared.map((d) => (typeof d === 'number' ? d : renderDim(d)));
  if (t.layout) info.layout = t.layout;
  if (t.layoutWhy) info.layoutWhy = t.layoutWhy;
  if (!t.param) info.buffer = true;
  if (t.cond) info.conditional = t.cond;
  return info;
}

export function sourceCheckpointInfo(
  model: LoadedModel,
  written: string,
  final: Inferred,
  declared?: Inferred,
  bindings?: Record<string, { value: number; from: string }>,
): CheckpointInfo {
  const byShapeKey = new Map<string, Dim[] | undefined>();
  for (const t of declared?.tensors ?? []) byShapeKey.set(layerShapeKey(t.key), t.shape);
  const notes = [...final.notes];
  for (const [target, source] of final.tied) {
    notes.push(`\`${target}\` is tied to \`${source}\` (\`_tied_weights_keys\` with tie_word_embeddings): one tensor, and \`save_pretrained\` writes only \`${source}\``);
  }
  const incomplete = final.gaps.map(({ module, gap }) => ({ module, message: gap.message, at: rangeOf(gap.site) }));
  // A stop or a syntax error is a note already (the first ones), in its own words.
  for (const g of incomplete) if (!notes.some((n) => n.includes(g.message))) notes.push(incompleteNote(g));
  const open = final.tensors.filter((t) => t.shape?.some((d) => typeof d !== 'number')).length;
  if (open) notes.push(`${open} tensor${open === 1 ? ' has' : 's have'} dimensions no binding resolved (shown by name); \`set NAME = …\` in a mapping, or a config.json beside the other checkpoint, gives their values`);
  const info: CheckpointInfo = {
    file: written,
    format: model.language === 'python' ? 'python-source' : 'ts-source',
    framework: final.framework,
    tensors: final.tensors.map((t) => {
      const info = tensorInfoOf(t, byShapeKey.get(layerShapeKey(t.key)) ?? t.shape);
      const tiedTo = final.tied.get(t.key);
      return tiedTo ? { ...info, tiedTo } : info;
    }),
    notes,
    ...(incomplete.length ? { incomplete } : {}),
    ...(bindings && Object.keys(bindings).length ? { bindings } : {}),
    ...(final.stopped ? { stopped: final.stopped } : {}),
  };
  return model.language === 'python' ? withCheckpointSpace(info, model.root.file.path, final.pretrained) : info;
}
