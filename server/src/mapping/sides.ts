/**
 * The two sides of a mapping as the analysis sees them: each checkpoint's tensors by key (shapes in
 * row-major order, GGUF's reversed), a trie for pattern matching, and the side's layout convention.
 * Loading resolves `source`/`target` paths relative to the mapping file and reads them through the
 * shared checkpoint index, so the server re-reads nothing that has not changed.
 */
import * as path from 'node:path';
import { CheckpointIndex } from '../index/checkpointIndex';
import { CheckpointInfo, Framework, TensorInfo } from '../formats/tensorInfo';
import { loadModelSide } from '../source/modelSide';
import { KeyTrie } from './keyTrie';
import { MappingFile, SideDirective } from './syntax';

export interface SideData {
  /** Absolute path of the checkpoint. */
  path: string;
  /** The path as the mapping wrote it. */
  written: string;
  info: CheckpointInfo;
  framework?: Framework;
  tensors: Map<string, TensorInfo>;
  keys: string[];
  trie: KeyTrie;
  /** Keys that are buffers a model rebuilds itself (`position_ids`, …): unmapped, they are information only. */
  rebuilt: Set<string>;
}

/** Buffers a model rebuilds itself: unmapped, they are information, not errors (tpmap.md). */
const REBUILT_BUFFER = /(^|\.)(position_ids|num_batches_tracked|inv_freq|token_type_ids|relative_position_index|masked_bias)$|\.attn\.bias$/;

export interface SideFailure {
  code: 'unreadable-checkpoint' | 'unsafe-pickle';
  message: string;
}

export type SideResult = { ok: true; side: SideData } | { ok: false; failure: SideFailure };

export interface Sides {
  source?: SideResult;
  target?: SideResult;
}

/** Side data per checkpoint read: the index hands out the same CheckpointInfo until the file changes. */
const built = new WeakMap<CheckpointInfo, Map<string, SideData>>();

export function sideFromInfo(info: CheckpointInfo, absPath: string, written: string, declared?: Framework): SideData {
  const memoKey = `${absPath}\0${written}\0${declared ?? ''}`;
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
  const tensors = new Map<string, TensorInfo>();
  for (const t of info.tensors) {
    // An ONNX Constant node's value is part of the graph: weight injection (parity) replaces initializers
    // only, so a mapping neither reads nor must write it. `keys` and the viewer still list it.
    if (t.constant) continue;
    tensors.set(t.key, ggml ? { ...t, shape: [...t.shape].reverse() } : t);
  }
  const keys = [...tensors.keys()];
  const rebuilt = new Set(keys.filter((k) => REBUILT_BUFFER.test(k)));
  return { path: absPath, written, info, framework: declared ?? info.framework, tensors, keys, trie: new KeyTrie(keys), rebuilt };
}

export function sideDirective(file: MappingFile, kind: 'source' | 'target'): SideDirective | undefined {
  return file.items.find((i): i is SideDirective => i.kind === kind);
}

export function declaredFramework(file: MappingFile, kind: 'source' | 'target'): Framework | undefined {
  for (const i of file.items) {
    if (i.kind === 'framework' && i.side?.text === kind && i.name) return i.name.text as Framework;
  }
  return undefined;
}

/** Absolute path a `source`/`target` directive names, relative to the mapping file's folder. */
export function resolveSidePath(mappingPath: string, written: string): string {
  return path.resolve(path.dirname(mappingPath), written);
}

export async function loadSides(mappingPath: string, file: MappingFile, index: CheckpointIndex): Promise<Sides> {
  const load = async (kind: 'source' | 'target'): Promise<SideResult | undefined> => {
    const d = sideDirective(file, kind);
    if (!d?.path || d.className) return undefined;
    const abs = resolveSidePath(mappingPath, d.path.text);
    const entry = await index.get(abs);
    if (!entry.ok) return { ok: false, failure: { code: entry.error.code, message: `${d.path.text}: ${entry.error.reason}${entry.error.offset !== undefined ? ` (at byte ${entry.error.offset})` : ''}` } };
    return { ok: true, side: sideFromInfo(entry.info, abs, d.path.text, declaredFramework(file, kind)) };
  };
  const sides: Sides = {};
  [sides.source, sides.target] = await Promise.all([load('source'), load('target')]);
  // Model source (`FILE.py::Class`) is inferred after the checkpoints: its open dimensions bind against the other side.
  for (const kind of ['source', 'target'] as const) {
    const d = sideDirective(file, kind);
    if (!d?.path || !d.className) continue;
    const other = sides[kind === 'source' ? 'target' : 'source'];
    const abs = resolveSidePath(mappingPath, d.path.text);
    const written = `${d.path.text}::${d.className.text}`;
    const r = await loadModelSide({ path: abs, className: d.className.text, written, role: kind, file, other: other?.ok ? other.side : undefined });
    sides[kind] = r.ok
      ? { ok: true, side: sideFromInfo(r.info, abs, written, declaredFramework(file, kind)) }
      : { ok: false, failure: { code: 'unreadable-checkpoint', message: r.message } };
  }
  return sides;
}
