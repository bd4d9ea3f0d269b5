/**
 * Reads a Python conversion script (HF `convert_*_to_pytorch.py`, PaddleNLP name mappings) for the
 * key pairs it writes down and what it does to their tensors, straight from tree-sitter's tree: the
 * common IR keeps neither f-string placeholders nor the exact range of each literal.
 *
 * Pairs are 2-tuples/lists of key strings inside a list, comprehension or `.append(…)` (a lone tuple is
 * too often something else), dict entries, `rename_key(sd, "a", "b")` calls and `new[B] = old[A]`
 * statements. Transposes are attributed to pairs only where the code is plain about it; any other
 * transpose makes the file "loose" and no pair is then taken as untransposed.
 */
import type { Node } from 'web-tree-sitter';
import { Branch, FusedSlice, GroupRewrite, KeyLiteral, KeyPair, PairFlow, ScriptScan, TemplatePart, Transposition, patternOf, splitPlaceholders } from './keyLiterals';
import { conditionsOf, groupRewrite } from './pyBranches';
import { linearOf } from './linearExpr';
import { Flow, ValueFlow } from './pyValueFlow';
import { posOf } from '../source/pyLower';
import { parsePython } from '../source/pythonParser';

export async function scanPythonScript(text: string): Promise<ScriptScan> {
  const tree = await parsePython(text);
  try {
    return new PyScan().run(tree.rootNode);
  } finally {
    tree.delete();
  }
}

const TRANSPOSE_CALLS = new Set(['transpose', 't', 'permute', 'swapaxes', 'swapdims', 'moveaxis', 'transpose_', 't_', 'rearrange']);
const RESHAPE_CALLS = new Set(['reshape', 'view', 'squeeze', 'unsqueeze', 'flatten', 'unflatten', 'expand', 'expand_as', 'expand_dims', 'view_as', 'reshape_as', 'broadcast_to', 'repeat', 'tile', 'permute', 'ravel']);
/** Calls that pass a tensor on unchanged in shape: a pair's value may go through them and stay plain. */
const PLAIN_METHODS = new Set(['clone', 'detach', 'cpu', 'cuda', 'numpy', 'contiguous', 'float', 'half', 'bfloat16', 'double', 'to', 'astype', 'cast', 'type', 'copy', 'tolist']);
const PLAIN_FUNCS = /^(?:torch\.(?:from_numpy|tensor|as_tensor)|paddle\.(?:to_tensor|Tensor)|(?:np|numpy)\.(?:array|asarray|ascontiguousarray)|jnp\.(?:array|asarray))$/;
const CONDITIONAL = new Set(['if_statement', 'conditional_expression', 'elif_clause', 'else_clause', 'boolean_operator', 'try_statement', 'while_statement']);
const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'generator_expression']);

interface Seen { n: Node; up: Node[] }

const named = (n: Node): Node[] => n.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
const field = (n: Node, f: string): Node | undefined => n.childForFieldName(f) ?? undefined;
const inside = (n: Node, outer: Node) => n.startIndex >= outer.startIndex && n.endIndex <= outer.endIndex;

function unparen(n: Node): Node {
  while (n.type === 'parenthesized_expression' && named(n).length === 1) n = named(n)[0];
  return n;
}

/** The parent, skipping parentheses around the node. */
function parentOf(up: Node[]): { parent?: Node; rest: Node[] } {
  let i = up.length - 1;
  while (i >= 0 && up[i].type === 'parenthesized_expression') i--;
  return { parent: up[i], rest: up.slice(0, i) };
}

/** Name of a method call's method (`x.append(…)` → `append`) and the receiver's text. */
function method(call: Node): { name: string; recv: string } | undefined {
  const fn = field(call, 'function');
  if (fn?.type !== 'attribute') return undefined;
  const attr = field(fn, 'attribute');
  const obj = field(fn, 'object');
  return attr && obj ? { name: attr.text, recv: obj.text } : undefined;
}

