/**
 * What happens to a tensor between the line that reads it from a checkpoint dict and the line that
 * writes it under a new key, as far as the Python file says: through `.T`/`.t()`/`.transpose`, `.view`/
 * `.reshape`, `torch.cat`/`torch.stack` over the shards of a sharded checkpoint, slicing, `chunk`/
 * `split` of a fused tensor, local variables, and helper functions of the same file (their body read:
 * HF's `permute(w, n_heads)` is LLaMA's rotary row permutation). Anything else is `opaque`: the
 * checker then says nothing about the tensor's shape or layout, only about its keys.
 */
import type { Node } from 'web-tree-sitter';
import { KeyLiteral } from './keyLiterals';

/** One part of a fused tensor: `fused[a:b]` along `dim`, or the `index`-th result of `chunk`/`split`. */
export type FusedPart =
  | { kind: 'range'; dim: number; start?: Node; end?: Node }
  | { kind: 'chunk'; dim: number; parts: number; index: number }
  | { kind: 'split'; dim: number; sizes: Node; index: number };

export interface Flow {
  /** The lookup expression (`sd["k"]`, `sd.pop("k")`, `loaded[i]["k"]`) and its key. */
  read: Node;
  key: KeyLiteral;
  /** The layout the value ends in: as read, transposed, LLaMA's q/k rows permuted, or unknown. */
  layout: 'plain' | 'transposed' | 'rotary' | 'opaque';
  /** A reshape somewhere on the way (`.view`, `.reshape`): shapes are no longer the checkpoint's. */
  reshaped: boolean;
  /** Concatenated over the shards of a sharded checkpoint: the source file holds one part. */
  shards: boolean;
  /** Taken out of a fused tensor. */
  part?: FusedPart;
  /** Sliced or split on the way (with or without a part we could read). */
  sliced?: boolean;
  /** Why `transposed` or `rotary`, for messages. */
  why?: string;
}

export interface FlowContext {
  /** The key a lookup expression reads, or undefined when it is none. */
  lookup(n: Node): KeyLiteral | undefined;
  /** Top-level and nested `def`s of the file by name (the last one wins, as in Python). */
  functions: ReadonlyMap<string, Node>;
}

const named = (n: Node): Node[] => n.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
const field = (n: Node, f: string): Node | undefined => n.childForFieldName(f) ?? undefined;
const PLAIN = new Set(['clone', 'detach', 'cpu', 'cuda', 'numpy', 'contiguous', 'float', 'half', 'bfloat16', 'double', 'to', 'astype', 'cast', 'type', 'copy', 'requires_grad_']);
const RESHAPE = new Set(['view', 'reshape', 'flatten', 'unflatten', 'squeeze', 'unsqueeze']);
const TENSOR_LIBS = /^(torch|np|numpy|paddle|jnp)$/;
const MAX_DEPTH = 12;

function unparen(n: Node): Node {
  while (n.type === 'parenthesized_expression' && named(n).length === 1) n = named(n)[0];
  return n;
}

const positional = (call: Node): Node[] => named(field(call, 'arguments') ?? call).filter((a) => a.type !== 'keyword_argument');
function keyword(call: Node, name: string): Node | undefined {
  for (const a of named(field(call, 'arguments') ?? call)) if (a.type === 'keyword_argument' && field(a, 'name')?.text === name) return field(a, 'value');
  return undefined;
}
const intOf = (n: Node | undefined): number | undefined => (n && /^-?\d+$/.test(n.text.replace(/\s/g, '')) ? Number(n.text.replace(/\s/g, '')) : undefined);

/** `transpose(0, 1)`, `transpose(1, 0)`, `transpose(-1, -2)`, `t()`: a 2-D transpose. */
function swapsLastTwo(name: string, args: Node[]): boolean {
  if (name === 't') return args.length === 0;
  if (name !== 'transpose' || args.length !== 2) return false;
  const [a, b] = args.map(intOf);
  return (a === 0 && b === 1) || (a === 1 && b === 0) || (a === -1 && b === -2) || (a === -2 && b === -1);
}

