/**
 * TypeScript and JavaScript → the common tree (ir.ts), through the TypeScript compiler's parser: the
 * functions, arrow functions and classes of a TF.js model file (tfjsRuntime.ts gives the Layers API its
 * meaning), lists built with `Array.from({ length: n }, …)`, `.map` or a counted `for`, options objects,
 * ES imports and `require`. `this` becomes Python's `self`, `super(…)` becomes `super().__init__(…)`,
 * `x.length` is `len(x)`; a class's `static` fields are class attributes (`static className`).
 */
import type TS from 'typescript';
import { typescriptCompiler } from './typescriptCompiler';
import { Arg, ClassDef, ClassField, Expr, FunctionDef, ImportBinding, Param, Pos, SourceFile, Stmt } from './ir';

// The compiler is large: loaded on the first TypeScript model, not when the server or CLI starts.
let ts: typeof TS;
let PARAM_PROPERTY: Set<TS.SyntaxKind>;
let BIN: Partial<Record<TS.SyntaxKind, string>>;
let CMP: Partial<Record<TS.SyntaxKind, string>>;

async function loadCompiler(): Promise<void> {
  if (ts) return;
  ts = typescriptCompiler();
  const K = ts.SyntaxKind;
  PARAM_PROPERTY = new Set([K.PublicKeyword, K.PrivateKeyword, K.ProtectedKeyword, K.ReadonlyKeyword]);
  BIN = { [K.PlusToken]: '+', [K.MinusToken]: '-', [K.AsteriskToken]: '*', [K.SlashToken]: '/', [K.PercentToken]: '%', [K.AsteriskAsteriskToken]: '**' };
  CMP = {
    [K.LessThanToken]: '<', [K.LessThanEqualsToken]: '<=', [K.GreaterThanToken]: '>', [K.GreaterThanEqualsToken]: '>=',
    [K.EqualsEqualsEqualsToken]: '===', [K.ExclamationEqualsEqualsToken]: '!==', [K.EqualsEqualsToken]: '==', [K.ExclamationEqualsToken]: '!=',
  };
}

export async function lowerTypeScript(path: string, text: string): Promise<SourceFile> {
  await loadCompiler();
  const kind = /\.[mc]?jsx?$/.test(path) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  const l = new Lowerer(sf);
  // The compiler recovers from syntax errors; the first is a problem of the file (as tree-sitter's are for Python).
  const bad = (sf as TS.SourceFile & { parseDiagnostics?: readonly TS.DiagnosticWithLocation[] }).parseDiagnostics?.[0];
  const problems = bad ? [{ line: sf.getLineAndCharacterOfPosition(bad.start).line, message: `syntax error (${ts.flattenDiagnosticMessageText(bad.messageText, ' ')}): what the compiler recovered around it is read, and what the broken lines define is missing` }] : [];
  const file: SourceFile = { path, language: 'ts', classes: new Map(), functions: new Map(), imports: [], top: [], problems };
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s)) file.imports.push(...l.imports(s));
    else if (ts.isClassDeclaration(s) && s.name) file.classes.set(s.name.text, l.classDef(s));
    else if (ts.isFunctionDeclaration(s) && s.name && s.body) file.functions.set(s.name.text, l.func(s.name.text, s.parameters, s.body, s, false));
    else if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) {
        const required = l.required(d);
        const fn = l.arrowDef(d);
        if (required) file.imports.push(...required);
        else if (fn) file.functions.set(fn.name, fn);
        else file.top.push(...l.declaration(d, l.pos(s)));
      }
    } else file.top.push(...l.stmt(s));
  }
  return file;
}

class Lowerer {
  constructor(private readonly sf: TS.SourceFile) {}

  pos(n: TS.Node): Pos {
    const s = this.sf.getLineAndCharacterOfPosition(n.getStart(this.sf));
    const e = this.sf.getLineAndCharacterOfPosition(n.getEnd());
    return { line: s.line, column: s.character, endLine: e.line, endColumn: e.character };
  }

