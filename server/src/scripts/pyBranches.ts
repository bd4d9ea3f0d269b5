/**
 * The `if` branches a conversion script's pair sits in, and the one list rewrite HF's scripts make
 * under such a branch. A script handles several variants of a model (`if base_model:`, `if
 * config.use_pooler:`, `if num_shards == 1:`) and the file alone cannot say which one this port takes;
 * the checkpoints can (branchDecision.ts).
 */
import type { Node } from 'web-tree-sitter';
import { Branch, GroupRewrite } from './keyLiterals';

const named = (n: Node): Node[] => n.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
const field = (n: Node, f: string): Node | undefined => n.childForFieldName(f) ?? undefined;
const inside = (n: Node, outer: Node) => n.startIndex >= outer.startIndex && n.endIndex <= outer.endIndex;

/** `if __name__ == "__main__":` is always taken when the script runs. */
const MAIN = /^__name__\s*==\s*['"]__main__['"]$|^['"]__main__['"]\s*==\s*__name__$/;

/** The branches around a node, outermost first (an `if`'s condition itself belongs to no branch). */
export function conditionsOf(n: Node): Branch[] {
  const out: Branch[] = [];
  for (let child: Node = n, p = n.parent; p; child = p, p = p.parent) {
    if (p.type !== 'if_statement') continue;
    const cond = field(p, 'condition');
    if (!cond || inside(child, cond) || MAIN.test(cond.text.trim())) continue;
    const alternatives = p.childrenForFieldName('alternative').filter((c): c is Node => c !== null);
    const k = alternatives.findIndex((a) => inside(child, a));
    out.unshift({ node: p.startIndex, branch: k + 1 });
  }
  return out;
}

/**
 * `L = [(p[0], p[1][N:]) if p[1].startswith("X") else p for p in L]`: every pair of `L` loses the
 * prefix `X` (N characters) on element 1 (or 0). Other rewrites are not understood.
 */
export function groupRewrite(n: Node): Omit<GroupRewrite, 'conditions'> | undefined {
  const left = field(n, 'left');
  const right = field(n, 'right');
  if (left?.type !== 'identifier' || right?.type !== 'list_comprehension') return undefined;
  const clauses = named(right).filter((c) => c.type === 'for_in_clause');
  const loop = clauses[0];
  const v = loop && field(loop, 'left');
  if (clauses.length !== 1 || field(loop, 'right')?.text !== left.text || v?.type !== 'identifier') return undefined;
  const body = field(right, 'body');
  if (body?.type !== 'conditional_expression') return undefined;
  const [then, cond, otherwise] = named(body);
  if (otherwise?.text !== v.text || then?.type !== 'tuple' || named(then).length !== 2) return undefined;
  // The condition: `p[E].startswith("X")`
  const m = new RegExp(`^${v.text}\\[([01])\\]\\.startswith\\((['"])([\\w.]+)\\2\\)$`).exec(cond?.text.replace(/\s/g, '') ?? '');
  if (!m) return undefined;
  const element = Number(m[1]) as 0 | 1;
  const items = named(then).map((x) => x.text.replace(/\s/g, ''));
  const keep = `${v.text}[${1 - element}]`;
  const cut = new RegExp(`^${v.text}\\[${element}\\]\\[(\\d+):\\]$`).exec(items[element]);
  if (items[1 - element] !== keep || !cut) return undefined;
  return { group: left.text, line: n.startPosition.row, element, prefix: m[3], strip: Number(cut[1]) };
}
