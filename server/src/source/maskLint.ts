/**
 * `fp16-mask-float32` (tpmap.md): an attention mask built in float32 — by a factory that takes the
 * default dtype (`torch.empty/zeros/ones/full/tensor`, `paddle.full/zeros/…`), an explicit
 * `dtype=torch.float32`, or `.float()` — that reaches the attention scores (`scores + mask`,
 * `torch.where`) without a cast to the activations' dtype. In fp16/bf16 inference that either fails
 * or silently runs the attention in float32: HF CLIP's `_build_causal_attention_mask` before 4.22.
 *
 * A small taint analysis over the common tree: within a function, values flow through assignments,
 * tensor methods and arithmetic; a cast (`.to(x.dtype)`, `.type_as(x)`, `.half()`, `dtype=` of
 * another dtype) ends the flow. Across functions, a function returning such a mask makes its calls
 * masks, and a mask passed on as `causal_attention_mask=…` reaches the scores when some function of
 * the file adds a parameter of that name to them — the way HF passes masks down through its layers.
 */
import { Expr, FunctionDef, Pos, SourceFile, Stmt } from './ir';
import { pythonText } from './knownNames';
import { lowerPython } from './pyLower';

export interface SourceDiagnostic {
  /** 0-based, UTF-16 columns, end exclusive (LSP's convention). */
  line: number; column: number; endLine: number; endColumn: number;
  severity: 'warning';
  code: 'fp16-mask-float32';
  message: string;
  related?: { line: number; column: number; endLine: number; endColumn: number; message: string }[];
}

interface Origin {
  site: Pos;
  /** How it became float32: "`torch.empty` takes the default dtype (float32)", … */
  why: string;
  fill?: string;
  /** Names it was assigned to, and the function it was built in: only a mask is reported. */
  names: Set<string>;
  fn: string;
}

interface Sink { origins: Origin[]; pos: Pos; what: string }

type Taint = Origin[];

const FACTORIES = new Set(['empty', 'zeros', 'ones', 'full', 'tensor', 'rand', 'randn', 'to_tensor', 'as_tensor']);
const COMBINE = new Set(['triu', 'tril', 'cat', 'concat', 'stack', 'maximum', 'minimum', 'clamp', 'masked_fill', 'expand', 'unsqueeze', 'reshape', 'tile', 'repeat_interleave']);
const FLOAT32 = /^(torch|paddle|np|numpy)\.(float32|float)$|^['"]float32['"]$/;
const MASKY = /mask|bias/i;
const MAX_ROUNDS = 4;

export async function lintMaskDtypes(path: string, text: string): Promise<SourceDiagnostic[]> {
  if (!/\.pyi?$/.test(path)) return [];
  return lintFile(await lowerPython(path, text), text);
}

interface FnInfo { name: string; fn: FunctionDef }

function functionsOf(file: SourceFile): FnInfo[] {
  const out: FnInfo[] = [];
  for (const c of file.classes.values()) for (const [name, fn] of c.methods) out.push({ name, fn });
  for (const [name, fn] of file.functions) out.push({ name, fn });
  return out;
}

export function lintFile(file: SourceFile, text: string): SourceDiagnostic[] {
  const lines = text.split('\n');
  const fns = functionsOf(file);
  const builders = new Map<string, Taint>();
  const sinkParams = new Map<string, Pos>();
  let sinks: Sink[] = [];
  let escapes: { origins: Origin[]; name: string; pos: Pos }[] = [];
  const origins = new Map<string, Origin>();
  // A model library's mask builders (transformers' create_causal_mask, a package's own helpers) take the
  // padding mask and return one in the right dtype: a mask handed to them does not reach the scores as is.
  const builtElsewhere = new Set(file.imports.filter((i) => i.name && (i.level > 0 || i.module.split('.')[0] === 'transformers')).map((i) => i.local));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    sinks = [];
    escapes = [];
    const before = JSON.stringify([...builders].map(([k, v]) => [k, v.length]));
    for (const f of fns) {
      const a = new FnAnalysis(f, builders, origins, lines, builtElsewhere);
      a.run();
      sinks.push(...a.sinks);
      escapes.push(...a.escapes);
      for (const [p, pos] of a.sinkParams) if (!sinkParams.has(p)) sinkParams.set(p, pos);
      if (a.returned.length) builders.set(f.name, a.returned);
    }
    if (JSON.stringify([...builders].map(([k, v]) => [k, v.length])) === before && round > 0) break;
  }
  for (const e of escapes) {
    const at = sinkParams.get(e.name);
    if (at) sinks.push({ origins: e.origins, pos: at, what: `passed on as \`${e.name}\` (line ${e.pos.line + 1}), which is added to the attention scores` });
  }
  // The fix in the file's framework's words: a Paddle file has no `.to(dtype)` or `torch.finfo`.
  const roots = new Set(file.imports.map((i) => i.module.split('.')[0]));
  const paddle = roots.has('paddle') && !roots.has('torch');
  const out = new Map<Origin, SourceDiagnostic>();
  for (const s of sinks) {
    for (const o of s.origins) {
      if (out.has(o) || !([...o.names].some((n) => MASKY.test(n)) || MASKY.test(o.fn))) continue;
      out.set(o, {
        ...range(o.site), severity: 'warning', code: 'fp16-mask-float32',
        message: `attention mask built in float32 (${o.why}${o.fill ? `, filled with \`${o.fill}\`` : ''}) reaches the attention scores without a cast to their dtype: `
          + `fp16/bf16 inference fails or silently runs the attention in float32. ${fixText(paddle || /`paddle\./.test(o.why))}`,
        related: [{ ...range(s.pos), message: s.what }],
      });
    }
  }
  return [...out.values()].sort((a, b) => a.line - b.line || a.column - b.column);
}

