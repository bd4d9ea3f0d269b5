/**
 * The classes a model-source file defines at the top level (`class X` in Python, `[export] class X` in
 * TypeScript), for `FILE.py::` completion. A line scan, not a parse: completion wants it instantly,
 * and a class the scan misses can still be typed.
 */
import { readRegularFileSync } from '../formats/openRegular';

export function classNamesIn(text: string): string[] {
  return [...text.matchAll(/^(?:export\s+)?class\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]);
}

/** From the editor's unsaved text when it has the file, else from disk; an unreadable file has none. */
export function classNamesOf(file: string, overlay?: ReadonlyMap<string, string>): string[] {
  const text = overlay?.get(file) ?? (() => {
    try {
      return readRegularFileSync(file, 'a model source file').toString('utf8');
    } catch {
      return '';
    }
  })();
  return classNamesIn(text);
}