class PyScan {
  private readonly numeric = new Set<string>();
  private readonly strings: Seen[] = [];
  private readonly candidates: Seen[] = [];
  private readonly transposes: Seen[] = [];
  private readonly loops: { group: string; body: Node }[] = [];
  private readonly transposeLists = new Map<string, string[]>();
  /** `model_mappings.extend(layer_mappings)`: the pairs of one list end up in another; one group. */
  private readonly aliases = new Map<string, string>();
  private readonly literals = new Map<number, KeyLiteral | null>();
  private reshapes = false;
  private readonly functions = new Map<string, Node>();
  private readonly rewrites: GroupRewrite[] = [];
  /** Pairs whose value the flow followed (offsets of their statement or dict entry): their transposes are theirs. */
  private readonly followed = new Set<number>();
  private readonly flow = new ValueFlow({ lookup: (n) => this.lookup(n), functions: this.functions });
  /** Helpers a followed value goes through: the transposes in their bodies are accounted for. */
  private readonly usedHelpers = new Set<string>();

  run(root: Node): ScriptScan {
    this.collect(root, []);
    for (const s of this.strings) this.literals.set(s.n.startIndex, this.stringLiteral(s));
    const pairs: KeyPair[] = [];
    const statements = new Map<number, KeyPair>();
    for (const c of this.candidates) {
      const p = this.pair(c);
      if (!p) continue;
      pairs.push(p);
      if (c.n.type === 'assignment') statements.set(c.n.startIndex, p);
    }
    for (const p of pairs) p.group = this.root(p.group);
    pairs.splice(0, pairs.length, ...pairs.flatMap(expandVariants));
    // Transposes the code states for a pair or a list of pairs; any other one leaves every pair unsure.
    let looseTranspose = false;
    const groups = new Set(pairs.map((p) => p.group));
    // A fused tensor the script splits is no pair's whole tensor: a transpose of it is not one a pair may lack.
    const keys = new Set(pairs.flatMap((p) => (p.flow?.sliced ? [shapeOf(p.second.pattern)] : [shapeOf(p.first.pattern), shapeOf(p.second.pattern)])));
    const loopTransposed = new Set<string>();
    for (const t of this.transposes) {
      if (t.up.some((a) => a.type === 'assignment' && statements.has(a.startIndex))) continue;
      if (t.up.some((a) => this.followed.has(a.startIndex) || (a.type === 'function_definition' && this.usedHelpers.has(field(a, 'name')?.text ?? '')))) continue;
      if (this.namesTransposeList(t) || this.transposesOtherKey(t, keys)) continue;
      const loop = this.loops.find((l) => inside(t.n, l.body) && groups.has(this.root(l.group)));
      if (loop) {
        const between = t.up.filter((a) => inside(a, loop.body) && a.startIndex !== loop.body.startIndex);
        if (between.some((a) => CONDITIONAL.has(a.type))) looseTranspose = true;
        else loopTransposed.add(this.root(loop.group));
        continue;
      }
      looseTranspose = true;
    }
    for (const p of pairs) {
      if (p.transposition !== 'none') continue;
      if (loopTransposed.has(p.group)) { p.transposition = 'yes'; p.why = `\`.T\` in the loop over \`${p.group}\``; continue; }
      for (const [name, entries] of this.transposeLists) {
        if (entries.some((e) => p.first.pattern.includes(e) || p.second.pattern.includes(e))) { p.transposition = 'yes'; p.why = `listed in \`${name}\``; break; }
      }
    }
    const literals = [...this.literals.values()].filter((l): l is KeyLiteral => !!l);
    literals.sort((a, b) => a.pos.line - b.pos.line || a.pos.column - b.pos.column);
    return { literals, pairs, looseTranspose, reshapes: this.reshapes, rewrites: this.rewrites };
  }