function fixText(paddle: boolean): string {
  return paddle
    ? 'Build it in the activations\' dtype (`paddle.full(shape, paddle.finfo(x.dtype).min, dtype=x.dtype)`), or cast it (`.astype(x.dtype)`) before it is added.'
    : 'Build it in the activations\' dtype (`dtype=hidden_states.dtype`) and fill it with `torch.finfo(dtype).min`, or cast it (`.to(hidden_states.dtype)`) before it is added.';
}

const range = (p: Pos) => ({ line: p.line, column: p.column, endLine: p.endLine, endColumn: p.endColumn });

/** Dotted text of a name or attribute chain (`torch.nn.functional.softmax`), or undefined. */
function dotted(e: Expr): string | undefined {
  if (e.k === 'name') return e.id;
  if (e.k === 'attr') { const o = dotted(e.obj); return o ? `${o}.${e.name}` : undefined; }
  return undefined;
}

function snippet(lines: string[], p: Pos): string {
  const s = p.line === p.endLine ? lines[p.line]?.slice(p.column, p.endColumn) : `${lines[p.line]?.slice(p.column)}…`;
  return s && s.length > 60 ? `${s.slice(0, 57)}…` : s ?? '';
}

const isConstant = (e: Expr) => e.k === 'num' || e.k === 'str' || e.k === 'none' || e.k === 'bool' || (e.k === 'unary' && e.e.k === 'num');

class FnAnalysis {
  readonly sinks: Sink[] = [];
  readonly escapes: { origins: Origin[]; name: string; pos: Pos }[] = [];
  readonly sinkParams = new Map<string, Pos>();
  returned: Taint = [];
  private readonly env = new Map<string, Taint>();
  private readonly params = new Map<string, string>();

  constructor(
    private readonly f: FnInfo, private readonly builders: Map<string, Taint>, private readonly origins: Map<string, Origin>,
    private readonly lines: string[], private readonly builtElsewhere: ReadonlySet<string> = new Set(),
  ) {}

  run(): void {
    for (const p of this.f.fn.params) if (p.name !== 'self' && MASKY.test(p.name)) this.params.set(p.name, p.name);
    this.block(this.f.fn.body);
  }

