/**
 * Python → the common tree (ir.ts). Reads tree-sitter-python nodes by field name; what inference
 * never needs (decorators, type hints, `with`/`try` scaffolding) is skipped or kept as `unknown`,
 * so a file with syntax errors elsewhere still yields its classes.
 */
import type { Node } from 'web-tree-sitter';
import { Arg, ClassDef, ClassField, Expr, FunctionDef, ImportBinding, Param, Pos, SourceFile, Stmt } from './ir';
import { parsePython, parsePythonSync } from './pythonParser';
import { LazyMap } from './lazyMap';
import { Block, splitTopLevel } from './topLevelBlocks';

/** Files below this are parsed whole; above it, a class or function at a time, when first looked up. */
const LAZY_FROM = 16 * 1024;
/**
 * Expressions and statements nested deeper than this are not lowered (an `unknown`, and a problem on
 * the file): lowering and the interpreter recurse once per level, and 10,000 parentheses or a chain
 * of 10,000 `+` would exhaust the JavaScript stack. CPython's own parser stops at 200 parentheses.
 */
const MAX_NEST = 200;

export async function lowerPython(path: string, text: string): Promise<SourceFile> {
  (await parsePython('')).delete(); // loads the parser once: the rest is synchronous
  return lowerPythonSync(path, text);
}

/** The same, once `lowerPython` (or `parsePython`) has loaded the parser; throws before. */
export function lowerPythonSync(path: string, text: string, opts: { whole?: boolean } = {}): SourceFile {
  const problems: NonNullable<SourceFile['problems']> = [];
  const file: SourceFile = { path, language: 'python', classes: new Map(), functions: new Map(), imports: [], top: [], problems };
  const blocks = text.length >= LAZY_FROM && !opts.whole ? splitTopLevel(text) : undefined;
  if (!blocks) {
    withTree(text, 0, problems, (root) => { for (const n of named(root)) topLevel(n, file); });
    return file;
  }
  const classes = new LazyMap<ClassDef>();
  const functions = new LazyMap<FunctionDef>();
  file.classes = classes;
  file.functions = functions;
  for (const b of blocks) {
    if (b.kind === 'other') { lowerBlock(text, b, file); continue; }
    const take = (): SourceFile => { const one: SourceFile = { ...file, classes: new Map(), functions: new Map(), imports: [], top: [] }; lowerBlock(text, b, one); return one; };
    if (mayRegister(text, b, blocks)) (file.decorated ??= []).push(b.name!);
    if (b.kind === 'class') classes.later(b.name!, guarded(problems, b.row, () => (b.end - b.start >= LAZY_FROM ? lazyClass(text, b, problems) : undefined) ?? take().classes.get(b.name!)));
    else functions.later(b.name!, guarded(problems, b.row, () => take().functions.get(b.name!)));
  }
  return file;
}

/**
 * A large class (transformers' `PreTrainedConfig` is most of an 80 KB file) cut at its members: the
 * header and the class-level assignments are lowered at once, each method when first looked up — the
 * interpreter reads a config's `__init__` and a property or two, never its serialisation helpers.
 * Undefined when the body cannot be cut (then the class is lowered whole).
 */
