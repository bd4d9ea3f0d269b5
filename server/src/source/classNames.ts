/**
 * The classes a model-source file defines at the top level (`class X` in Python, `[export] class X` in
 * TypeScript) — for TypeScript/JavaScript, the functions first, which build TF.js models — for `FILE.py::`
 * completion. A line scan, not a parse: completion wants it instantly,
 * and a class the scan misses can still be typed.
 */
import { readRegularFileSync } from '../formats/openRegular';
import { languageOf } from './loadModel';

export function classNamesIn(text: string): string[] {
  return [...text.matchAll(/^(?:export\s+)?class\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]);
}

/** `[export] function build(`, `[export] const build = (…) =>` / `= function`: a TF.js model's builders. */
export function functionNamesIn(text: string): string[] {
  return [...text.matchAll(/^(?:export\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)|^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]*)?=>|[A-Za-z_$][\w$]*\s*=>)/gm)].map((m) => m[1] ?? m[2]);
}

/** From the editor's unsaved text when it has the file, else from disk; an unreadable file has none. */
export function classNamesOf(file: string, overlay?: ReadonlyMap<string, string>): string[] {
  const text = sourceText(file, overlay);
  return languageOf(file) === 'ts' ? [...functionNamesIn(text), ...classNamesIn(text)] : classNamesIn(text);
}

function sourceText(file: string, overlay?: ReadonlyMap<string, string>): string {
  const open = overlay?.get(file);
  if (open !== undefined) return open;
  try {
    return readRegularFileSync(file, 'a model source file').toString('utf8');
  } catch {
    return '';
  }
}

export function pythonDefinitionsOf(file: string, overlay?: ReadonlyMap<string, string>): { name: string; kind: 'class' | 'def'; line: number }[] {
  return pythonDefinitionsIn(sourceText(file, overlay));
}

/** The classes and functions a Python file defines at the top level, with their 1-based lines (eager parity's pickers). */
export function pythonDefinitionsIn(text: string): { name: string; kind: 'class' | 'def'; line: number }[] {
  const out: { name: string; kind: 'class' | 'def'; line: number }[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const m = /^(?:async\s+)?(class|def)\s+([A-Za-z_]\w*)/.exec(l);
    if (m && !m[2].startsWith('_')) out.push({ name: m[2], kind: m[1] as 'class' | 'def', line: i + 1 });
  });
  return out;
}

/**
 * What to say when model source is named without its class (`keys model.py`, `target model.py`, or
 * `model.py::` with no valid name): the classes the file defines, so the fix is one copy away.
 * Undefined when the name is not model source at all (a checkpoint's own errors apply then).
 */
export function missingClassMessage(arg: string, display = arg): string | undefined {
  const at = arg.lastIndexOf('::');
  const file = at < 0 ? arg : arg.slice(0, at);
  if (!languageOf(file)) return undefined;
  const names = classNamesOf(file);
  const shownAt = display.lastIndexOf('::');
  // TypeScript/JavaScript: a TF.js model is built by a function, named as a class is.
  if (languageOf(file) === 'ts') {
    const fns = functionNamesIn(sourceText(file));
    const example = `${shownAt < 0 ? display : display.slice(0, shownAt)}::${fns.at(-1) ?? 'buildModel'}`;
    return `model source needs the function that builds the model, as FILE::name, e.g. ${example} (${fns.length ? `its functions: ${fns.slice(0, 12).join(', ')}${fns.length > 12 ? `, … (${fns.length})` : ''}` : 'no top-level function was found in it'})`;
  }
  const example = `${shownAt < 0 ? display : display.slice(0, shownAt)}::${names.at(-1) ?? 'ClassName'}`;
  const found = names.length === 0 ? 'no top-level class was found in it' : `its classes: ${names.slice(0, 12).join(', ')}${names.length > 12 ? `, … (${names.length})` : ''}`;
  // The model a file exists for is usually its last class, after the blocks it is built from.
  return `model source needs the class to build, as FILE::Class, e.g. ${example} (${found})`;
}