  private origin(site: Pos, why: string): Origin {
    // One origin per place in the file, however many rounds see it.
    const key = `${site.line}:${site.column}:${site.endLine}:${site.endColumn}`;
    let o = this.origins.get(key);
    if (!o) this.origins.set(key, (o = { site, why, names: new Set(), fn: this.f.name }));
    return o;
  }

  private named(o: Origin, name: string): Origin {
    o.names.add(name);
    return o;
  }

  private block(stmts: Stmt[]): void {
    for (const s of stmts) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    switch (s.k) {
      case 'assign': {
        const t = this.eval(s.value);
        for (const target of s.targets) this.bind(target, t);
        return;
      }
      case 'augassign': {
        const v = this.eval(s.value);
        const cur = this.eval(s.target);
        if (s.op === '+') this.additive(cur, v, s.target, s.value, s.pos);
        this.bind(s.target, [...cur, ...v]);
        return;
      }
      case 'expr': this.eval(s.e); return;
      case 'if': this.eval(s.test); this.block(s.body); this.block(s.orelse); return;
      case 'for': this.eval(s.iter); this.block(s.body); return;
      case 'return': if (s.value) this.returned = unique([...this.returned, ...this.eval(s.value)]); return;
      default: return;
    }
  }

  private bind(target: Expr, t: Taint): void {
    if (target.k === 'name') {
      this.env.set(target.id, t);
      for (const o of t) o.names.add(target.id);
      this.params.delete(target.id);
    } else if (target.k === 'list') {
      for (const x of target.items) this.bind(x.k === 'splat' ? x.e : x, t);
    }
  }

  /** `a + b` where one side is a float32 mask and the other the scores: the sink. Also finds mask parameters added to scores. */
  private additive(l: Taint, r: Taint, le: Expr, re: Expr, pos: Pos): void {
    const what = `added to \`${snippet(this.lines, le.pos)}\` here`;
    if (l.length && !r.length && !isConstant(re)) this.sinks.push({ origins: l, pos, what });
    if (r.length && !l.length && !isConstant(le)) this.sinks.push({ origins: r, pos, what });
    for (const [e, other] of [[le, re], [re, le]] as const) {
      const p = this.paramOf(e);
      if (p && !isConstant(other) && this.paramOf(other) !== p) { if (!this.sinkParams.has(p)) this.sinkParams.set(p, pos); }
    }
  }

  /** The mask parameter an expression still is (through views and device moves, not casts). */
  private paramOf(e: Expr): string | undefined {
    if (e.k === 'name') return this.params.get(e.id);
    if (e.k === 'index') return this.paramOf(e.obj);
    if (e.k === 'call' && e.fn.k === 'attr' && !['to', 'type', 'type_as', 'half', 'bfloat16', 'astype', 'cast'].includes(e.fn.name)) return this.paramOf(e.fn.obj);
    return undefined;
  }

  private eval(e: Expr): Taint {
    switch (e.k) {
      case 'name': return this.env.get(e.id) ?? [];
      case 'attr': return ['shape', 'dtype', 'device', 'ndim'].includes(e.name) ? [] : this.eval(e.obj);
      case 'index': this.eval(e.index); return this.eval(e.obj);
      case 'bin': {
        const l = this.eval(e.l);
        const r = this.eval(e.r);
        if (e.op === '+') this.additive(l, r, e.l, e.r, e.pos);
        return unique([...l, ...r]);
      }
      case 'unary': return this.eval(e.e);
      case 'cond': this.eval(e.test); return unique([...this.eval(e.then), ...this.eval(e.else)]);
      case 'list': return unique(e.items.flatMap((x) => this.eval(x.k === 'splat' ? x.e : x)));
      case 'call': return this.call(e);
      case 'boolop': return unique([...this.eval(e.l), ...this.eval(e.r)]);
      default: return [];
    }
  }

