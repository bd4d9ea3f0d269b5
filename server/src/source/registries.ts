/**
 * How model code picks its layer classes: members read through a class (`@classmethod` constructors
 * that call `cls(…)`, `@staticmethod` helpers, class-level tables like `cls.BLOCKS[name]` or
 * `block.expansion`, `@property` values) and registries that decorators fill when a file is imported
 * (`@register("resnet")` putting the class into `MODELS`, later built by `MODELS[arch](**cfg)`).
 * Nothing here is executed: decorators run in the interpreter, over the file's own code.
 */
import { ClassDef, Expr, FunctionDef, SourceFile } from './ir';
import { CallArgs, Site, Value } from './values';

type ClassRef = { def: ClassDef; file: SourceFile };

export interface MemberHost {
  findMethod(cls: ClassRef, name: string): { fn: FunctionDef; owner: ClassRef } | undefined;
  classAttr(cls: ClassRef, name: string): Value | undefined;
  call(fn: Value, args: CallArgs, site: Site): Value;
}

/** The names of a definition's decorators (`classmethod`, `torch.no_grad` → `no_grad`, `register("x")` → `register`). */
function decoratorNames(fn: FunctionDef): string[] {
  const name = (e: Expr): string => (e.k === 'name' ? e.id : e.k === 'attr' ? e.name : e.k === 'call' ? name(e.fn) : '');
  return (fn.decorators ?? []).map(name);
}

/**
 * `obj.NAME` where NAME is not an instance attribute: a method of the class (bound to the instance,
 * to the class for a `@classmethod`, to nothing for a `@staticmethod`), a `@property`'s value, or a
 * class-level attribute of the class or its bases. `self` is the instance (undefined when read through the class).
 */
export function classMember(host: MemberHost, cls: ClassRef, name: string, self: Value | undefined, site: Site): Value | undefined {
  if (name === '__name__' && !self) return { t: 'str', v: cls.def.name };
  const m = host.findMethod(cls, name);
  if (m) {
    const kinds = decoratorNames(m.fn);
    const func = (bound?: Value): Value => ({ t: 'func', fn: m.fn, file: m.owner.file, cls: m.owner, ...(bound ? { self: bound } : {}) });
    if (kinds.includes('staticmethod')) return func();
    if (kinds.includes('classmethod')) return func({ t: 'class', def: cls.def, file: cls.file });
    if (kinds.includes('property') || kinds.includes('cached_property')) return self ? host.call(func(self), { pos: [], kw: new Map() }, site) : undefined;
    return func(self);
  }
  return host.classAttr(cls, name);
}

/**
 * Runs, once per file, the decorators that may fill a registry: a call (`@register("resnet")`,
 * `@MODELS.register_module()`), a method of an object (`@BACKBONES.register`), or a function of the
 * same file (`def register_model(cls): MODELS[cls.__name__] = cls; return cls`). A decorator imported
 * by bare name from elsewhere (timm's `register_model`) is a library's bookkeeping, not run.
 */
export function runRegistryDecorators(file: SourceFile, evalIn: (e: Expr) => Value, call: (fn: Value, args: CallArgs, site: Site) => Value): void {
  for (const name of file.decorated ?? []) {
    const cls = file.classes.get(name);
    const fn = cls ? undefined : file.functions.get(name);
    const def = cls ?? fn;
    if (!def?.decorators?.length) continue;
    const value: Value = cls ? { t: 'class', def: cls, file } : { t: 'func', fn: fn!, file };
    // Innermost first, as Python applies them.
    for (const d of [...def.decorators].reverse()) {
      if (d.k === 'name' && !file.functions.has(d.id)) continue;
      if (d.k !== 'name' && d.k !== 'call' && d.k !== 'attr') continue;
      try {
        const deco = evalIn(d);
        if (deco.t === 'func' || deco.t === 'lambda' || deco.t === 'partial') call(deco, { pos: [value], kw: new Map() }, { file: file.path, pos: d.pos });
      } catch { /* a decorator inference cannot follow fills nothing it knows of */ }
    }
  }
}

/**
 * The decorators of a function that is about to be used, imported by bare name (timm's
 * `@register_model`), run once: the registry entry each makes is keyed by that function (its name,
 * its module's `default_cfgs`), and the function itself reads it back (`get_pretrained_cfg(variant)`).
 * The file's other decorated functions are not run — the registry holds the entries of the
 * functions a model uses, which is what its own lookups ask for.
 */
export function runOwnDecorators(fn: FunctionDef, file: SourceFile, evalIn: (e: Expr) => Value, call: (fn: Value, args: CallArgs, site: Site) => Value): void {
  const value: Value = { t: 'func', fn, file };
  for (const d of [...(fn.decorators ?? [])].reverse()) {
    if (d.k !== 'name' || file.functions.has(d.id)) continue; // the file's own ran with its scope
    try {
      const deco = evalIn(d);
      if (deco.t === 'func') call(deco, { pos: [value], kw: new Map() }, { file: file.path, pos: d.pos });
    } catch { /* a decorator inference cannot follow fills nothing it knows of */ }
  }
}
