/**
 * Reads a TypeScript conversion script for key pairs, more modestly than the Python scanner: string
 * and template literals (`` `blocks.${i}.norm1.weight` ``), 2-element arrays inside an array or a
 * `.push(…)` (PaddleNLP's third `"transpose"` element included), and object entries `"a": "b"`. Any
 * other transpose in the file makes it "loose": no pair is then taken as untransposed.
 */
import type TS from 'typescript';
import { typescriptCompiler } from '../source/typescriptCompiler';
import { Pos } from '../source/ir';
import { KeyLiteral, KeyPair, ScriptScan, TemplatePart, Transposition, patternOf, splitPlaceholders } from './keyLiterals';

let ts: typeof TS | undefined;

async function compiler(): Promise<typeof TS> {
  ts ??= typescriptCompiler();
  return ts;
}

const RESHAPE_CALLS = new Set(['reshape', 'view', 'squeeze', 'unsqueeze', 'flatten', 'expandDims', 'expand', 'broadcastTo', 'tile', 'permute']);
const TRANSPOSE_CALLS = new Set(['transpose', 't', 'permute', 'swapaxes', 'moveaxis']);

export async function scanTypeScriptScript(path: string, text: string): Promise<ScriptScan> {
  const t = await compiler();
  const sf = t.createSourceFile(path, text, t.ScriptTarget.Latest, true, t.ScriptKind.TS);
  const pos = (n: TS.Node): Pos => {
    const s = sf.getLineAndCharacterOfPosition(n.getStart(sf));
    const e = sf.getLineAndCharacterOfPosition(n.getEnd());
    return { line: s.line, column: s.character, endLine: e.line, endColumn: e.character };
  };
  const numeric = new Set<string>();
  const literals = new Map<TS.Node, KeyLiteral>();
  const pairs: KeyPair[] = [];
  let looseTranspose = false;
  let reshapes = false;

  const literal = (n: TS.Node | undefined): KeyLiteral | undefined => {
    while (n && t.isParenthesizedExpression(n)) n = n.expression;
    return n ? literals.get(n) : undefined;
  };
  const parts = (n: TS.Node): TemplatePart[] | undefined => {
    if (t.isStringLiteral(n) || t.isNoSubstitutionTemplateLiteral(n)) return splitPlaceholders(n.text);
    if (!t.isTemplateExpression(n)) return undefined;
    const out: TemplatePart[] = [n.head.text];
    for (const span of n.templateSpans) {
      if (!t.isIdentifier(span.expression)) return undefined;
      out.push({ name: span.expression.text }, span.literal.text);
    }
    return out;
  };
  const groupOf = (container: TS.Node): string | undefined => {
    const p = container.parent;
    if (t.isCallExpression(p) && t.isPropertyAccessExpression(p.expression) && ['push', 'concat', 'unshift'].includes(p.expression.name.text)) return p.expression.expression.getText(sf);
    if (t.isVariableDeclaration(p) && t.isIdentifier(p.name)) return p.name.text;
    if (t.isBinaryExpression(p) && p.right === container) return p.left.getText(sf);
    return `@${pos(container).line}:${pos(container).column}`;
  };

  // Pass 1: loop counters, literals, transposes and reshapes.
  const first = (n: TS.Node): void => {
    if (t.isForStatement(n) && n.initializer && t.isVariableDeclarationList(n.initializer)) {
      for (const d of n.initializer.declarations) if (t.isIdentifier(d.name)) numeric.add(d.name.text);
    }
    if (t.isCallExpression(n) && t.isPropertyAccessExpression(n.expression) && n.expression.getText(sf) === 'Array.from' && n.arguments[1]) {
      const fn = n.arguments[1];
      if ((t.isArrowFunction(fn) || t.isFunctionExpression(fn)) && fn.parameters[1] && t.isIdentifier(fn.parameters[1].name)) numeric.add(fn.parameters[1].name.text);
    }
    if (t.isStringLiteral(n) || t.isNoSubstitutionTemplateLiteral(n) || t.isTemplateExpression(n)) {
      const p = parts(n);
      const r = p ? patternOf(p, [], numeric) : undefined;
      if (r) literals.set(n, { pattern: r.pattern, numeric: r.numeric, pos: pos(n) });
      if (t.isTemplateExpression(n)) return;
    }
    if (t.isPropertyAccessExpression(n) && ['T', 'mT'].includes(n.name.text)) looseTranspose = true;
    if (t.isCallExpression(n) && t.isPropertyAccessExpression(n.expression)) {
      const name = n.expression.name.text;
      if (TRANSPOSE_CALLS.has(name)) looseTranspose = true;
      if (RESHAPE_CALLS.has(name)) reshapes = true;
    }
    t.forEachChild(n, first);
  };
  t.forEachChild(sf, first);
  // Literals were read before every loop counter was known: read them again now that all are.
  for (const [n, l] of literals) {
    const p = parts(n);
    const r = p ? patternOf(p, [], numeric) : undefined;
    if (r) l.numeric = r.numeric;
  }

  const second = (n: TS.Node): void => {
    if (t.isArrayLiteralExpression(n) && n.elements.length >= 2 && n.elements.length <= 3) {
      const a = literal(n.elements[0]);
      const b = literal(n.elements[1]);
      const third = n.elements[2];
      const container = n.parent;
      const inList = t.isArrayLiteralExpression(container) || (t.isCallExpression(container) && t.isPropertyAccessExpression(container.expression) && container.expression.name.text === 'push');
      if (a && b && inList && !(third && literal(third)?.pattern.includes('.'))) {
        let transposition: Transposition = 'none';
        if (third) transposition = (t.isStringLiteral(third) && third.text === 'transpose') ? 'yes' : third.kind === t.SyntaxKind.NullKeyword ? 'none' : 'opaque';
        const group = t.isArrayLiteralExpression(container) ? groupOf(container) : (container as TS.CallExpression).expression.getText(sf).replace(/\.push$/, '');
        const p: KeyPair = { first: a, second: b, pos: pos(n), group: group ?? '', transposition };
        if (transposition === 'yes') p.why = 'PaddleNLP\'s `"transpose"` action';
        pairs.push(p);
      }
    }
    if (t.isPropertyAssignment(n) && t.isObjectLiteralExpression(n.parent)) {
      const key = t.isComputedPropertyName(n.name) ? n.name.expression : n.name;
      const a = literal(key);
      const b = literal(n.initializer);
      if (a && b) pairs.push({ first: a, second: b, pos: pos(n), group: groupOf(n.parent) ?? '', transposition: 'none' });
    }
    t.forEachChild(n, second);
  };
  t.forEachChild(sf, second);

  const all = [...literals.values()].sort((a, b) => a.pos.line - b.pos.line || a.pos.column - b.pos.column);
  return { literals: all, pairs, looseTranspose, reshapes };
}