  private call(e: Extract<Expr, { k: 'call' }>): Taint {
    const argTaints = e.args.map((a) => this.eval(a.value));
    const kw = (name: string) => e.args.find((a) => a.name === name)?.value;
    // Masks handed to another module or function: followed by parameter name.
    const library = e.fn.k === 'name' && this.builtElsewhere.has(e.fn.id);
    e.args.forEach((a, i) => {
      if (library) return;
      const t = argTaints[i];
      if (!t.length) return;
      const name = a.name ?? (a.value.k === 'name' ? a.value.id : undefined);
      if (name) this.escapes.push({ origins: t, name, pos: a.value.pos });
    });
    const fnText = dotted(e.fn) ?? '';
    const [root] = fnText.split('.');
    const last = fnText.split('.').pop() ?? '';
    const dtype = kw('dtype');
    if ((root === 'torch' || root === 'paddle') && fnText.split('.').length === 2) {
      if (FACTORIES.has(last)) {
        if (dtype) return FLOAT32.test(dotted(dtype) ?? pythonText(dtype)) ? [this.origin(e.pos, `\`dtype=${dotted(dtype) ?? pythonText(dtype)}\``)] : [];
        if (last === 'full') {
          const fill = e.args.filter((a) => !a.name)[1]?.value ?? kw('fill_value');
          if (root === 'torch' && fill && fill.k === 'num' && !fill.float) return []; // an integer fill makes an integer tensor
        }
        if (last === 'tensor' || last === 'to_tensor' || last === 'as_tensor') {
          const data = e.args[0]?.value;
          if (!data || (data.k === 'num' && !data.float) || data.k === 'bool') return [];
        }
        return [this.origin(e.pos, `\`${fnText}\` without \`dtype=\` makes float32`)];
      }
      if (last === 'where') {
        const [, a, b] = argTaints;
        const [, ae, be] = e.args.map((x) => x.value);
        if (ae && be && ((a?.length && !b?.length && !isConstant(be)) || (b?.length && !a?.length && !isConstant(ae)))) {
          this.sinks.push({ origins: a?.length ? a : b!, pos: e.pos, what: '`where` promotes the scores to float32 here' });
        }
        return unique(argTaints.flat());
      }
      if (COMBINE.has(last)) return dtype ? [] : unique(argTaints.flat());
      return [];
    }
    if (e.fn.k === 'attr') {
      const recv = this.eval(e.fn.obj);
      const m = e.fn.name;
      const recvName = baseName(e.fn.obj);
      switch (m) {
        case 'to': case 'type': case 'astype': case 'cast': {
          const arg = e.args[0]?.value ?? dtype;
          if (!arg) return recv;
          const text = dotted(arg) ?? pythonText(arg);
          if (FLOAT32.test(text)) return recvName && MASKY.test(recvName) ? [this.named(this.origin(e.pos, `\`.${m}(${text})\``), recvName)] : recv;
          // `.to(x.device)` / `.to("cuda")` moves it; a dtype or a tensor argument casts it.
          if (/(^|\.)device$/.test(text) || arg.k === 'str' || e.args.some((a) => a.name === 'device') && !dtype) return recv;
          return [];
        }
        case 'type_as': case 'half': case 'bfloat16': return [];
        case 'float':
          return recvName && MASKY.test(recvName) ? [this.named(this.origin(e.pos, '`.float()`'), recvName)] : recv;
        case 'fill_': case 'masked_fill': case 'masked_fill_': case 'fill': {
          const v = e.args[e.args.length - 1]?.value;
          const t = v ? pythonText(v) : '';
          if (/inf|-\s*1e\d|finfo/.test(t)) for (const o of recv) o.fill ??= t;
          return recv;
        }
        default:
          break;
      }
      if (e.fn.obj.k === 'name' && e.fn.obj.id === 'self') return this.builders.get(m) ?? [];
      return recv;
    }
    if (e.fn.k === 'name') return this.builders.get(e.fn.id) ?? [];
    return [];
  }
}

/** The variable an expression starts from, through indexing and method calls (`mask[:, None].float()` → `mask`). */
function baseName(e: Expr): string | undefined {
  if (e.k === 'name') return e.id;
  if (e.k === 'index') return baseName(e.obj);
  if (e.k === 'call' && e.fn.k === 'attr') return baseName(e.fn.obj);
  return undefined;
}

function unique(t: Taint): Taint {
  return [...new Set(t)];
}

