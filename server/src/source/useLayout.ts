/**
 * A parameter's storage order from the code that uses it. A framework layer (`nn.Linear`) says its own
 * layout; a bare `nn.Parameter(torch.randn(in_f, out_f))` or `create_parameter([in, out])` says nothing
 * until `forward` uses it: `x @ W` and `matmul(x, W)` read it as `[in, out]`, `F.linear(x, W)` (torch)
 * and `x @ W.T` as `[out, in]`, `einsum` by its subscripts, `conv2d(x, W)` as `[out, in, kh, kw]`.
 * Reading the name `weight` instead inverts the truth for every Paddle-style or JAX-style port written
 * in torch. Methods of the class (and its user-defined bases) are read, following the helpers they call
 * with the parameter as an argument (methods of the class and functions of the file); uses that
 * disagree leave the layout unknown, and so does a parameter nothing uses in a way that tells.
 */
import { Arg, ClassDef, Expr, FunctionDef, SourceFile, Stmt } from './ir';
import { pythonText } from './knownNames';

export interface UsedLayout {
  /** `in_out`, `out_in`, `OIHW`, `OIW`, `OIDHW`. */
  layout: string;
  /** The use that says so, for messages: `` `x @ self.weight` at port.py:12 ``. */
  why: string;
}

/** A parameter reached through an expression: `self.weight`, an alias of it, maybe transposed. */
interface Ref { attr: string; t: boolean }

type Env = Map<string, Ref>;

const MAX_DEPTH = 3;
const PASS_THROUGH = new Set(['to', 'type_as', 'half', 'float', 'bfloat16', 'double', 'contiguous', 'clone', 'detach', 'cast', 'astype']);
const CONV: Record<string, string> = { conv1d: 'OIW', conv2d: 'OIHW', conv3d: 'OIDHW' };

interface Found { layout: string; why: string }

/**
 * The layouts the methods of `classes` (a class and its user-defined bases, most derived first) give
 * their own parameters, by attribute name. The call's module decides `F.linear`, whose weight is
 * `[out, in]` in torch and `[in, out]` in Paddle.
 */
export function layoutsFromUse(classes: readonly { def: ClassDef; file: SourceFile }[]): Map<string, UsedLayout> {
  const found = new Map<string, Found[]>();
  const methods = new Map<string, { fn: FunctionDef; file: SourceFile }>();
  for (const c of [...classes].reverse()) for (const [name, fn] of c.def.methods) methods.set(name, { fn, file: c.file });
  for (const [name, m] of methods) {
    if (name === '__init__') continue;
    new Reader(m.file, methods, found).fn(m.fn, new Map(), 0);
  }
  const out = new Map<string, UsedLayout>();
  for (const [attr, uses] of found) {
    const layouts = new Set(uses.map((u) => u.layout));
    if (layouts.size === 1) out.set(attr, { layout: uses[0].layout, why: uses[0].why });
  }
  return out;
}

class Reader {
  constructor(
    private readonly file: SourceFile,
    private readonly methods: Map<string, { fn: FunctionDef; file: SourceFile }>,
    private readonly found: Map<string, Found[]>,
  ) {}

  fn(fn: FunctionDef, env: Env, depth: number): void {
    this.block(fn.body, new Map(env), depth);
  }

  private block(stmts: readonly Stmt[], env: Env, depth: number): void {
    for (const s of stmts) {
      switch (s.k) {
        case 'assign': {
          this.expr(s.value, env, depth);
          const r = this.ref(s.value, env);
          for (const t of s.targets) {
            if (t.k !== 'name') continue;
            if (r) env.set(t.id, r);
            else env.delete(t.id);
          }
          break;
        }
        case 'augassign': this.expr(s.value, env, depth); break;
        case 'expr': this.expr(s.e, env, depth); break;
        case 'return': if (s.value) this.expr(s.value, env, depth); break;
        case 'if': this.expr(s.test, env, depth); this.block(s.body, env, depth); this.block(s.orelse, env, depth); break;
        case 'for': this.expr(s.iter, env, depth); this.block(s.body, env, depth); break;
        default: break;
      }
    }
  }