  imports(d: TS.ImportDeclaration): ImportBinding[] {
    if (!ts.isStringLiteral(d.moduleSpecifier) || !d.importClause) return [];
    const module = d.moduleSpecifier.text;
    const out: ImportBinding[] = [];
    const c = d.importClause;
    if (c.name) out.push({ local: c.name.text, module, level: 0, name: 'default' });
    const nb = c.namedBindings;
    if (nb && ts.isNamespaceImport(nb)) out.push({ local: nb.name.text, module, level: 0 });
    if (nb && ts.isNamedImports(nb)) for (const e of nb.elements) out.push({ local: e.name.text, module, level: 0, name: (e.propertyName ?? e.name).text });
    return out;
  }

  /** `const tf = require('@tensorflow/tfjs')`, `const { layers } = require(…)`: CommonJS imports. */
  required(d: TS.VariableDeclaration): ImportBinding[] | undefined {
    const init = d.initializer;
    if (!init || !ts.isCallExpression(init) || !ts.isIdentifier(init.expression) || init.expression.text !== 'require' || init.arguments.length !== 1 || !ts.isStringLiteral(init.arguments[0])) return undefined;
    const module = init.arguments[0].text;
    if (ts.isIdentifier(d.name)) return [{ local: d.name.text, module, level: 0 }];
    if (!ts.isObjectBindingPattern(d.name)) return [];
    return d.name.elements.flatMap((e) => (ts.isIdentifier(e.name) ? [{ local: e.name.text, module, level: 0, name: (e.propertyName && ts.isIdentifier(e.propertyName) ? e.propertyName : e.name).text }] : []));
  }

  /** `const build = (…) => …` / `= function (…) {…}`: a function by that name. */
  arrowDef(d: TS.VariableDeclaration): FunctionDef | undefined {
    const init = d.initializer && (ts.isParenthesizedExpression(d.initializer) ? d.initializer.expression : d.initializer);
    if (!init || !ts.isIdentifier(d.name) || (!ts.isArrowFunction(init) && !ts.isFunctionExpression(init))) return undefined;
    const name = d.name.text;
    if (ts.isBlock(init.body)) return this.func(name, init.parameters, init.body, d, false);
    const pos = this.pos(init.body);
    return { name, params: init.parameters.map((p) => this.param(p)), body: [{ k: 'return', value: this.expr(init.body), pos }], pos: this.pos(d) };
  }

  declaration(d: TS.VariableDeclaration, pos: Pos): Stmt[] {
    if (!d.initializer) return [];
    if (ts.isIdentifier(d.name)) return [{ k: 'assign', targets: [{ k: 'name', id: d.name.text, pos: this.pos(d.name) }], value: this.expr(d.initializer), pos }];
    // `const [q, k, v] = …`: unpacked as Python unpacks a tuple (holes and nested patterns are not followed).
    if (ts.isArrayBindingPattern(d.name) && d.name.elements.every((e) => ts.isBindingElement(e) && ts.isIdentifier(e.name) && !e.initializer)) {
      const items: Expr[] = d.name.elements.map((e) => {
        const b = e as TS.BindingElement;
        const name: Expr = { k: 'name', id: (b.name as TS.Identifier).text, pos: this.pos(b) };
        return b.dotDotDotToken ? { k: 'splat', e: name, pos: this.pos(b) } : name;
      });
      return [{ k: 'assign', targets: [{ k: 'list', items, tuple: true, pos: this.pos(d.name) }], value: this.expr(d.initializer), pos }];
    }
    // `const { units, name = 'x' } = config`: each a property of the object (JavaScript's `??` for a default).
    if (ts.isObjectBindingPattern(d.name) && d.name.elements.every((e) => ts.isIdentifier(e.name) && !e.dotDotDotToken && (!e.propertyName || ts.isIdentifier(e.propertyName)))) {
      const obj: Expr = { k: 'name', id: `$object${pos.line}_${pos.column}`, pos };
      return [{ k: 'assign', targets: [obj], value: this.expr(d.initializer), pos }, ...d.name.elements.map((e): Stmt => {
        const at = this.pos(e);
        const read: Expr = { k: 'attr', obj, name: ((e.propertyName ?? e.name) as TS.Identifier).text, pos: at };
        return { k: 'assign', targets: [{ k: 'name', id: (e.name as TS.Identifier).text, pos: at }], value: e.initializer ? { k: 'boolop', op: 'or', l: read, r: this.expr(e.initializer), pos: at } : read, pos: at };
      })];
    }
    return [{ k: 'other', pos }];
  }

