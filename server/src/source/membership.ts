/**
 * Python's `x in c` / `x not in c` over the values inference knows: a substring of a string, a key of a
 * dict (a string or a tuple: a number's key is ambiguous with its string, so undecided), an item of a list or
 * tuple by `==` (numbers, strings, booleans, None — Qwen2-MoE's `layer_idx not in mlp_only_layers`,
 * DeBERTa's `"c2p" in pos_att_type`). Undefined when it cannot be decided: an item or the needle is
 * symbolic, or the container is partial (a loop inference skipped may have added to it).
 */
import { dictKey } from './dictKeys';
import { Value } from './values';

export function contains(needle: Value, hay: Value, eq: (a: Value, b: Value) => boolean | undefined): boolean | undefined {
  if (hay.t === 'str') return needle.t === 'str' ? hay.v.includes(needle.v) : undefined;
  if (hay.t === 'dict') {
    // A number's entries key is its decimal, as a string's may be: only strings and tuples are told apart.
    const key = needle.t === 'str' || (needle.t === 'list' && needle.tuple) ? dictKey(needle) : undefined;
    return !hay.partial && key !== undefined ? hay.entries.has(key) : undefined;
  }
  if (hay.t !== 'list' || hay.partial || (hay.count !== undefined && hay.count !== hay.items.length)) return undefined;
  let open = false;
  for (const item of hay.items) {
    const same = differentKinds(needle, item) ? false : eq(needle, item);
    if (same === true) return true;
    if (same === undefined) open = true;
  }
  return open ? undefined : false;
}

/** A string never equals a number, a boolean or None, nor None a number (`True == 1` is Python's, so those go to `==`). */
function differentKinds(a: Value, b: Value): boolean {
  const kind = (v: Value) => (v.t === 'str' ? 'str' : v.t === 'none' ? 'none' : v.t === 'num' || v.t === 'bool' ? 'number' : undefined);
  const x = kind(a), y = kind(b);
  return x !== undefined && y !== undefined && x !== y;
}