  /** The parameter an expression is, possibly transposed, or undefined. */
  private ref(e: Expr, env: Env): Ref | undefined {
    switch (e.k) {
      case 'attr':
        if (e.obj.k === 'name' && e.obj.id === 'self') return { attr: e.name, t: false };
        if (e.name === 'T' || e.name === 'mT') return flip(this.ref(e.obj, env));
        return undefined;
      case 'name': return env.get(e.id);
      case 'call': {
        if (e.fn.k !== 'attr') return undefined;
        const m = e.fn.name;
        const inner = this.ref(e.fn.obj, env);
        if (inner) {
          if (m === 't') return flip(inner);
          if (m === 'transpose' || m === 'permute') return swapsTwoDims(e.args, m) ? flip(inner) : undefined;
          if (PASS_THROUGH.has(m)) return inner;
          return undefined;
        }
        // torch.t(W), paddle.t(W), torch.transpose(W, 0, 1)
        const q = this.qualified(e.fn);
        const a0 = e.args[0] && !e.args[0].name ? this.ref(e.args[0].value, env) : undefined;
        if (a0 && /^(torch|paddle)\.t$/.test(q ?? '')) return flip(a0);
        if (a0 && /^(torch|paddle)\.transpose$/.test(q ?? '') && swapsTwoDims(e.args.slice(1), 'transpose')) return flip(a0);
        return undefined;
      }
      default: return undefined;
    }
  }

  private expr(e: Expr, env: Env, depth: number): void {
    switch (e.k) {
      case 'bin':
        if (e.op === '@') {
          this.use(this.ref(e.r, env), 'in_out', e);
          this.use(this.ref(e.l, env), 'out_in', e);
        }
        this.expr(e.l, env, depth); this.expr(e.r, env, depth);
        return;
      case 'call':
        this.call(e, env, depth);
        this.expr(e.fn, env, depth);
        for (const a of e.args) this.expr(a.value, env, depth);
        return;
      case 'attr': this.expr(e.obj, env, depth); return;
      case 'unary': this.expr(e.e, env, depth); return;
      case 'list': for (const x of e.items) this.expr(x, env, depth); return;
      case 'index': this.expr(e.obj, env, depth); this.expr(e.index, env, depth); return;
      case 'cond': this.expr(e.test, env, depth); this.expr(e.then, env, depth); this.expr(e.else, env, depth); return;
      case 'compare': for (const x of e.items) this.expr(x, env, depth); return;
      case 'boolop': this.expr(e.l, env, depth); this.expr(e.r, env, depth); return;
      default: return;
    }
  }

  private call(e: Extract<Expr, { k: 'call' }>, env: Env, depth: number): void {
    const q = this.qualified(e.fn);
    const name = q?.split('.').pop() ?? (e.fn.k === 'attr' ? e.fn.name : undefined);
    const root = q?.split('.')[0];
    const arg = (i: number, kw?: string): Expr | undefined => (kw ? e.args.find((a) => a.name === kw)?.value : undefined) ?? e.args.filter((a) => !a.name && !a.splat)[i]?.value;
    const flag = (kw: string) => { const v = arg(99, kw); return v?.k === 'bool' && v.v; };
    const framework = root === 'torch' || root === 'paddle' ? root : undefined;
    if (framework && (name === 'matmul' || name === 'mm' || name === 'bmm')) {
      const x = arg(0, framework === 'paddle' ? 'x' : 'input');
      const w = arg(1, framework === 'paddle' ? 'y' : 'other');
      if (w) this.use(this.ref(w, env), flag('transpose_y') ? 'out_in' : 'in_out', e);
      if (x) this.use(this.ref(x, env), flag('transpose_x') ? 'in_out' : 'out_in', e);
      return;
    }
    if (framework && name === 'linear') {
      const w = arg(1, 'weight');
      if (w) this.use(this.ref(w, env), framework === 'torch' ? 'out_in' : 'in_out', e);
      return;
    }
    if (framework && (name === 'addmm' || name === 'baddbmm')) {
      const w = arg(2, framework === 'paddle' ? 'y' : 'mat2');
      if (w) this.use(this.ref(w, env), 'in_out', e);
      return;
    }
    if (framework && name && CONV[name]) {
      const w = arg(1, 'weight');
      const r = w ? this.ref(w, env) : undefined;
      if (r && !r.t) this.record(r.attr, CONV[name], e);
      return;
    }
    if (framework && name === 'einsum') {
      this.einsum(e, env);
      return;
    }
    // A helper of the class or the file, handed the parameter: read its body with the argument bound.
    if (depth >= MAX_DEPTH) return;
    let target: { fn: FunctionDef; file: SourceFile; self: boolean } | undefined;
    if (e.fn.k === 'attr' && e.fn.obj.k === 'name' && e.fn.obj.id === 'self') {
      const m = this.methods.get(e.fn.name);
      if (m) target = { ...m, self: true };
    } else if (e.fn.k === 'name') {
      const f = this.file.functions.get(e.fn.id);
      if (f) target = { fn: f, file: this.file, self: false };
    }
    if (!target) return;
    const bound: Env = new Map();
    const params = target.fn.params.filter((p) => p.kind === 'plain').slice(target.self ? 1 : 0);
    const positional = e.args.filter((a) => !a.name && !a.splat);
    positional.forEach((a, i) => bindParam(bound, params[i]?.name, this.ref(a.value, env)));
    for (const a of e.args) if (a.name) bindParam(bound, a.name, this.ref(a.value, env));
    if (bound.size === 0) return;
    new Reader(target.file, this.methods, this.found).fn(target.fn, bound, depth + 1);
  }