  private collect(n: Node, up: Node[]): void {
    switch (n.type) {
      case 'string':
        if (up.at(-1)?.type !== 'concatenated_string') this.strings.push({ n, up: up.slice(-3) });
        return; // nothing inside a string matters (interpolations are read with it)
      case 'concatenated_string':
        this.strings.push({ n, up: up.slice(-3) });
        return;
      case 'for_statement':
      case 'for_in_clause':
        this.loopHead(n);
        break;
      case 'list': case 'tuple': case 'pair': case 'assignment': case 'call':
        this.candidates.push({ n, up: up.slice() });
        break;
      default:
        break;
    }
    if (n.type === 'attribute' && ['T', 'mT'].includes(field(n, 'attribute')?.text ?? '')) this.transposes.push({ n, up: up.slice() });
    if (n.type === 'call') {
      const fn = field(n, 'function');
      const name = fn?.type === 'attribute' ? field(fn, 'attribute')?.text : fn?.type === 'identifier' ? fn.text : undefined;
      // A helper named for it (`transpose_linear_weights(sd)`) may transpose anything: it counts as loose.
      if (name && ((TRANSPOSE_CALLS.has(name) && (fn?.type === 'attribute' || name === 'rearrange')) || /transpose|permute|swap_?axes/i.test(name))) this.transposes.push({ n, up: up.slice() });
      if (name && RESHAPE_CALLS.has(name) && fn?.type === 'attribute') this.reshapes = true;
    }
    if (n.type === 'subscript' && named(n).slice(1).some((s) => s.type === 'none' || s.text === 'np.newaxis' || s.text === 'None')) this.reshapes = true;
    if (n.type === 'assignment') {
      this.transposeList(n);
      const r = groupRewrite(n);
      if (r) this.rewrites.push({ ...r, conditions: conditionsOf(n) });
    }
    if (n.type === 'function_definition') { const name = field(n, 'name')?.text; if (name) this.functions.set(name, n); }
    this.aliasOf(n);
    const next = [...up, n];
    for (const c of named(n)) this.collect(c, next);
  }

  /** `for i in range(…)` / `for i, x in enumerate(…)` bind numbers; `for a, b in pairs:` may transpose a list of pairs. */
  private loopHead(n: Node): void {
    const left = field(n, 'left');
    const right = field(n, 'right');
    if (!left || !right) return;
    if (right.type === 'call') {
      const fn = field(right, 'function')?.text;
      if (fn === 'range' && left.type === 'identifier') this.numeric.add(left.text);
      if (fn === 'enumerate') { const first = named(left)[0]; if (first?.type === 'identifier') this.numeric.add(first.text); }
    }
    const body = field(n, 'body');
    const parts = left.type === 'pattern_list' || left.type === 'tuple_pattern' ? named(left) : [];
    if (n.type !== 'for_statement' || !body || parts.length !== 2 || !parts.every((p) => p.type === 'identifier')) return;
    const m = right.type === 'call' ? method(right) : undefined;
    const group = right.type === 'identifier' ? right.text : m?.name === 'items' ? m.recv : undefined;
    if (group) this.loops.push({ group, body });
  }

  private aliasOf(n: Node): void {
    let from: Node | undefined;
    let into: string | undefined;
    if (n.type === 'call') {
      const m = method(n);
      const args = field(n, 'arguments');
      if (m && ['extend', 'update'].includes(m.name) && args && named(args).length === 1) { from = named(args)[0]; into = m.recv; }
    } else if (n.type === 'augmented_assignment' && field(n, 'operator')?.text === '+=') {
      from = field(n, 'right');
      into = field(n, 'left')?.text;
    }
    if (from?.type === 'identifier' && into && from.text !== into) this.aliases.set(from.text, into);
  }

  private root(group: string): string {
    const seen = new Set<string>();
    while (this.aliases.has(group) && !seen.has(group)) { seen.add(group); group = this.aliases.get(group)!; }
    return group;
  }

