/**
 * A small common syntax tree for model source: Python (tree-sitter) and TypeScript (the compiler API)
 * both lower into it, so one interpreter infers the `state_dict()` of either. It keeps only what
 * shape inference reads — assignments, calls, arithmetic, loops, conditionals, imports — each node
 * with its 0-based source range, and turns everything else into `unknown`.
 */

/** 0-based, as tree-sitter and the TypeScript API count; end exclusive. */
export interface Pos { line: number; column: number; endLine: number; endColumn: number }

export type Expr = (
  /** `float` marks a Python float literal (`1.0`), which makes a tensor F32 where an int would make it I64. */
  | { k: 'num'; v: number; float?: boolean }
  | { k: 'str'; v: string }
  | { k: 'bool'; v: boolean }
  | { k: 'none' }
  | { k: 'name'; id: string }
  | { k: 'attr'; obj: Expr; name: string }
  | { k: 'call'; fn: Expr; args: Arg[] }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'unary'; op: string; e: Expr }
  | { k: 'list'; items: Expr[]; tuple: boolean }
  /** `splat`: a `**mapping` entry (its key is unused). */
  | { k: 'dict'; entries: { key: Expr; value: Expr; splat?: boolean }[] }
  /** A list/generator comprehension; with `key`, a dict comprehension (`{k: v for …}`). */
  | { k: 'comp'; elt: Expr; key?: Expr; fors: { target: Expr; iter: Expr }[]; ifs: Expr[] }
  /** An f-string: literal text and `{expr:spec}` fields in order (`!r`/`!s` conversions dropped). */
  | { k: 'fstr'; parts: (string | { e: Expr; spec?: string })[] }
  | { k: 'index'; obj: Expr; index: Expr }
  /** `a[1:]`, `a[::2]`: only ever an index. */
  | { k: 'slice'; start?: Expr; stop?: Expr; step?: Expr }
  | { k: 'cond'; test: Expr; then: Expr; else: Expr }
  | { k: 'compare'; ops: string[]; items: Expr[] }
  | { k: 'boolop'; op: 'and' | 'or'; l: Expr; r: Expr }
  | { k: 'lambda'; params: Param[]; body: Expr }
  | { k: 'splat'; e: Expr }
  | { k: 'unknown'; text: string }
) & { pos: Pos };

/** A call argument: positional, `name=value`, `*xs` or `**kw`. */
export interface Arg { name?: string; value: Expr; splat?: '*' | '**' }

export type Stmt = (
  | { k: 'assign'; targets: Expr[]; value: Expr }
  | { k: 'augassign'; target: Expr; op: string; value: Expr }
  | { k: 'expr'; e: Expr }
  | { k: 'if'; test: Expr; body: Stmt[]; orelse: Stmt[] }
  /** `orelse`: Python's `for … else:`, run when the loop ends without `break`. */
  | { k: 'for'; target: Expr; iter: Expr; body: Stmt[]; orelse?: Stmt[] }
  | { k: 'break' }
  | { k: 'continue' }
  | { k: 'return'; value?: Expr }
  | { k: 'def'; fn: FunctionDef }
  | { k: 'raise' }
  /** Not followed; `loop` names a loop (`while`) and `body` its statements: a gap when they may register modules. */
  | { k: 'other'; loop?: string; body?: Stmt[] }
) & { pos: Pos };

export interface Param {
  name: string;
  default?: Expr;
  kind: 'plain' | 'star' | 'dstar';
  /** TypeScript's destructured options object (`{hiddenSize = 768} = {}`): each field is a parameter. */
  fields?: Param[];
  /** Python's annotation (`config: BertConfig`): names the config class a root model is built from. */
  annotation?: Expr;
}

export interface FunctionDef {
  name: string; params: Param[]; body: Stmt[]; pos: Pos;
  /** Decorators as written (`classmethod`, `staticmethod`, `register_model`, `REGISTRY.register("x")`). */
  decorators?: Expr[];
  /** Python's `@property`: reading the attribute runs it. */
  property?: boolean;
}

export interface ClassDef {
  name: string;
  bases: Expr[];
  methods: Map<string, FunctionDef>;
  pos: Pos;
  /**
   * Class-level assignments in order (`hidden_size: int = 768`, `attribute_map = {…}`, `vocab_size: int`):
   * class attributes, and a dataclass's fields (annotated, not `ClassVar`).
   */
  fields?: ClassField[];
  /** Decorators as written (`@register("resnet")`): run over the class when its file's scope is built. */
  decorators?: Expr[];
}

export interface ClassField { name: string; value?: Expr; annotation?: Expr; annotated: boolean; classVar: boolean; pos: Pos }

/** One name an import statement binds: `import torch.nn as nn` binds `nn` to module `torch.nn`. */
export interface ImportBinding {
  local: string;
  /** The module path as written (`torch.nn`, `blocks`, `./layers`). */
  module: string;
  /** Python's leading dots (`from .blocks import …` is 1). */
  level: number;
  /** The imported member (`from torch import nn` → `nn`); absent when the module itself is bound. */
  name?: string;
}

export interface SourceFile {
  /** Absolute path. */
  path: string;
  language: 'python' | 'ts';
  classes: Map<string, ClassDef>;
  functions: Map<string, FunctionDef>;
  imports: ImportBinding[];
  /** Top-level statements other than definitions and imports (module constants). */
  top: Stmt[];
  /**
   * What lowering met and could not take as written (a syntax error the parser went past, an
   * expression nested too deep), by 0-based line; filled as parts of the file are lowered, so it is
   * shared by reference between a lazily lowered file and its parts.
   */
  problems?: { line: number; message: string }[];
  /** Top-level classes and functions with decorators that may fill a registry, in file order. */
  decorated?: string[];
}
