/**
 * What the model-source interpreter computes with: numbers that may be symbolic dimensions, tensors
 * known only by shape and dtype, and modules that register parameters, buffers and children the way
 * `nn.Module.__setattr__` / `paddle.nn.Layer.__setattr__` do — the order of those maps is the order
 * of `state_dict()`.
 */
import { Dim } from './dims';
import { ClassDef, FunctionDef, Pos, SourceFile } from './ir';
import type { TfLayer, TfTensor } from './tfjsGraph';

/** Where something was written: a file and a range in it. */
export interface Site { file: string; pos: Pos }

export interface TensorVal {
  t: 'tensor';
  /** Undefined when the code builds it in a way inference does not follow. */
  shape?: Dim[];
  dtype: string;
  param: boolean;
  site: Site;
  /** How the layer that owns it stores it: `out_in` (torch Linear), `in_out` (paddle Linear, GPT-2 Conv1D), `OIHW`, … */
  layout?: string;
  /** A layout read from how the code uses the parameter (useLayout.ts), not from a framework layer: the use. */
  layoutWhy?: string;
  /** `nn.Buffer(t, persistent=…)`: assigned to a module, it registers as a buffer. */
  buffer?: { persistent: boolean };
}

export type Framework = 'torch' | 'paddle' | 'tfjs';

/** What a value registered on a module leaves unfollowed: an unknown that may be a layer, or an instance of an unread base. */
export const gapOf = (v: Value): Gap | undefined => (v.t === 'unknown' ? v.gap : v.t === 'module' ? v.node.baseGap : undefined);

/**
 * Code inference could not follow that may add, remove or reshape parameters: where it is and what
 * was not followed (`\`paddle.nn.TransformerEncoder\` is not a layer Tensor Port can follow`). Carried
 * by the unknown value it produced, and recorded on the module it is registered into, so a model
 * whose listing is incomplete says so under the key prefix it affects — never "clean" by omission.
 */
export interface Gap { site: Site; message: string }

export class ModNode {
  readonly params = new Map<string, TensorVal | null>();
  readonly buffers = new Map<string, { tensor: TensorVal; persistent: boolean } | null>();
  readonly children = new Map<string, ModNode | null>();
  readonly attrs = new Map<string, Value>();
  /** ModuleList/LayerList/Sequential built over a symbolic count: the count, for binding it from the other side's layers. */
  count?: Dim;
  /**
   * Entries registered inside a branch of a condition nothing decides: name → the condition's parts,
   * relative to this module (`\`config.use_bias\``, `not \`…\``); alternatives.ts merges re-registrations.
   */
  readonly cond = new Map<string, readonly string[]>();
  /** What was not followed in building this module: `name` is the attribute it went into (none: the module itself). */
  gaps: { name?: string; gap: Gap }[] = [];
  /** A plain instance of a class deriving from an outside class that was not read: it may be a layer. */
  baseGap?: Gap;

  constructor(
    readonly className: string,
    readonly site: Site,
    readonly framework?: Framework,
    readonly cls?: { def: ClassDef; file: SourceFile },
    readonly container = false,
    /** An instance of a user class that is not a module (a config object): assigned to `self`, it registers nothing. */
    readonly plain = false,
  ) {}

  /** `self.NAME = value` with the registration rules of torch and Paddle. */
  setAttr(name: string, v: Value): void {
    // A value assigned again replaces what was not followed under that name.
    if (this.gaps.length) this.gaps = this.gaps.filter((g) => g.name !== name);
    const gap = gapOf(v);
    if (gap && !this.plain) this.gaps.push({ name, gap });
    if (v.t === 'tensor' && v.param) {
      this.drop(name, 'params');
      this.params.set(name, v);
    } else if (v.t === 'module' && !v.node.plain) {
      this.drop(name, 'children');
      this.children.set(name, v.node);
    } else if (v.t === 'tensor' && v.buffer) {
      this.drop(name, 'attrs');
      this.attrs.delete(name);
      this.buffers.set(name, { tensor: v, persistent: v.buffer.persistent });
    } else if (v.t === 'tensor' && this.buffers.has(name)) {
      const b = this.buffers.get(name);
      this.buffers.set(name, { tensor: v, persistent: b?.persistent ?? true });
    } else if (v.t === 'none' && (this.params.has(name) || this.children.has(name) || this.buffers.has(name))) {
      if (this.params.has(name)) this.params.set(name, null);
      if (this.children.has(name)) this.children.set(name, null);
      if (this.buffers.has(name)) this.buffers.set(name, null);
    } else {
      this.drop(name, 'attrs');
      this.attrs.set(name, v);
    }
  }

  getAttr(name: string): Value | undefined {
    const p = this.params.get(name);
    if (p !== undefined) return p ?? NONE;
    const b = this.buffers.get(name);
    if (b !== undefined) return b?.tensor ?? NONE;
    const c = this.children.get(name);
    if (c !== undefined) return c ? { t: 'module', node: c } : NONE;
    return this.attrs.get(name);
  }