function lazyClass(text: string, b: Block, problems: Problems): ClassDef | undefined {
  const body = text.slice(b.start, b.end);
  const header = /^(?:@[^\n]*\n)*\s*class\b[^:]*?(?:\([^)]*\))?\s*:[ \t]*(?:#[^\n]*)?\n/.exec(body);
  if (!header) return undefined;
  const indent = /^([ ]+)\S/m.exec(body.slice(header[0].length).replace(/^(?:[ \t]*(?:#[^\n]*)?\n)+/, ''))?.[1].length;
  if (!indent) return undefined;
  const members = splitTopLevel(body, indent);
  if (!members?.length) return undefined;
  const pad = ' '.repeat(indent);
  const lowerMember = (m: Block): ClassDef | undefined => withTree(`class _:\n${pad}${body.slice(m.start, m.end)}`, b.row + m.row - 1, problems, (root) => {
    const c = named(root).find((n) => n.type === 'class_definition');
    return c ? classDef(c) : undefined;
  });
  const def = withTree(`${body.slice(0, members[0].start)}pass\n`, b.row, problems, (root) => {
    const c = named(root).find((n) => n.type === 'class_definition' || n.type === 'decorated_definition');
    const d = c?.type === 'decorated_definition' ? field(c, 'definition') : c;
    const def = d ? classDef(d) : undefined;
    if (def && c !== d) def.decorators = decorators(c!);
    return def;
  });
  if (!def) return undefined;
  const methods = new LazyMap<FunctionDef>();
  const fields: ClassField[] = [];
  for (const m of members) {
    // A property's `@x.setter` keeps the getter in place (the getter is what reading the attribute runs).
    if (m.kind === 'def' && /^\s*@\w+\.(setter|deleter)\b/.test(body.slice(m.start, m.end))) continue;
    if (m.kind === 'def') methods.later(m.name!, guarded(problems, b.row + m.row, () => lowerMember(m)?.methods.get(m.name!)));
    else if (m.kind === 'other') fields.push(...(lowerMember(m)?.fields ?? []));
  }
  const lines = body.replace(/\s+$/, '').split('\n');
  return { ...def, methods, fields, pos: { ...def.pos, endLine: b.row + lines.length - 1, endColumn: lines[lines.length - 1].length } };
}

/**
 * A decorated definition of a large file whose decorator may fill a registry: a call
 * (`@register("resnet")`, `@MODELS.register_module()`), a method of an object (`@BACKBONES.register`),
 * or a function the file itself defines. Others (`@register_model` imported from a library's
 * registry, `@dataclass`) are not parsed for that — a file with hundreds of them stays lazy.
 */
function mayRegister(text: string, b: Block, blocks: Block[]): boolean {
  const m = /^@([\w.]+)\s*(\()?/.exec(text.slice(b.start, b.end).trimStart());
  if (!m) return false;
  if (/^(property|staticmethod|classmethod|dataclass|dataclasses\.dataclass|torch\.|functools\.|typing\.)/.test(m[1])) return false;
  return m[2] !== undefined || m[1].includes('.') || blocks.some((x) => x.kind === 'def' && x.name === m[1]);
}

type Problems = NonNullable<SourceFile['problems']>;

/**
 * Parses `src` and hands its root to `fn`, positions shifted by `rows`. The first syntax error the
 * parser went past is a problem of the file: Python would refuse to import it, and what the parser
 * recovered around the error may lack what the broken lines define.
 */
function withTree<T>(src: string, rows: number, problems: Problems, fn: (root: Node) => T): T {
  const tree = parsePythonSync(src);
  const saved = { rowOffset, sink };
  rowOffset = rows;
  sink = problems;
  try {
    const bad = tree.rootNode.hasError ? firstError(tree.rootNode) : undefined;
    if (bad) problems.push({ line: bad.startPosition.row + rows, message: `syntax error${bad.isMissing ? ` (missing \`${bad.type}\`)` : ''}: Python would not import this file; what the parser recovered around it is read, and what the broken lines define is missing` });
    return fn(tree.rootNode);
  } finally {
    ({ rowOffset, sink } = saved);
    tree.delete();
  }
}

/** The first ERROR or MISSING node, walking down only into children that contain one (no recursion: trees may be deep). */
function firstError(root: Node): Node | undefined {
  let n = root;
  for (;;) {
    if (n.type === 'ERROR' || n.isMissing) return n;
    const next = n.children.find((c): c is Node => c !== null && (c.hasError || c.isMissing));
    if (!next) return n;
    n = next;
  }
}

/** A lazily lowered definition that fails to lower is a problem of the file, not an exception at whichever lookup first asks. */
function guarded<T>(problems: Problems, row: number, make: () => T | undefined): () => T | undefined {
  return () => {
    try {
      return make();
    } catch (e) {
      problems.push({ line: row, message: `could not be read (${(e as Error).message})` });
      return undefined;
    }
  };
}

/** Lowers one top-level block into `file`, its positions shifted to the block's place in the whole text. */
function lowerBlock(text: string, b: Block, file: SourceFile): void {
  withTree(text.slice(b.start, b.end), b.row, file.problems ?? [], (root) => { for (const n of named(root)) topLevel(n, file); });
}

function named(n: Node): Node[] {
  return n.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
}

/** Rows of the block being lowered start here in the whole file (0 when a file is parsed whole). */
let rowOffset = 0;
/** Where the tree being lowered records its problems, and how deep the lowering is nested now. */
let sink: Problems | undefined;
let nest = 0;

/** Runs `lower` one nesting level down, or gives `deep()` (and a problem) past MAX_NEST. */
function nested<T>(n: Node, lower: () => T, deep: () => T): T {
  if (nest >= MAX_NEST) {
    const line = n.startPosition.row + rowOffset;
    if (!sink?.some((p) => p.line === line && p.message.startsWith('nested'))) sink?.push({ line, message: `nested deeper than ${MAX_NEST} levels: the innermost part is not followed` });
    return deep();
  }
  nest++;
  try {
    return lower();
  } finally {
    nest--;
  }
}

export function posOf(n: Node): Pos {
  return { line: n.startPosition.row + rowOffset, column: n.startPosition.column, endLine: n.endPosition.row + rowOffset, endColumn: n.endPosition.column };
}

function field(n: Node, name: string): Node | undefined {
  return n.childForFieldName(name) ?? undefined;
}

function topLevel(n: Node, file: SourceFile): void {
  switch (n.type) {
    case 'decorated_definition': {
      const d = field(n, 'definition');
      if (!d) return;
      topLevel(d, file);
      const name = field(d, 'name')?.text;
      const def = name ? (d.type === 'class_definition' ? file.classes.get(name) : file.functions.get(name)) : undefined;
      if (def) { def.decorators = decorators(n); (file.decorated ??= []).push(name!); }
      return;
    }
    case 'class_definition': {
      const c = classDef(n);
      if (c) file.classes.set(c.name, c);
      return;
    }
    case 'function_definition': {
      const f = functionDef(n);
      if (f) file.functions.set(f.name, f);
      return;
    }
    case 'import_statement':
    case 'import_from_statement':
      file.imports.push(...imports(n));
      return;
    case 'if_statement': // `if TYPE_CHECKING:` / try-import blocks: their imports and classes still count.
    case 'try_statement':
      for (const b of n.descendantsOfType(['import_statement', 'import_from_statement'])) if (b) file.imports.push(...imports(b));
      return;
    default:
      file.top.push(...stmt(n));
  }
}

function imports(n: Node): ImportBinding[] {
  const out: ImportBinding[] = [];
  if (n.type === 'import_statement') {
    for (const c of n.childrenForFieldName('name')) {
      if (!c) continue;
      if (c.type === 'aliased_import') {
        out.push({ local: field(c, 'alias')!.text, module: field(c, 'name')!.text, level: 0 });
      } else {
        // `import torch.nn` binds `torch`; attribute access reaches the rest.
        out.push({ local: c.text.split('.')[0], module: c.text.split('.')[0], level: 0 });
      }
    }
    return out;
  }
  const m = field(n, 'module_name');
  if (!m) return out;
  let level = 0;
  let module = m.text;
  if (m.type === 'relative_import') {
    const prefix = named(m).find((c) => c.type === 'import_prefix');
    level = prefix ? prefix.text.length : m.text.match(/^\.*/)![0].length;
    module = named(m).find((c) => c.type === 'dotted_name')?.text ?? '';
  }
  // `from torch.nn.modules import *`: every public name of that module (the import resolver follows it; `*` is no identifier).
  if (named(n).some((c) => c.type === 'wildcard_import')) out.push({ local: '*', module, level, name: '*' });
  for (const c of n.childrenForFieldName('name')) {
    if (!c) continue;
    if (c.type === 'aliased_import') out.push({ local: field(c, 'alias')!.text, module, level, name: field(c, 'name')!.text });
    else out.push({ local: c.text, module, level, name: c.text });
  }
  return out;
}

/** The decorators of a `decorated_definition`, outermost first. */
function decorators(n: Node): Expr[] {
  return named(n).filter((c) => c.type === 'decorator').flatMap((c) => { const e = named(c)[0]; return e ? [expr(e)] : []; });
}

function classDef(n: Node): ClassDef | undefined {
  const name = field(n, 'name')?.text;
  const body = field(n, 'body');
  if (!name || !body) return undefined;
  const bases = field(n, 'superclasses');
  const methods = new Map<string, FunctionDef>();
  const fields: ClassField[] = [];
  for (const c of named(body)) {
    const d = c.type === 'decorated_definition' ? field(c, 'definition') : c;
    if (d?.type === 'function_definition') {
      const f = functionDef(d);
      if (f && c !== d) f.decorators = decorators(c);
      // `@property` makes reading the attribute run the method; its `@x.setter`/`@x.deleter` keeps the getter's place.
      const decos = c.type === 'decorated_definition' ? named(c).filter((x) => x.type === 'decorator').map((x) => x.text) : [];
      if (f && decos.some((t) => /^@\w+\.(setter|deleter)$/.test(t)) && methods.get(f.name)?.property) continue;
      if (f && decos.some((t) => /^@(builtins\.)?(property|cached_property|functools\.cached_property)$/.test(t))) f.property = true;
      if (f) methods.set(f.name, f);
    } else if (c.type === 'expression_statement' && named(c)[0]?.type === 'assignment') {
      const a = named(c)[0];
      const left = field(a, 'left');
      if (left?.type !== 'identifier') continue;
      const type = field(a, 'type');
      const right = field(a, 'right');
      fields.push({
        name: left.text, annotated: type !== undefined, classVar: type !== undefined && /^(typing\.)?ClassVar\b/.test(type.text),
        value: right ? expr(right) : undefined, ...(type ? { annotation: typeExpr(type) } : {}), pos: posOf(a),
      });
    }
  }
  return {
    name, methods, fields, pos: posOf(n),
    bases: bases ? named(bases).filter((b) => b.type !== 'keyword_argument').map(expr) : [],
  };
}

/** An annotation's expression (tree-sitter wraps it in a `type` node). */
function typeExpr(t: Node): Expr {
  const inner = t.type === 'type' ? named(t)[0] : t;
  return expr(inner ?? t);
}

function functionDef(n: Node): FunctionDef | undefined {
  const name = field(n, 'name')?.text;
  const body = field(n, 'body');
  if (!name || !body) return undefined;
  const ps = field(n, 'parameters');
  return { name, params: ps ? params(ps) : [], body: block(body), pos: posOf(n) };
}

function params(n: Node): Param[] {
  const out: Param[] = [];
  for (const p of named(n)) {
    switch (p.type) {
      case 'identifier': out.push({ name: p.text, kind: 'plain' }); break;
      case 'typed_parameter': {
        const id = named(p)[0];
        const type = field(p, 'type');
        if (id?.type === 'identifier') out.push({ name: id.text, kind: 'plain', ...(type ? { annotation: typeExpr(type) } : {}) });
        else if (id?.type === 'list_splat_pattern') out.push({ name: named(id)[0]?.text ?? '', kind: 'star' });
        else if (id?.type === 'dictionary_splat_pattern') out.push({ name: named(id)[0]?.text ?? '', kind: 'dstar' });
        break;
      }
      case 'default_parameter':
      case 'typed_default_parameter': {
        const name = field(p, 'name')?.text;
        const value = field(p, 'value');
        const type = field(p, 'type');
        if (name) out.push({ name, kind: 'plain', default: value ? expr(value) : undefined, ...(type ? { annotation: typeExpr(type) } : {}) });
        break;
      }
      case 'list_splat_pattern': out.push({ name: named(p)[0]?.text ?? '', kind: 'star' }); break;
      case 'dictionary_splat_pattern': out.push({ name: named(p)[0]?.text ?? '', kind: 'dstar' }); break;
      default: break; // `*` and `/` separators
    }
  }
  return out;
}

function block(n: Node): Stmt[] {
  return named(n).flatMap(stmt);
}

function stmt(n: Node): Stmt[] {
  return nested(n, () => stmtAt(n), () => [{ k: 'other', pos: posOf(n) }]);
}

function stmtAt(n: Node): Stmt[] {
  const pos = posOf(n);
  switch (n.type) {
    case 'expression_statement': {
      const inner = named(n)[0];
      if (!inner) return [];
      if (inner.type === 'assignment') return [assignment(inner)];
      if (inner.type === 'augmented_assignment') {
        return [{ k: 'augassign', target: expr(field(inner, 'left')!), op: field(inner, 'operator')!.type.replace(/=$/, ''), value: expr(field(inner, 'right')!), pos }];
      }
      return [{ k: 'expr', e: expr(inner), pos }];
    }
    case 'if_statement': {
      const test = expr(field(n, 'condition')!);
      const body = block(field(n, 'consequence')!);
      // elif/else chains nest right to left.
      let orelse: Stmt[] = [];
      const alts = n.childrenForFieldName('alternative').filter((c): c is Node => c !== null);
      for (let i = alts.length - 1; i >= 0; i--) {
        const a = alts[i];
        if (a.type === 'else_clause') orelse = block(field(a, 'body')!);
        else orelse = [{ k: 'if', test: expr(field(a, 'condition')!), body: block(field(a, 'consequence')!), orelse, pos: posOf(a) }];
      }
      return [{ k: 'if', test, body, orelse, pos }];
    }
    case 'for_statement': {
      const alt = field(n, 'alternative');
      const orelse = alt ? block(field(alt, 'body')!) : undefined;
      return [{ k: 'for', target: expr(field(n, 'left')!), iter: expr(field(n, 'right')!), body: block(field(n, 'body')!), ...(orelse ? { orelse } : {}), pos }];
    }
    case 'break_statement': return [{ k: 'break', pos }];
    case 'continue_statement': return [{ k: 'continue', pos }];
    case 'return_statement': {
      const v = named(n)[0];
      return [{ k: 'return', value: v ? expr(v) : undefined, pos }];
    }
    case 'raise_statement':
      return [{ k: 'raise', pos }];
    case 'while_statement': {
      const body = field(n, 'body');
      return [{ k: 'other', loop: 'while', body: body ? block(body) : [], pos }];
    }
    case 'with_statement':
    case 'try_statement': {
      const body = field(n, 'body');
      return body ? block(body) : [];
    }
    case 'function_definition': {
      const fn = functionDef(n);
      return fn ? [{ k: 'def', fn, pos }] : [];
    }
    case 'decorated_definition': {
      const d = field(n, 'definition');
      return d ? stmt(d) : [];
    }
    default:
      return [{ k: 'other', pos }];
  }
}

function assignment(n: Node): Stmt {
  const targets: Expr[] = [];
  let cur: Node = n;
  // `a = b = value`: the right side of an assignment is itself an assignment.
  while (cur.type === 'assignment') {
    targets.push(expr(field(cur, 'left')!));
    const right = field(cur, 'right');
    if (!right) return { k: 'other', pos: posOf(n) }; // `x: int` declares without assigning
    cur = right;
  }
  return { k: 'assign', targets, value: expr(cur), pos: posOf(n) };
}

/** `f"stage{i + 1}"`: its text and fields in order; `{{`/`}}` are literal braces. */
function fString(n: Node, pos: Pos): Expr {
  const parts: (string | { e: Expr; spec?: string })[] = [];
  for (const c of named(n)) {
    if (c.type === 'string_content') parts.push(c.text.replace(/\{\{/g, '{').replace(/\}\}/g, '}'));
    else if (c.type === 'interpolation') {
      const e = field(c, 'expression');
      if (!e) return { k: 'unknown', text: n.text, pos };
      const spec = field(c, 'format_specifier')?.text.replace(/^:/, '');
      parts.push(spec ? { e: expr(e), spec } : { e: expr(e) });
    }
  }
  return { k: 'fstr', parts, pos };
}

export function expr(n: Node): Expr {
  return nested(n, () => exprAt(n), () => ({ k: 'unknown', text: '…', pos: posOf(n) }));
}

function exprAt(n: Node): Expr {
  const pos = posOf(n);
  const unknown = (): Expr => ({ k: 'unknown', text: n.text, pos });
  switch (n.type) {
    case 'identifier': return { k: 'name', id: n.text, pos };
    case 'integer': {
      const t = n.text.replace(/_/g, '').replace(/[lL]$/, '');
      const v = /^0[oO]/.test(t) ? parseInt(t.slice(2), 8) : /^0[bB]/.test(t) ? parseInt(t.slice(2), 2) : Number(t);
      // Past 2**53 a double is not the integer written: unknown rather than a size that is not the code's.
      return Number.isSafeInteger(v) ? { k: 'num', v, pos } : unknown();
    }
    case 'float': {
      const v = Number(n.text.replace(/_/g, ''));
      return Number.isFinite(v) ? { k: 'num', v, float: true, pos } : unknown();
    }
    case 'true': return { k: 'bool', v: true, pos };
    case 'false': return { k: 'bool', v: false, pos };
    case 'none': return { k: 'none', pos };
    case 'string': {
      if (named(n).some((c) => c.type === 'interpolation')) return fString(n, pos);
      return { k: 'str', v: named(n).filter((c) => c.type === 'string_content').map((c) => c.text).join(''), pos };
    }
    case 'concatenated_string': {
      const parts = named(n).map(expr);
      return parts.every((p) => p.k === 'str') ? { k: 'str', v: parts.map((p) => (p as { v: string }).v).join(''), pos } : unknown();
    }
    case 'attribute': return { k: 'attr', obj: expr(field(n, 'object')!), name: field(n, 'attribute')!.text, pos };
    case 'call': {
      const a = field(n, 'arguments');
      const args: Arg[] = !a ? [] : a.type === 'generator_expression' ? [{ value: expr(a) }] : named(a).map(arg);
      return { k: 'call', fn: expr(field(n, 'function')!), args, pos };
    }
    case 'binary_operator':
      return { k: 'bin', op: field(n, 'operator')!.type, l: expr(field(n, 'left')!), r: expr(field(n, 'right')!), pos };
    case 'unary_operator':
      return { k: 'unary', op: field(n, 'operator')!.type, e: expr(field(n, 'argument')!), pos };
    case 'not_operator':
      return { k: 'unary', op: 'not', e: expr(field(n, 'argument')!), pos };
    case 'boolean_operator':
      return { k: 'boolop', op: field(n, 'operator')!.type === 'and' ? 'and' : 'or', l: expr(field(n, 'left')!), r: expr(field(n, 'right')!), pos };
    case 'comparison_operator': {
      const items: Expr[] = [];
      const ops: string[] = [];
      for (const c of n.children) {
        if (!c) continue;
        if (c.isNamed) { if (c.type !== 'comment') items.push(expr(c)); } else ops.push(ops.length < items.length ? c.type : `${ops.pop()} ${c.type}`);
      }
      return { k: 'compare', ops, items, pos };
    }
    case 'parenthesized_expression': {
      const inner = named(n)[0];
      return inner ? expr(inner) : unknown();
    }
    case 'list': case 'set': case 'list_pattern':
      return { k: 'list', items: named(n).map(expr), tuple: false, pos };
    case 'tuple': case 'expression_list': case 'pattern_list': case 'tuple_pattern':
      return { k: 'list', items: named(n).map(expr), tuple: true, pos };
    case 'list_splat': case 'list_splat_pattern': {
      const inner = named(n)[0];
      return inner ? { k: 'splat', e: expr(inner), pos } : unknown();
    }
    case 'dictionary': {
      const entries = named(n).filter((c) => c.type === 'pair' || c.type === 'dictionary_splat').map((p) => (p.type === 'pair'
        ? { key: expr(field(p, 'key')!), value: expr(field(p, 'value')!) }
        : { key: { k: 'none' as const, pos: posOf(p) }, value: named(p)[0] ? expr(named(p)[0]) : unknown(), splat: true }));
      return { k: 'dict', entries, pos };
    }
    case 'list_comprehension': case 'generator_expression': case 'set_comprehension': case 'dictionary_comprehension': {
      const fors: { target: Expr; iter: Expr }[] = [];
      const ifs: Expr[] = [];
      for (const c of named(n)) {
        if (c.type === 'for_in_clause') fors.push({ target: expr(field(c, 'left')!), iter: expr(field(c, 'right')!) });
        else if (c.type === 'if_clause') { const t = named(c)[0]; if (t) ifs.push(expr(t)); }
      }
      const body = field(n, 'body');
      if (body?.type === 'pair') {
        const [key, value] = [field(body, 'key'), field(body, 'value')];
        return key && value && fors.length ? { k: 'comp', elt: expr(value), key: expr(key), fors, ifs, pos } : unknown();
      }
      return body && fors.length ? { k: 'comp', elt: expr(body), fors, ifs, pos } : unknown();
    }
    case 'subscript': {
      const subs = n.childrenForFieldName('subscript').filter((c): c is Node => c !== null);
      const index: Expr = subs.length === 1 ? expr(subs[0]) : { k: 'list', items: subs.map(expr), tuple: true, pos };
      return { k: 'index', obj: expr(field(n, 'value')!), index, pos };
    }
    case 'slice': {
      const part: (Expr | undefined)[] = [undefined, undefined, undefined];
      let at = 0;
      for (let i = 0; i < n.childCount; i++) {
        const c = n.child(i);
        if (!c) continue;
        if (c.type === ':') at++;
        else if (c.isNamed && at < 3) part[at] = expr(c);
      }
      return { k: 'slice', start: part[0], stop: part[1], step: part[2], pos };
    }
    case 'conditional_expression': {
      const [a, b, c] = named(n);
      return a && b && c ? { k: 'cond', then: expr(a), test: expr(b), else: expr(c), pos } : unknown();
    }
    case 'lambda': {
      const ps = field(n, 'parameters');
      return { k: 'lambda', params: ps ? params(ps) : [], body: expr(field(n, 'body')!), pos };
    }
    default:
      return unknown();
  }
}

function arg(n: Node): Arg {
  if (n.type === 'keyword_argument') return { name: field(n, 'name')!.text, value: expr(field(n, 'value')!) };
  if (n.type === 'list_splat') return { value: expr(named(n)[0] ?? n), splat: '*' };
  if (n.type === 'dictionary_splat') return { value: expr(named(n)[0] ?? n), splat: '**' };
  return { value: expr(n) };
}