export class ValueFlow {
  constructor(private readonly ctx: FlowContext) {}

  /** The flow of an expression written to a key, or undefined when it reads no key (or several). */
  of(e: Node, depth = 0): Flow | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const n = unparen(e);
    const key = this.ctx.lookup(n);
    if (key) return { read: n, key, layout: 'plain', reshaped: false, shards: false };
    switch (n.type) {
      case 'identifier': return this.variable(n, depth);
      case 'attribute': {
        const attr = field(n, 'attribute')?.text;
        const inner = this.of(field(n, 'object')!, depth + 1);
        if (!inner) return undefined;
        if (attr === 'T' || attr === 'mT') return this.transposed(inner, '`.T`');
        if (attr === 'data') return inner;
        return undefined;
      }
      case 'subscript': return this.sliced(n, depth);
      case 'call': return this.call(n, depth);
      default: return undefined;
    }
  }

  private transposed(f: Flow, why: string): Flow {
    if (f.layout === 'plain') return { ...f, layout: 'transposed', why };
    if (f.layout === 'transposed') return { ...f, layout: 'plain', why: undefined };
    return { ...f, layout: 'opaque' };
  }

  private call(n: Node, depth: number): Flow | undefined {
    const fn = field(n, 'function')!;
    const args = positional(n);
    if (fn.type === 'attribute') {
      const name = field(fn, 'attribute')!.text;
      const recv = field(fn, 'object')!;
      if (TENSOR_LIBS.test(recv.text)) return this.libraryCall(n, name, args, depth);
      const inner = this.of(recv, depth + 1);
      if (!inner) return undefined;
      if (PLAIN.has(name)) return inner;
      if (swapsLastTwo(name, args)) return this.transposed(inner, `\`.${name}(${args.map((a) => a.text).join(', ')})\``);
      if (RESHAPE.has(name)) return this.chain(n, inner) ?? { ...inner, reshaped: true };
      if (name === 'transpose' || name === 'permute') return this.chain(n, inner) ?? { ...inner, layout: 'opaque' };
      return undefined; // a method we do not know: it may return anything
    }
    if (fn.type === 'identifier') {
      const def = this.ctx.functions.get(fn.text);
      if (def && args.length) return this.helper(def, fn.text, args[0], depth);
      if (['str', 'int', 'len', 'print', 'list', 'dict'].includes(fn.text)) return undefined;
    }
    return undefined;
  }

  /** `torch.cat([...], dim)`, `torch.stack`, `torch.from_numpy(x)`, `np.transpose(x)`, `torch.chunk(x, n)[k]`. */
  private libraryCall(n: Node, name: string, args: Node[], depth: number): Flow | undefined {
    if (['from_numpy', 'tensor', 'as_tensor', 'to_tensor', 'array', 'asarray', 'ascontiguousarray', 'Tensor'].includes(name) && args.length === 1) return this.of(args[0], depth + 1);
    if (name === 'transpose' && args.length === 1) { const f = this.of(args[0], depth + 1); return f && this.transposed(f, `\`${n.text.split('(')[0]}\``); }
    if ((name === 'cat' || name === 'concatenate' || name === 'stack') && args.length >= 1) {
      const list = unparen(args[0]);
      // Over the shards of one key: a comprehension (or a list) whose every element reads the same key.
      const items = list.type === 'list_comprehension' || list.type === 'generator_expression' ? [field(list, 'body')!] : list.type === 'list' || list.type === 'tuple' ? named(list) : [];
      const flows = items.map((i) => this.of(i, depth + 1));
      if (!flows.length || flows.some((f) => !f) || new Set(flows.map((f) => f!.key.pattern)).size !== 1) return undefined;
      const f = flows[0]!;
      const overShards = list.type === 'list_comprehension' || list.type === 'generator_expression' || items.length > 1;
      return overShards ? { ...f, shards: true, reshaped: f.reshaped || name === 'stack' } : { ...f, reshaped: true };
    }
    return undefined;
  }

  /** A same-file helper: its body read with its first parameter standing for the value passed in. */
  private helper(def: Node, name: string, arg: Node, depth: number): Flow | undefined {
    const inner = this.of(arg, depth + 1);
    if (!inner) return undefined;
    const param = named(field(def, 'parameters') ?? def)[0];
    const pname = param?.type === 'identifier' ? param.text : param?.type === 'default_parameter' || param?.type === 'typed_parameter' ? named(param)[0]?.text : undefined;
    const body = field(def, 'body');
    const returns = body ? named(body).filter((s) => s.type === 'return_statement') : [];
    if (!pname || returns.length !== 1 || named(body!).length !== 1) return { ...inner, layout: 'opaque' };
    const value = named(returns[0])[0];
    if (!value) return undefined;
    const ops = methodChain(value, pname);
    if (!ops) return { ...inner, layout: 'opaque' };
    if (ops.length === 0) return inner;
    if (isRotary(ops)) return this.rotary(inner, `the helper \`${name}\` permutes the rows per head`);
    if (ops.length === 1 && swapsLastTwo(ops[0].name, ops[0].args)) return this.transposed(inner, `the helper \`${name}\` transposes it`);
    if (ops.every((o) => PLAIN.has(o.name))) return inner;
    return { ...inner, layout: 'opaque' };
  }

  private rotary(f: Flow, why: string): Flow {
    return f.layout === 'plain' ? { ...f, layout: 'rotary', why } : { ...f, layout: 'opaque' };
  }

  /** An inline `x.view(n, h, 2, d).transpose(1, 2).reshape(r, d)`: the same permutation written out. */
  private chain(n: Node, inner: Flow): Flow | undefined {
    const ops = methodChain(n, undefined);
    return ops && isRotary(ops) ? this.rotary(inner, 'the rows are permuted per head in place') : undefined;
  }

  /** `fused[: h, :]`, `fused[h : 2 * h]`, `fused[-h:]`: one slice along one dimension. */
  private sliced(n: Node, depth: number): Flow | undefined {
    const value = field(n, 'value')!;
    const inner = this.of(value, depth + 1);
    if (!inner) return undefined;
    const subs = named(n).slice(1);
    const parts = subs.length === 1 && subs[0].type === 'tuple' ? named(subs[0]) : subs;
    const cut = parts.map((p, dim) => ({ p, dim })).filter(({ p }) => !(p.type === 'slice' && named(p).length === 0));
    const unread: Flow = { ...inner, layout: 'opaque', reshaped: true, sliced: true };
    if (!parts.every((p) => p.type === 'slice' || p.type === 'ellipsis') || cut.length !== 1 || inner.part || inner.layout !== 'plain') return unread;
    const { p, dim } = cut[0];
    if (p.type !== 'slice') return unread;
    const { start, end, step } = sliceBounds(p);
    if (step) return unread;
    return { ...inner, sliced: true, part: { kind: 'range', dim, start, end } };
  }

  /** A local variable: the last assignment to it before this use, in the same function. */
  private variable(id: Node, depth: number): Flow | undefined {
    const found = assignmentOf(id);
    if (!found) return undefined;
    const { value, index } = found;
    if (index === undefined) return this.of(value, depth + 1);
    // `q, k, v = torch.split(fused, sizes, dim=0)` / `fused.chunk(3, dim=0)`
    const call = unparen(value);
    if (call.type !== 'call') return undefined;
    const fn = field(call, 'function')!;
    const name = fn.type === 'attribute' ? field(fn, 'attribute')!.text : '';
    if (name !== 'chunk' && name !== 'split') return undefined;
    const lib = TENSOR_LIBS.test(field(fn, 'object')?.text ?? '');
    const args = positional(call);
    const tensor = lib ? args[0] : field(fn, 'object')!;
    const rest = lib ? args.slice(1) : args;
    const inner = tensor ? this.of(tensor, depth + 1) : undefined;
    if (!inner || inner.part || inner.layout !== 'plain') return undefined;
    const dim = intOf(keyword(call, 'dim') ?? keyword(call, 'axis') ?? rest[1]) ?? 0;
    const what = rest[0] ?? keyword(call, 'chunks') ?? keyword(call, 'split_size_or_sections');
    if (!what) return undefined;
    const parts = intOf(what);
    if (name === 'chunk' && parts !== undefined) return { ...inner, sliced: true, part: { kind: 'chunk', dim, parts, index } };
    if (name === 'split') return { ...inner, sliced: true, part: { kind: 'split', dim, sizes: what, index } };
    return undefined;
  }
}