  /** Adds a child at the end (`ModuleList.append`, `add_module`). */
  push(name: string, child: ModNode | null): void {
    this.children.set(name, child);
  }

  clone(): ModNode {
    const n = new ModNode(this.className, this.site, this.framework, this.cls, this.container, this.plain);
    for (const [k, v] of this.params) n.params.set(k, v);
    for (const [k, v] of this.buffers) n.buffers.set(k, v);
    for (const [k, v] of this.children) n.children.set(k, v ? v.clone() : null);
    for (const [k, v] of this.attrs) n.attrs.set(k, v);
    n.count = this.count;
    for (const [k, v] of this.cond) n.cond.set(k, v);
    n.gaps = [...this.gaps];
    n.baseGap = this.baseGap;
    return n;
  }

  private drop(name: string, keep: 'params' | 'children' | 'attrs'): void {
    if (keep !== 'params') this.params.delete(name);
    if (keep !== 'children') this.children.delete(name);
    if (keep !== 'attrs') this.attrs.delete(name);
    this.buffers.delete(name);
  }
}

export type Value =
  | { t: 'num'; d: Dim; float?: boolean }
  | { t: 'str'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  /** Not followed; `gap` when it may be (or hold) a layer, so registering it records the gap. */
  | { t: 'unknown'; gap?: Gap }
  /** `partial`: a loop inference skipped would have added to it — its length and items are not all known; `set`: a `set()`, items once. */
  | { t: 'list'; items: Value[]; tuple?: boolean; count?: Dim; partial?: Gap; set?: boolean }
  /**
   * `count`: filled in a loop over a symbolic count (its `len()`); `partial` as for lists; `record`: an
   * instance of a namedtuple class of that name, its fields in order (attributes and positions);
   * `missing`: a `defaultdict`'s factory, called for a key read before it is set; `keys`: the tuple keys'
   * values by their entries key (dictKeys.ts).
   */
  | { t: 'dict'; entries: Map<string, Value>; count?: Dim; partial?: Gap; record?: string; missing?: Value; keys?: Map<string, Value> }
  /** `collections.namedtuple(…)`: calling it makes a record. */
  | { t: 'record'; name: string; fields: string[]; defaults: Value[] }
  | { t: 'module'; node: ModNode }
  | TensorVal
  /** Something outside the workspace, by qualified name (`torch.nn.Linear`, `math.sqrt`). */
  | { t: 'ref'; q: string }
  | { t: 'class'; def: ClassDef; file: SourceFile }
  | { t: 'func'; fn: FunctionDef; file: SourceFile; self?: Value; cls?: { def: ClassDef; file: SourceFile }; closure?: Map<string, Value> }
  | { t: 'lambda'; params: string[]; body: import('./ir').Expr; file: SourceFile; closure: Map<string, Value> }
  /**
   * A root constructor argument or config field no binding resolved: a symbolic number where used as
   * one, a config object where its attributes are read (`config.hidden_size` is the value
   * `hidden_size`: `fields` is the prefix its attributes get), and its default where truth is asked.
   */
  | {
    t: 'sym'; name: string; fields: string; dflt?: Value; over?: Map<string, Value>;
    /** The configuration class this config object is an instance of: its fields' defaults, aliases and sub-configs. */
    cfg?: ConfigClass;
  }
  | { t: 'dtype'; dtype: string }
  | { t: 'file'; file: SourceFile }
  | { t: 'super'; self: Value; after: { def: ClassDef; file: SourceFile } }
  /** A method of a value the interpreter models (`ModuleList.append`, `tensor.unsqueeze`). */
  | { t: 'method'; recv: Value; name: string }
  /** `functools.partial(nn.LayerNorm, eps=1e-6)`: a callable with some arguments filled in. */
  | { t: 'partial'; fn: Value; args: CallArgs }
  /**
   * One of two values by a condition nothing decides (`A if c else B`, a function returning early in
   * an undecided branch): `a` where `cond` holds, `b` where it does not.
   */
  | { t: 'alt'; cond: string; a: Value; b: Value }
  /** A TF.js layer or model (`tf.layers.dense(…)`, `tf.sequential()`), or a symbolic tensor one made (tfjsGraph.ts). */
  | { t: 'tf'; o: TfLayer | TfTensor };

/** A configuration class (`BertConfig`, a user `@dataclass`): read for its fields, never instantiated. */
export interface ConfigClass { def: ClassDef; file: SourceFile }

/** Evaluated call arguments: positional in order, keywords by name. */
export interface CallArgs { pos: Value[]; kw: Map<string, Value> }

export const NONE: Value = { t: 'none' };
export const UNKNOWN: Value = { t: 'unknown' };
export const num = (d: Dim): Value => ({ t: 'num', d });
