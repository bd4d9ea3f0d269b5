/**
 * Slice bounds and split sizes as the script writes them — `config.hidden_size * 2`, `-dim`,
 * `dims_per_head * num_key_value_heads` — read as a sum of integer multiples of named quantities
 * (a product of names is one quantity). The fused-slice check (fusedSlices.ts) solves those names
 * from the checkpoints' shapes; anything else (a call, a division that is not exact) is unreadable.
 */
import type { Node } from 'web-tree-sitter';

/** `c + Σ coef·name`: `terms` maps a name (or `a*b` for a product) to its coefficient. */
export interface Linear { c: number; terms: Record<string, number> }

const named = (n: Node): Node[] => n.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');

export function linearOf(e: Node | undefined, depth = 0): Linear | undefined {
  if (!e || depth > 20) return undefined;
  switch (e.type) {
    case 'parenthesized_expression': return named(e).length === 1 ? linearOf(named(e)[0], depth + 1) : undefined;
    case 'integer': return /^\d+$/.test(e.text) ? { c: Number(e.text), terms: {} } : undefined;
    case 'identifier': case 'attribute': return { c: 0, terms: { [e.text.replace(/\s/g, '')]: 1 } };
    case 'unary_operator': {
      const v = linearOf(named(e)[0], depth + 1);
      const op = e.children[0]?.text;
      return v && (op === '-' ? scale(v, -1) : op === '+' ? v : undefined);
    }
    case 'binary_operator': {
      const a = linearOf(e.childForFieldName('left') ?? undefined, depth + 1);
      const b = linearOf(e.childForFieldName('right') ?? undefined, depth + 1);
      const op = e.childForFieldName('operator')?.text;
      if (!a || !b) return undefined;
      if (op === '+') return add(a, b);
      if (op === '-') return add(a, scale(b, -1));
      if (op === '*') return multiply(a, b);
      if ((op === '//' || op === '/') && isConst(b) && b.c !== 0) return divide(a, b.c);
      return undefined;
    }
    default: return undefined;
  }
}

const isConst = (v: Linear) => Object.keys(v.terms).length === 0;
const scale = (v: Linear, k: number): Linear => ({ c: v.c * k, terms: Object.fromEntries(Object.entries(v.terms).map(([n, x]) => [n, x * k])) });

function add(a: Linear, b: Linear): Linear {
  const terms = { ...a.terms };
  for (const [n, x] of Object.entries(b.terms)) terms[n] = (terms[n] ?? 0) + x;
  for (const n of Object.keys(terms)) if (terms[n] === 0) delete terms[n];
  return { c: a.c + b.c, terms };
}

function multiply(a: Linear, b: Linear): Linear | undefined {
  if (isConst(a)) return scale(b, a.c);
  if (isConst(b)) return scale(a, b.c);
  // A product of two single names is a quantity of its own (`dims_per_head*num_key_value_heads`).
  const [na, nb] = [Object.keys(a.terms), Object.keys(b.terms)];
  if (a.c !== 0 || b.c !== 0 || na.length !== 1 || nb.length !== 1) return undefined;
  return { c: 0, terms: { [[na[0], nb[0]].sort().join('*')]: a.terms[na[0]] * b.terms[nb[0]] } };
}

function divide(a: Linear, k: number): Linear | undefined {
  if (a.c % k !== 0 || Object.values(a.terms).some((x) => x % k !== 0)) return undefined;
  return scale(a, 1 / k);
}

/** The value with the names known so far, or undefined while one is unknown. */
export function evaluate(v: Linear, known: ReadonlyMap<string, number>): number | undefined {
  let sum = v.c;
  for (const [n, x] of Object.entries(v.terms)) {
    const k = known.get(n);
    if (k === undefined) return undefined;
    sum += x * k;
  }
  return sum;
}

export const minus = (a: Linear, b: Linear): Linear => add(a, scale(b, -1));
