/**
 * transformers' `AutoModel.from_config(config)`: the base model class registered for the config's
 * `model_type` in `MODEL_MAPPING_NAMES` (models/auto/modeling_auto.py of the installed package the
 * model file belongs to), read statically — the `OrderedDict([("llama", "LlamaModel"), …])` literal
 * lowered and its string pairs taken, never imported. A tuple of classes (`("funnel", ("FunnelModel",
 * "FunnelBaseModel"))`) gives its first, as `_get_model_class` does without `architectures`.
 */
import * as path from 'node:path';
import { Expr } from './ir';
import { lowerPythonSync } from './pyLower';
import { readStamped } from './stampedFile';

/** `model_type` → base model class name, from the transformers package at `root`; undefined when it cannot be read. */
export function autoModelNames(root: string): Map<string, string> | undefined {
  const file = path.join(root, 'models', 'auto', 'modeling_auto.py');
  return readStamped(file, (text) => mappingNames(file, text));
}

function mappingNames(file: string, text: string): Map<string, string> | undefined {
  // The one assignment, cut out of a 120 KB file: from its line to the `)` that closes it at column 0.
  const m = /^MODEL_MAPPING_NAMES\s*=[\s\S]*?^\)/m.exec(text);
  if (!m) return undefined;
  const names = new Map<string, string>();
  const [stmt] = lowerPythonSync(file, m[0], { whole: true }).top;
  const call = stmt?.k === 'assign' ? stmt.value : undefined;
  const list = call?.k === 'call' ? call.args[0]?.value : undefined;
  if (list?.k !== 'list') return undefined;
  for (const item of list.items) {
    if (item.k !== 'list' || item.items.length !== 2 || item.items[0].k !== 'str') continue;
    const cls = firstName(item.items[1]);
    if (cls) names.set(item.items[0].v, cls);
  }
  return names;
}

function firstName(e: Expr): string | undefined {
  if (e.k === 'str') return e.v;
  return e.k === 'list' && e.items[0]?.k === 'str' ? e.items[0].v : undefined;
}
