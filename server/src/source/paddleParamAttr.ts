/**
 * Paddle's `ParamAttr` (initializer, learning rate, name) as layers see it: only whether a parameter is
 * there matters — `weight_attr=False` / `bias_attr=False` removes it, a `ParamAttr`, `None`, a name or
 * `True` keeps it. Paddle's own layers pass what users give through `ParamAttr._to_attr`, which keeps
 * `False` and makes everything else a `ParamAttr`.
 */
import { NONE, Value } from './values';

// `name` is read back (`if attr.name:`) when Paddle's layers copy one attribute for several parameters.
export const PARAM_ATTR: Value = { t: 'dict', entries: new Map([['name', NONE]]), record: 'ParamAttr' };

/** `ParamAttr._to_attr(v)`; what is not known stays so. */
export function toParamAttr(v: Value): Value {
  if (v.t === 'bool') return v.v ? PARAM_ATTR : v;
  if (v.t === 'list') return { ...v, items: v.items.map(toParamAttr) };
  if (v.t === 'unknown' || v.t === 'sym' || v.t === 'alt') return v;
  return PARAM_ATTR;
}

export const isParamAttr = (v: Value): boolean => v.t === 'dict' && v.record === 'ParamAttr';
