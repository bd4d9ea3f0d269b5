/**
 * Runs a model's constructor symbolically: `__init__` bodies execute statement by statement with
 * values from values.ts, so `self.NAME = nn.Linear(d, 3 * d)` registers a parameter of shape
 * `[d*3, d]` where `d` is whatever the caller passed — a number, or a symbol named after the root
 * constructor argument or config field it came from. Nothing from the file is ever executed for
 * real; code inference cannot follow becomes `unknown` and, where it matters, a note.
 */
import * as path from 'node:path';
import { alt, entryOf, mergeRegistration, negate } from './alternatives';
import { asDim, asDims, asDtype, bindArgs, dtypeName, truthy } from './coerce';
import { Dim, Op, opDim, substitute, symbolsOf, renderDim } from './dims';
import { Arg, ClassDef, Expr, FunctionDef, ImportBinding, Param, SourceFile, Stmt } from './ir';
import { buildLayer } from './layers';
import { UsedLayout, layoutsFromUse } from './useLayout';
import { matchMethod, reCall } from './regex';
import { IndexItem, tensorAttr, tensorBinop, tensorFactory, tensorIndex, tensorMethod } from './tensors';
import { STDLIB, exprText, fromInstalledSource, isModuleBase, isProbe, strMethod } from './knownNames';
import { PARAM_ATTR, toParamAttr } from './paddleParamAttr';
import { CallArgs, ConfigClass, Framework, Gap, ModNode, gapOf, NONE, Site, TensorVal, UNKNOWN, Value, num } from './values';
import { joinFString, percentFormat } from './pyFormat';
import { dictMethod, enumerateOf, filledIn, fill, itemsOf, itertoolsCall, lengthOf, listMethod, zipOf } from './iterables';
import { MemberHost, classMember, runOwnDecorators, runRegistryDecorators } from './registries';
import { contains } from './membership';
import { dictKey, isTupleKey } from './dictKeys';
import { autoModelNames } from './hfAutoModel';
import { transformersRootOf } from './hfConversions';
import type { PretrainedModule } from './hfKeySpace';
import { LoopExit, LoopFrame } from './loopControl';
import { TfLayer } from './tfjsGraph';
import { TfjsRuntime } from './tfjsRuntime';
import { fromIterable, keyOf, missingKey, setOrDequeMethod } from './pyContainers';

/** A value given for a root argument or config field: `set NAME = INT`, or a config.json's (`depths: [2, 2, 6, 2]`). */
/** A value given for a config field or root argument: config.json's scalars and lists of numbers or strings (`pos_att_type: ["p2c", "c2p"]`). */
export type Binding = number | boolean | string | readonly number[] | readonly string[];

export interface Host {
  /** The value an import binds: a workspace file or class, or a reference to an outside module. */
  resolveImport(from: SourceFile, b: ImportBinding): Value;
  /** A library class known by qualified name whose class-level fields may be read (never run): config bases. */
  externalClass?(q: string): { def: ClassDef; file: SourceFile } | undefined;
  /**
   * A class or function of an installed package by qualified name (`paddle.nn.TransformerEncoder`),
   * read from its source in the user's Python environment; undefined without one, or when not found.
   */
  resolveQualified?(q: string): Value | undefined;
  /** A module-level name of an installed package bound by code (`to_2tuple = _ntuple(2)`): its file, to evaluate. */
  installedVariable?(q: string): { file: SourceFile; name: string } | undefined;
  /** The file is an installed package's (read through resolveQualified), not the user's: its path relative to its search-path folder. */
  installedFile?(file: SourceFile): string | undefined;
  /** An installed package's module by dotted name (`sys.modules[fn.__module__]`): its file. */
  installedModule?(q: string): SourceFile | undefined;
  /** The dotted module name of an installed package's file (a function's `__module__`). */
  moduleName?(file: SourceFile): string | undefined;
}

export interface InterpOptions {
  /** Values for root arguments and config fields, by name (`hidden_size`, `vision_config.hidden_size`). */
  bindings: ReadonlyMap<string, Binding>;
  /** First pass: a count that is still a symbol iterates its default (or once) so every key shape is seen. */
  provisional: boolean;
  /** Last pass: an argument or config field nothing bound takes its default (`embed_dim=768`). */
  applyDefaults: boolean;
}

type ClassRef = { def: ClassDef; file: SourceFile };

interface Env {
  vars: Map<string, Value>;
  file: SourceFile;
  /** The class whose method is running, for `super()`. */
  owner?: ClassRef;
  self?: Value;
  parent?: Env;
  /** A function's returns inside undecided branches: the rest of its body runs under the other condition. */
  pending?: { cond: string; value: Value }[];
}

/** What each class's methods say of its parameters' layouts: read once per class, not per instance. */
const USED_LAYOUTS = new WeakMap<ClassDef, Map<string, UsedLayout>>();

class Return { constructor(readonly value: Value) {} }

const MAX_DEPTH = 60;
/** Statements and comprehension elements per inference: the 28 transformers classes take 85–1,436; this is ~0.3 s of a runaway loop. */
const MAX_STEPS = 1_000_000;
const MAX_RANGE = 100_000;
/** Strings longer than this (built by `+` in a loop) are unknown: names and keys are never this long. */
const MAX_STR = 1 << 20;

const BIN_OPS: Record<string, Op> = { '+': '+', '-': '-', '*': '*', '/': '/', '//': '//', '%': '%', '**': '**' };
/** Libraries whose functions return data, never layers (a capitalised name there may still be one). */
const NO_LAYERS = new Set(['numpy', 'scipy', 'einops', 'json', 'pathlib', 'copy', 'random', 'time', 'packaging']);
const BUILTIN_TYPES = new Set(['str', 'int', 'float', 'bool', 'list', 'tuple', 'dict', 'set', 'Iterable', 'Sequence', 'Mapping', 'Number']);
const CONTAINERS = new Set(['ModuleList', 'LayerList', 'Sequential', 'ModuleDict', 'LayerDict', 'ParameterList', 'ParameterDict', 'Module', 'Layer']);

export class Interpreter {
  readonly notes = new Set<string>();
  /** What was not followed outside any module under construction (a factory function's own body). */
  readonly rootGaps: Gap[] = [];
  /** The modules whose `__init__` is running, innermost last: where a gap met now is recorded. */
  private readonly building: ModNode[] = [];
  /** Symbols left open, with the default their argument or `getattr` gives (root defaults are soft: a binding wins). */
  readonly symbols = new Map<string, { default?: number }>();
  private depth = 0;
  private steps = 0;
  /** The statement running now (file, 0-based line): where a note says inference stopped. */
  private atFile = '';
  private atLine = 0;
  /** The first module built (the root's, for a class): what was registered before a stop is still listed. */
  private first: ModNode | undefined;
  /** Symbolic counts of the loops running now: a container appended to inside one takes its count. */
  private loops: Dim[] = [];
  private readonly scopes = new Map<string, Map<string, Value>>();
  private readonly fieldCache = new Map<ClassDef, Map<string, { value?: Expr; file: SourceFile }>>();
  private readonly attrCache = new Map<ClassDef, Map<string, Value | undefined>>();
  private readonly configs = new Map<string, Value>();
  /** What each config object's `__init__` set, by `prefix\0class` (null while it runs: reads of itself fall through). */
  private readonly inits = new Map<string, Map<string, Value> | null>();
  /** The config `__init__` running now: its `self`, the conditions in force when it began, its parameters' symbols. */
  private initRun: { self: Value; conds: number; syms: Map<string, number | undefined> } | undefined;
  /** The undecidable conditions whose branch is running (innermost last). */
  private readonly conds: string[] = [];
  /** The `for` loops running now, innermost last: where an undecided `break`/`continue` puts its condition. */
  private readonly loopFrames: LoopFrame[] = [];
  /** Functions whose imported decorators have run (ownDecorators). */
  private readonly decorated = new WeakSet<FunctionDef>();
  /** Entries registered under an undecided condition so far (registering): whether an installed file's condition mattered. */
  private condMarks = 0;
  /** The conditions in force when each module was made: what it registers is conditional only on those beyond. */
  private readonly condAt = new WeakMap<ModNode, string[]>();

  /** TF.js's Layers API (TypeScript and JavaScript models): a fresh process's layer counters and graph. */
  private readonly tf: TfjsRuntime;

  constructor(private readonly host: Host, private readonly opts: InterpOptions) {
    this.tf = new TfjsRuntime({
      userMethod: (self, name, args) => {
        const cls = self.t === 'module' ? self.node.cls : undefined;
        const m = cls && this.findMethod(cls, name);
        return m ? this.callFunction(m.fn, m.owner.file, { pos: args, kw: new Map() }, self, m.owner) : undefined;
      },
    });
  }

  /** Where the statement running when inference stopped is: `path:line` (1-based), with the root built so far. */
  stopped(): { at: string; site: Site; root?: ModNode } {
    return { at: `${this.atFile}:${this.atLine + 1}`, site: { file: this.atFile, pos: { line: this.atLine, column: 0, endLine: this.atLine, endColumn: 0 } }, root: this.first };
  }

  /** One step of the budget shared by statements and comprehension elements. */
  private tick(): void {
    if (++this.steps > MAX_STEPS) throw new Error(`model source too large to follow (over ${MAX_STEPS.toLocaleString('en-US')} steps)`);
  }

  /** The root: a class instantiated, or a factory function called, each argument a binding, its default, or a symbol. */
  root(root: ClassRef | { fn: FunctionDef; file: SourceFile }): ModNode {
    if ('def' in root) return this.rootClass(root);
    const args: CallArgs = { pos: [], kw: new Map() };
    for (const p of root.fn.params) if (p.kind === 'plain') for (const q of p.fields ?? [p]) args.kw.set(q.name, this.rootFnArg(q, root.file));
    this.ownDecorators(root.fn, root.file);
    const v = this.callFunction(root.fn, root.file, args);
    if (v.t === 'tf' && v.o instanceof TfLayer) {
      const node = this.tf.rootNode(v.o, { file: root.file.path, pos: root.fn.pos });
      for (const n of this.tf.notes) this.note(n);
      return node;
    }
    if (v.t !== 'module') throw new Error(`\`${root.fn.name}\` does not return a model that inference can follow`);
    return v.node;
  }

  /** A factory's own flags (`pretrained=False`) are the code's; numbers are soft defaults like a class's. */
  private rootFnArg(p: Param, file: SourceFile): Value {
    const bound = this.opts.bindings.get(p.name);
    if (bound !== undefined) return fromBinding(bound);
    const dflt = p.default ? this.eval(p.default, this.moduleEnv(file)) : undefined;
    if (!dflt || dflt.t !== 'num' || this.opts.applyDefaults) return dflt ?? this.openSymbol(p.name, '');
    return this.openSymbol(p.name, '', dflt);
  }

  private rootClass(cls: ClassRef): ModNode {
    const init = this.findMethod(cls, '__init__');
    const args: CallArgs = { pos: [], kw: new Map() };
    if (init) {
      for (const p of init.fn.params.slice(1)) {
        if (p.kind !== 'plain') continue;
        for (const q of p.fields ?? [p]) args.kw.set(q.name, this.rootArg(q, init.owner.file, cls));
      }
    }
    const v = this.instantiate(cls, args, { file: cls.file.path, pos: cls.def.pos });
    if (this.tfLayerClass(cls)) throw new Error(`\`${cls.def.name}\` is a TF.js layer: TF.js makes its weights when it is applied, so name a function that builds a model with it`);
    return v.node;
  }

  private rootArg(p: Param, file: SourceFile, cls: ClassRef): Value {
    const bound = this.opts.bindings.get(p.name);
    if (bound !== undefined) return fromBinding(bound);
    if (!p.default) {
      const cfg = this.rootConfigClass(p, file, cls);
      if (cfg) return this.configObject('', cfg);
    }
    const dflt = p.default ? this.eval(p.default, this.moduleEnv(file)) : undefined;
    if (dflt && dflt.t !== 'num') return dflt; // flags, names and None are the code's, not a config value
    if (dflt && this.opts.applyDefaults) return dflt;
    return this.openSymbol(p.name, '', dflt);
  }

  private openSymbol(name: string, fields: string, dflt?: Value): Value {
    const d = dflt?.t === 'num' && typeof dflt.d === 'number' ? dflt.d : undefined;
    const prev = this.symbols.get(name);
    this.symbols.set(name, { default: prev?.default ?? d });
    return { t: 'sym', name, fields, dflt };
  }

  /**
   * transformers' weight tying: each module class's `_tied_weights_keys` (`{"lm_head.weight":
   * "model.embed_tokens.weight"}`; keys relative to that module, plain names or patterns), in effect
   * when the module's config has `tie_word_embeddings`. Returns target → source over `keys`.
   */
  /**
   * transformers' `PreTrainedModel`s in the tree, in `named_modules()` order: a module whose class has a
   * `base_model_prefix`, with its config's `model_type` — what picks its checkpoint conversion rules (hfKeySpace.ts).
   */
  pretrainedModules(root: ModNode): PretrainedModule[] {
    const out: PretrainedModule[] = [];
    const str = (v: Value | undefined) => (v?.t === 'str' ? v.v : undefined);
    const walk = (node: ModNode, path: string, seen: Set<ModNode>) => {
      if (seen.has(node)) return;
      seen.add(node);
      const base = node.cls ? str(this.classAttr(node.cls, 'base_model_prefix')) : undefined;
      if (node.cls && base !== undefined) {
        const config = node.attrs.get('config');
        const modelType = config?.t === 'sym' && config.cfg ? str(this.classAttr(config.cfg, 'model_type')) : undefined;
        out.push({ path, className: node.cls.def.name, basePrefix: base, ...(modelType ? { modelType } : {}) });
      }
      for (const [name, c] of node.children) if (c) walk(c, path ? `${path}.${name}` : name, seen);
    };
    walk(root, '', new Set());
    return out;
  }