  /** `einsum('bsi,oi->bso', x, W)`: W's letter that the output keeps is `out`, the one summed away is `in`. */
  private einsum(e: Extract<Expr, { k: 'call' }>, env: Env): void {
    const spec = e.args[0]?.value;
    if (spec?.k !== 'str') return;
    const [lhs, rhs] = spec.v.replace(/\s|\.\.\./g, '').split('->');
    if (rhs === undefined) return;
    const inputs = lhs.split(',');
    const operands = e.args.slice(1).filter((a) => !a.name);
    inputs.forEach((subs, i) => {
      const r = operands[i] ? this.ref(operands[i].value, env) : undefined;
      if (!r || subs.length !== 2) return;
      const kept = [...subs].map((c) => rhs.includes(c));
      if (kept[0] === kept[1]) return;
      const layout = kept[0] ? 'out_in' : 'in_out';
      this.record(r.attr, r.t ? other(layout) : layout, e);
    });
  }

  private use(r: Ref | undefined, layout: 'in_out' | 'out_in', e: Expr): void {
    if (r) this.record(r.attr, r.t ? other(layout) : layout, e);
  }

  private record(attr: string, layout: string, e: Expr): void {
    const text = render(e);
    const base = this.file.path.split(/[\\/]/).pop();
    const why = `${text ? `\`${text}\` at ` : ''}${base}:${e.pos.line + 1}`;
    const list = this.found.get(attr) ?? [];
    list.push({ layout, why });
    this.found.set(attr, list);
  }

  /** `F.linear` → `torch.nn.functional.linear` through the file's imports; undefined for anything else. */
  private qualified(e: Expr): string | undefined {
    const parts: string[] = [];
    let x = e;
    while (x.k === 'attr') { parts.unshift(x.name); x = x.obj; }
    if (x.k !== 'name') return undefined;
    const imp = this.file.imports.find((i) => i.local === x.id && i.level === 0);
    if (!imp) return undefined;
    const head = imp.name ? `${imp.module}.${imp.name}` : imp.module;
    return [head, ...parts].join('.');
  }
}

function bindParam(env: Env, name: string | undefined, r: Ref | undefined): void {
  if (name && r) env.set(name, r);
}

const flip = (r: Ref | undefined): Ref | undefined => (r ? { attr: r.attr, t: !r.t } : undefined);
const other = (l: string) => (l === 'in_out' ? 'out_in' : 'in_out');

/**
 * Whether a 2-D tensor's two dimensions are swapped: torch's `transpose(0, 1)` / `transpose(-1, -2)`
 * (two dimensions exchanged), `permute(1, 0)` and Paddle's `transpose([1, 0])` (a permutation).
 */
function swapsTwoDims(args: readonly Arg[], method: string): boolean {
  const int = (x: Expr) => (x.k === 'num' ? x.v : x.k === 'unary' && x.op === '-' && x.e.k === 'num' ? -x.e.v : NaN);
  const norm = (v: number) => (v < 0 ? v + 2 : v);
  if (args.length === 1 && args[0].value.k === 'list') {
    const perm = args[0].value.items.map((x) => norm(int(x)));
    return perm.length === 2 && perm[0] === 1 && perm[1] === 0;
  }
  if (args.length !== 2) return false;
  const [a, b] = args.map((x) => norm(int(x.value)));
  return method === 'transpose' ? (a === 0 && b === 1) || (a === 1 && b === 0) : a === 1 && b === 0;
}

/** The use as the code wrote it, for messages: short ones only, and only what the tree kept whole. */
function render(e: Expr): string | undefined {
  const text = pythonText(e);
  return text.includes('…') || text.length > 70 ? undefined : text;
}
