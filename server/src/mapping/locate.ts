/** What sits at an offset of a mapping file: the item, and the key, transform or path under the cursor. */
import { lineAt } from './lineIndex';
import { Item, KeyPattern, MappingFile, Rule, SideDirective, Transform, isDrop } from './syntax';

export type Located =
  | { kind: 'source-key'; rule: Rule; pattern: KeyPattern; index: number }
  | { kind: 'target-key'; rule: Rule; pattern: KeyPattern }
  | { kind: 'transform'; rule: Rule; transform: Transform; index: number }
  | { kind: 'side-path'; directive: SideDirective }
  | { kind: 'none'; item?: Item };

export function itemAtLine(file: MappingFile, offset: number): Item | undefined {
  const line = lineOf(file, offset);
  const start = file.lineStarts[line];
  const end = line + 1 < file.lineStarts.length ? file.lineStarts[line + 1] : file.text.length + 1;
  return file.items.find((i) => i.start >= start && i.start < end);
}

export function lineOf(file: MappingFile, offset: number): number {
  return lineAt(file.lineStarts, offset);
}

export function locate(file: MappingFile, offset: number): Located {
  const item = itemAtLine(file, offset);
  if (!item) return { kind: 'none' };
  const inside = (s: { start: number; end: number }) => offset >= s.start && offset <= s.end;
  if (item.kind === 'source' || item.kind === 'target') {
    return item.path && inside({ start: item.path.start, end: item.className?.end ?? item.path.end }) ? { kind: 'side-path', directive: item } : { kind: 'none', item };
  }
  if (item.kind !== 'rule') return { kind: 'none', item };
  const si = item.sources.findIndex(inside);
  if (si >= 0) return { kind: 'source-key', rule: item, pattern: item.sources[si], index: si };
  if (item.target && !isDrop(item.target) && inside(item.target)) return { kind: 'target-key', rule: item, pattern: item.target };
  const ti = item.transforms.findIndex(inside);
  if (ti >= 0) return { kind: 'transform', rule: item, transform: item.transforms[ti], index: ti };
  return { kind: 'none', item };
}