  tiedKeys(root: ModNode, keys: ReadonlySet<string>): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (node: ModNode, prefix: string, seen: Set<ModNode>) => {
      if (seen.has(node)) return;
      seen.add(node);
      const spec = node.cls ? this.classAttr(node.cls, '_tied_weights_keys') : undefined;
      const config = node.attrs.get('config');
      const on = config ? truthy(this.attr(config, 'tie_word_embeddings')) : undefined;
      if (spec?.t === 'dict' && on) {
        for (const [target, source] of spec.entries) {
          if (source.t !== 'str') continue;
          const plain = (k: string) => /^[\w.]+$/.test(k);
          if (plain(target) && plain(source.v)) {
            if (keys.has(prefix + target) && keys.has(prefix + source.v)) out.set(prefix + target, prefix + source.v);
            continue;
          }
          // Patterns: matched against the module's keys, sources cycled over targets as transformers does.
          const match = (p: string) => { try { const re = new RegExp(`^${p}`); return [...keys].filter((k) => k.startsWith(prefix) && re.test(k.slice(prefix.length))).sort(); } catch { return []; } };
          const ts = match(target), ss = match(source.v);
          if (ss.length && ts.length % ss.length === 0) ts.forEach((t, i) => out.set(t, ss[i % ss.length]));
        }
      }
      for (const [name, c] of node.children) if (c) walk(c, `${prefix}${name}.`, seen);
    };
    walk(root, '', new Set());
    return out;
  }

  // ---- configuration classes ----

  /**
   * The config class a root model is built from: its `__init__` parameter's annotation
   * (`config: BertConfig`), else the class-level annotation `config: BertConfig` of the model's
   * classes (transformers' `*PreTrainedModel`), else `config_class = BertConfig`.
   */
  private rootConfigClass(p: Param, file: SourceFile, cls: ClassRef): ConfigClass | undefined {
    if (p.annotation) {
      const c = this.asConfigClass(this.annotationValue(p.annotation, this.moduleEnv(file)));
      if (c) return c;
    }
    if (p.name !== 'config') return undefined;
    for (const c of this.mro(cls).user) {
      for (const f of c.def.fields ?? []) {
        const e = f.name === 'config' && f.annotation ? f.annotation : f.name === 'config_class' ? f.value : undefined;
        const found = e && this.asConfigClass(this.annotationValue(e, this.moduleEnv(c.file)));
        if (found) return found;
      }
    }
    return undefined;
  }

  /** An annotation's class: `BertConfig`, `"BertConfig"` (a forward reference), the class in `X | None`. */
  private annotationValue(e: Expr, env: Env): Value {
    if (e.k === 'str') return this.lookup(e.v, env);
    if (e.k === 'bin' && e.op === '|') {
      const l = this.annotationValue(e.l, env);
      return this.asConfigClass(l) ? l : this.annotationValue(e.r, env);
    }
    return this.eval(e, env);
  }

  /** A configuration class: not a module, and a dataclass-style class with fields or one deriving from a `…Config`. */
  private asConfigClass(v: Value | undefined): ConfigClass | undefined {
    if (v?.t === 'ref') return this.host.externalClass?.(v.q);
    if (v?.t !== 'class') return undefined;
    const { user, external } = this.mro({ def: v.def, file: v.file });
    if (external.some((q) => isModuleBase(q))) return undefined;
    const configish = external.some((q) => /Config$/.test(q)) || user.some((c, i) => (i > 0 && /Config$/.test(c.def.name)) || (c.def.fields ?? []).some((f) => f.annotated && !f.classVar));
    return configish ? { def: v.def, file: v.file } : undefined;
  }

  /** Fields of a config class and its bases, the subclass's first: what `config.FIELD` defaults to. */
  private configFields(cfg: ConfigClass): Map<string, { value?: Expr; file: SourceFile }> {
    let out = this.fieldCache.get(cfg.def);
    if (out) return out;
    out = new Map();
    this.fieldCache.set(cfg.def, out);
    const add = (c: ConfigClass) => { for (const f of c.def.fields ?? []) if (!out!.has(f.name)) out!.set(f.name, { value: f.value, file: c.file }); };
    const { user, external } = this.mro(cfg);
    for (const c of user) add(c);
    for (const q of external) { const c = this.host.externalClass?.(q); if (c) add(c); }
    return out;
  }

  /** A class-level attribute's value, evaluated once per class: `attribute_map` and `sub_configs` are read on every `config.FIELD`. */
  private classAttr(cfg: ConfigClass, name: string): Value | undefined {
    let values = this.attrCache.get(cfg.def);
    if (!values) this.attrCache.set(cfg.def, values = new Map());
    if (values.has(name)) return values.get(name);
    const f = this.configFields(cfg).get(name);
    const v = !f?.value ? (f ? NONE : undefined) : this.eval(f.value, this.moduleEnv(f.file));
    values.set(name, v);
    return v;
  }

  /**
   * A config object: a symbolic value whose fields are open symbols named by their path, defaulting
   * to the class's defaults; its `__post_init__` runs once over it (T5's `is_gated_act` from
   * `feed_forward_proj`), assignments landing in its overrides.
   */
  private configObject(prefix: string, cfg: ConfigClass): Value {
    const key = `${prefix}\u0000${cfg.def.name}`;
    const hit = this.configs.get(key);
    if (hit) return hit;
    const obj: Value = { t: 'sym', name: prefix || 'config', fields: prefix, cfg };
    this.configs.set(key, obj);
    // The class's own `__post_init__`, else the library base's (`PreTrainedConfig.__post_init__` gives
    // `num_labels` its default of 2 when no `id2label` is given).
    const post = this.findMethod(cfg, '__post_init__') ?? this.externalConfigMethod(cfg, '__post_init__');
    if (post) {
      // A config registers no parameters: what its (library) code does that inference cannot follow
      // (`GenerationConfig`'s defaults, `setattr` of leftover kwargs) is no gap of the model being built.
      this.postInit.push(prefix);
      try {
        this.quietly(() => this.callFunction(post.fn, post.owner.file, { pos: [], kw: new Map() }, obj, post.owner));
      } catch { /* what it cannot compute stays the defaults */ } finally { this.postInit.pop(); }
    }
    return obj;
  }

  /**
   * `config.get_text_config()`: the one of its sub-configs named `text_encoder`, `decoder`, `generator`
   * or `text_config` (the names `PreTrainedConfig.get_text_config` searches), else the config itself.
   */
  private textConfig(config: Extract<Value, { t: 'sym' }>): Value {
    if (!config.cfg) return config;
    for (const name of ['text_encoder', 'decoder', 'generator', 'text_config']) {
      const sub = this.subConfig(config.fields, config.cfg, name);
      if (sub) return sub;
    }
    return config;
  }

  /** Config objects whose `__post_init__` is running (by prefix): a number it assigns is a soft default. */
  private readonly postInit: string[] = [];

  /** A method of a config class's library base (`transformers.…PreTrainedConfig`, read from its class alone). */
  private externalConfigMethod(cfg: ConfigClass, name: string): { fn: FunctionDef; owner: ClassRef } | undefined {
    for (const q of this.mro(cfg).external) {
      const c = this.host.externalClass?.(q);
      const fn = c?.def.methods.get(name);
      if (c && fn) return { fn, owner: c };
    }
    return undefined;
  }

  /**
   * `config.FIELD = v` inside the config's `__post_init__`: a literal number there is the field's
   * default when nothing is given (`num_labels` is 2 unless `id2label` says otherwise), so it stays soft
   * as the class's own defaults do, and a binding of the field (`set num_labels = 5`) wins over it.
   */
  private configAssign(obj: Extract<Value, { t: 'sym' }>, field: string, v: Value): void {
    if (this.postInit.includes(obj.fields) && obj.cfg && v.t === 'num') {
      const name = obj.fields ? `${obj.fields}.${field}` : field;
      if (this.opts.bindings.has(name)) return;
      if (!this.opts.applyDefaults) v = this.openSymbol(name, name, v);
    }
    this.setOnConfig(obj, field, v);
  }

  /** Runs `fn` keeping no gap, note or condition it records: for code that builds no part of a model. */
  private quietly<T>(fn: () => T): T {
    const top = this.building[this.building.length - 1];
    const gaps = this.rootGaps.length, topGaps = top?.gaps.length ?? 0, notes = new Set(this.notes), conds = this.conds.length;
    try {
      return fn();
    } finally {
      this.rootGaps.length = gaps;
      this.conds.length = conds;
      if (top) top.gaps.length = topGaps;
      for (const n of [...this.notes]) if (!notes.has(n)) this.notes.delete(n);
    }
  }

  /**
   * A nested config (`config.text_config`): always the one built from its class by path, so the
   * instance `__post_init__` assigned (`CLIPTextConfig(**text_config)`) does not hide its bindings.
   */
  private subConfig(prefix: string, cfg: ConfigClass, field: string): Value | undefined {
    const subs = this.classAttr(cfg, 'sub_configs_defaults') ?? this.classAttr(cfg, 'sub_configs');
    const sub = subs?.t === 'dict' ? this.asConfigClass(subs.entries.get(field)) : undefined;
    return sub ? this.configObject(prefix ? `${prefix}.${field}` : field, sub) : undefined;
  }

  /**
   * `config.FIELD`: a binding, a property of the config class computed over the object (`num_labels`
   * is `len(self.id2label)`), an object given whole in config.json (`id2label`), or an open symbol
   * named by the field's path.
   */
  private configField(prefix: string, field: string, dflt?: Value, cfg?: ConfigClass, obj?: Value): Value {
    if (cfg) {
      const alias = this.classAttr(cfg, 'attribute_map');
      const to = alias?.t === 'dict' ? alias.entries.get(field) : undefined;
      if (to?.t === 'str') field = to.v;
      const sub = this.subConfig(prefix, cfg, field);
      if (sub) return sub;
      const own = this.classAttr(cfg, field);
      if (own !== undefined) dflt = own;
    }
    const name = prefix ? `${prefix}.${field}` : field;
    const bound = this.opts.bindings.get(name);
    if (bound !== undefined) return fromBinding(bound);
    const prop = cfg && obj ? this.configProperty(cfg, field, obj) : undefined;
    if (prop && (prop.t === 'num' || prop.t === 'str' || prop.t === 'bool' || prop.t === 'list' || prop.t === 'dict' || prop.t === 'none')) return prop;
    const whole = this.nestedBinding(name);
    if (whole) return whole;
    const init = cfg ? this.initFields(prefix, cfg)?.get(field) : undefined;
    if (init) {
      // `self.x = x` (or a number): the field's default, soft like a dataclass field's; anything else is what `__init__` made of it.
      if (init.t === 'sym' && !init.cfg && init.name === name) dflt = init.dflt;
      else if (init.t === 'num' && typeof init.d === 'number') dflt = init;
      else if (init.t !== 'unknown') return this.withInitSymbols(init);
      else dflt = undefined;
    }
    if (dflt && dflt.t !== 'num' && dflt.t !== 'unknown') return dflt;
    if (dflt?.t === 'num' && this.opts.applyDefaults) return dflt;
    return this.openSymbol(name, name, dflt);
  }

  /**
   * A config class whose fields its `__init__` sets (PaddleNLP's and PaddleFormers' `BertConfig(vocab_size=30522, …)`
   * assigning `self.vocab_size = vocab_size`, the base's `self.x = kwargs.pop("x", d)`): the `__init__` the class
   * resolves to runs once over a scratch object, each parameter the value of its binding or a symbol named by the
   * field defaulting to the parameter's default, and config.json's other values as `**kwargs` (`cls(**config_dict)`,
   * as `from_pretrained` builds it). What it assigns is each field's value unless a binding names the field. An
   * assignment under a condition nothing decides is either value (`alt`); what the run meets that is no part of a
   * model (notes, gaps, classes it builds) is dropped: it never makes the model incomplete.
   */
  private initFields(prefix: string, cfg: ConfigClass): Map<string, Value> | undefined {
    const key = `${prefix}\u0000${cfg.def.name}`;
    if (this.inits.has(key)) return this.inits.get(key) ?? undefined;
    const init = this.findMethod(cfg, '__init__');
    if (!init) { this.inits.set(key, new Map()); return undefined; }
    this.inits.set(key, null);
    const self: Value = { t: 'sym', name: prefix || 'config', fields: prefix, cfg, over: new Map() };
    const syms = new Map<string, number | undefined>();
    const args: CallArgs = { pos: [], kw: new Map() };
    const at = prefix ? `${prefix}.` : '';
    for (const p of init.fn.params.slice(1)) {
      if (p.kind !== 'plain') continue;
      const name = at + p.name;
      const bound = this.opts.bindings.get(name);
      const dflt = p.default ? this.eval(p.default, this.moduleEnv(init.owner.file)) : undefined;
      let v = bound !== undefined ? fromBinding(bound) : this.nestedBinding(name) ?? dflt;
      if (bound === undefined && (!v || (v.t === 'num' && !this.opts.applyDefaults))) {
        const d = v?.t === 'num' && typeof v.d === 'number' ? v.d : undefined;
        syms.set(name, d);
        v = { t: 'sym', name, fields: name, ...(v ? { dflt: v } : {}) };
      }
      args.kw.set(p.name, v!);
    }
    for (const k of this.opts.bindings.keys()) {
      const rest = k.startsWith(at) ? k.slice(at.length).split('.')[0] : '';
      if (rest && !args.kw.has(rest)) args.kw.set(rest, this.opts.bindings.has(at + rest) ? fromBinding(this.opts.bindings.get(at + rest)!) : this.nestedBinding(at + rest) ?? UNKNOWN);
    }
    const saved = { notes: [...this.notes], gaps: this.rootGaps.length, building: this.building.splice(0), first: this.first, loops: this.loops, run: this.initRun, marks: this.condMarks };
    this.initRun = { self, conds: this.conds.length, syms };
    this.loops = [];
    try {
      this.callFunction(init.fn, init.owner.file, args, self, init.owner);
    } catch { /* what it cannot compute stays open */ } finally {
      this.notes.clear();
      for (const n of saved.notes) this.notes.add(n);
      this.rootGaps.length = saved.gaps;
      this.building.push(...saved.building);
      this.first = saved.first;
      this.loops = saved.loops;
      this.initRun = saved.run;
      this.condMarks = saved.marks;
    }
    // `self.dropout = …` lands on `classifier_dropout` where `attribute_map` says so, as the class's `__setattr__` does.
    const alias = this.classAttr(cfg, 'attribute_map');
    const out = new Map<string, Value>();
    for (const [k, v] of self.over!) {
      const to = alias?.t === 'dict' ? alias.entries.get(k) : undefined;
      out.set(to?.t === 'str' ? to.v : k, v);
    }
    this.inits.set(key, out);
    this.initSyms.set(key, syms);
    return out;
  }

  /** The parameters' symbols of every config `__init__` run: a derived field (`hidden_size // num_heads`) opens the ones it uses. */
  private readonly initSyms = new Map<string, Map<string, number | undefined>>();

  private withInitSymbols(v: Value): Value {
    if (v.t !== 'num' || typeof v.d === 'number') return v;
    for (const s of symbolsOf(v.d)) {
      for (const syms of this.initSyms.values()) {
        if (syms.has(s)) { const d = syms.get(s); this.openSymbol(s, s, d !== undefined ? num(d) : undefined); break; }
      }
    }
    return v;
  }

  /** `config.x = v` / `setattr(config, "x", v)`: the object's own value; inside a config `__init__`, under an undecided condition, either. */
  private setOnConfig(obj: Extract<Value, { t: 'sym' }>, name: string, v: Value): void {
    const over = (obj.over ??= new Map());
    const run = this.initRun;
    if (run && run.self === obj && this.conds.length > run.conds) v = alt(this.conds[this.conds.length - 1], v, over.get(name) ?? UNKNOWN);
    over.set(name, v);
  }

  /** Properties being computed, so one that reads itself stops instead of recursing. */
  private readonly inProperty = new Set<string>();

  /** A `@property` of the config class or its bases (the library's `PreTrainedConfig` read, never run): its value over `obj`. */
  private configProperty(cfg: ConfigClass, field: string, obj: Value): Value | undefined {
    const { user, external } = this.mro(cfg);
    const classes = [...user, ...external.map((q) => this.host.externalClass?.(q)).filter((c): c is ClassRef => !!c)];
    const owner = classes.find((c) => c.def.methods.get(field)?.property);
    if (!owner) return undefined;
    const key = `${owner.def.name}.${field}`;
    if (this.inProperty.has(key)) return undefined;
    this.inProperty.add(key);
    try { return this.callFunction(owner.def.methods.get(field)!, owner.file, { pos: [], kw: new Map() }, obj, owner); } catch { return undefined; } finally { this.inProperty.delete(key); }
  }

  /** An object config.json gives whole (`"id2label": {"0": "neg", …}`): a dict of its bindings. */
  private nestedBinding(name: string): Value | undefined {
    const at = `${name}.`;
    let out: Extract<Value, { t: 'dict' }> | undefined;
    for (const [k, b] of this.opts.bindings) {
      if (!k.startsWith(at)) continue;
      out ??= { t: 'dict', entries: new Map() };
      let d = out;
      const path = k.slice(at.length).split('.');
      for (const p of path.slice(0, -1)) {
        let next = d.entries.get(p);
        if (next?.t !== 'dict') d.entries.set(p, next = { t: 'dict', entries: new Map() });
        d = next;
      }
      d.entries.set(path[path.length - 1], fromBinding(b));
    }
    return out;
  }

  note(message: string): void {
    this.notes.add(message);
  }

  /** Something not followed that may change the parameters of the module being built (or of the model, at the root). */
  gap(site: Site, message: string, name?: string): void {
    const top = this.building[this.building.length - 1];
    const gap = { site, message };
    if (!top) { if (!this.rootGaps.some((g) => g.message === message && g.site.pos.line === site.pos.line)) this.rootGaps.push(gap); return; }
    if (!top.gaps.some((g) => g.name === name && g.gap.message === message)) top.gaps.push({ name, gap });
  }

  /** An unknown value that may be a layer: registered anywhere, it records its gap there. */
  private opaque(site: Site, message: string): Value {
    return { t: 'unknown', gap: { site, message } };
  }

  // ---- classes and calls ----

  private mro(cls: ClassRef, seen = new Set<ClassDef>()): { user: ClassRef[]; external: string[] } {
    const user: ClassRef[] = [];
    const external: string[] = [];
    const walk = (c: ClassRef) => {
      if (seen.has(c.def)) return;
      seen.add(c.def);
      user.push(c);
      for (const b of c.def.bases) {
        const v = this.eval(b, this.moduleEnv(c.file));
        // A base class from an installed package's source; a config class's `…Config` base too (PaddleNLP's
        // `PretrainedConfig`, whose `__init__` sets the common fields), but transformers' (the library boundary).
        const real = v.t === 'ref' ? this.installed(v.q) ?? this.installedConfigBase(v.q) : undefined;
        if (v.t === 'class') walk({ def: v.def, file: v.file });
        else if (real?.t === 'class') walk({ def: real.def, file: real.file });
        else if (v.t === 'ref') external.push(v.q);
      }
    };
    walk(cls);
    return { user, external };
  }

  /**
   * `isinstance(config, PretrainedConfig)` (PaddleFormers' `PretrainedModel.__init__` looking for its config among
   * its arguments): the config class's MRO says, a class matched by name and file (one file may be read both as the
   * model's import and as an installed package's); false when the MRO is wholly read and names none of them.
   */
  private configIsInstance(cfg: ConfigClass, targets: Value[]): Value {
    const { user, external } = this.mro(cfg);
    const hit = targets.some((c) => (c.t === 'class' && user.some((u) => u.def.name === c.def.name && u.file.path === c.file.path))
      || (c.t === 'ref' && external.includes(c.q)));
    if (hit) return { t: 'bool', v: true };
    const read = external.every((q) => q === 'builtins.object' || q === 'object');
    return targets.length && read && targets.every((c) => c.t === 'class' || (c.t === 'ref' && BUILTIN_TYPES.has(c.q.split('.').pop()!))) ? { t: 'bool', v: false } : UNKNOWN;
  }

  private installedConfigBase(q: string): Value | undefined {
    return /Config$/.test(q) && !q.startsWith('transformers.') ? this.host.resolveQualified?.(q) : undefined;
  }

  private findMethod(cls: ClassRef, name: string, after?: ClassDef): { fn: FunctionDef; owner: ClassRef } | undefined {
    const { user } = this.mro(cls);
    const start = after ? user.findIndex((c) => c.def === after) + 1 : 0;
    for (const c of user.slice(start)) {
      const fn = c.def.methods.get(name);
      if (fn) return { fn, owner: c };
    }
    return undefined;
  }

  /** The framework layer a user class derives from (`torch.nn.Embedding`), if any. */
  private layerBase(cls: ClassRef): string | undefined {
    return this.mro(cls).external.find((q) => /^(torch|paddle)\.nn\.[A-Z]\w*$/.test(q) && !CONTAINERS.has(q.split('.').pop()!));
  }

  private frameworkOf(file: SourceFile): Framework | undefined {
    for (const i of file.imports) {
      const root = i.module.split('.')[0];
      if (i.level === 0 && (root === 'torch' || root === 'paddle')) return root;
    }
    return undefined;
  }

  /** A user class extending TF.js's `tf.layers.Layer`. */
  private tfLayerClass(cls: ClassRef): boolean {
    return cls.file.language === 'ts' && this.mro(cls).external.some((q) => q === 'tfjs.layers.Layer');
  }

  /** TF.js's `getClassName()`: the class's `static className` (or a user base's), as a string literal. */
  private tfClassName(cls: ClassRef): string | undefined {
    for (const c of this.mro(cls).user) {
      const f = c.def.fields?.find((x) => x.name === 'className' && x.classVar);
      if (f?.value?.k === 'str') return f.value.v;
    }
    return undefined;
  }

  /** Parameters no framework layer gave a layout: the layout the class's methods use them in, if they say. */
  private layoutsFromUse(cls: ClassRef, node: ModNode): void {
    const open = [...node.params].filter(([, t]) => t && !t.layout && t.shape && t.shape.length >= 2);
    if (open.length === 0) return;
    let used = USED_LAYOUTS.get(cls.def);
    if (!used) USED_LAYOUTS.set(cls.def, (used = layoutsFromUse(this.mro(cls).user)));
    for (const [name, t] of open) {
      const u = used.get(name);
      const rank = t!.shape!.length;
      const fits = u && (u.layout === 'in_out' || u.layout === 'out_in' ? rank === 2 : u.layout.length === rank);
      if (u && fits) node.params.set(name, { ...t!, layout: u.layout, layoutWhy: u.why });
    }
  }

  private instantiate(cls: ClassRef, args: CallArgs, site: Site): { t: 'module'; node: ModNode } {
    const { external } = this.mro(cls);
    const isModule = external.some(isModuleBase);
    const containerKind = this.containerBase(cls);
    const node = new ModNode(cls.def.name, site, this.frameworkOf(cls.file), cls, containerKind !== undefined, !isModule && !containerKind && cls.file.language === 'python');
    this.first ??= node;
    this.condAt.set(node, [...this.conds]);
    const init = this.findMethod(cls, '__init__');
    this.building.push(node);
    try {
      // A base inference does not read may register anything: on a plain instance it is the instance's gap
      // (it may be a layer), on a module the module's own (`GenericForSequenceClassification`'s `__init__`).
      const baseGap = this.unfollowedBase(external, site);
      if (node.plain) node.baseGap = baseGap;
      else if (baseGap) node.gaps.push({ gap: baseGap });
      if (init) this.callFunction(init.fn, init.owner.file, args, { t: 'module', node }, init.owner);
      else if (node.plain) this.dataclassFields(cls, node, args);
      else if (containerKind) this.fillContainer(node, containerKind, args, site);
      else {
        // `class FalconLinear(nn.Linear)` with no `__init__` of its own: the framework layer's, with these arguments.
        const layer = this.layerBase(cls);
        if (layer) this.callMethod({ t: 'module', node }, `__layer_init__ ${layer}`, args, site);
      }
    } finally {
      this.building.pop();
    }
    if (isModule) this.layoutsFromUse(cls, node);
    return { t: 'module', node };
  }

  /** A `@dataclass` / `NamedTuple` class without an `__init__` of its own: its annotated fields bound like call arguments. */
  private dataclassFields(cls: ClassRef, node: ModNode, args: CallArgs): void {
    const fields = this.mro(cls).user.reverse().flatMap((c) => (c.def.fields ?? []).filter((f) => f.annotated && !f.classVar).map((f) => ({ f, file: c.file })));
    const bound = bindArgs(args, fields.map(({ f }) => f.name));
    for (const { f, file } of fields) {
      const v = bound.get(f.name) ?? (f.value ? this.fieldDefault(f.value, this.moduleEnv(file)) : undefined);
      if (v) node.setAttr(f.name, v);
    }
  }

  /**
   * A dataclass field's default: `field(default=x)` is x, `field(default_factory=f)` a fresh `f()` — of
   * the containers (`list`, `dict`, `deque`, `set`) or a class inference reads. Any other call the
   * class makes at the field is not run: unknown.
   */
  private fieldDefault(e: Expr, env: Env): Value {
    if (e.k !== 'call') return this.eval(e, env);
    const fn = this.eval(e.fn, env);
    if (fn.t !== 'ref' || fn.q !== 'dataclasses.field') return UNKNOWN;
    const a = this.args(e.args, env);
    const d = a.kw.get('default');
    if (d) return d;
    const f = a.kw.get('default_factory');
    const containers = new Set(['builtins.list', 'builtins.dict', 'builtins.set', 'collections.deque', 'collections.OrderedDict', 'collections.defaultdict']);
    if (f && ((f.t === 'ref' && containers.has(f.q)) || f.t === 'class')) return this.call(f, { pos: [], kw: new Map() }, { file: env.file.path, pos: e.pos }, env);
    return UNKNOWN;
  }

  /** `dataclasses.asdict(obj)`: its fields in declaration order, dataclass values within converted too. */
  private asdict(v: Value): Value {
    if (v.t !== 'module' || !v.node.plain || !v.node.cls) return UNKNOWN;
    const fields = this.mro(v.node.cls).user.reverse().flatMap((c) => (c.def.fields ?? []).filter((f) => f.annotated && !f.classVar).map((f) => f.name));
    const entries = new Map<string, Value>();
    for (const name of fields) {
      const x = v.node.getAttr(name);
      if (x === undefined || x.t === 'unknown') return UNKNOWN;
      entries.set(name, x.t === 'module' && x.node.plain ? this.asdict(x) : x);
    }
    return { t: 'dict', entries };
  }

  /**
   * A class deriving from an outside class inference cannot read (`class Block(timm.layers.Mlp)`): it
   * may be a layer, so an instance registered on a module is a gap, not a plain attribute.
   */
  private unfollowedBase(external: string[], site: Site): Gap | undefined {
    const q = external.find((b) => !STDLIB.has(b.split('.')[0]) && b !== 'builtins.object' && !isModuleBase(b)
      && !/(Config|Mixin|Enum|Exception|Error|Protocol|Dict|Tuple|ABC|Generic|object)$/.test(b));
    return q ? { site, message: `\`${q.replace(/^builtins\./, '')}\`, a base class outside what Tensor Port reads, was not followed` } : undefined;
  }

  private callFunction(fn: FunctionDef, file: SourceFile, args: CallArgs, self?: Value, owner?: ClassRef, closure?: Env): Value {
    // Python would end in a RecursionError: the model cannot be built, so inference stops (inferTensors says where).
    if (this.depth >= MAX_DEPTH) throw new Error(`calls nest deeper than ${MAX_DEPTH} (endless recursion?) calling \`${fn.name}\` (line ${fn.pos.line + 1})`);
    const env: Env = { vars: new Map(), file, owner, self, parent: closure ?? this.moduleEnv(file) };
    const params = fn.params;
    let i = 0;
    const pos = [...args.pos];
    const kw = new Map(args.kw);
    if (self && params[0]) { env.vars.set(params[0].name, self); i = 1; }
    for (; i < params.length; i++) {
      const p = params[i];
      if (p.kind === 'star') { env.vars.set(p.name, { t: 'list', items: pos.splice(0), tuple: true }); continue; }
      if (p.kind === 'dstar') { env.vars.set(p.name, { t: 'dict', entries: new Map(kw) }); kw.clear(); continue; }
      if (p.fields) {
        // TypeScript `{a = 1, b} = {}`: fields of one object argument.
        const obj = pos.length ? pos.shift()! : undefined;
        for (const f of p.fields) {
          const v = obj?.t === 'dict' ? obj.entries.get(f.name) : kw.get(f.name);
          env.vars.set(f.name, v ?? (f.default ? this.eval(f.default, env) : UNKNOWN));
          kw.delete(f.name);
        }
        continue;
      }
      let v: Value | undefined;
      if (pos.length) v = pos.shift();
      else if (kw.has(p.name)) { v = kw.get(p.name); kw.delete(p.name); }
      // An argument JavaScript is not given is `undefined`.
      env.vars.set(p.name, v ?? (p.default ? this.eval(p.default, this.moduleEnv(file)) : file.language === 'ts' ? NONE : UNKNOWN));
    }
    this.depth++;
    let out: Value = NONE;
    try {
      this.execBlock(fn.body, env);
    } catch (e) {
      if (!(e instanceof Return)) throw e;
      out = e.value;
    } finally {
      this.depth--;
      // Returned early in an undecided branch: the rest ran under the other condition, so the result is either.
      for (const p of (env.pending ?? []).reverse()) { this.conds.pop(); out = alt(p.cond, p.value, out); }
    }
    return out;
  }

  private paddleParamAttr(c: Extract<Value, { t: 'class' }>): boolean {
    return (c.def.name === 'ParamAttr' || c.def.name === 'WeightNormParamAttr') && !!this.host.moduleName?.(c.file)?.startsWith('paddle.');
  }

  call(fn: Value, args: CallArgs, site: Site, env: Env): Value {
    switch (fn.t) {
      case 'class': {
        // Paddle's own ParamAttr read from its installed source: what it holds is no parameter.
        if (this.paddleParamAttr(fn)) return PARAM_ATTR;
        const cls = { def: fn.def, file: fn.file };
        const v = this.instantiate(cls, args, site);
        return this.tfLayerClass(cls) ? this.tf.customLayer(v, this.tfClassName(cls), fn.def.name, args, site) : v;
      }
      case 'func':
        if (!fn.self && !fn.cls) this.ownDecorators(fn.fn, fn.file);
        return this.callFunction(fn.fn, fn.file, args, fn.self, fn.cls, fn.closure ? { vars: fn.closure, file: fn.file } : undefined);
      case 'lambda': {
        const vars = new Map(fn.closure);
        fn.params.forEach((p, i) => vars.set(p, args.pos[i] ?? args.kw.get(p) ?? UNKNOWN));
        return this.eval(fn.body, { vars, file: fn.file, parent: this.moduleEnv(fn.file) });
      }
      case 'partial': return this.call(fn.fn, { pos: [...fn.args.pos, ...args.pos], kw: new Map([...fn.args.kw, ...args.kw]) }, site, env);
      case 'method': return this.callMethod(fn.recv, fn.name, args, site);
      case 'ref': return this.callRef(fn.q, args, site, env);
      // `(Gated if c else Plain)(d)`: each class built under its condition.
      case 'alt': return this.eachAlt(fn, (f) => this.call(f, args, site, env));
      case 'record': return this.makeRecord(fn, args);
      default: return UNKNOWN;
    }
  }

  private callRef(q: string, args: CallArgs, site: Site, env: Env): Value {
    const parts = q.split('.');
    const root = parts[0];
    const last = parts[parts.length - 1];
    if (root === 'builtins') return this.builtin(last, args, env, site);
    if (root === 'tfjs') return this.tf.call(parts.slice(1), args, site);
    const real = this.installed(q);
    if (real) return this.call(real, args, site, env);
    if (root === 'torch' || root === 'paddle') {
      const fw: Framework = root === 'paddle' ? 'paddle' : 'torch';
      const nn = parts[1] === 'nn';
      if (parts[2] === 'functional' || parts[1] === 'functional') return UNKNOWN;
      if (nn && CONTAINERS.has(last)) return this.container(fw, last, args, site);
      if (last === 'Parameter' && (nn || root === 'torch')) return this.parameter(args, site);
      if (last === 'Buffer' && nn) {
        const a = bindArgs(args, ['data', 'persistent']);
        const t = a.get('data');
        return t?.t === 'tensor' ? { ...t, param: false, buffer: { persistent: truthy(a.get('persistent')) ?? true } } : UNKNOWN;
      }
      if (last === 'weight_norm' && parts.includes('utils')) return this.weightNorm(args, parts.includes('parametrizations'));
      if (q === 'paddle.create_parameter' || q === 'paddle.static.create_parameter') {
        return this.createParameter(bindArgs(args, ['shape', 'dtype', 'name', 'attr', 'is_bias', 'default_initializer']), site);
      }
      if (nn && /^[A-Z]/.test(last) && !['initializer', 'init', 'utils', 'parameter'].includes(parts[2])) {
        const built = buildLayer(fw, last, args, site);
        if (built) return { t: 'module', node: built.node };
        // Without an environment to read the layer's source from, say how to give one.
        const how = this.host.resolveQualified ? '' : ' (no Python environment to read its source from: `--python PATH`, or a .venv above the model file)';
        return this.opaque(site, `\`${q}\` is not a layer Tensor Port knows${how}`);
      }
      // A parameter's attributes (initializer, learning rate, name): only its being there matters to a layer.
      if (root === 'paddle' && (last === 'ParamAttr' || last === 'WeightNormParamAttr')) return PARAM_ATTR;
      // `ParamAttr._to_attr(arg)`, how Paddle's own layers normalise `weight_attr`/`bias_attr`.
      if (root === 'paddle' && last === '_to_attr' && parts[parts.length - 2] === 'ParamAttr') return toParamAttr(args.pos[0] ?? NONE);
      if (parts.length === 2) {
        const t = tensorFactory(fw, last, args, site);
        if (t) return t;
      }
      const dt = dtypeName(q);
      if (dt) return { t: 'dtype', dtype: dt };
      return UNKNOWN;
    }
    if (last === 'Conv1D' && (root === 'transformers' || parts.includes('pytorch_utils') || parts.includes('modeling_utils'))) {
      return { t: 'module', node: buildLayer('gpt2', last, args, site)!.node };
    }
    if (root === 'math') {
      const xs = args.pos.map(asDim);
      if (xs.every((x) => typeof x === 'number')) {
        const n = xs as number[];
        const f: Record<string, (() => number) | undefined> = {
          sqrt: () => Math.sqrt(n[0]), ceil: () => Math.ceil(n[0]), floor: () => Math.floor(n[0]), log: () => Math.log(n[0]),
          prod: undefined, pow: () => n[0] ** n[1], exp: () => Math.exp(n[0]),
        };
        const r = f[last]?.();
        if (r !== undefined) return num(r);
      }
      if (last === 'floor' || last === 'ceil') { const d = asDim(args.pos[0]); return d !== undefined ? num(d) : UNKNOWN; }
      return UNKNOWN;
    }
    if (root === 'copy' && (last === 'deepcopy' || last === 'copy')) {
      const v = args.pos[0];
      if (v?.t === 'sym') return { ...v, over: new Map(v.over ?? []) };
      return v?.t === 'module' ? { t: 'module', node: v.node.clone() } : v ?? UNKNOWN;
    }
    if (root === 'itertools') return itertoolsCall(last, args);
    if (q === 'os.environ.get' || q === 'os.getenv') {
      // Model code switching on an environment variable (timm's TIMM_USE_NAFLEXVIT): a plain environment, where it is unset.
      const name = args.pos[0];
      const dflt = args.pos[1] ?? args.kw.get('default') ?? NONE;
      if (name?.t === 'str') this.note(`environment variable \`${name.v}\` taken as unset (the code's default)`);
      return name?.t === 'str' ? dflt : UNKNOWN;
    }
    if (root === 're' && parts.length === 2) { const r = reCall(last, args); if (r) return r; }
    if (root === 'collections' && last === 'namedtuple') return this.namedtuple(args);
    if (root === 'dataclasses' && last === 'replace' && args.pos[0]) return this.replaced(args.pos[0], args.kw);
    if (root === 'functools' && last === 'partial' && args.pos[0]) return { t: 'partial', fn: args.pos[0], args: { pos: args.pos.slice(1), kw: args.kw } };
    if (root === 'collections' && last === 'OrderedDict') return this.builtin('dict', args, env, site);
    if (root === 'collections' && last === 'deque') return fromIterable('deque', args.pos[0]);
    if (root === 'collections' && last === 'defaultdict') return { t: 'dict', entries: new Map(), ...(args.pos[0] && args.pos[0].t !== 'none' ? { missing: args.pos[0] } : {}) };
    if (root === 'dataclasses' && last === 'asdict' && args.pos[0]) return this.asdict(args.pos[0]);
    if (root === 'transformers' && parts[parts.length - 2] === 'AutoModel' && (last === 'from_config' || last === '_from_config')) {
      const built = this.autoModel(args, site, env);
      if (built) return built;
    }
    return this.outside(q, last, site, args);
  }

  /**
   * `AutoModel.from_config(config)`: the base model class transformers registers for the config's
   * `model_type` (hfAutoModel.ts), found in the file of the module being built (a head beside its base
   * model) or in the modeling file beside the config class's. Undefined otherwise (the call stays a gap).
   */
  private autoModel(args: CallArgs, site: Site, env: Env): Value | undefined {
    const config = args.pos[0] ?? args.kw.get('config');
    if (config?.t !== 'sym' || !config.cfg) return undefined;
    const type = this.classAttr(config.cfg, 'model_type');
    const root = transformersRootOf(config.cfg.file.path);
    const name = type?.t === 'str' && root ? autoModelNames(root)?.get(type.v) : undefined;
    if (!name || !root) return undefined;
    const head = env.self?.t === 'module' ? env.self.node.cls?.file : undefined;
    const local = head?.classes.get(name);
    const cfgFile = config.cfg.file.path;
    const modeling = path.basename(cfgFile).replace(/^configuration_/, 'modeling_').replace(/\.py$/, '');
    const pkg = path.relative(path.dirname(root), path.dirname(cfgFile)).split(path.sep).join('.');
    const cls: Value | undefined = local && head ? { t: 'class', def: local, file: head } : this.host.resolveQualified?.(`${pkg}.${modeling}.${name}`);
    return cls?.t === 'class' ? this.call(cls, { pos: [config], kw: new Map() }, site, env) : undefined;
  }

  /** A class or function of an installed package that the tables do not know: its real source, from the user's environment. */
  private installed(q: string): Value | undefined {
    if (!this.host.resolveQualified || !fromInstalledSource(q)) return undefined;
    const real = this.host.resolveQualified(q);
    if (real) return real;
    const bound = this.host.installedVariable?.(q);
    const v = bound ? this.moduleEnv(bound.file).vars.get(bound.name) : undefined;
    return v && v.t !== 'unknown' ? v : undefined;
  }

  /**
   * transformers' `ACT2FN[name]` / `get_activation(name)`: activations hold no parameters, except the
   * two that learn theirs (PReLU's weight, xIELU's alphas), which are gaps; a name nothing decides may be either.
   */
  private activation(q: string, name: Value, site: Site): Value {
    if (name.t === 'str' && !/^(prelu|xielu)$/.test(name.v)) return UNKNOWN;
    return this.opaque(site, `\`${q}[${name.t === 'str' ? JSON.stringify(name.v) : '…'}]\` may learn parameters, which are not listed`);
  }

  /**
   * A call into code Tensor Port does not read. The standard library holds no layers (typing.TypeVar,
   * dataclasses.field…); anything else may return one, so its result is a gap wherever it is registered.
   */
  private outside(q: string, last: string, site: Site, args: CallArgs): Value {
    if (STDLIB.has(q.split('.')[0]) || (NO_LAYERS.has(q.split('.')[0]) && !/^[A-Z]/.test(last))) return UNKNOWN;
    // A configuration class or its classmethod (`GenerationConfig.from_model_config(config)`) makes settings, never a layer.
    if (q.split('.').slice(1).some((p) => /^[A-Z]\w*Config$/.test(p))) return UNKNOWN;
    if (/(^|\.)activations\.get_activation$/.test(q)) return this.activation(q, bindArgs(args, ['activation_string']).get('activation_string') ?? UNKNOWN, site);
    return this.opaque(site, /^[A-Z]/.test(last) ? `\`${q}\` is outside the code Tensor Port reads` : `\`${q}(…)\` is outside the code Tensor Port reads`);
  }

  private container(fw: Framework, kind: string, args: CallArgs, site: Site): Value {
    const node = new ModNode(kind, site, fw, undefined, kind !== 'Module' && kind !== 'Layer');
    this.condAt.set(node, [...this.conds]);
    this.fillContainer(node, kind, args, site);
    return { t: 'module', node };
  }

  /** A framework container class a user class derives from (`class SequentialTuple(nn.Sequential)`): its kind. */
  private containerBase(cls: ClassRef): string | undefined {
    const q = this.mro(cls).external.find((b) => /^(torch|paddle)\.nn\.[A-Z]\w*$/.test(b) && CONTAINERS.has(b.split('.').pop()!) && !/\.(Module|Layer)$/.test(b));
    return q?.split('.').pop();
  }

  /** The layers a container's constructor is given, registered on `node` (a container, or an instance of a class deriving from one). */
  private fillContainer(node: ModNode, kind: string, args: CallArgs, site: Site): void {
    const list = args.pos[0];
    const addItems = (items: Value[], named: boolean) => {
      items.forEach((v, i) => {
        if (named && v.t === 'list' && v.items.length === 2 && v.items[0].t === 'str') {
          this.register(node, v.items[0].v, v.items[1]);
        } else this.register(node, String(i), v);
      });
    };
    if (kind === 'Sequential') {
      if (args.pos.length === 1 && args.pos[0].t === 'dict') for (const [k, v] of args.pos[0].entries) this.register(node, k, v);
      else addItems(args.pos, true);
    } else if ((kind.endsWith('Dict')) && list?.t === 'dict') {
      for (const [k, v] of list.entries) this.register(node, k, v);
      if (list.partial) node.gaps.push({ gap: list.partial });
    } else if (list?.t === 'list' && list.partial) {
      addItems(list.items, false);
      node.gaps.push({ gap: list.partial });
    } else if (list?.t === 'list') {
      addItems(list.items, false);
      if (list.count !== undefined) node.count = list.count;
    } else if (list && list.t !== 'none') {
      node.gaps.push({ gap: list.t === 'unknown' && list.gap ? list.gap : { site, message: `the layers given to \`${kind}\` could not be listed` } });
    }
  }

  /**
   * `weight_norm(module, name="weight", dim=0)`: the weight becomes its magnitude and direction —
   * `parametrizations.weight.original0`/`original1` (torch.nn.utils.parametrizations), or
   * `weight_g`/`weight_v` (the older torch.nn.utils). The magnitude keeps only `dim`'s size.
   */
  private weightNorm(args: CallArgs, parametrized: boolean): Value {
    const a = bindArgs(args, ['module', 'name', 'dim']);
    const m = a.get('module');
    const name = a.get('name')?.t === 'str' ? (a.get('name') as { v: string }).v : 'weight';
    if (m?.t !== 'module') return m ?? UNKNOWN;
    const w = m.node.params.get(name);
    if (!w?.shape) return m;
    const dimV = a.get('dim');
    const dim = dimV?.t === 'num' && typeof dimV.d === 'number' ? (dimV.d < 0 ? dimV.d + w.shape.length : dimV.d) : 0;
    const g: TensorVal = { ...w, shape: w.shape.map((d, i) => (i === dim ? d : 1)), layout: undefined };
    m.node.params.delete(name);
    if (parametrized) {
      const holder = m.node.children.get('parametrizations') ?? new ModNode('ModuleDict', w.site, m.node.framework, undefined, true);
      const p = new ModNode('ParametrizationList', w.site, m.node.framework, undefined, true);
      p.params.set('original0', g);
      p.params.set('original1', w);
      holder.children.set(name, p);
      m.node.children.set('parametrizations', holder);
    } else {
      m.node.params.set(`${name}_g`, g);
      m.node.params.set(`${name}_v`, w);
    }
    return m;
  }

  /** `f(a)` where `v.cond` holds and `f(b)` where not: each run inside its branch, so what it registers is conditional. */
  private eachAlt(v: Extract<Value, { t: 'alt' }>, f: (x: Value) => Value): Value {
    this.conds.push(v.cond);
    let a: Value;
    try { a = f(v.a); } finally { this.conds.pop(); }
    this.conds.push(negate([v.cond]));
    try { return alt(v.cond, a, f(v.b)); } finally { this.conds.pop(); }
  }

  /** The undecided conditions in force now beyond those under which `node` was made. */
  private relConds(node: ModNode): string[] {
    const at = this.condAt.get(node) ?? [];
    let i = 0;
    while (i < at.length && at[i] === this.conds[i]) i++;
    return this.conds.slice(i);
  }

  /**
   * An entry registered inside an undecidable branch is conditional on it (and on every enclosing one);
   * registered again under another condition, both alternatives are kept (alternatives.ts).
   */
  private registering(node: ModNode, name: string, site: Site, apply: () => void): void {
    const rel = this.relConds(node);
    const old = rel.length ? entryOf(node, name) : undefined;
    const oldCond = node.cond.get(name) ?? [];
    const oldGaps = rel.length ? node.gaps.filter((g) => g.name === name) : [];
    apply();
    if (!rel.length) { node.cond.delete(name); return; }
    this.condMarks++;
    for (const g of oldGaps) if (!node.gaps.includes(g)) node.gaps.push(g);
    node.cond.set(name, rel);
    if (old) mergeRegistration(node, name, old, oldCond, rel, (n, k, message) => n.gaps.push({ name: k, gap: { site, message } }));
  }

  private register(node: ModNode, name: string, v: Value): void {
    if (v.t === 'alt') { this.eachAlt(v, (x) => { this.register(node, name, x); return NONE; }); return; }
    this.registering(node, name, v.t === 'module' ? v.node.site : v.t === 'tensor' ? v.site : node.site, () => this.registerNow(node, name, v));
  }

  private registerNow(node: ModNode, name: string, v: Value): void {
    if (v.t === 'module' && !v.node.baseGap) node.children.set(name, v.node);
    else if (v.t === 'tensor') node.params.set(name, { ...v, param: true });
    else {
      const gap = gapOf(v);
      if (gap) node.gaps.push({ name, gap });
    }
  }

  private parameter(args: CallArgs, site: Site): Value {
    const data = args.pos[0] ?? args.kw.get('data');
    if (data?.t !== 'tensor') return { t: 'tensor', shape: undefined, dtype: 'F32', param: true, site };
    return { ...data, param: true, site };
  }

  private createParameter(a: Map<string, Value>, site: Site): Value {
    return { t: 'tensor', shape: asDims(a.get('shape')), dtype: asDtype(a.get('dtype')) ?? 'F32', param: true, site };
  }

  private builtin(name: string, args: CallArgs, env: Env, site: Site): Value {
    const a0 = args.pos[0];
    switch (name) {
      case 'range': {
        const ds = args.pos.map(asDim);
        if (ds.some((d) => d === undefined) || ds.length === 0) return UNKNOWN;
        const [start, end, step] = ds.length === 1 ? [0, ds[0]!, 1] : [ds[0]!, ds[1]!, ds[2] ?? 1];
        const count = step === 1 ? opDim('-', end, start) : opDim('//', opDim('+', opDim('-', end, start), opDim('-', step, 1)), step);
        const n = typeof count === 'number' ? count : this.provisionalCount(count);
        if (n > MAX_RANGE) this.note(`\`range\` of ${n.toLocaleString('en-US')} items at ${this.atFile}:${this.atLine + 1} is longer than inference follows (${MAX_RANGE.toLocaleString('en-US')}): what it builds is missing`);
        if (typeof start !== 'number' || typeof step !== 'number' || n > MAX_RANGE) return UNKNOWN;
        const items = Array.from({ length: Math.max(0, n) }, (_, i) => num(start + i * step));
        return typeof count === 'number' ? { t: 'list', items } : { t: 'list', items, count };
      }
      case 'len': {
        if (a0?.t === 'list' || a0?.t === 'dict') return lengthOf(a0);
        if (a0?.t === 'module' && a0.node.container) return num(a0.node.count ?? a0.node.children.size);
        if (a0?.t === 'str') return num(a0.v.length);
        return UNKNOWN;
      }
      case 'int': case 'round': {
        const d = asDim(a0);
        // int(h / n) of sizes is floor division: keeps the expression exact for unification.
        if (name === 'int' && d !== undefined && typeof d !== 'number' && 'op' in d && d.op === '/') return num(opDim('//', d.a, d.b));
        if (d === undefined) return a0?.t === 'str' && /^-?\d+$/.test(a0.v) ? num(Number(a0.v)) : UNKNOWN;
        return num(typeof d === 'number' ? (name === 'int' ? Math.trunc(d) : Math.round(d)) : d);
      }
      case 'float': {
        if (a0?.t === 'str') return num(/^-?inf(inity)?$/i.test(a0.v) ? (a0.v.startsWith('-') ? -Infinity : Infinity) : Number(a0.v));
        const d = asDim(a0);
        return d !== undefined ? num(d) : UNKNOWN;
      }
      case 'bool': { const t = truthy(a0); return t === undefined ? UNKNOWN : { t: 'bool', v: t }; }
      case 'set': case 'frozenset': return fromIterable('set', a0);
      case 'any': case 'all': {
        // Decided as soon as one item decides it (`any` a true one, `all` a false one); else every item must be known.
        const it = a0 ? itemsOf(a0) : undefined;
        if (!it || it.count !== undefined) return UNKNOWN;
        const ts = it.items.map(truthy);
        const hit = name === 'any';
        if (ts.includes(hit)) return { t: 'bool', v: hit };
        return ts.every((t) => t !== undefined) ? { t: 'bool', v: !hit } : UNKNOWN;
      }
      case 'str': return a0?.t === 'str' ? a0 : a0?.t === 'num' ? { t: 'str', v: renderDim(a0.d) } : UNKNOWN;
      case 'list': case 'tuple': return a0?.t === 'list' ? { ...a0, tuple: name === 'tuple' } : a0?.t === 'dict' ? { t: 'list', items: [...a0.entries.keys()].map((v) => ({ t: 'str', v })) } : a0 ? UNKNOWN : { t: 'list', items: [] };
      case 'dict': {
        const entries = new Map<string, Value>();
        if (a0?.t === 'list') for (const p of a0.items) if (p.t === 'list' && p.items[0]?.t === 'str') entries.set(p.items[0].v, p.items[1] ?? UNKNOWN);
        if (a0?.t === 'dict') for (const [k, v] of a0.entries) entries.set(k, v);
        for (const [k, v] of args.kw) entries.set(k, v);
        return { t: 'dict', entries };
      }
      case 'min': case 'max': {
        const xs = (args.pos.length === 1 && a0?.t === 'list' ? a0.items : args.pos).map(asDim);
        if (xs.length && xs.every((x) => typeof x === 'number')) return num((name === 'min' ? Math.min : Math.max)(...(xs as number[])));
        return UNKNOWN;
      }
      case 'sum': {
        if (a0?.t !== 'list') return UNKNOWN;
        const xs = a0.items.map(asDim);
        return xs.every((x) => x !== undefined) ? num((xs as Dim[]).reduce<Dim>((a, b) => opDim('+', a, b), 0)) : UNKNOWN;
      }
      case 'chr': { const d = asDim(a0); return typeof d === 'number' ? { t: 'str', v: String.fromCodePoint(d) } : UNKNOWN; }
      case 'ord': return a0?.t === 'str' && a0.v.length === 1 ? num(a0.v.codePointAt(0)!) : UNKNOWN;
      case 'abs': { const d = asDim(a0); return typeof d === 'number' ? num(Math.abs(d)) : UNKNOWN; }
      case 'enumerate': return enumerateOf(args);
      case 'zip': return zipOf(args);
      case 'sorted': {
        const it = a0 ? itemsOf(a0) : undefined;
        if (!it || args.kw.size || !it.items.every((v) => v.t === 'str') && !it.items.every((v) => v.t === 'num' && typeof v.d === 'number')) return UNKNOWN;
        const key = (v: Value) => (v.t === 'str' ? v.v : v.t === 'num' ? (v.d as number) : 0);
        return { t: 'list', items: [...it.items].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0)) };
      }
      case 'reversed': return a0?.t === 'list' ? { t: 'list', items: [...a0.items].reverse() } : UNKNOWN;
      case 'getattr': {
        const field = args.pos[1];
        if (!a0 || field?.t !== 'str') return UNKNOWN;
        if (a0.t === 'sym') return a0.over?.get(field.v) ?? this.configField(a0.fields, field.v, args.pos[2], a0.cfg, a0);
        return this.attr(a0, field.v) ?? args.pos[2] ?? UNKNOWN;
      }
      case 'super': {
        if (!env.self || !env.owner) return UNKNOWN;
        let after = env.owner;
        if (a0?.t === 'class') after = { def: a0.def, file: a0.file };
        return { t: 'super', self: env.self, after };
      }
      case 'setattr': {
        const [obj, field, v] = args.pos;
        if (obj?.t === 'module' && field?.t === 'str' && v) this.setOn(obj.node, field.v, v, site);
        else if (obj?.t === 'sym' && field?.t === 'str' && v) this.configAssign(obj, field.v, v);
        else if (obj?.t === 'module' && v && (v.t === 'module' || v.t === 'tensor' || v.t === 'unknown')) this.gap(site, '`setattr(…)` with a name inference cannot compute');
        return NONE;
      }
      case 'globals': {
        // `globals()[self.block_type]` (PaddleClas's ResNet): the file's classes and functions by name.
        const entries = new Map<string, Value>();
        for (const [k, v] of this.moduleEnv(env.file).vars) entries.set(k, v);
        for (const [k, def] of env.file.classes) entries.set(k, { t: 'class', def, file: env.file });
        for (const [k, fn] of env.file.functions) entries.set(k, { t: 'func', fn, file: env.file });
        return { t: 'dict', entries };
      }
      case 'eval': {
        // `eval('nn.LayerNorm')` (PaddleClas's norm_layer default): a dotted name is looked up, never executed.
        if (a0?.t !== 'str' || !/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(a0.v)) {
          return this.opaque(site, '`eval` of something other than a dotted name is not followed');
        }
        const [first, ...rest] = a0.v.split('.');
        let v: Value | undefined = this.lookup(first, env);
        for (const r of rest) v = v ? this.attr(v, r) : undefined;
        return v ?? UNKNOWN;
      }
      case 'isinstance': {
        // A number is never an Iterable/tuple/list and always an int/float: HF's `x if isinstance(x, Iterable) else (x, x)`.
        const cls = args.pos[1];
        const names = (cls?.t === 'list' ? cls.items : cls ? [cls] : []).map((c) => (c.t === 'ref' ? c.q.split('.').pop()! : ''));
        const kind = a0?.t === 'str' ? ['str'] : a0?.t === 'bool' ? ['bool', 'int'] : a0?.t === 'none' ? ['NoneType']
          : a0?.t === 'list' ? (a0.tuple ? ['tuple', 'Sequence', 'Iterable'] : ['list', 'Sequence', 'Iterable']) : a0?.t === 'dict' ? ['dict', 'Mapping', 'Iterable'] : undefined;
        if (kind && names.length && names.every((n) => n !== '')) return { t: 'bool', v: names.some((n) => kind.includes(n)) };
        // A root argument nothing binds and with no default may be a number or a list (`lstmLayerSizes`):
        // undecided, so both branches are listed as conditional, never one taken silently.
        if (a0?.t === 'sym' && !a0.over && !a0.cfg && a0.dflt === undefined && a0.fields === '' && names.some((n) => ['Iterable', 'tuple', 'list', 'Sequence'].includes(n))) return UNKNOWN;
        if (a0?.t === 'num' || (a0?.t === 'sym' && !a0.over)) {
          if (names.some((n) => ['int', 'float', 'Number', 'Integral', 'Real'].includes(n))) return { t: 'bool', v: true };
          if (names.length && names.every((n) => ['Iterable', 'tuple', 'list', 'Sequence', 'str', 'dict', 'Tensor'].includes(n))) return { t: 'bool', v: false };
        }
        if (a0?.t === 'list' && names.some((n) => ['Iterable', 'tuple', 'list', 'Sequence'].includes(n))) return { t: 'bool', v: true };
        if (a0?.t === 'sym' && a0.cfg) return this.configIsInstance(a0.cfg, cls?.t === 'list' ? cls.items : cls ? [cls] : []);
        // An instance of a class inference read: its MRO says (an outside base it names stays unknown).
        if (a0?.t === 'module' && a0.node.cls && cls && (cls.t === 'class' || (cls.t === 'list' && cls.items.every((c) => c.t === 'class')))) {
          const { user } = this.mro(a0.node.cls);
          const targets = cls.t === 'list' ? cls.items : [cls];
          return { t: 'bool', v: targets.some((c) => c.t === 'class' && user.some((u) => u.def === c.def)) };
        }
        // `functools.partial(Layer, …)` is a partial; a framework class (`nn.BatchNorm2d`) is a `type` (timm's get_norm_layer).
        if (a0?.t === 'partial' && names.includes('partial')) return { t: 'bool', v: true };
        const frameworkClass = a0?.t === 'ref' && /^(torch|paddle)\./.test(a0.q) && /^[A-Z]/.test(a0.q.split('.').pop()!);
        if (frameworkClass && names.length && names.every((n) => BUILTIN_TYPES.has(n) || ['type', 'partial', 'FunctionType', 'LambdaType', 'MethodType'].includes(n))) {
          return { t: 'bool', v: names.includes('type') };
        }
        if ((a0?.t === 'class' || a0?.t === 'func' || a0?.t === 'partial') && names.length && names.every((n) => ['partial', 'FunctionType', 'LambdaType', 'type'].includes(n) || BUILTIN_TYPES.has(n))) {
          return { t: 'bool', v: names.includes(a0.t === 'class' ? 'type' : a0.t === 'partial' ? 'partial' : 'FunctionType') || (a0.t === 'func' && names.includes('LambdaType')) };
        }
        // A class or function passed as a layer factory is no value of a builtin type: timm's `if isinstance(attn_layer, str)`.
        if ((a0?.t === 'class' || a0?.t === 'func' || a0?.t === 'partial') && names.length && names.every((n) => BUILTIN_TYPES.has(n))) return { t: 'bool', v: false };
        return UNKNOWN;
      }
      case 'issubclass': {
        // A class whose bases the file (or an installed package) defines: its MRO says; an outside base it does not name is unknown.
        const targets = args.pos[1]?.t === 'list' ? args.pos[1].items : args.pos[1] ? [args.pos[1]] : [];
        if (a0?.t !== 'class' || !targets.length || !targets.every((c) => c.t === 'class')) return UNKNOWN;
        const { user } = this.mro({ def: a0.def, file: a0.file });
        return { t: 'bool', v: targets.some((c) => c.t === 'class' && user.some((u) => u.def === c.def)) };
      }
      case 'hasattr': {
        const field = args.pos[1];
        if (!a0 || field?.t !== 'str') return UNKNOWN;
        // An outside module (torch 2.x's nn.utils.parametrizations…): the pinned frameworks have what model code probes for.
        if (a0.t === 'ref') return { t: 'bool', v: true };
        if (a0.t === 'module') return { t: 'bool', v: a0.node.getAttr(field.v) !== undefined || (a0.node.cls !== undefined && this.findMethod(a0.node.cls, field.v) !== undefined) };
        if (a0.t === 'sym' && a0.cfg) return { t: 'bool', v: a0.over?.has(field.v) === true || this.configFields(a0.cfg).has(field.v) || this.initFields(a0.fields, a0.cfg)?.has(field.v) === true };
        if (a0.t === 'file') return { t: 'bool', v: a0.file.classes.has(field.v) || a0.file.functions.has(field.v) || this.moduleEnv(a0.file).vars.has(field.v) };
        return UNKNOWN;
      }
      // `type(layer)(**layer._config)` (Paddle's TransformerEncoder clones its layer this way).
      case 'type': return args.pos.length === 1 && a0?.t === 'module' && a0.node.cls ? { t: 'class', def: a0.node.cls.def, file: a0.node.cls.file } : UNKNOWN;
      case 'locals': return { t: 'dict', entries: new Map(env.vars) };
      case 'print': case 'callable': case 'id':
      default:
        return UNKNOWN;
    }
  }

  private callMethod(recv: Value, name: string, args: CallArgs, site: Site): Value {
    if (name === '__noop__') return NONE;
    if (recv.t === 'tf') return this.tf.method(recv.o, name, args, site);
    if (recv.t === 'module' && name === 'addWeight' && this.tf.isCustom(recv.node)) return this.tf.addWeight(recv.node, args, site);
    if (name === '__keep_config__' && recv.t === 'module') {
      const cfg = args.pos[0] ?? args.kw.get('config');
      if (cfg && recv.node.attrs.get('config') === undefined) recv.node.attrs.set('config', cfg);
      return NONE;
    }
    if (name.startsWith('__container_init__ ') && recv.t === 'module') {
      // `super().__init__(*layers)` of a class deriving from nn.Sequential/ModuleList/ModuleDict.
      this.fillContainer(recv.node, name.slice('__container_init__ '.length), args, site);
      return NONE;
    }
    if (name.startsWith('__layer_init__ ') && recv.t === 'module') {
      const parts = name.slice('__layer_init__ '.length).split('.');
      const built = buildLayer(parts[0] === 'paddle' ? 'paddle' : 'torch', parts[parts.length - 1], args, site);
      if (built) {
        for (const [k, v] of built.node.params) if (!recv.node.params.has(k)) recv.node.params.set(k, v);
        for (const [k, v] of built.node.buffers) if (!recv.node.buffers.has(k)) recv.node.buffers.set(k, v);
        for (const [k, v] of built.node.children) if (!recv.node.children.has(k)) recv.node.children.set(k, v);
        for (const [k, v] of built.node.attrs) if (!recv.node.attrs.has(k)) recv.node.attrs.set(k, v);
      }
      return NONE;
    }
    if (recv.t === 'module') return this.moduleMethod(recv.node, name, args, site);
    if (recv.t === 'tensor') return tensorMethod(recv, name, args) ?? UNKNOWN;
    if (recv.t === 'list') {
      if (name === 'append' && args.pos[0]) {
        recv.items.push(args.pos[0]);
        if (this.loops.length) recv.count = this.loops[this.loops.length - 1];
        return NONE;
      }
      if (name === 'extend' && args.pos[0]?.t === 'list') {
        recv.items.push(...args.pos[0].items);
        if (args.pos[0].partial) recv.partial ??= args.pos[0].partial;
        return NONE;
      }
      if (name === 'extend' && args.pos[0]) { recv.partial ??= { site, message: `\`extend(…)\` with items inference cannot list` }; return NONE; }
      // A match object (regex.ts): `.group(i)`, `.groups()`.
      return listMethod(recv, name, args, site) ?? setOrDequeMethod(recv, name, args, site) ?? ((recv.tuple && matchMethod(recv.items, name, args)) || UNKNOWN);
    }
    if (recv.t === 'dict' && recv.record) {
      // A namedtuple's `_replace(field=…)`: a copy with those fields changed.
      if (name === '_replace') return this.replaced(recv, args.kw);
      if (name === '_asdict') return { t: 'dict', entries: new Map(recv.entries) };
    }
    if (recv.t === 'dict') return dictMethod(recv, name, args, this.loops[this.loops.length - 1], site) ?? UNKNOWN;
    if (recv.t === 'sym' && name === 'get_text_config') return this.textConfig(recv);
    if (recv.t === 'sym' && name === 'get' && args.pos[0]?.t === 'str') return recv.over?.get(args.pos[0].v) ?? this.configField(recv.fields, args.pos[0].v, args.pos[1], recv.cfg, recv);
    if (recv.t === 'str') return strMethod(recv.v, name, args);
    return UNKNOWN;
  }

  /** `collections.namedtuple("Name", "a b" | ["a", "b"], defaults=…)`: a class whose instances are records. */
  private namedtuple(args: CallArgs): Value {
    const [name, fs] = [args.pos[0] ?? args.kw.get('typename'), args.pos[1] ?? args.kw.get('field_names')];
    const fields = fs?.t === 'str' ? fs.v.replace(/,/g, ' ').trim().split(/\s+/) : fs?.t === 'list' && fs.items.every((x) => x.t === 'str') ? fs.items.map((x) => (x as { v: string }).v) : undefined;
    const dflts = args.kw.get('defaults');
    if (name?.t !== 'str' || !fields || (dflts && dflts.t !== 'list' && dflts.t !== 'none')) return UNKNOWN;
    return { t: 'record', name: name.v, fields, defaults: dflts?.t === 'list' ? dflts.items : [] };
  }

  /** `Record(a, b=…)`: fields bound like a call's arguments, the last ones defaulting. */
  private makeRecord(r: Extract<Value, { t: 'record' }>, args: CallArgs): Value {
    const bound = bindArgs(args, r.fields);
    const entries = new Map<string, Value>();
    const first = r.fields.length - r.defaults.length;
    for (const [i, f] of r.fields.entries()) entries.set(f, bound.get(f) ?? (i >= first ? r.defaults[i - first] : UNKNOWN));
    return { t: 'dict', entries, record: r.name };
  }

  /** `dataclasses.replace(obj, **changes)` / a namedtuple's `_replace`: a copy with those fields changed. */
  private replaced(v: Value, changes: Map<string, Value>): Value {
    if (v.t === 'dict') return { ...v, entries: new Map([...v.entries, ...changes]) };
    if (v.t === 'module' && v.node.plain) { const n = v.node.clone(); for (const [k, x] of changes) n.setAttr(k, x); return { t: 'module', node: n }; }
    return UNKNOWN;
  }

  private moduleMethod(node: ModNode, name: string, args: CallArgs, site: Site): Value {
    switch (name) {
      case 'register_buffer': {
        const a = bindArgs(args, ['name', 'tensor', 'persistent']);
        const n = a.get('name');
        if (n?.t !== 'str') return NONE;
        const t = a.get('tensor');
        const flag = a.get('persistent') ?? a.get('persistable');
        const persistent = flag ? truthy(flag) ?? true : true;
        this.registering(node, n.v, site, () => {
          node.params.delete(n.v); node.children.delete(n.v); node.attrs.delete(n.v);
          node.buffers.set(n.v, t?.t === 'tensor' ? { tensor: { ...t, param: false, site }, persistent } : null);
        });
        if (t && t.t !== 'tensor' && t.t !== 'none') this.gap(t.t === 'unknown' && t.gap ? t.gap.site : site, `buffer \`${n.v}\`: its tensor could not be followed`, n.v);
        return NONE;
      }
      case 'register_parameter': case 'add_parameter': {
        const [n, p] = args.pos;
        if (n?.t !== 'str') return NONE;
        node.setAttr(n.v, p?.t === 'tensor' ? { ...p, param: true } : NONE);
        if (p?.t === 'none' || !p) node.params.set(n.v, null);
        return p ?? NONE;
      }
      case 'add_module': case 'add_sublayer': case 'register_module': {
        // `add_module(name=…, module=…)` (torch), `add_sublayer(name=…, sublayer=…)` (Paddle).
        const bound = bindArgs(args, ['name', name === 'add_sublayer' ? 'sublayer' : 'module']);
        const n = bound.get('name');
        const m = bound.get(name === 'add_sublayer' ? 'sublayer' : 'module');
        if (n?.t === 'str' && m?.t === 'module') this.registering(node, n.v, site, () => node.children.set(n.v, m.node));
        else if (n?.t === 'str' && m?.t === 'alt') this.register(node, n.v, m);
        else if (m && m.t !== 'none') this.gap(m.t === 'unknown' && m.gap ? m.gap.site : site, `\`${name}(…)\`: ${n?.t === 'str' ? `the layer given as \`${n.v}\`` : 'the name of the layer'} could not be followed${m.t === 'unknown' && m.gap ? ` (${m.gap.message})` : ''}`, n?.t === 'str' ? n.v : undefined);
        return m ?? NONE;
      }
      case 'create_parameter':
        return this.createParameter(bindArgs(args, ['shape', 'attr', 'dtype', 'is_bias', 'default_initializer']), site);
      case 'append': {
        const item = args.pos[0];
        if (item?.t === 'alt') { const at = String(node.children.size); this.register(node, at, item); }
        if (item?.t === 'module') {
          const at = String(node.children.size);
          this.registering(node, at, site, () => node.push(at, item.node));
          if (this.loops.length) node.count = this.loops[this.loops.length - 1];
        }
        return NONE;
      }
      case 'extend': {
        const l = args.pos[0];
        if (l?.t === 'list') for (const v of l.items) if (v.t === 'module') node.push(String(node.children.size), v.node);
        if (l?.t === 'list' && l.count !== undefined) node.count = l.count;
        return NONE;
      }
      case 'apply': case 'init_weights': case 'post_init': case '_init_weights': case 'eval': case 'train': case 'to': case 'float': case 'half': case 'requires_grad_':
        return { t: 'module', node };
      case 'parameters': case 'named_parameters': case 'modules': case 'children': case 'named_modules': return UNKNOWN;
      default: return UNKNOWN;
    }
  }

  // ---- statements ----

  private execBlock(stmts: Stmt[], env: Env): void {
    for (const s of stmts) this.exec(s, env);
  }

  private exec(s: Stmt, env: Env): void {
    this.tick();
    this.atFile = env.file.path;
    this.atLine = s.pos.line;
    switch (s.k) {
      case 'assign': {
        const v = this.eval(s.value, env);
        for (const t of s.targets) this.assign(t, v, env);
        return;
      }
      case 'augassign': {
        const cur = this.eval(s.target, env);
        this.assign(s.target, this.binop(s.op, cur, this.eval(s.value, env)), env);
        return;
      }
      case 'expr': this.eval(s.e, env); return;
      case 'if': {
        const test = this.eval(s.test, env);
        // Validation (`if bad: raise …`) that cannot be decided is passed over silently.
        if (truthy(test) === undefined && s.body.some((x) => x.k === 'raise')) { this.execBlock(s.orelse, env); return; }
        if (truthy(test) === undefined && !isProbe(s.test)) {
          // Nothing decides it: both branches run, and what each registers is conditional on it — alternatives,
          // which the other side of a mapping decides, never keys listed as certain.
          const text = `\`${exprText(s.test)}\``;
          // In an installed package's file (torch's own checks) the condition is noted only if it made keys conditional.
          const installed = this.host.installedFile?.(env.file);
          const marks = this.condMarks;
          if (!installed) this.note(`condition ${text} (line ${s.test.pos.line + 1}) could not be decided: the keys of each branch are listed as conditional on it`);
          const body = this.branch(s.body, env, text);
          const orelse = s.orelse.length || body ? this.branch(s.orelse, env, negate([text])) : undefined;
          if (installed && this.condMarks > marks) this.note(`condition ${text} (${installed} line ${s.test.pos.line + 1}) could not be decided: the keys of each branch are listed as conditional on it`);
          if (body instanceof Return && orelse instanceof Return) throw new Return(alt(text, body.value, orelse.value));
          // One branch returned: the rest of the function runs only under the other, and its result is either.
          const early = body instanceof Return ? { cond: text, value: body.value } : orelse instanceof Return ? { cond: negate([text]), value: orelse.value } : undefined;
          if (early) { (env.pending ??= []).push(early); this.conds.push(negate([early.cond])); }
          this.undecidedExit(text, body, orelse);
          return;
        }
        const branch = this.decide(test, s.test) ? s.body : s.orelse;
        this.execBlock(branch, env);
        return;
      }
      case 'for': {
        const it = this.iterate(this.eval(s.iter, env));
        if (!it) {
          const why = `a \`for\` loop over \`${exprText(s.iter)}\`, which inference cannot list, was skipped`;
          this.markFilled(s.body, env, { site: { file: env.file.path, pos: s.pos }, message: why });
          if (registers(s.body, env.file.language === 'ts')) this.gap({ file: env.file.path, pos: s.pos }, why);
          else this.note(`${why} (line ${s.pos.line + 1})`);
          return;
        }
        if (it.count !== undefined) this.loops.push(it.count);
        const frame = new LoopFrame(this.conds);
        this.loopFrames.push(frame);
        try {
          for (const v of it.items) {
            this.assign(s.target, v, env);
            try {
              this.execBlock(s.body, env);
            } catch (e) {
              if (!(e instanceof LoopExit)) throw e;
              if (e.kind === 'break') { frame.broke = true; break; }
            } finally {
              frame.endIteration();
            }
          }
          if (!frame.broke && s.orelse) this.execBlock(s.orelse, env);
        } finally {
          frame.endLoop();
          this.loopFrames.pop();
          if (it.count !== undefined) this.loops.pop();
        }
        return;
      }
      case 'break': case 'continue': throw new LoopExit(s.k);
      case 'return': throw new Return(s.value ? this.eval(s.value, env) : NONE);
      case 'def': env.vars.set(s.fn.name, { t: 'func', fn: s.fn, file: env.file, closure: env.vars }); return;
      case 'other':
        if (s.loop && registers(s.body ?? []) && constructs(s.body ?? [])) this.gap({ file: env.file.path, pos: s.pos }, `a \`${s.loop}\` loop is not followed`);
        else if (s.loop) this.note(`a \`${s.loop}\` loop (line ${s.pos.line + 1}) is not followed`);
        return;
      default: return;
    }
  }

  /** The lists and dicts a skipped loop would have filled become partial: their length is no longer known. */
  private markFilled(body: Stmt[], env: Env, gap: Gap): void {
    for (const e of filledIn(body)) {
      let v: Value;
      try { v = this.eval(e, env); } catch { continue; }
      if (v.t === 'list' || v.t === 'dict') v.partial ??= gap;
    }
  }

  /** A branch of an undecided `if`, run under its condition: the `return`, `break` or `continue` it ended with, if any. */
  private branch(stmts: Stmt[], env: Env, cond: string): Return | LoopExit | undefined {
    this.conds.push(cond);
    try { this.execBlock(stmts, env); } catch (e) { if (e instanceof Return || e instanceof LoopExit) return e; throw e; } finally { this.conds.pop(); }
    return undefined;
  }

  /**
   * An undecided `if` whose branches left the loop body (loopControl.ts): both the same way, it is left
   * for certain; one by `break` and one by `continue`, no later iteration runs where the `break` did;
   * one only (the other went on, or returned), what follows runs where it did not.
   */
  private undecidedExit(cond: string, body: Return | LoopExit | undefined, orelse: Return | LoopExit | undefined): void {
    const a = body instanceof LoopExit ? body : undefined, b = orelse instanceof LoopExit ? orelse : undefined;
    if (!a && !b) return;
    const frame = this.loopFrames[this.loopFrames.length - 1];
    if (a && b) {
      if (a.kind !== b.kind) frame?.exitedUnder('break', a.kind === 'break' ? cond : negate([cond]));
      throw new LoopExit(a.kind === b.kind ? a.kind : 'continue');
    }
    // The other branch returned: nothing after this `if` runs in this iteration either way.
    if (body instanceof Return || orelse instanceof Return) throw a ?? b!;
    frame?.exitedUnder((a ?? b)!.kind, a ? cond : negate([cond]));
  }

  private iterate(v: Value): { items: Value[]; count?: Dim } | undefined {
    if (v.t === 'list' || v.t === 'dict') return itemsOf(v);
    if (v.t === 'module' && v.node.container) return { items: [...v.node.children.values()].map((n) => (n ? { t: 'module', node: n } : NONE)), count: v.node.count };
    return undefined;
  }

  /** `self.NAME = v` (or `setattr`): registered as torch/Paddle do, conditional where a branch is undecided. */
  private setOn(node: ModNode, name: string, v: Value, site: Site): void {
    if (v.t === 'alt') { this.eachAlt(v, (x) => { this.setOn(node, name, x, site); return NONE; }); return; }
    this.registering(node, name, site, () => node.setAttr(name, v));
  }

  private assign(target: Expr, v: Value, env: Env): void {
    switch (target.k) {
      case 'name': env.vars.set(target.id, v); return;
      case 'attr': {
        const obj = this.eval(target.obj, env);
        // `encoder_config.is_decoder = False` on a (copied) config object.
        if (obj.t === 'sym') { this.configAssign(obj, target.name, v); return; }
        if (obj.t !== 'module') return;
        this.setOn(obj.node, target.name, v, { file: env.file.path, pos: target.pos });
        return;
      }
      case 'list': {
        const seq = v.t === 'dict' && v.record ? [...v.entries.values()] : v.t === 'list' && !v.partial ? v.items : undefined;
        // `first, *rest = xs`: the starred target takes what the others leave, as a list.
        const star = target.items.findIndex((t) => t.k === 'splat');
        if (star >= 0) {
          const after = target.items.length - star - 1;
          const fits = seq && seq.length >= target.items.length - 1;
          target.items.forEach((t, i) => {
            const x = !fits ? UNKNOWN : i < star ? seq[i] : i > star ? seq[seq.length - (target.items.length - i)] : { t: 'list' as const, items: seq.slice(star, seq.length - after) };
            this.assign(t.k === 'splat' ? t.e : t, x, env);
          });
          return;
        }
        const items = seq && seq.length === target.items.length ? seq : undefined;
        target.items.forEach((t, i) => this.assign(t, items ? items[i] : UNKNOWN, env));
        return;
      }
      case 'index': {
        const obj = this.eval(target.obj, env);
        const idx = this.eval(target.index, env);
        if (obj.t === 'module' && idx.t === 'num' && typeof idx.d === 'number') this.register(obj.node, String(idx.d), v);
        else if (obj.t === 'module' && idx.t === 'str') this.register(obj.node, idx.v, v);
        else if (obj.t === 'list' && idx.t === 'num' && typeof idx.d === 'number') obj.items[idx.d] = v;
        else if (obj.t === 'dict' && dictKey(idx) !== undefined) {
          const key = dictKey(idx)!;
          obj.entries.set(key, v);
          if (isTupleKey(key)) (obj.keys ??= new Map()).set(key, idx);
          fill(obj, this.loops[this.loops.length - 1]);
        } else if ((obj.t === 'dict' || obj.t === 'list') && !(obj.t === 'list' && idx.t === 'num')) obj.partial ??= { site: { file: env.file.path, pos: target.pos }, message: `\`${exprText(target)}\`: an index inference cannot compute` };
        else if (obj.t === 'module') this.gap({ file: env.file.path, pos: target.pos }, `\`${exprText(target)}\`: an index inference cannot compute`);
        return;
      }
      default: return;
    }
  }

  /** Truth of a condition; a symbolic one takes the defaults in the first pass, else is assumed true with a note. */
  private decide(v: Value, test: Expr): boolean {
    const t = truthy(v);
    if (t !== undefined) return t;
    // `is_deepspeed_zero3_enabled()`, `is_flash_attention_requested(config)`: a library's probe for an optional
    // integration is off in a plain model built from its config.
    if (isProbe(test)) {
      this.note(`condition \`${exprText(test)}\` (line ${test.pos.line + 1}), a library's probe, taken as false`);
      return false;
    }
    this.note(`condition \`${exprText(test)}\` (line ${test.pos.line + 1}) could not be decided: assumed true`);
    return true;
  }

  private provisionalCount(d: Dim): number {
    if (typeof d === 'number') return d;
    const defaults = new Map<string, number>();
    for (const s of symbolsOf(d)) { const x = this.symbols.get(s)?.default; if (x !== undefined) defaults.set(s, x); }
    const v = substitute(d, defaults);
    if (this.opts.provisional && typeof v === 'number') return v;
    // Listed once; infer.ts reports the list's count as not bound, under the list's key prefix.
    return 1;
  }

  /** A symbolic number compared with `<`/`>`: in the first pass its default decides. */
  private concrete(d: Dim): number | undefined {
    if (typeof d === 'number') return d;
    if (!this.opts.provisional) return undefined;
    const defaults = new Map<string, number>();
    for (const s of symbolsOf(d)) { const x = this.symbols.get(s)?.default; if (x !== undefined) defaults.set(s, x); }
    const v = substitute(d, defaults);
    return typeof v === 'number' ? v : undefined;
  }

  // ---- expressions ----

  moduleEnv(file: SourceFile): Env {
    let vars = this.scopes.get(file.path);
    if (!vars) {
      vars = new Map();
      this.scopes.set(file.path, vars);
      const env: Env = { vars, file };
      for (const s of file.top) if (s.k === 'assign') { try { this.exec(s, env); } catch { /* a constant inference cannot compute stays unknown */ } }
      this.registries(file, env);
    }
    return { vars, file };
  }

  /** What a class member lookup needs of the interpreter (registries.ts). */
  private members(file: SourceFile): MemberHost {
    return {
      findMethod: (cls, name) => this.findMethod(cls, name),
      classAttr: (cls, name) => this.classAttr(cls, name),
      call: (fn, args, site) => this.call(fn, args, site, this.moduleEnv(file)),
    };
  }

  /**
   * Registries filled by decorators when the file is imported. Only their side effects count: what a
   * decorator does that inference cannot follow is no part of any model, so it leaves no gap or note.
   */
  private registries(file: SourceFile, env: Env): void {
    if (!file.decorated?.length) return;
    this.quietly(() => runRegistryDecorators(file, (e) => this.eval(e, env), (fn, args, site) => this.call(fn, args, site, env)));
  }

  /** A function's imported decorators, run before its first use (registries.ts `runOwnDecorators`). */
  private ownDecorators(fn: FunctionDef, file: SourceFile): void {
    if (!fn.decorators?.length || this.decorated.has(fn)) return;
    this.decorated.add(fn);
    const env = this.moduleEnv(file);
    this.quietly(() => runOwnDecorators(fn, file, (e) => this.eval(e, env), (f, args, site) => this.call(f, args, site, env)));
  }

  private lookup(id: string, env: Env): Value {
    for (let e: Env | undefined = env; e; e = e.parent) {
      const v = e.vars.get(id);
      if (v !== undefined) return v;
    }
    const file = env.file;
    const module = this.scopes.get(file.path) ?? this.moduleEnv(file).vars;
    const m = module.get(id);
    if (m !== undefined) return m;
    const cls = file.classes.get(id);
    if (cls) return { t: 'class', def: cls, file };
    const fn = file.functions.get(id);
    if (fn) return { t: 'func', fn, file };
    for (let i = file.imports.length - 1; i >= 0; i--) {
      if (file.imports[i].local === id) return this.imported(file, file.imports[i]);
    }
    if (id === 'self' || id === 'this') return env.self ?? UNKNOWN;
    if (id === '__name__') return { t: 'str', v: '__tensorport__' };
    if (id === 'undefined' || id === 'null') return NONE;
    return { t: 'ref', q: `builtins.${id}` };
  }

  /**
   * An imported name. One the module binds by assignment (PaddleNLP's `linear_utils.Linear = nn.Linear`), not as a
   * class, function or import, is that module's variable: its scope is evaluated as for the file's own names.
   */
  private imported(file: SourceFile, b: ImportBinding): Value {
    const v = this.host.resolveImport(file, b);
    if (v.t !== 'unknown' || v.gap || !b.name) return v;
    let hit = this.importedVars.get(b);
    if (!hit) {
      const m = this.host.resolveImport(file, { ...b, name: undefined });
      hit = m.t === 'file' && m.file.top.some((s) => s.k === 'assign' && s.targets.some((t) => t.k === 'name' && t.id === b.name)) ? this.attr(m, b.name) ?? v : v;
      this.importedVars.set(b, hit);
    }
    return hit;
  }

  private readonly importedVars = new WeakMap<ImportBinding, Value>();

  private attr(obj: Value, name: string): Value | undefined {
    switch (obj.t) {
      case 'module': {
        const v = obj.node.getAttr(name);
        if (v !== undefined) return v;
        if (obj.node.cls) {
          const m = classMember(this.members(obj.node.cls.file), obj.node.cls, name, obj, obj.node.site);
          if (m) return m;
        }
        return { t: 'method', recv: obj, name };
      }
      case 'super': {
        // Python's super() continues along the instance's class's MRO: in `class LlamaForSequenceClassification(
        // GenericForSequenceClassification, LlamaPreTrainedModel)` the generic head's super() is LlamaPreTrainedModel.
        const own = obj.self.t === 'module' ? obj.self.node.cls : undefined;
        const along = own && this.mro(own).user.some((c) => c.def === obj.after.def) ? own : obj.after;
        const m = this.findMethod(along, name, obj.after.def);
        if (m) return { t: 'func', fn: m.fn, file: m.owner.file, self: obj.self, cls: m.owner };
        // `super().__post_init__(**kwargs)` in a config class: the library base's (PreTrainedConfig's).
        const lib = obj.self.t === 'sym' && obj.self.cfg ? this.externalConfigMethod(obj.after, name) : undefined;
        if (lib) return { t: 'func', fn: lib.fn, file: lib.owner.file, self: obj.self, cls: lib.owner };
        if (obj.self.t === 'module') {
          if (name !== '__init__') return { t: 'method', recv: obj.self, name };
          // `class ScaledWordEmbedding(nn.Embedding)`: the framework layer's own parameters, built from super().__init__'s arguments.
          const layer = this.layerBase(obj.after);
          if (layer) return { t: 'method', recv: obj.self, name: `__layer_init__ ${layer}` };
          const kind = this.containerBase(obj.after);
          if (kind) return { t: 'method', recv: obj.self, name: `__container_init__ ${kind}` };
          // transformers' PreTrainedModel.__init__(config) keeps the config: `self.config.X` reads it.
          const pretrained = this.mro(along).external.some((q) => /Pre[Tt]rainedModel$/.test(q));
          return { t: 'method', recv: obj.self, name: pretrained ? '__keep_config__' : '__noop__' };
        }
        return UNKNOWN;
      }
      case 'ref': {
        // A framework class's name (timm's `norm_layer.__name__.lower()`).
        if (name === '__name__' && /^(torch|paddle)\..*\.[A-Z]\w*$/.test(obj.q)) return { t: 'str', v: obj.q.split('.').pop()! };
        const dt = (obj.q === 'torch' || obj.q === 'paddle') ? dtypeName(name) : undefined;
        return dt ? { t: 'dtype', dtype: dt } : { t: 'ref', q: `${obj.q}.${name}` };
      }
      case 'sym':
        // `config.get("mlp_bias", False)`: the dict-style read (callMethod), never a field named `get`.
        if ((name === 'get' || name === 'get_text_config') && !obj.over?.has(name)) return { t: 'method', recv: obj, name };
        return (obj.cfg && this.subConfig(obj.fields, obj.cfg, name)) || (obj.over?.get(name) ?? this.configField(obj.fields, name, undefined, obj.cfg, obj));
      case 'tensor': return tensorAttr(obj, name) ?? { t: 'method', recv: obj, name };
      case 'tf': return this.tf.attr(obj.o, name) ?? { t: 'method', recv: obj, name };
      case 'dict': return (obj.record && obj.entries.get(name)) || { t: 'method', recv: obj, name };
      case 'list': case 'str': return { t: 'method', recv: obj, name };
      case 'file': {
        const c = obj.file.classes.get(name);
        if (c) return { t: 'class', def: c, file: obj.file };
        const f = obj.file.functions.get(name);
        if (f) return { t: 'func', fn: f, file: obj.file };
        return this.moduleEnv(obj.file).vars.get(name) ?? UNKNOWN;
      }
      case 'class': {
        if (name === '_to_attr' && this.paddleParamAttr(obj)) return { t: 'ref', q: 'paddle.ParamAttr._to_attr' };
        const cls = { def: obj.def, file: obj.file };
        // A user `@classmethod` (`Cls.from_config(cfg)` calling `cls(…)`) binds the class; a plain or static method nothing.
        if (this.findMethod(cls, name)) return classMember(this.members(obj.file), cls, name, undefined, { file: obj.file.path, pos: obj.def.pos }) ?? UNKNOWN;
        // `CLIPTextModel._from_config(text_config)`: transformers' classmethods that build the class from a config.
        if (name === '_from_config' || name === 'from_config') return obj;
        return classMember(this.members(obj.file), cls, name, undefined, { file: obj.file.path, pos: obj.def.pos }) ?? UNKNOWN;
      }
      case 'partial':
        // `functools.partial`'s own attributes (timm's get_norm_layer unbinds `.func` and `.keywords`).
        if (name === 'func') return obj.fn;
        if (name === 'keywords') return { t: 'dict', entries: new Map(obj.args.kw) };
        if (name === 'args') return { t: 'list', items: [...obj.args.pos], tuple: true };
        return UNKNOWN;
      case 'func': {
        if (name === '__name__') return { t: 'str', v: obj.fn.name };
        const mod = name === '__module__' ? this.host.moduleName?.(obj.file) : undefined;
        return mod ? { t: 'str', v: mod } : UNKNOWN;
      }
      default: return UNKNOWN;
    }
  }

  eval(e: Expr, env: Env): Value {
    switch (e.k) {
      case 'num': return e.float ? { t: 'num', d: e.v, float: true } : num(e.v);
      case 'str': return { t: 'str', v: e.v };
      case 'bool': return { t: 'bool', v: e.v };
      case 'none': return NONE;
      case 'name': return this.lookup(e.id, env);
      case 'attr': {
        const obj = this.eval(e.obj, env);
        if (obj.t === 'alt') return alt(obj.cond, this.attr(obj.a, e.name) ?? UNKNOWN, this.attr(obj.b, e.name) ?? UNKNOWN);
        // A JavaScript object's property (`config.units`); one it lacks is `undefined`.
        if (obj.t === 'dict' && !obj.record && env.file.language === 'ts') return obj.entries.get(e.name) ?? (obj.partial ? UNKNOWN : NONE);
        return obj.t === 'unknown' && obj.gap ? obj : this.attr(obj, e.name) ?? UNKNOWN;
      }
      case 'call': {
        const fn = this.eval(e.fn, env);
        const site = { file: env.file.path, pos: e.pos };
        // What is called is not known: its result may be a layer (a gap where registered).
        // A method of an unknown object (`pretrained_cfg.to_dict()`) is data; an unknown callable by name
        // (`norm_layer(dim)`) may well be a layer class.
        if (fn.t === 'unknown') return fn.gap ? fn : e.fn.k === 'attr' ? UNKNOWN : this.opaque(site, `\`${exprText(e.fn)}(…)\` could not be followed`);
        return this.call(fn, this.args(e.args, env), site, env);
      }
      case 'bin': return this.binop(e.op, this.eval(e.l, env), this.eval(e.r, env));
      case 'unary': {
        const v = this.eval(e.e, env);
        if (e.op === 'not' || e.op === '!') { const t = truthy(v); return t === undefined ? UNKNOWN : { t: 'bool', v: !t }; }
        if (e.op === '-') { const d = asDim(v); return d === undefined ? (v.t === 'tensor' ? v : UNKNOWN) : num(typeof d === 'number' ? -d : opDim('-', 0, d)); }
        return e.op === '+' ? v : UNKNOWN;
      }
      case 'list': {
        const items: Value[] = [];
        for (const it of e.items) {
          if (it.k === 'splat') { const v = this.eval(it.e, env); if (v.t === 'list') items.push(...v.items); else return UNKNOWN; } else items.push(this.eval(it, env));
        }
        return { t: 'list', items, tuple: e.tuple };
      }
      case 'dict': {
        const entries = new Map<string, Value>();
        let partial: Gap | undefined;
        const unlisted = (what: string): Gap => ({ site: { file: env.file.path, pos: e.pos }, message: `a dict with ${what} inference cannot list` });
        for (const { key, value, splat } of e.entries) {
          if (splat) {
            // `{..., **kwargs}`: the mapping's entries, in order, later ones replacing.
            const m = this.eval(value, env);
            if (m.t === 'dict') { for (const [k, v] of m.entries) { entries.delete(k); entries.set(k, v); } partial ??= m.partial; } else if (m.t !== 'none') partial ??= unlisted('`**` entries');
            continue;
          }
          const k = this.eval(key, env);
          if (k.t === 'str') entries.set(k.v, this.eval(value, env));
          else if (k.t === 'num') entries.set(renderDim(k.d), this.eval(value, env));
          else partial ??= unlisted('a key');
        }
        return partial ? { t: 'dict', entries, partial } : { t: 'dict', entries };
      }
      case 'comp': return this.comprehension(e, env);
      case 'fstr': return joinFString(e.parts.map((p) => (typeof p === 'string' ? p : { v: this.eval(p.e, env), spec: p.spec })));
      case 'index': {
        const obj = this.eval(e.obj, env);
        // An element of something not followed is data (`dpr[i]` of `np.linspace(…)`), not a layer.
        if (obj.t === 'unknown') return UNKNOWN;
        const idx = this.eval(e.index, env);
        if (obj.t === 'ref' && /(^|\.)activations\.ACT2FN$/.test(obj.q)) return this.activation(obj.q, idx, { file: env.file.path, pos: e.pos });
        // `sys.modules[fn.__module__]` (a registry decorator finding its caller's module): an installed module's file.
        if (obj.t === 'ref' && obj.q === 'sys.modules' && idx.t === 'str') { const f = this.host.installedModule?.(idx.v); return f ? { t: 'file', file: f } : UNKNOWN; }
        if (obj.t === 'alt') return alt(obj.cond, this.indexValue(obj.a, e, env), this.indexValue(obj.b, e, env));
        if (obj.t === 'tensor') return tensorIndex(obj, (e.index.k === 'list' && e.index.tuple ? e.index.items : [e.index]).map((x) => this.indexItem(x, env)));
        const i = idx.t === 'num' && typeof idx.d === 'number' ? idx.d : undefined;
        if (obj.t === 'list' && i !== undefined) return obj.items[i < 0 ? i + obj.items.length : i] ?? UNKNOWN;
        if (obj.t === 'list' && e.index.k === 'slice') {
          const at = (x: Expr | undefined) => { const v = x ? this.eval(x, env) : undefined; return v?.t === 'num' && typeof v.d === 'number' ? v.d : undefined; };
          const [a, b, step] = [at(e.index.start), at(e.index.stop), at(e.index.step) ?? 1];
          if ((e.index.start && a === undefined) || (e.index.stop && b === undefined) || step <= 0) return UNKNOWN;
          return { t: 'list', items: obj.items.slice(a, b).filter((_, k) => k % step === 0), tuple: obj.tuple };
        }
        if (obj.t === 'module' && obj.node.container) {
          const c = i !== undefined ? obj.node.children.get(String(i < 0 ? i + obj.node.children.size : i)) : idx.t === 'str' ? obj.node.children.get(idx.v) : undefined;
          return c ? { t: 'module', node: c } : UNKNOWN;
        }
        if (obj.t === 'str' && (i !== undefined || e.index.k === 'slice')) {
          // `op[0]`, `op[1:]` of a known string (a block spec's letters and digits).
          const chars = { t: 'list' as const, items: [...obj.v].map((c): Value => ({ t: 'str', v: c })) };
          const vars = new Map<string, Value>([['\u0000s', chars]]);
          const got = this.eval({ ...e, obj: { k: 'name', id: '\u0000s', pos: e.pos } }, { vars, file: env.file, parent: env });
          return got.t === 'list' ? { t: 'str', v: got.items.map((c) => (c as { v: string }).v).join('') } : got;
        }
        if (obj.t === 'dict' && obj.record && i !== undefined) return [...obj.entries.values()][i < 0 ? i + obj.entries.size : i] ?? UNKNOWN;
        if (obj.t === 'dict' && obj.missing && keyOf(idx) !== undefined && !obj.entries.has(keyOf(idx)!)) {
          return missingKey(obj, keyOf(idx)!, (f) => this.call(f, { pos: [], kw: new Map() }, { file: env.file.path, pos: e.pos }, env)) ?? UNKNOWN;
        }
        if (obj.t === 'dict' && idx.t === 'str') return obj.entries.get(idx.v) ?? (obj.partial ? { t: 'unknown', gap: obj.partial } : UNKNOWN);
        if (obj.t === 'dict' && (idx.t === 'num' || idx.t === 'list') && dictKey(idx) !== undefined) return obj.entries.get(dictKey(idx)!) ?? UNKNOWN;
        if (obj.t === 'sym' && idx.t === 'str') return this.configField(obj.fields, idx.v, undefined, obj.cfg);
        if (obj.t === 'dict' && idx.t !== 'str' && obj.entries.size) {
          // A registry of classes picked by a setting nothing decides (`X_ATTENTION_CLASSES[config._attn_implementation]`):
          // its first entry is the library's default implementation.
          const [k, v] = obj.entries.entries().next().value as [string, Value];
          if (v.t === 'class' || v.t === 'func') { this.note(`\`${exprText(e)}\` (line ${e.pos.line + 1}) could not be decided: its first entry, \`${k}\`, was taken`); return v; }
        }
        return UNKNOWN;
      }
      case 'cond': {
        const test = this.eval(e.test, env);
        if (truthy(test) !== undefined || isProbe(e.test)) return this.decide(test, e.test) ? this.eval(e.then, env) : this.eval(e.else, env);
        // Nothing decides it: both values, each where its condition holds (a layer class, a size: alternatives, or a gap).
        const text = `\`${exprText(e.test)}\``;
        this.conds.push(text);
        let yes: Value;
        try { yes = this.eval(e.then, env); } finally { this.conds.pop(); }
        this.conds.push(negate([text]));
        let v: Value;
        try { v = alt(text, yes, this.eval(e.else, env)); } finally { this.conds.pop(); }
        // In an installed package's file the keys it makes conditional say so themselves (`conditional`).
        if (v.t === 'alt' && !this.host.installedFile?.(env.file)) this.note(`condition ${text} (line ${e.test.pos.line + 1}) could not be decided: what each value gives is listed as conditional on it`);
        return v;
      }
      case 'compare': return this.compare(e, env);
      case 'boolop': {
        const l = this.eval(e.l, env);
        // `hidden_features or in_features`: a size still written as a symbol is a positive size, so it is
        // what `or` picks (a condition that decides which keys exist stays undecided: see `if`).
        const t = l.t === 'num' && typeof l.d !== 'number' ? true : truthy(l);
        if (t === undefined) return UNKNOWN;
        return (e.op === 'and') === t ? this.eval(e.r, env) : l;
      }
      case 'lambda': return { t: 'lambda', params: e.params.map((p) => p.name), body: e.body, file: env.file, closure: new Map(flatVars(env)) };
      case 'splat': return this.eval(e.e, env);
      default: return UNKNOWN;
    }
  }

  /** `v[…]` with the index of `e`, for each alternative of a value picked by a condition. */
  private indexValue(v: Value, e: Extract<Expr, { k: 'index' }>, env: Env): Value {
    const vars = new Map<string, Value>([['\u0000v', v]]);
    return this.eval({ ...e, obj: { k: 'name', id: '\u0000v', pos: e.pos } }, { vars, file: env.file, owner: env.owner, self: env.self, parent: env });
  }

  /** One position of a tensor index, its slice bounds evaluated. */
  private indexItem(x: Expr, env: Env): IndexItem {
    if (x.k === 'unknown' && x.text === '...') return { k: 'ellipsis' };
    if (x.k === 'none') return { k: 'none' };
    if (x.k === 'slice') {
      const bound = (b: Expr | undefined) => (b ? asDim(this.eval(b, env)) ?? null : undefined);
      const [start, stop, step] = [bound(x.start), bound(x.stop), bound(x.step)];
      if (start === null || stop === null || step === null) return { k: 'unknown' };
      return { k: 'slice', start, stop, step };
    }
    const v = this.eval(x, env);
    if (v.t === 'tensor') return { k: 'tensor', t: v };
    if (v.t === 'none') return { k: 'none' };
    return v.t === 'num' || v.t === 'sym' || v.t === 'bool' ? { k: 'int' } : { k: 'unknown' };
  }

  private args(args: Arg[], env: Env): CallArgs {
    const out: CallArgs = { pos: [], kw: new Map() };
    for (const a of args) {
      const v = this.eval(a.value, env);
      if (a.splat === '*') {
        const it = v.t === 'module' || v.t === 'dict' ? this.iterate(v) : undefined;
        if (v.t === 'list') out.pos.push(...v.items);
        else if (it) out.pos.push(...it.items);
        // Arguments inference cannot list (may be layers: `nn.Sequential(*blocks)`): one value standing for them, a gap where registered.
        else if (v.t !== 'none') out.pos.push(this.opaque({ file: env.file.path, pos: a.value.pos }, `\`*${exprText(a.value)}\`: arguments inference cannot list`));
      }
      else if (a.splat === '**') { if (v.t === 'dict') for (const [k, x] of v.entries) out.kw.set(k, x); }
      else if (a.name) out.kw.set(a.name, v);
      else out.pos.push(v);
    }
    return out;
  }

  private comprehension(e: Extract<Expr, { k: 'comp' }>, env: Env): Value {
    const local: Env = { vars: new Map(), file: env.file, owner: env.owner, self: env.self, parent: env };
    const items: Value[] = [];
    const entries = new Map<string, Value>();
    let count: Dim | undefined;
    const loop = (level: number): boolean => {
      if (level === e.fors.length) {
        this.tick();
        if (!e.ifs.every((c) => truthy(this.eval(c, local)) !== false)) return true;
        if (!e.key) { items.push(this.eval(e.elt, local)); return true; }
        // `{name: Block(…) for name in names}`: a key that is not a string or number is not listed.
        const k = this.eval(e.key, local);
        if (k.t !== 'str' && !(k.t === 'num' && typeof k.d === 'number')) return false;
        entries.set(k.t === 'str' ? k.v : renderDim(k.d), this.eval(e.elt, local));
        return true;
      }
      const it = this.iterate(this.eval(e.fors[level].iter, local));
      if (!it) return false;
      if (level === 0 && e.fors.length === 1 && e.ifs.length === 0) count = it.count;
      if (it.count !== undefined) this.loops.push(it.count);
      try {
        for (const v of it.items) { this.assign(e.fors[level].target, v, local); if (!loop(level + 1)) return false; }
      } finally {
        if (it.count !== undefined) this.loops.pop();
      }
      return true;
    };
    if (!loop(0)) {
      // Not listed: whether that loses layers depends on what it builds — one element with unknown inputs says.
      for (const f of e.fors) this.assign(f.target, UNKNOWN, local);
      const elt = this.eval(e.elt, local);
      const layers = (elt.t === 'module' && !elt.node.plain) || elt.t === 'tensor' || (elt.t === 'unknown' && elt.gap);
      const why = 'a comprehension over something inference cannot list was not followed';
      if (e.key) return { t: 'dict', entries: new Map(), partial: { site: { file: env.file.path, pos: e.pos }, message: why } };
      return layers ? this.opaque({ file: env.file.path, pos: e.pos }, why) : UNKNOWN;
    }
    if (e.key) return count !== undefined ? { t: 'dict', entries, count } : { t: 'dict', entries };
    return count !== undefined ? { t: 'list', items, count } : { t: 'list', items };
  }

  private compare(e: Extract<Expr, { k: 'compare' }>, env: Env): Value {
    const vals = e.items.map((x) => this.eval(x, env));
    // `coords < 0` on a tensor: a bool tensor of the broadcast shape.
    if (vals.length === 2 && vals.some((v) => v.t === 'tensor')) return this.binop(e.ops[0] === '===' ? '==' : e.ops[0], vals[0], vals[1]);
    let result = true;
    for (let i = 0; i < e.ops.length; i++) {
      const r = this.compareOne(e.ops[i], vals[i], vals[i + 1]);
      if (r === undefined) return UNKNOWN;
      result = result && r;
    }
    return { t: 'bool', v: result };
  }

  private compareOne(op: string, a: Value, b: Value): boolean | undefined {
    if (op === 'is' || op === 'is not' || ((op === '==' || op === '!=' || op === '===' || op === '!==') && (a.t === 'none' || b.t === 'none'))) {
      // A config object is an instance, never None (a bare root symbol may be either).
      const isObj = (x: Value) => x.t === 'sym' && x.cfg !== undefined;
      if ((isObj(a) && b.t === 'none') || (isObj(b) && a.t === 'none')) return op.includes('not') || op.startsWith('!');
      if (a.t === 'unknown' || b.t === 'unknown' || a.t === 'sym' || b.t === 'sym') return undefined;
      const same = (a.t === 'none') === (b.t === 'none') && (a.t !== 'bool' || b.t !== 'bool' || a.v === b.v);
      return op.includes('not') || op.startsWith('!') ? !same : same;
    }
    if (op === 'in' || op === 'not in') {
      // A class among classes (timm's `norm_layer in _NORM_ACT_TYPES`): the same definition, or the same framework name.
      const ident = (x: Value) => (x.t === 'class' ? x.def : x.t === 'ref' && /^(torch|paddle)\./.test(x.q) ? x.q : undefined);
      const classIn = () => (b.t === 'list' && !b.partial && ident(a) !== undefined && b.items.every((x) => ident(x) !== undefined) ? b.items.some((x) => ident(x) === ident(a)) : undefined);
      const has = contains(a, b, (x, y) => this.compareOne('==', x, y)) ?? classIn();
      return has === undefined ? undefined : op === 'in' ? has : !has;
    }
    if (a.t === 'str' && b.t === 'str') {
      if (op === '==' || op === '===') return a.v === b.v;
      if (op === '!=' || op === '!==') return a.v !== b.v;
      return undefined;
    }
    const x = asDim(a);
    const y = asDim(b);
    if (x === undefined || y === undefined) return undefined;
    const cx = this.concrete(x);
    const cy = this.concrete(y);
    if (cx === undefined || cy === undefined) return undefined;
    switch (op) {
      case '<': return cx < cy;
      case '<=': return cx <= cy;
      case '>': return cx > cy;
      case '>=': return cx >= cy;
      case '==': case '===': return cx === cy;
      case '!=': case '!==': return cx !== cy;
      default: return undefined;
    }
  }

  private binop(op: string, a: Value, b: Value): Value {
    if (a.t === 'alt') return alt(a.cond, this.binop(op, a.a, b), this.binop(op, a.b, b));
    if (b.t === 'alt') return alt(b.cond, this.binop(op, a, b.a), this.binop(op, a, b.b));
    if (a.t === 'list' && b.t === 'list' && op === '+') return { t: 'list', items: [...a.items, ...b.items], tuple: a.tuple };
    if (a.t === 'list' && op === '*') { const n = asDim(b); return typeof n === 'number' && n * a.items.length <= MAX_RANGE ? { t: 'list', items: Array.from({ length: n }, () => a.items).flat(), tuple: a.tuple } : UNKNOWN; }
    if (a.t === 'str' && b.t === 'str' && op === '+') return a.v.length + b.v.length <= MAX_STR ? { t: 'str', v: a.v + b.v } : UNKNOWN;
    if (a.t === 'str' && op === '%') return percentFormat(a.v, b);
    // A tensor and a number or another tensor: broadcast, with torch's dtype promotion.
    if (a.t === 'tensor' || b.t === 'tensor') return (a.t === 'tensor' || asDim(a) !== undefined) && (b.t === 'tensor' || asDim(b) !== undefined) ? tensorBinop(op, a, b) : { ...(a.t === 'tensor' ? a : b as TensorVal), shape: undefined, param: false };
    const o = BIN_OPS[op];
    const x = asDim(a);
    const y = asDim(b);
    if (!o || x === undefined || y === undefined) return UNKNOWN;
    if (o === '/' && typeof x === 'number' && typeof y === 'number' && y === 0) return UNKNOWN;
    const float = (a.t === 'num' && a.float) || (b.t === 'num' && b.float) || o === '/';
    const d = opDim(o, x, y);
    // `10**30` is not a double's integer: unknown, never a size that is not the code's (or Infinity).
    if (!float && typeof d === 'number' && !Number.isSafeInteger(d)) return UNKNOWN;
    return float ? { t: 'num', d, float: true } : num(d);
  }
}

