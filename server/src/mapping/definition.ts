/**
 * Go to definition in a mapping: a `source`/`target` path opens that file; a key opens the line of
 * model source that defines it, or the checkpoint (which has no lines) at its start.
 */
import type { SourceRange } from '../formats/tensorInfo';
import { locate } from './locate';
import type { Sides } from './sides';
import type { MappingFile } from './syntax';

/** Where a definition lies: a file, and the range in it when there is one. */
export interface DefinitionTarget { file: string; range?: SourceRange }

export function definitionAt(file: MappingFile, offset: number, sides: Sides): DefinitionTarget | undefined {
  const at = locate(file, offset);
  const sideOf = (kind: 'source' | 'target') => { const s = sides[kind]; return s?.ok ? s.side : undefined; };
  const side = at.kind === 'side-path' ? sideOf(at.directive.kind)
    : at.kind === 'source-key' ? sideOf('source') : at.kind === 'target-key' ? sideOf('target') : undefined;
  if (!side) return undefined;
  if (at.kind === 'source-key' || at.kind === 'target-key') {
    const first = side.trie.match(at.pattern.segments)[0];
    const def = first ? side.tensors.get(first.key)?.definition : undefined;
    if (def) return { file: def.file, range: def };
  }
  return { file: side.path };
}
