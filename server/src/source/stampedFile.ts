/**
 * A file of an installed package read once and kept while its size and mtime hold: what a reader makes of
 * it (transformers' `MODEL_MAPPING_NAMES`, its conversion rules) is parsed once per process, not per model.
 */
import * as fs from 'node:fs';

const cache = new Map<string, { stamp: string; value: unknown }>();

/** `parse(text)` of `file`, cached by its size and mtime; undefined when the file cannot be read. */
export function readStamped<T>(file: string, parse: (text: string) => T): T | undefined {
  let st: fs.Stats;
  try { st = fs.statSync(file); } catch { return undefined; }
  const stamp = `${st.size}:${st.mtimeMs}`;
  const hit = cache.get(file);
  if (hit?.stamp === stamp) return hit.value as T;
  const value = parse(fs.readFileSync(file, 'utf8'));
  cache.set(file, { stamp, value });
  return value;
}