function fromBinding(b: Binding): Value {
  // A fractional value is a Python float (`depth_coefficient: 1.1`): arithmetic with it stays a float until `int()`/`math.ceil`.
  if (typeof b === 'number') return Number.isInteger(b) ? num(b) : { t: 'num', d: b, float: true };
  if (typeof b === 'boolean') return { t: 'bool', v: b };
  if (typeof b === 'string') return { t: 'str', v: b };
  return { t: 'list', items: b.map((x: number | string): Value => (typeof x === 'number' ? num(x) : { t: 'str', v: x })) };
}

function flatVars(env: Env): [string, Value][] {
  const out = new Map<string, Value>();
  const chain: Env[] = [];
  for (let e: Env | undefined = env; e; e = e.parent) chain.unshift(e);
  for (const e of chain) for (const [k, v] of e.vars) out.set(k, v);
  return [...out];
}

/** Whether statements may register something on a module: an attribute or index assigned, a layer added. */
function registers(stmts: Stmt[], tfjs = false): boolean {
  // TF.js builds by `model.add(layer)` and `layer.apply(x)`.
  const adds = tfjs ? /^(push|add|apply|addWeight)$/ : /^(append|extend|insert|add_module|add_sublayer|register_module|register_buffer|register_parameter|add_parameter|create_parameter|update)$/;
  const inExpr = (e: Expr): boolean => e.k === 'call' && ((e.fn.k === 'attr' && adds.test(e.fn.name)) || (e.fn.k === 'name' && e.fn.id === 'setattr'));
  return stmts.some((s) => {
    switch (s.k) {
      case 'assign': return s.targets.some((t) => t.k === 'attr' || t.k === 'index') || inExpr(s.value);
      case 'augassign': return s.target.k === 'attr' || s.target.k === 'index';
      case 'expr': return inExpr(s.e);
      case 'if': return registers(s.body, tfjs) || registers(s.orelse, tfjs);
      case 'for': return registers(s.body, tfjs) || registers(s.orelse ?? [], tfjs);
      default: return false;
    }
  });
}

