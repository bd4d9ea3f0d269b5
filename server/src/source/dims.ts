/**
 * Tensor dimensions as expressions over config values (`embed_dim`, `hidden_size*3`,
 * `(image_size//patch_size)*(image_size//patch_size)+1`). A dimension is a number when the code
 * pins it, an expression otherwise; `solveDim` finds the value of its one open symbol from a
 * concrete size on the other side of a mapping — that is how `embed_dim` becomes 768.
 */

export type Op = '+' | '-' | '*' | '//' | '/' | '%' | '**';
export type DimExpr = { sym: string } | { op: Op; a: Dim; b: Dim };
export type Dim = number | DimExpr;

export const symDim = (name: string): Dim => ({ sym: name });

export function isSym(d: Dim): d is { sym: string } {
  return typeof d === 'object' && 'sym' in d;
}

function compute(o: Op, a: number, b: number): number {
  switch (o) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case '//': return Math.floor(a / b);
    case '%': return a - b * Math.floor(a / b);
    case '**': return a ** b;
  }
}

/** `a op b`, folded when both are numbers and tidied where the identity is exact. */
export function opDim(o: Op, a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return compute(o, a, b);
  if (o === '*' && (a === 1 || b === 1)) return a === 1 ? b : a;
  if ((o === '+' || o === '-') && b === 0) return a;
  if (o === '+' && a === 0) return b;
  if ((o === '//' || o === '/') && b === 1) return a;
  return { op: o, a, b };
}

export function symbolsOf(d: Dim, out = new Set<string>()): Set<string> {
  if (typeof d === 'number') return out;
  if ('sym' in d) out.add(d.sym);
  else { symbolsOf(d.a, out); symbolsOf(d.b, out); }
  return out;
}

export function substitute(d: Dim, values: ReadonlyMap<string, number>): Dim {
  if (typeof d === 'number') return d;
  if ('sym' in d) return values.get(d.sym) ?? d;
  return opDim(d.op, substitute(d.a, values), substitute(d.b, values));
}

const PREC: Record<Op, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '//': 2, '%': 2, '**': 3 };

/** Python-like text with only the parentheses precedence needs: `embed_dim*3`, `(a//b)*(a//b)+1`. */
export function renderDim(d: Dim): string {
  if (typeof d === 'number') return Number.isInteger(d) ? String(d) : String(d);
  if ('sym' in d) return d.sym;
  const p = PREC[d.op];
  const side = (x: Dim, right: boolean) => {
    const s = renderDim(x);
    if (typeof x === 'number' || 'sym' in x) return s;
    const q = PREC[x.op];
    const sameAssoc = x.op === d.op && (d.op === '+' || d.op === '*');
    // Python groups left to right (`**` right to left); a floor division inside a product reads better bracketed.
    const needed = q < p || (q === p && (right ? !sameAssoc : d.op === '**')) || (d.op === '*' && (x.op === '//' || x.op === '%'));
    return needed ? `(${s})` : s;
  };
  return `${side(d.a, false)}${d.op}${side(d.b, true)}`;
}

export type Solved =
  | { kind: 'equal' }
  | { kind: 'bound'; sym: string; value: number; ambiguous: boolean }
  | { kind: 'conflict'; message: string }
  | { kind: 'open' };

/** Largest value tried when inverting a nonlinear expression (floor division, squares) by search. */
const SEARCH_LIMIT = 1 << 16;

/**
 * Makes `d` equal `value` under `known`: nothing to do, one symbol bound, a contradiction, or open
 * (two or more unknowns). Dimensions are non-negative integers; among several solutions (floor
 * division loses information) the smallest is taken and flagged.
 */
export function solveDim(d: Dim, value: number, known: ReadonlyMap<string, number>, defaults?: ReadonlyMap<string, { default?: number }>): Solved {
  const e = substitute(d, known);
  if (typeof e === 'number') {
    return e === value ? { kind: 'equal' } : { kind: 'conflict', message: `${renderDim(d)} is ${e}, not ${value}` };
  }
  const syms = symbolsOf(e);
  if (syms.size !== 1) return { kind: 'open' };
  const sym = [...syms][0];
  const direct = invert(e, value);
  if (direct !== undefined) {
    if (direct.length === 0) return { kind: 'conflict', message: `no value of \`${sym}\` makes ${renderDim(e)} equal ${value}` };
    return { kind: 'bound', sym, value: direct[0], ambiguous: false };
  }
  // Several values may fit (floor division): the code's own default when it is one of them, else the smallest.
  const dflt = defaults?.get(sym)?.default;
  if (dflt !== undefined && evalAt(e, sym, dflt) === value) return { kind: 'bound', sym, value: dflt, ambiguous: true };
  let first: number | undefined;
  let count = 0;
  for (let x = 0; x <= SEARCH_LIMIT && count < 2; x++) {
    if (evalAt(e, sym, x) === value) { first ??= x; count++; }
  }
  if (first === undefined) return { kind: 'conflict', message: `no value of \`${sym}\` makes ${renderDim(e)} equal ${value}` };
  return { kind: 'bound', sym, value: first, ambiguous: count > 1 };
}

/** `e` with its one symbol set to `x`, without building a substituted tree (the search calls this often). */
function evalAt(e: Dim, sym: string, x: number): number {
  if (typeof e === 'number') return e;
  if ('sym' in e) return e.sym === sym ? x : NaN;
  return compute(e.op, evalAt(e.a, sym, x), evalAt(e.b, sym, x));
}

/** Exact inversion for one occurrence of the symbol under + - * /; undefined when search must decide. */
function invert(e: Dim, v: number): number[] | undefined {
  if (typeof e === 'number') return e === v ? [] : [];
  if ('sym' in e) return Number.isInteger(v) && v >= 0 ? [v] : [];
  const aOpen = typeof e.a !== 'number';
  const bOpen = typeof e.b !== 'number';
  if (aOpen && bOpen) return undefined;
  const c = (aOpen ? e.b : e.a) as number;
  const x = aOpen ? e.a : e.b;
  switch (e.op) {
    case '+': return invert(x, v - c);
    case '-': return aOpen ? invert(x, v + c) : invert(x, c - v);
    case '*': return c !== 0 && Number.isInteger(v / c) ? invert(x, v / c) : [];
    case '/': return aOpen ? invert(x, v * c) : undefined;
    default: return undefined;
  }
}
