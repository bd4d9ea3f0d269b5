/**
 * Incremental re-parsing for the editor: only the lines an edit touched are parsed again. Items
 * before the edit are reused as they are; items after it are reused with their offsets moved in place.
 * A 5,000-line mapping then costs a few lines of parsing per keystroke instead of a whole new tree.
 *
 * The old tree is consumed: its later items are mutated. Callers (the server's document state)
 * replace it with the result and never use it again.
 */
import { computeLineStarts, lineAt } from './lineIndex';
import { parseLines } from './parse';
import { MappingFile, Span } from './syntax';

export function reparse(old: MappingFile, text: string): MappingFile {
  if (old.text === text) return old;
  const a = old.text;
  const max = Math.min(a.length, text.length);
  let prefix = 0;
  while (prefix < max && a.charCodeAt(prefix) === text.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < max - prefix && a.charCodeAt(a.length - 1 - suffix) === text.charCodeAt(text.length - 1 - suffix)) suffix++;

  const lineStarts = computeLineStarts(text);
  const delta = text.length - a.length;
  // Whole lines around the change: from the start of the line holding the first changed character to
  // the end of the line holding the last one (in the old text, and the same place in the new).
  const firstLine = lineAt(old.lineStarts, prefix);
  const oldLastLine = lineAt(old.lineStarts, Math.max(prefix, a.length - suffix));
  const oldFrom = old.lineStarts[firstLine];
  const oldTo = oldLastLine + 1 < old.lineStarts.length ? old.lineStarts[oldLastLine + 1] : a.length + 1;
  const newLastLine = lineAt(lineStarts, Math.max(prefix, text.length - suffix));

  const fresh = parseLines(text, lineStarts, firstLine, newLastLine + 1);
  const before = <T extends Span>(xs: T[]) => xs.filter((x) => x.start < oldFrom);
  const after = <T extends Span>(xs: T[]) => {
    const kept = xs.filter((x) => x.start >= oldTo);
    for (const x of kept) shiftInPlace(x, delta);
    return kept;
  };
  return {
    text,
    lineStarts,
    items: [...before(old.items), ...fresh.items, ...after(old.items)],
    errors: [...before(old.errors), ...fresh.errors, ...after(old.errors)],
  };
}

/** Moves every span inside a syntax node (the node itself, its tokens, keys and transforms). */
function shiftInPlace(node: unknown, delta: number): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const x of node) shiftInPlace(x, delta);
    return;
  }
  const o = node as Record<string, unknown>;
  if (typeof o.start === 'number' && typeof o.end === 'number') {
    o.start += delta;
    o.end += delta;
  }
  for (const k in o) {
    if (k === 'segments') continue; // Segments carry no offsets.
    const v = o[k];
    if (v !== null && typeof v === 'object') shiftInPlace(v, delta);
  }
}
