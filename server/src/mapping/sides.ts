/**
 * The two sides of a mapping as the analysis sees them: each checkpoint's tensors by key (shapes in
 * row-major order, GGUF's reversed), a trie for pattern matching, and the side's layout convention.
 * Loading resolves `source`/`target` paths relative to the mapping file and reads them through the
 * shared checkpoint index, so the server re-reads nothing that has not changed.
 */
import * as path from 'node:path';
import { CheckpointIndex } from '../index/checkpointIndex';
import { fetchBeside } from '../formats/remote/besideFiles';
import { isRemote } from '../formats/remote/remoteName';
import { Framework } from '../formats/tensorInfo';
import { missingClassMessage } from '../source/classNames';
import { loadModelSide } from './modelSide';
import { SideData, sideFromInfo } from './sideData';
import { MappingFile, SideDirective } from './syntax';

export interface SideFailure {
  code: 'unreadable-checkpoint' | 'unsafe-pickle';
  message: string;
}

export type SideResult = { ok: true; side: SideData } | { ok: false; failure: SideFailure };

export interface Sides {
  source?: SideResult;
  target?: SideResult;
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
  if (isRemote(written)) return written;
  return path.resolve(path.dirname(mappingPath), written);
}

export interface LoadSidesOptions {
  /** Unsaved editor text of model-source files by absolute path: a `FILE.py::Class` side is inferred from what the user sees. */
  overlay?: ReadonlyMap<string, string>;
}

export async function loadSides(mappingPath: string, file: MappingFile, index: CheckpointIndex, opts: LoadSidesOptions = {}): Promise<Sides> {
  const load = async (kind: 'source' | 'target'): Promise<SideResult | undefined> => {
    const d = sideDirective(file, kind);
    if (!d?.path || d.className) return undefined;
    const abs = resolveSidePath(mappingPath, d.path.text);
    const classless = missingClassMessage(abs, d.path.text);
    if (classless) return { ok: false, failure: { code: 'unreadable-checkpoint', message: `${d.path.text}: ${classless}` } };
    const entry = await index.get(abs, { urgent: true });
    if (!entry.ok) return { ok: false, failure: { code: entry.error.code === 'not-a-checkpoint' ? 'unreadable-checkpoint' : entry.error.code, message: `${d.path.text}: ${entry.error.reason}${entry.error.offset !== undefined ? ` (at byte ${entry.error.offset})` : ''}` } };
    // The config.json beside a remote checkpoint says what the one beside its download would.
    await fetchBeside(abs, entry.info.remote?.commit);
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
    const r = await loadModelSide({ path: abs, className: d.className.text, written, role: kind, file, other: other?.ok ? other.side : undefined, overlay: opts.overlay });
    sides[kind] = r.ok
      ? { ok: true, side: sideFromInfo(r.info, abs, written, declaredFramework(file, kind)) }
      : { ok: false, failure: { code: 'unreadable-checkpoint', message: r.message } };
  }
  return sides;
}