  classDef(c: TS.ClassDeclaration): ClassDef {
    const methods = new Map<string, FunctionDef>();
    const fields: Stmt[] = [];
    const statics: ClassField[] = [];
    for (const m of c.members) {
      if (!ts.canHaveModifiers(m) || !ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword) || !m.name || !ts.isIdentifier(m.name)) continue;
      // `static className = 'MyLayer'`, or a getter returning it: what TF.js names the class by.
      const ret = ts.isGetAccessorDeclaration(m) && m.body?.statements.length === 1 && ts.isReturnStatement(m.body.statements[0]) ? m.body.statements[0].expression : undefined;
      const value = ts.isPropertyDeclaration(m) ? m.initializer : ret;
      if (value) statics.push({ name: m.name.text, value: this.expr(value), annotated: false, classVar: true, pos: this.pos(m) });
    }
    for (const m of c.members) {
      if (ts.isPropertyDeclaration(m) && m.initializer && ts.isIdentifier(m.name) && !m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)) {
        const pos = this.pos(m);
        fields.push({ k: 'assign', targets: [{ k: 'attr', obj: { k: 'name', id: 'self', pos }, name: m.name.text, pos }], value: this.expr(m.initializer), pos });
      }
    }
    for (const m of c.members) {
      if (ts.isConstructorDeclaration(m) && m.body) methods.set('__init__', this.func('__init__', m.parameters, m.body, m, true, fields));
      else if (ts.isMethodDeclaration(m) && m.body && ts.isIdentifier(m.name)) methods.set(m.name.text, this.func(m.name.text, m.parameters, m.body, m, true));
    }
    // Fields with initialisers and no constructor: TypeScript runs them as an implicit constructor.
    if (!methods.has('__init__') && fields.length) methods.set('__init__', { name: '__init__', params: [{ name: 'self', kind: 'plain' }], body: fields, pos: this.pos(c) });
    const ext = c.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
    return { name: c.name!.text, bases: ext ? [this.expr(ext.expression)] : [], methods, pos: this.pos(c), ...(statics.length ? { fields: statics } : {}) };
  }

  func(name: string, ps: readonly TS.ParameterDeclaration[], body: TS.Block, n: TS.Node, method: boolean, fields: Stmt[] = []): FunctionDef {
    const params: Param[] = method ? [{ name: 'self', kind: 'plain' }] : [];
    for (const p of ps) params.push(this.param(p));
    let stmts = body.statements.flatMap((s) => this.stmt(s));
    // `constructor(private dim: number)` assigns `this.dim` before the body runs.
    const props: Stmt[] = ps.filter((p) => ts.isIdentifier(p.name) && p.modifiers?.some((m) => PARAM_PROPERTY.has(m.kind))).map((p) => {
      const pos = this.pos(p);
      const id = (p.name as TS.Identifier).text;
      return { k: 'assign', targets: [{ k: 'attr', obj: { k: 'name', id: 'self', pos }, name: id, pos }], value: { k: 'name', id, pos }, pos };
    });
    fields = [...props, ...fields];
    if (fields.length) {
      // Field initialisers run right after `super(…)` returns.
      const at = body.statements.findIndex((s) => ts.isExpressionStatement(s) && ts.isCallExpression(s.expression) && s.expression.expression.kind === ts.SyntaxKind.SuperKeyword);
      stmts = at >= 0 ? [...stmts.slice(0, at + 1), ...fields, ...stmts.slice(at + 1)] : [...fields, ...stmts];
    }
    return { name, params, body: stmts, pos: this.pos(n) };
  }

  param(p: TS.ParameterDeclaration): Param {
    const kind = p.dotDotDotToken ? 'star' : 'plain';
    if (ts.isObjectBindingPattern(p.name)) {
      const fields: Param[] = p.name.elements.map((e) => ({
        name: ts.isIdentifier(e.name) ? e.name.text : e.name.getText(this.sf),
        kind: 'plain' as const,
        default: e.initializer ? this.expr(e.initializer) : undefined,
      }));
      return { name: '$options', kind: 'plain', fields };
    }
    return { name: p.name.getText(this.sf), kind, default: p.initializer ? this.expr(p.initializer) : undefined };
  }

  stmt(s: TS.Statement): Stmt[] {
    const pos = this.pos(s);
    if (ts.isExpressionStatement(s)) {
      const e = s.expression;
      if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
        return [{ k: 'assign', targets: [this.expr(e.left)], value: this.expr(e.right), pos }];
      }
      if (ts.isBinaryExpression(e)) {
        const op = { [ts.SyntaxKind.PlusEqualsToken]: '+', [ts.SyntaxKind.MinusEqualsToken]: '-', [ts.SyntaxKind.AsteriskEqualsToken]: '*' }[e.operatorToken.kind as number];
        if (op) return [{ k: 'augassign', target: this.expr(e.left), op, value: this.expr(e.right), pos }];
      }
      return [{ k: 'expr', e: this.expr(e), pos }];
    }
    if (ts.isVariableStatement(s)) {
      return s.declarationList.declarations.flatMap((d): Stmt[] => {
        const fn = d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer)) && ts.isBlock(d.initializer.body) ? this.arrowDef(d) : undefined;
        return fn ? [{ k: 'def', fn, pos }] : this.declaration(d, pos);
      });
    }
    if (ts.isIfStatement(s)) {
      return [{ k: 'if', test: this.expr(s.expression), body: this.block(s.thenStatement), orelse: s.elseStatement ? this.block(s.elseStatement) : [], pos }];
    }
    if (ts.isForOfStatement(s)) {
      const d = s.initializer;
      const target: Expr = ts.isVariableDeclarationList(d) && ts.isIdentifier(d.declarations[0].name) ? { k: 'name', id: d.declarations[0].name.text, pos } : { k: 'unknown', text: d.getText(this.sf), pos };
      return [{ k: 'for', target, iter: this.expr(s.expression), body: this.block(s.statement), pos }];
    }
    if (ts.isForStatement(s)) {
      const counted = this.countedLoop(s);
      if (counted) return [{ k: 'for', target: { k: 'name', id: counted.name, pos }, iter: { k: 'call', fn: { k: 'name', id: 'range', pos }, args: [{ value: counted.from }, { value: counted.to }], pos }, body: this.block(s.statement), pos }];
      return [{ k: 'other', pos }];
    }
    if (ts.isThrowStatement(s)) return [{ k: 'raise', pos }];
    // A labelled one may leave an outer loop: not followed (the statement stays `other`).
    if ((ts.isBreakStatement(s) || ts.isContinueStatement(s)) && !s.label) return [{ k: ts.isBreakStatement(s) ? 'break' : 'continue', pos }];
    if (ts.isReturnStatement(s)) return [{ k: 'return', value: s.expression ? this.expr(s.expression) : undefined, pos }];
    if (ts.isBlock(s)) return s.statements.flatMap((x) => this.stmt(x));
    if (ts.isFunctionDeclaration(s) && s.name && s.body) return [{ k: 'def', fn: this.func(s.name.text, s.parameters, s.body, s, false), pos }];
    return [{ k: 'other', pos }];
  }

  private block(s: TS.Statement): Stmt[] {
    return ts.isBlock(s) ? s.statements.flatMap((x) => this.stmt(x)) : this.stmt(s);
  }

  /** `for (let i = A; i < B; i++)` (or `i += 1`) → `for i in range(A, B)`. */
  private countedLoop(s: TS.ForStatement): { name: string; from: Expr; to: Expr } | undefined {
    const init = s.initializer;
    if (!init || !ts.isVariableDeclarationList(init) || init.declarations.length !== 1) return undefined;
    const d = init.declarations[0];
    if (!ts.isIdentifier(d.name) || !d.initializer) return undefined;
    const name = d.name.text;
    const c = s.condition;
    if (!c || !ts.isBinaryExpression(c) || c.operatorToken.kind !== ts.SyntaxKind.LessThanToken || c.left.getText(this.sf) !== name) return undefined;
    const inc = s.incrementor?.getText(this.sf).replace(/\s+/g, '');
    if (inc !== `${name}++` && inc !== `++${name}` && inc !== `${name}+=1`) return undefined;
    return { name, from: this.expr(d.initializer), to: this.expr(c.right) };
  }

  /** The length of `Array.from({length: n})`, `Array(n)`, `new Array(n).fill(x)`, `[...Array(n)]`. */
  private arrayLength(e: TS.Expression): TS.Expression | undefined {
    if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && e.expression.name.text === 'fill') return this.arrayLength(e.expression.expression);
    if ((ts.isCallExpression(e) || ts.isNewExpression(e)) && ts.isIdentifier(e.expression) && e.expression.text === 'Array' && e.arguments?.length === 1) return e.arguments[0];
    if (ts.isArrayLiteralExpression(e) && e.elements.length === 1 && ts.isSpreadElement(e.elements[0])) return this.arrayLength(e.elements[0].expression);
    if (ts.isCallExpression(e) && e.expression.getText(this.sf) === 'Array.from' && e.arguments.length === 1) return this.lengthOf(e.arguments[0]);
    return undefined;
  }

  private lengthOf(o: TS.Expression): TS.Expression | undefined {
    if (!ts.isObjectLiteralExpression(o)) return undefined;
    const p = o.properties.find((x) => x.name?.getText(this.sf) === 'length');
    return p && ts.isPropertyAssignment(p) ? p.initializer : undefined;
  }

  /** `(_, i) => body` over `iter` as a comprehension: the second parameter is the index. */
  private mapOver(iter: Expr, fn: TS.Expression, indexed: boolean, pos: Pos): Expr | undefined {
    if (!ts.isArrowFunction(fn) && !ts.isFunctionExpression(fn)) return undefined;
    const body = this.fnBody(fn);
    if (!body) return undefined;
    const names = fn.parameters.map((p) => p.name.getText(this.sf));
    const target = indexed ? names[1] ?? '_' : names[0] ?? '_';
    return { k: 'comp', elt: body, fors: [{ target: { k: 'name', id: target, pos }, iter }], ifs: [], pos };
  }

  private fnBody(fn: TS.ArrowFunction | TS.FunctionExpression): Expr | undefined {
    if (!ts.isBlock(fn.body)) return this.expr(fn.body);
    const ret = fn.body.statements.find(ts.isReturnStatement);
    return fn.body.statements.length === 1 && ret?.expression ? this.expr(ret.expression) : undefined;
  }

  expr(e: TS.Expression): Expr {
    const pos = this.pos(e);
    const unknown = (): Expr => ({ k: 'unknown', text: e.getText(this.sf), pos });
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e) || ts.isSatisfiesExpression(e)) return this.expr(e.expression);
    if (ts.isIdentifier(e)) return e.text === 'undefined' ? { k: 'none', pos } : { k: 'name', id: e.text, pos };
    if (e.kind === ts.SyntaxKind.ThisKeyword) return { k: 'name', id: 'self', pos };
    if (ts.isNumericLiteral(e)) return { k: 'num', v: Number(e.text), pos };
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return { k: 'str', v: e.text, pos };
    if (ts.isTemplateExpression(e)) {
      const parts: (string | { e: Expr })[] = [e.head.text];
      for (const span of e.templateSpans) parts.push({ e: this.expr(span.expression) }, span.literal.text);
      return { k: 'fstr', parts: parts.filter((p) => p !== ''), pos };
    }
    if (e.kind === ts.SyntaxKind.TrueKeyword) return { k: 'bool', v: true, pos };
    if (e.kind === ts.SyntaxKind.FalseKeyword) return { k: 'bool', v: false, pos };
    if (e.kind === ts.SyntaxKind.NullKeyword) return { k: 'none', pos };
    if (ts.isPropertyAccessExpression(e) && e.name.text === 'length') return { k: 'call', fn: { k: 'name', id: 'len', pos }, args: [{ value: this.expr(e.expression) }], pos };
    if (ts.isPropertyAccessExpression(e)) return { k: 'attr', obj: this.expr(e.expression), name: e.name.text, pos };
    if (ts.isElementAccessExpression(e)) return { k: 'index', obj: this.expr(e.expression), index: this.expr(e.argumentExpression), pos };
    if (ts.isCallExpression(e) || ts.isNewExpression(e)) return this.call(e, pos) ?? unknown();
    if (ts.isPrefixUnaryExpression(e)) {
      const op = e.operator === ts.SyntaxKind.MinusToken ? '-' : e.operator === ts.SyntaxKind.ExclamationToken ? 'not' : e.operator === ts.SyntaxKind.PlusToken ? '+' : undefined;
      return op ? { k: 'unary', op, e: this.expr(e.operand), pos } : unknown();
    }
    if (ts.isBinaryExpression(e)) {
      const k = e.operatorToken.kind;
      if (BIN[k]) return { k: 'bin', op: BIN[k]!, l: this.expr(e.left), r: this.expr(e.right), pos };
      if (CMP[k]) return { k: 'compare', ops: [CMP[k]!], items: [this.expr(e.left), this.expr(e.right)], pos };
      if (k === ts.SyntaxKind.AmpersandAmpersandToken) return { k: 'boolop', op: 'and', l: this.expr(e.left), r: this.expr(e.right), pos };
      if (k === ts.SyntaxKind.BarBarToken || k === ts.SyntaxKind.QuestionQuestionToken) return { k: 'boolop', op: 'or', l: this.expr(e.left), r: this.expr(e.right), pos };
      return unknown();
    }
    if (ts.isConditionalExpression(e)) return { k: 'cond', test: this.expr(e.condition), then: this.expr(e.whenTrue), else: this.expr(e.whenFalse), pos };
    if (ts.isArrayLiteralExpression(e)) {
      const n = this.arrayLength(e);
      if (n) return this.range(n, pos);
      return { k: 'list', items: e.elements.map((x) => (ts.isSpreadElement(x) ? { k: 'splat' as const, e: this.expr(x.expression), pos: this.pos(x) } : this.expr(x))), tuple: false, pos };
    }
    if (ts.isObjectLiteralExpression(e)) {
      const entries: { key: Expr; value: Expr; splat?: boolean }[] = [];
      for (const p of e.properties) {
        // `{ ...base, units: 4 }`: the spread object's properties, then the rest over them (Python's `**base`).
        if (ts.isSpreadAssignment(p)) { entries.push({ key: { k: 'none', pos: this.pos(p) }, value: this.expr(p.expression), splat: true }); continue; }
        const name = p.name?.getText(this.sf).replace(/^['"]|['"]$/g, '');
        if (!name) continue;
        const key: Expr = { k: 'str', v: name, pos: this.pos(p) };
        if (ts.isPropertyAssignment(p)) entries.push({ key, value: this.expr(p.initializer) });
        else if (ts.isShorthandPropertyAssignment(p)) entries.push({ key, value: { k: 'name', id: name, pos: this.pos(p) } });
      }
      return { k: 'dict', entries, pos };
    }
    if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) {
      const body = this.fnBody(e);
      return body ? { k: 'lambda', params: e.parameters.map((p) => this.param(p)), body, pos } : unknown();
    }
    return unknown();
  }

  private range(n: TS.Expression, pos: Pos): Expr {
    return { k: 'call', fn: { k: 'name', id: 'range', pos }, args: [{ value: this.expr(n) }], pos };
  }

  private call(e: TS.CallExpression | TS.NewExpression, pos: Pos): Expr | undefined {
    const argsIn = e.arguments ?? [];
    if (e.expression.kind === ts.SyntaxKind.SuperKeyword) {
      const sup: Expr = { k: 'call', fn: { k: 'name', id: 'super', pos }, args: [], pos };
      return { k: 'call', fn: { k: 'attr', obj: sup, name: '__init__', pos }, args: this.args(argsIn), pos };
    }
    const callee = e.expression;
    if (ts.isPropertyAccessExpression(callee)) {
      const name = callee.name.text;
      const recvText = callee.expression.getText(this.sf);
      if (recvText === 'Math' && (name === 'floor' || name === 'trunc') && argsIn.length === 1) {
        const a = argsIn[0];
        const inner = ts.isParenthesizedExpression(a) ? a.expression : a;
        if (ts.isBinaryExpression(inner) && inner.operatorToken.kind === ts.SyntaxKind.SlashToken) return { k: 'bin', op: '//', l: this.expr(inner.left), r: this.expr(inner.right), pos };
        return { k: 'call', fn: { k: 'name', id: 'int', pos }, args: [{ value: this.expr(a) }], pos };
      }
      if (recvText === 'Array' && name === 'from' && argsIn.length >= 1) {
        const n = this.lengthOf(argsIn[0]);
        const iter = n ? this.range(n, pos) : this.expr(argsIn[0]);
        if (argsIn.length === 1) return iter;
        return this.mapOver(iter, argsIn[1], n !== undefined, pos);
      }
      // `Array.isArray(x)` asks what Python's `isinstance(x, (list, tuple))` does: a JS array lowers to either.
      if (recvText === 'Array' && name === 'isArray' && argsIn.length === 1) {
        const types: Expr = { k: 'list', tuple: true, items: [{ k: 'name', id: 'list', pos }, { k: 'name', id: 'tuple', pos }], pos };
        return { k: 'call', fn: { k: 'name', id: 'isinstance', pos }, args: [{ value: this.expr(argsIn[0]) }, { value: types }], pos };
      }
      if (name === 'map' && argsIn.length === 1) {
        const n = this.arrayLength(callee.expression);
        return this.mapOver(n ? this.range(n, pos) : this.expr(callee.expression), argsIn[0], n !== undefined, pos);
      }
      if (name === 'push') {
        return { k: 'call', fn: { k: 'attr', obj: this.expr(callee.expression), name: 'append', pos }, args: this.args(argsIn), pos };
      }
    }
    return { k: 'call', fn: this.expr(callee), args: this.args(argsIn), pos };
  }

  /** Arguments in order: an object literal is one value, as JavaScript passes it (`{ units: 8 }`). */
  private args(argsIn: readonly TS.Expression[]): Arg[] {
    const out: Arg[] = [];
    argsIn.forEach((a) => {
      if (ts.isSpreadElement(a)) out.push({ value: this.expr(a.expression), splat: '*' });
      else out.push({ value: this.expr(a) });
    });
    return out;
  }
}
