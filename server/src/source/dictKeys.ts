/**
 * Dict keys beyond strings. A dict's entries are keyed by string (a string key is itself, an integer
 * its decimal, as before); a tuple of strings and integers — LeViT's `attention_offsets[(dy, dx)]` — is
 * keyed by an encoding no Python string key takes (it starts with NUL), and the dict keeps the tuple
 * itself so iterating its keys gives tuples back.
 */
import { renderDim } from './dims';
import { Value } from './values';

const TUPLE = '\u0000tuple';

/** The entries key of `v` as a dict key; undefined when it is none inference can compare (a symbol, a float, a list). */
export function dictKey(v: Value): string | undefined {
  if (v.t === 'str') return v.v;
  if (v.t === 'num') return typeof v.d === 'number' && Number.isInteger(v.d) ? renderDim(v.d) : undefined;
  if (v.t !== 'list' || !v.tuple || v.partial) return undefined;
  const parts: string[] = [];
  for (const item of v.items) {
    // Quoted inside a tuple, so ("1",) and (1,) differ.
    const k = item.t === 'str' ? JSON.stringify(item.v) : dictKey(item);
    if (k === undefined) return undefined;
    parts.push(k);
  }
  return `${TUPLE}(${parts.join(',')})`;
}

/** Whether an entries key is a tuple's encoding (its key value is kept beside the entries). */
export const isTupleKey = (k: string): boolean => k.startsWith(TUPLE);