function sliceBounds(s: Node): { start?: Node; end?: Node; step?: Node } {
  // tree-sitter's slice has no fields: read the children around the colons.
  const out: (Node | undefined)[] = [undefined];
  for (const c of s.children) {
    if (!c) continue;
    if (c.type === ':') out.push(undefined);
    else if (c.type !== 'comment') out[out.length - 1] = c;
  }
  return { start: out[0], end: out[1], step: out[2] };
}

interface Op { name: string; args: Node[] }

/**
 * The methods called on `root` (a parameter name) or on whatever the innermost receiver is (undefined),
 * innermost first: `w.view(…).transpose(1, 2).reshape(…)` → view, transpose, reshape.
 */
function methodChain(e: Node, root: string | undefined): Op[] | undefined {
  const ops: Op[] = [];
  let n = unparen(e);
  while (n.type === 'call' && field(n, 'function')?.type === 'attribute') {
    const fn = field(n, 'function')!;
    ops.unshift({ name: field(fn, 'attribute')!.text, args: positional(n) });
    n = unparen(field(fn, 'object')!);
  }
  if (root !== undefined && !(n.type === 'identifier' && n.text === root)) return undefined;
  return ops;
}

/** view/reshape to heads, swap the two inner axes, reshape back: LLaMA's rotary row permutation. */
function isRotary(ops: Op[]): boolean {
  const core = ops.filter((o) => !PLAIN.has(o.name));
  if (core.length !== 3 || !RESHAPE.has(core[0].name) || !RESHAPE.has(core[2].name)) return false;
  const [a, b] = core[1].args.map(intOf);
  if (core[1].name === 'transpose') return core[0].args.length === 4 && ((a === 1 && b === 2) || (a === 2 && b === 1));
  if (core[1].name === 'permute') return core[1].args.map((x) => x.text).join(',') === '0,2,1,3';
  return false;
}

/** The value last assigned to a name before `id`, in the function (or module) around it. */
function assignmentOf(id: Node): { value: Node; index?: number } | undefined {
  let scope: Node | null = id.parent;
  while (scope && scope.type !== 'function_definition' && scope.type !== 'module') scope = scope.parent;
  if (!scope) return undefined;
  let best: { value: Node; index?: number; at: number } | undefined;
  const visit = (n: Node): void => {
    if (n.startIndex >= id.startIndex) return;
    if (n !== scope && (n.type === 'function_definition' || n.type === 'class_definition')) return;
    if (n.type === 'assignment') {
      const left = field(n, 'left');
      const right = field(n, 'right');
      if (left && right) {
        if (left.type === 'identifier' && left.text === id.text) best = { value: right, at: n.startIndex };
        else if (left.type === 'pattern_list' || left.type === 'tuple_pattern') {
          const k = named(left).findIndex((x) => x.type === 'identifier' && x.text === id.text);
          if (k >= 0) best = { value: right, index: k, at: n.startIndex };
        }
      }
    }
    for (const c of named(n)) visit(c);
  };
  visit(scope);
  return best && { value: best.value, index: best.index };
}