  /** `transpose_keys = ["attn.proj.weight", …]`: the keys a later loop transposes. */
  private transposeList(n: Node): void {
    const left = field(n, 'left');
    const right = field(n, 'right');
    if (left?.type !== 'identifier' || !/transpose/i.test(left.text) || !right || !['list', 'tuple', 'set'].includes(right.type)) return;
    const items = named(right);
    if (items.length && items.every((s) => s.type === 'string')) this.transposeLists.set(left.text, items.map((s) => s.text.replace(/^[a-z]*(['"])(.*)\1$/is, '$2')));
  }

  /** A transpose inside `if any(t in k for t in transpose_keys):` or a statement naming such a list. */
  private namesTransposeList(t: Seen): boolean {
    if (!this.transposeLists.size) return false;
    const names = [...this.transposeLists.keys()];
    for (let i = t.up.length - 1; i >= 0; i--) {
      const a = t.up[i];
      const cond = a.type === 'if_statement' || a.type === 'elif_clause' ? field(a, 'condition')?.text : ['expression_statement', 'assignment', 'return_statement'].includes(a.type) ? a.text : undefined;
      if (cond && names.some((name) => new RegExp(`\\b${name}\\b`).test(cond))) return true;
    }
    return false;
  }

  /**
   * `w = sd.pop(f"blocks.{i}.attn.qkv.weight").T`: the transposed tensor is read by a key no pair
   * names (a fused qkv the script splits by hand), so the transpose is not one a pair may lack.
   */
  private transposesOtherKey(t: Seen, keys: ReadonlySet<string>): boolean {
    const reads: KeyLiteral[] = [];
    const visit = (n: Node): void => {
      const lit = this.lookup(n);
      if (lit) reads.push(lit);
      for (const k of named(n)) visit(k);
    };
    visit(t.n);
    return reads.length > 0 && reads.every((r) => !keys.has(shapeOf(r.pattern)));
  }

  private stringLiteral(s: Seen): KeyLiteral | null {
    const strings = s.n.type === 'concatenated_string' ? named(s.n).filter((c) => c.type === 'string') : [s.n];
    const parts: TemplatePart[] = [];
    for (const str of strings) {
      const p = this.templateParts(str);
      if (!p) return null;
      parts.push(...p);
    }
    // `"a.%d.b" % i` and `"a.{}.b".format(i)` name their placeholders by the arguments.
    let positional: (string | undefined)[] = [];
    const rename = new Map<string, string>();
    const parent = s.up.at(-1);
    if (parent?.type === 'binary_operator' && field(parent, 'operator')?.text === '%' && field(parent, 'left')?.startIndex === s.n.startIndex) {
      const r = unparen(field(parent, 'right')!);
      positional = (r.type === 'tuple' ? named(r) : [r]).map((x) => (x.type === 'identifier' ? x.text : undefined));
    } else if (parent?.type === 'attribute' && field(parent, 'attribute')?.text === 'format' && s.up.at(-2)?.type === 'call') {
      const args = field(s.up.at(-2)!, 'arguments');
      for (const a of args ? named(args) : []) {
        if (a.type === 'keyword_argument') { const v = field(a, 'value'); if (v?.type === 'identifier') rename.set(field(a, 'name')!.text, v.text); } else positional.push(a.type === 'identifier' ? a.text : undefined);
      }
    }
    const renamed = parts.map((p) => (typeof p !== 'string' && p.name && rename.has(p.name) ? { ...p, name: rename.get(p.name) } : p));
    // A name only ever given constant strings (`prefix = ""` / `prefix = "vit."`): one pattern for each.
    const constant = renamed.findIndex((p) => typeof p !== 'string' && !!p.name && !this.numeric.has(p.name) && !!constantStrings(p.name, s.n));
    if (constant >= 0) {
      const name = (renamed[constant] as { name: string }).name;
      const variants = constantStrings(name, s.n)!.flatMap(({ value, conditions }) => {
        const r = patternOf(renamed.map((p, i) => (i === constant ? value : p)), positional, this.numeric);
        return r ? [{ ...r, conditions }] : [];
      });
      if (variants.length) return { pattern: variants[0].pattern, numeric: variants[0].numeric, pos: posOf(s.n), variants };
    }
    const r = patternOf(renamed, positional, this.numeric);
    return r ? { pattern: r.pattern, numeric: r.numeric, pos: posOf(s.n) } : null;
  }

  /** The pieces of one string node; undefined for bytes, escapes and interpolations other than a plain name. */
  private templateParts(str: Node): TemplatePart[] | undefined {
    const start = str.children.find((c) => c?.type === 'string_start')?.text ?? '"';
    const prefix = start.replace(/['"]+$/, '').toLowerCase();
    if (prefix.includes('b')) return undefined;
    const f = prefix.includes('f');
    const parts: TemplatePart[] = [];
    for (const c of named(str)) {
      if (c.type === 'string_start' || c.type === 'string_end') continue;
      if (c.type === 'string_content') {
        if (f) { if (/[{}]/.test(c.text)) return undefined; parts.push(c.text); } else parts.push(...splitPlaceholders(c.text));
      } else if (c.type === 'interpolation') {
        const kids = named(c);
        const spec = kids.find((k) => k.type === 'format_specifier');
        if (kids[0]?.type !== 'identifier' || kids.some((k) => k.type === 'type_conversion') || (spec && !/^:\d*d?$/.test(spec.text))) return undefined;
        parts.push({ name: kids[0].text });
      } else {
        return undefined;
      }
    }
    return parts;
  }

  /** The key literal an expression is: a string, `"…" % x`, `"…".format(…)`, in parentheses or not. */
  private literalOf(e: Node | undefined): KeyLiteral | undefined {
    if (!e) return undefined;
    const n = unparen(e);
    if (n.type === 'string' || n.type === 'concatenated_string') return this.literals.get(n.startIndex) ?? undefined;
    if (n.type === 'binary_operator' && field(n, 'operator')?.text === '%') return this.literalOf(field(n, 'left'));
    if (n.type === 'call' && method(n)?.name === 'format') return this.literalOf(field(field(n, 'function')!, 'object'));
    return undefined;
  }

  private pair(c: Seen): KeyPair | undefined {
    switch (c.n.type) {
      case 'list': case 'tuple': return this.sequencePair(c);
      case 'pair': {
        const first = this.literalOf(field(c.n, 'key'));
        const second = this.literalOf(field(c.n, 'value'));
        const dict = c.up.at(-1);
        if (!first || !dict || !['dictionary', 'dictionary_comprehension'].includes(dict.type)) return undefined;
        if (!second) {
          // `{"model.norm.weight": loaded["norm.weight"], …}`: the entry writes what it reads.
          const f = this.flow.of(field(c.n, 'value')!);
          return f ? this.flowPair(f, first, c.n, this.groupOf(dict, c.up.slice(0, -1))) : undefined;
        }
        return this.make(first, second, c.n, this.groupOf(dict, c.up.slice(0, -1)), 'none');
      }
      case 'call': {
        const fn = field(c.n, 'function');
        const name = fn?.type === 'identifier' ? fn.text : fn?.type === 'attribute' ? field(fn, 'attribute')?.text : undefined;
        const args = field(c.n, 'arguments');
        if (!name || !/rename/i.test(name) || !args) return undefined;
        const lits = named(args).filter((a) => a.type !== 'keyword_argument').map((a) => this.literalOf(a));
        for (let i = lits.length - 2; i >= 0; i--) if (lits[i] && lits[i + 1]) return this.make(lits[i]!, lits[i + 1]!, c.n, `${name}()`, 'none');
        return undefined;
      }
      case 'assignment': return this.assignmentPair(c);
      default: return undefined;
    }
  }

  /** `("a", "b")` or PaddleNLP's `["a", "b", "transpose"]` as an element of a list of pairs. */
  private sequencePair(c: Seen): KeyPair | undefined {
    const items = named(c.n);
    if (items.length < 2 || items.length > 4) return undefined;
    const first = this.literalOf(items[0]);
    const second = this.literalOf(items[1]);
    if (!first || !second) return undefined;
    let transposition: Transposition = 'none';
    let why: string | undefined;
    if (items.length > 2) {
      const third = unparen(items[2]);
      if (items.length === 3 && third.type === 'none') transposition = 'none';
      else if (items.length === 3 && third.type === 'string' && /^[a-z]*(['"])transpose\1$/i.test(third.text)) { transposition = 'yes'; why = 'PaddleNLP\'s `"transpose"` action'; } else if (this.literalOf(third)?.pattern.includes('.')) return undefined; // three keys: a list of keys, not a pair
      else transposition = 'opaque';
    }
    const { parent, rest } = parentOf(c.up);
    if (!parent) return undefined;
    let group: string | undefined;
    if (['list', 'tuple', 'set'].includes(parent.type) || (COMPREHENSIONS.has(parent.type) && isBody(parent, c.n))) {
      group = this.groupOf(parent, rest);
    } else if (parent.type === 'argument_list' && rest.at(-1)?.type === 'call') {
      const m = method(rest.at(-1)!);
      if (m && ['append', 'insert'].includes(m.name)) group = m.recv;
    }
    if (!group) return undefined;
    const p = this.make(first, second, c.n, group, transposition);
    if (why) p.why = why;
    return p;
  }

  /** `new_sd[f"b.{i}"] = sd.pop(f"a.{i}").T`: one key read, one written, and what happens in between. */
  private assignmentPair(c: Seen): KeyPair | undefined {
    const left = field(c.n, 'left');
    const right = field(c.n, 'right');
    if (left?.type !== 'subscript' || !right) return undefined;
    const second = this.literalOf(field(left, 'subscript'));
    if (!second) return undefined;
    const f = this.flow.of(right);
    if (f && !(f.key.pattern === second.pattern && lookupObject(f.read) === field(left, 'value')?.text)) return this.flowPair(f, second, c.n, field(left, 'value')!.text);
    const reads: Node[] = [];
    const visit = (n: Node): void => {
      if (this.lookup(n)) { reads.push(n); return; }
      for (const k of named(n)) visit(k);
    };
    visit(right);
    if (reads.length !== 1) return undefined;
    const first = this.lookup(reads[0])!;
    // `sd["k"] = sd["k"].reshape(…)` edits a tensor in place; `new["k"] = old["k"]` copies it.
    if (first.pattern === second.pattern && lookupObject(reads[0]) === field(left, 'value')?.text) return undefined;
    const kind = this.valueKind(right);
    const p = this.make(first, second, c.n, field(left, 'value')!.text, kind === 'transposed' ? 'yes' : kind === 'plain' ? 'none' : 'opaque');
    if (kind === 'transposed') p.why = 'transposed in the same statement';
    return p;
  }

  /** `sd["k"]`, `sd.pop("k")`, `sd.get("k")`: the key it reads. */
  private lookup(n: Node): KeyLiteral | undefined {
    if (n.type === 'subscript') return this.literalOf(field(n, 'subscript'));
    if (n.type === 'call') {
      const m = method(n);
      const args = field(n, 'arguments');
      if (m && ['pop', 'get'].includes(m.name) && args) return this.literalOf(named(args)[0]);
    }
    return undefined;
  }

  /** Is the value the looked-up tensor as it is (up to dtype/device moves), transposed, or something else? */
  private valueKind(e: Node): 'plain' | 'transposed' | 'opaque' {
    const n = unparen(e);
    if (this.lookup(n)) return 'plain';
    if (n.type === 'attribute' && field(n, 'attribute')?.text === 'T') return this.valueKind(field(n, 'object')!) === 'plain' ? 'transposed' : 'opaque';
    if (n.type !== 'call') return 'opaque';
    const args = named(field(n, 'arguments') ?? n).filter((a) => a.type !== 'keyword_argument');
    const m = method(n);
    if (m && PLAIN_METHODS.has(m.name)) return this.valueKind(field(field(n, 'function')!, 'object')!);
    if (m && ['t', 'transpose'].includes(m.name) && !/^(np|numpy|torch|paddle|jnp)$/.test(m.recv)) {
      return args.length <= (m.name === 't' ? 0 : 2) && this.valueKind(field(field(n, 'function')!, 'object')!) === 'plain' ? 'transposed' : 'opaque';
    }
    const fn = field(n, 'function')?.text ?? '';
    if (/^(np|numpy|torch|paddle|jnp)\.transpose$/.test(fn) && args.length === 1) return this.valueKind(args[0]) === 'plain' ? 'transposed' : 'opaque';
    if (PLAIN_FUNCS.test(fn) && args.length === 1) return this.valueKind(args[0]);
    return 'opaque';
  }

  /** A list's or dict's group: the `.append`/`.extend` receiver or the variable it is assigned to. */
  private groupOf(container: Node, up: Node[]): string {
    const { parent, rest } = parentOf(up);
    if (parent?.type === 'argument_list' && rest.at(-1)?.type === 'call') {
      const m = method(rest.at(-1)!);
      if (m && ['append', 'extend', 'insert', 'update'].includes(m.name)) return m.recv;
    }
    if ((parent?.type === 'assignment' || parent?.type === 'augmented_assignment') && field(parent, 'left')?.type === 'identifier') return field(parent, 'left')!.text;
    return `@${container.startPosition.row}:${container.startPosition.column}`;
  }

  private make(a: KeyLiteral, b: KeyLiteral, n: Node, group: string, transposition: Transposition): KeyPair {
    const conditions: Branch[] = conditionsOf(n);
    return { first: a, second: b, pos: posOf(n), group, transposition, ...(conditions.length ? { conditions } : {}) };
  }

  /** A pair whose value was followed from its read (the first key) to its write (`written`). */
  private flowPair(f: Flow, written: KeyLiteral, n: Node, group: string): KeyPair {
    this.followed.add(n.startIndex);
    for (const name of helpersIn(n, this.functions)) this.usedHelpers.add(name);
    const simple = !f.reshaped && !f.shards && !f.part && !f.sliced;
    const transposition: Transposition = simple && f.layout === 'plain' ? 'none' : simple && f.layout === 'transposed' ? 'yes' : 'opaque';
    const p = this.make(f.key, written, n, group, transposition);
    if (transposition === 'yes') p.why = f.why === '`.T`' ? 'transposed in the same statement' : `transposed in the same statement: ${f.why}`;
    const flow: PairFlow = { shards: f.shards, reshaped: f.reshaped, ...(f.sliced ? { sliced: true } : {}) };
    if (f.layout === 'rotary') flow.rotary = f.why;
    const part = f.part && fusedSlice(f);
    if (part) flow.part = part;
    p.flow = flow;
    return p;
  }
}

/** A pair whose literal has constant-string variants: one pair per variant, in the branch that gives it. */
function expandVariants(p: KeyPair): KeyPair[] {
  const lit = p.first.variants ? 'first' : p.second.variants ? 'second' : undefined;
  if (!lit) return [p];
  return p[lit].variants!.map((v) => {
    const conditions = [...(p.conditions ?? []), ...v.conditions];
    return { ...p, [lit]: { ...p[lit], pattern: v.pattern, numeric: v.numeric, variants: undefined }, ...(conditions.length ? { conditions } : {}) };
  });
}

/** Every value a name is given in the function around `use` when each is a plain string; else undefined. */
function constantStrings(name: string, use: Node): { value: string; conditions: Branch[] }[] | undefined {
  let scope: Node | null = use.parent;
  while (scope && scope.type !== 'function_definition' && scope.type !== 'module') scope = scope.parent;
  if (!scope) return undefined;
  const out: { value: string; conditions: Branch[] }[] = [];
  let other = false;
  const visit = (n: Node): void => {
    if (other) return;
    if (n.type === 'assignment' && field(n, 'left')?.text === name) {
      const r = field(n, 'right');
      const m = r?.type === 'string' && !named(r).some((c) => c.type === 'interpolation') ? /^(['"])(.*)\1$/s.exec(r.text) : null;
      if (m && /^[\w.]*$/.test(m[2])) out.push({ value: m[2], conditions: conditionsOf(n) }); else other = true;
    } else if ((n.type === 'for_statement' || n.type === 'for_in_clause') && field(n, 'left')?.text === name) other = true;
    else if (n.type === 'parameters' && named(n).some((x) => x.text === name || x.text.startsWith(`${name}=`) || x.text.startsWith(`${name}:`))) other = true;
    for (const c of named(n)) visit(c);
  };
  visit(scope);
  return !other && out.length ? out : undefined;
}

/** The same-file functions a statement calls by name. */
function helpersIn(n: Node, functions: ReadonlyMap<string, Node>): string[] {
  const out: string[] = [];
  const visit = (x: Node): void => {
    if (x.type === 'call') { const fn = field(x, 'function'); if (fn?.type === 'identifier' && functions.has(fn.text)) out.push(fn.text); }
    for (const k of named(x)) visit(k);
  };
  visit(n);
  return out;
}

/** A flow's fused part as plain data (the tree is freed after the scan). */
function fusedSlice(f: Flow): FusedSlice | undefined {
  const p = f.part!;
  const at = p.kind === 'range' ? (p.start ?? p.end)?.parent ?? f.read : p.kind === 'split' ? p.sizes : f.read;
  const base = { read: f.read.startIndex, dim: p.dim, pos: posOf(at), text: at.text };
  if (p.kind === 'chunk') return { ...base, kind: 'chunk', parts: p.parts, index: p.index };
  if (p.kind === 'split') {
    let list: Node | undefined = p.sizes;
    if (list.type === 'identifier') list = valueOfName(list);
    if (!list || list.type !== 'list' && list.type !== 'tuple') return undefined;
    const sizes = named(list).map((x) => linearOf(x));
    if (sizes.some((x) => !x)) return undefined;
    return { ...base, kind: 'split', sizes: sizes.map((x) => x!), index: p.index };
  }
  const start = p.start ? linearOf(p.start) : undefined;
  const end = p.end ? linearOf(p.end) : undefined;
  if ((p.start && !start) || (p.end && !end)) return undefined;
  return { ...base, kind: 'range', ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

/** `fused_dims = [dim, kv, kv]` before `torch.split(x, fused_dims)`: the list the name was last given. */
function valueOfName(id: Node): Node | undefined {
  let scope: Node | null = id.parent;
  while (scope && scope.type !== 'function_definition' && scope.type !== 'module') scope = scope.parent;
  let found: Node | undefined;
  const visit = (n: Node): void => {
    if (n.startIndex >= id.startIndex) return;
    if (n.type === 'assignment' && field(n, 'left')?.text === id.text) found = field(n, 'right');
    for (const c of named(n)) visit(c);
  };
  if (scope) visit(scope);
  return found;
}

/** The dict a lookup reads: `sd` of `sd["k"]` and of `sd.pop("k")`. */
function lookupObject(n: Node): string | undefined {
  return n.type === 'subscript' ? field(n, 'value')?.text : method(n)?.recv;
}

/** A pattern with its capture names erased: `a.{i}.b` and `a.{layer}.b` read the same keys. */
const shapeOf = (pattern: string) => pattern.replace(/\{\w+\}/g, '{}');

/** Is `n` the element a comprehension builds (not part of its `for`/`if` clauses)? */
function isBody(comp: Node, n: Node): boolean {
  const body = field(comp, 'body');
  return !!body && unparen(body).startIndex === n.startIndex;
}
