/**
 * One side of a mapping as the analysis sees it, made from a checkpoint read: tensors by key (shapes in
 * row-major order, GGUF's reversed), a trie for pattern matching, the layout convention, and the
 * buffers a model rebuilds itself. Plain data below every module that loads or analyses sides.
 */
import { CheckpointInfo, Framework, TensorInfo } from '../formats/tensorInfo';
import { ColumnMap, columnsOf } from '../index/tensorColumns';
import { configJsonStamp, frameworkFromEvidence } from './frameworkEvidence';
import { KeyTrie } from './keyTrie';

export interface SideData {
  /** Absolute path of the checkpoint. */
  path: string;
  /** The path as the mapping wrote it. */
  written: string;
  info: CheckpointInfo;
  framework?: Framework;
  /** Where the file does not say its framework: what decided it (frameworkEvidence.ts), for the note. */
  frameworkWhy?: string;
  /**
   * Tensors by key. For a checkpoint the read pool returned, a view over its columns (tensorColumns.ts):
   * each `get` makes a fresh object, so hold what you need, not the map's answers for every key.
   */
  tensors: ReadonlyMap<string, TensorInfo>;
  /** In file order; shared with the tensors' map (tensorColumns.ts), so never changed. */
  keys: readonly string[];
  trie: KeyTrie;
  /** Keys that are buffers a model rebuilds itself (`position_ids`, …): unmapped, they are information only. */
  rebuilt: Set<string>;
  /** Model source: tied keys (target → the key it shares its tensor with); written through that key. */
  tied: Map<string, string>;
  /** Model source: keys that exist only if a condition nothing decided holds (key → the condition). */
  conditional: Map<string, string>;
}

/** Buffers a model rebuilds itself: unmapped, they are information, not errors (tpmap.md). */
const REBUILT_BUFFER = /(^|\.)(position_ids|num_batches_tracked|inv_freq|token_type_ids|relative_position_index|masked_bias)$|\.attn\.bias$/;

/** Side data per checkpoint read: the index hands out the same CheckpointInfo until the file changes. */
const built = new WeakMap<CheckpointInfo, Map<string, SideData>>();

export function sideFromInfo(info: CheckpointInfo, absPath: string, written: string, declared?: Framework): SideData {
  // A file that does not say its framework is judged partly by the config.json beside it: a new one is a new side.
  const judged = !declared && !info.framework && !isSourceFormat(info);
  const memoKey = `${absPath}\0${written}\0${declared ?? ''}\0${judged ? configJsonStamp(absPath) : ''}`;
  let perInfo = built.get(info);
  const hit = perInfo?.get(memoKey);
  if (hit) return hit;
  const side = buildSide(info, absPath, written, declared);
  if (!perInfo) built.set(info, (perInfo = new Map()));
  perInfo.set(memoKey, side);
  return side;
}

function buildSide(info: CheckpointInfo, absPath: string, written: string, declared?: Framework): SideData {
  const ggml = info.shapeOrder === 'ggml';
  const cols = columnsOf(info);
  // An ONNX Constant node's value is part of the graph: weight injection (parity) replaces initializers
  // only, so a mapping neither reads nor must write it. `keys` and the viewer still list it.
  const tensors = cols ? new ColumnMap(cols, ggml, (t) => !!t.constant) : objectMap(info.tensors, ggml);
  const keys = tensors instanceof ColumnMap ? tensors.keyList() : [...tensors.keys()];
  const rebuilt = new Set(keys.filter((k) => REBUILT_BUFFER.test(k)));
  // Only tensors that did not fit the columns can carry model-source fields.
  const special = cols ? [...cols.extras()] : info.tensors;
  const tied = new Map(special.flatMap((t) => (t.tiedTo ? [[t.key, t.tiedTo] as [string, string]] : [])));
  const conditional = new Map(special.flatMap((t) => (t.conditional && !t.constant ? [[t.key, t.conditional] as [string, string]] : [])));
  const evidence = !declared && !info.framework && !isSourceFormat(info) ? frameworkFromEvidence(absPath, tensors) : undefined;
  return {
    path: absPath, written, info, framework: declared ?? info.framework ?? evidence?.framework, ...(evidence ? { frameworkWhy: evidence.why } : {}),
    tensors, keys, rebuilt, tied, conditional,
    // A trie the read worker built is over table positions; only tensors left out of the columns make a side skip any.
    trie: cols?.trie && tensors instanceof ColumnMap ? new KeyTrie(tensors.byPosition(), cols.trie) : new KeyTrie(keys),
  };
}

function objectMap(list: readonly TensorInfo[], ggml: boolean): Map<string, TensorInfo> {
  const tensors = new Map<string, TensorInfo>();
  for (const t of list) if (!t.constant) tensors.set(t.key, ggml ? { ...t, shape: [...t.shape].reverse() } : t);
  return tensors;
}

const isSourceFormat = (info: CheckpointInfo) => info.format === 'python-source' || info.format === 'ts-source';

/** A side read from model source (`FILE.py::Class`) rather than a checkpoint: its layouts and dtypes are the code's. */
export function isModelSourceSide(side: SideData): boolean {
  return isSourceFormat(side.info);
}
