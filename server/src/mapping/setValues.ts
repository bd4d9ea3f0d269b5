/**
 * What a `set NAME = VALUE` line can name, for hover and completion: the model-source side's root
 * constructor parameters with their defaults, then the config values its tensors' shapes are built from
 * that are not parameters (a `config` object's fields: `hidden_size`), each with the value the side was built with
 * and what decided it (a `set` line, config.json, a rule's shapes, the default).
 */
import { SideData, isModelSourceSide } from './sideData';
import { Sides } from './sides';

export interface SettableValue {
  name: string;
  /** `VisionTransformer.__init__` or `CLIPTextModel` (a config field). */
  owner: string;
  default?: string;
  /** The value the side was built with and why, where inference used it. */
  bound?: { value: number; from: string };
}

/** The settable values of the mapping's model-source sides (usually one), parameters first. */
export function settableValues(sides: Sides): SettableValue[] {
  const out: SettableValue[] = [];
  for (const r of [sides.target, sides.source]) {
    const side = r?.ok ? r.side : undefined;
    if (side && isModelSourceSide(side)) out.push(...ofSide(side));
  }
  return out;
}

function ofSide(side: SideData): SettableValue[] {
  const cls = side.written.split('::').pop() ?? side.written;
  const bindings = side.info.bindings ?? {};
  const params = side.info.constructorParams ?? [];
  // A `config` object is built from its fields, which follow; a `set` line cannot spell the object itself.
  const out: SettableValue[] = params.filter((p) => p.name !== 'config').map((p) => ({ name: p.name, owner: `${cls}.__init__`, ...(p.default !== undefined ? { default: p.default } : {}), ...(bindings[p.name] ? { bound: bindings[p.name] } : {}) }));
  const named = new Set(params.map((p) => p.name));
  // Bindings hold every `set` line too, used or not: a config value counts when some tensor's shape is built from it.
  const inShapes = new Set(side.info.tensors.flatMap((t) => (t.declared ?? []).flatMap((d) => (typeof d === 'string' ? d.match(/[A-Za-z_]\w*/g) ?? [] : []))));
  for (const [name, b] of Object.entries(bindings)) {
    if (!named.has(name) && inShapes.has(name)) out.push({ name, owner: cls, bound: b });
  }
  return out;
}

/** One value as hover and completion describe it. */
export function describeSettable(v: SettableValue): string {
  const parts = [v.owner.endsWith('__init__') ? `a parameter of \`${v.owner}\`` : `a config value \`${v.owner}\` is built from`];
  if (v.default !== undefined) parts.push(`default \`${v.default}\``);
  if (v.bound) parts.push(`built with ${v.bound.value} (${v.bound.from})`);
  return parts.join('; ');
}
