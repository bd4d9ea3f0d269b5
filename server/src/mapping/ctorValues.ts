/**
 * The values a model class's constructor takes that a checkpoint's `config.json` implies, by name: a
 * port builds the class from its `set` lines, so a value the checkpoint was trained with and the class
 * defaults otherwise (PaddleClas's `epsilon=1e-5` where HF's ViT says `layer_norm_eps: 1e-6`, `qkv_bias`)
 * must be said, or the port computes something else with every tensor in place. Only literal defaults
 * are compared (`nn.GELU` as a default is code, not a value).
 */
import type { Binding } from '../source/interpret';
import type { Expr, Param } from '../source/ir';
import type { LoadedModel } from '../source/loadModel';
import type { SetValue } from './syntax';

/** A root constructor parameter and its default: a value, `null` for None, undefined when none or not a literal. */
export interface CtorParam { name: string; dflt?: SetValue | null; hasDefault: boolean }

/** The root class's `__init__` parameters (or a factory's), in order, `self`/`*args`/`**kwargs` left out. */
export function constructorParams(model: LoadedModel): CtorParam[] {
  const params: Param[] = 'def' in model.root ? (model.root.def.methods.get('__init__')?.params.slice(1) ?? []) : model.root.fn.params;
  const out: CtorParam[] = [];
  for (const p of params) {
    if (p.kind !== 'plain') continue;
    for (const q of p.fields ?? [p]) out.push({ name: q.name, dflt: q.default ? literal(q.default) : undefined, hasDefault: !!q.default });
  }
  return out;
}

function literal(e: Expr): SetValue | null | undefined {
  switch (e.k) {
    case 'num': case 'str': case 'bool': return e.v;
    case 'none': return null;
    case 'unary': {
      const v = e.op === '-' ? literal(e.e) : undefined;
      return typeof v === 'number' ? -v : undefined;
    }
    default: return undefined;
  }
}

/**
 * Names a port gives a config field, one group per meaning: the first list is the constructor's side,
 * the second the config.json fields (HF's names first). A parameter named exactly like a field needs none.
 */
const ALIASES: [RegExp, string[]][] = [
  [/^(epsilon|eps|layer_norm_eps|layer_norm_epsilon|norm_eps|ln_eps|rms_norm_eps)$/, ['layer_norm_eps', 'layer_norm_epsilon', 'rms_norm_eps', 'norm_eps', 'norm_epsilon']],
  [/^(hidden_act|act|activation|act_fn|hidden_activation|activation_function)$/, ['hidden_act', 'activation_function', 'hidden_activation']],
  [/^(embed_dim|dim|hidden_size|d_model|width|hidden_dim|n_embd)$/, ['hidden_size', 'd_model', 'n_embd']],
  [/^(depth|num_layers|layers|n_layers|num_hidden_layers|n_layer)$/, ['num_hidden_layers', 'n_layer', 'num_layers']],
  [/^(num_heads|heads|n_heads|n_head|num_attention_heads)$/, ['num_attention_heads', 'n_head', 'num_heads']],
  [/^(img_size|image_size|input_size)$/, ['image_size']],
  [/^(in_chans|in_channels|num_channels|in_chs)$/, ['num_channels']],
  [/^(intermediate_size|mlp_dim|ffn_dim|dim_feedforward|ffn_hidden_size)$/, ['intermediate_size', 'ffn_dim']],
  [/^(qkv_bias|attention_bias|attn_bias)$/, ['qkv_bias', 'attention_bias']],
  [/^(max_position_embeddings|max_len|max_seq_len|context_length|n_positions)$/, ['max_position_embeddings', 'n_positions']],
];

export interface ConfigMatch {
  param: string;
  /** The config.json field. */
  key: string;
  value: SetValue;
  /** Named exactly like the parameter: bound by name when a mapping is checked (`set` > config.json). */
  exact: boolean;
  /** The constructor's default, when it is a literal. */
  dflt?: SetValue | null;
}

/** The config.json value each constructor parameter takes, by exact name or by the alias table; only values of the default's kind. */
export function configMatches(params: readonly CtorParam[], config: ReadonlyMap<string, Binding>): ConfigMatch[] {
  const out: ConfigMatch[] = [];
  for (const p of params) {
    let key: string | undefined;
    let exact = false;
    if (config.has(p.name)) { key = p.name; exact = true; }
    else key = ALIASES.find(([re]) => re.test(p.name))?.[1].find((k) => config.has(k));
    if (key === undefined) continue;
    const value = config.get(key)!;
    if (Array.isArray(value) || !sameKind(value as SetValue, p.dflt, p.hasDefault)) continue;
    out.push({ param: p.name, key, value: value as SetValue, exact, dflt: p.dflt });
  }
  return out;
}

/** A value the parameter can take: the default's kind (a number for a number, a boolean for a boolean…); None or no default takes a scalar. */
function sameKind(v: SetValue, dflt: SetValue | null | undefined, hasDefault: boolean): boolean {
  if (dflt === null || !hasDefault) return true;
  if (dflt === undefined) return false; // a default that is code (`nn.GELU`): the config's string is not its kind
  return typeof v === typeof dflt;
}

export function sameValue(a: SetValue | null | undefined, b: SetValue | null | undefined): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
  return a === b;
}

/** What a different value does to the port's outputs, for the warning that names it. */
export function effectOf(param: string, key: string, classValue: SetValue | null | undefined, configValue: SetValue): string {
  const both = `${param} ${key}`;
  if (/eps/.test(both) && typeof classValue === 'number' && typeof configValue === 'number') {
    return 'outputs will differ (~1e-3 in a ViT or BERT)';
  }
  if (/act/.test(both)) return 'the activation differs: outputs will differ';
  if (/head/.test(both)) return 'attention splits into another number of heads: outputs will differ';
  if (/bias/.test(both)) return 'the biases the checkpoint has would have no parameter to load into';
  return 'the class is built differently from the checkpoint';
}