/** Whether statements build something that may be a layer: a call of a capitalised name (`Block(…)`, `nn.Linear(…)`). */
function constructs(stmts: Stmt[]): boolean {
  const inExpr = (e: Expr | undefined): boolean => {
    if (!e) return false;
    switch (e.k) {
      case 'call': {
        const name = e.fn.k === 'name' ? e.fn.id : e.fn.k === 'attr' ? e.fn.name : '';
        return /^[A-Z]/.test(name) || inExpr(e.fn) || e.args.some((a) => inExpr(a.value));
      }
      case 'attr': return inExpr(e.obj);
      case 'bin': return inExpr(e.l) || inExpr(e.r);
      case 'list': return e.items.some(inExpr);
      case 'dict': return e.entries.some((x) => inExpr(x.key) || inExpr(x.value));
      case 'index': return inExpr(e.obj) || inExpr(e.index);
      case 'cond': return inExpr(e.then) || inExpr(e.else);
      case 'comp': return inExpr(e.elt);
      case 'splat': return inExpr(e.e);
      default: return false;
    }
  };
  return stmts.some((s) => {
    switch (s.k) {
      case 'assign': return inExpr(s.value);
      case 'augassign': return inExpr(s.value);
      case 'expr': return inExpr(s.e);
      case 'return': return inExpr(s.value);
      case 'if': return constructs(s.body) || constructs(s.orelse);
      case 'for': return constructs(s.body) || constructs(s.orelse ?? []);
      case 'other': return constructs(s.body ?? []);
      default: return false;
    }
  });
}
