/**
 * The `state_dict()` a model source will have: runs the root class's constructor through the
 * interpreter and walks the resulting module tree the way torch and Paddle build a state dict —
 * each module's own parameters, then its persistent buffers, then its children, recursively.
 */
import { Cond, condText } from './alternatives';
import { Dim, renderDim, symbolsOf } from './dims';
import type { PretrainedModule } from './hfKeySpace';
import { Binding, Interpreter } from './interpret';
import { LoadedModel } from './loadModel';
import { Framework, Gap, ModNode, Site } from './values';

export interface InferredTensor {
  key: string;
  /** Undefined when the code builds the tensor in a way inference does not follow. */
  shape?: Dim[];
  dtype: string;
  /** A parameter (trainable or Paddle's running statistics) rather than a registered buffer. */
  param: boolean;
  layout?: string;
  /** The use the layout was read from, when no framework layer gave it. */
  layoutWhy?: string;
  site: Site;
  /** Registered inside a branch of an undecidable condition (or under a module that was): the condition. */
  cond?: string;
}

export interface Inferred {
  tensors: InferredTensor[];
  /** Module lists whose length is still a symbol, by key prefix (`encoder.layer`). */
  lists: { path: string; count: Dim; site: Site }[];
  /** Symbols the run met and left open, with the default their argument or `getattr` gives. */
  symbols: Map<string, { default?: number }>;
  notes: string[];
  framework?: Framework;
  /** Tied keys: target → the key it shares its tensor with. */
  tied: Map<string, string>;
  /**
   * What inference could not follow that may add, remove or reshape parameters, under the key prefix it
   * affects (`encoder`; '' for the whole model). Empty means the listing is complete.
   */
  gaps: SourceGap[];
  /** transformers' PreTrainedModels in the tree (hfKeySpace.ts), root first; empty for other code. */
  pretrained: PretrainedModule[];
  /** Why the list surely lacks keys: inference stopped partway, or a file it read does not parse (file:line). */
  stopped?: string;
}

export interface SourceGap { module: string; gap: Gap }

export interface InferOptions {
  bindings?: ReadonlyMap<string, Binding>;
  /** First pass of a mapping: symbols stay open and symbolic counts iterate their default. */
  provisional?: boolean;
}

/** The tensors of `model`'s root class; with no bindings, arguments take their defaults (what `Class()` gives). */
export function inferTensors(model: LoadedModel, opts: InferOptions = {}): Inferred {
  const provisional = opts.provisional ?? false;
  const interp = new Interpreter(model.host, { bindings: opts.bindings ?? new Map(), provisional, applyDefaults: !provisional });
  let root: ModNode | undefined;
  let stop: string | undefined;
  try {
    root = interp.root(model.root);
  } catch (e) {
    const { at, root: partial } = interp.stopped();
    stop = `inference stopped at ${at}: ${stopReason(e)} — the keys listed are those registered before it; the list is incomplete`;
    // A class root's module exists from the start: what it registered so far is still worth listing.
    if ('def' in model.root) root = partial;
  }
  const problems = fileProblems(model);
  const problemText = problems.map((p) => `${p.site.file}:${p.site.pos.line + 1}: ${p.message}`);
  const notes = [...(stop ? [stop] : []), ...problemText, ...model.notes, ...interp.notes];
  const stopped = stop ?? problemText[0];
  const tensors: InferredTensor[] = [];
  const lists: Inferred['lists'] = [];
  const gaps: SourceGap[] = interp.rootGaps.map((gap) => ({ module: '', gap }));
  if (stop) gaps.unshift({ module: '', gap: { site: interp.stopped().site, message: stop } });
  for (const p of problems) gaps.push({ module: '', gap: p });
  if (root) collect(root, '', tensors, lists, gaps, new Set(), []);
  // Without a binding a symbolic count lists one layer: what the others hold is not listed (a mapping binds it first).
  if (!provisional) {
    for (const l of lists) gaps.push({ module: l.path, gap: { site: l.site, message: `the count \`${renderDim(l.count)}\` is not bound: one layer is listed (\`set ${[...symbolsOf(l.count)][0]} = …\`, or a config.json, gives it)` } });
  }
  const tied = root && !stop ? interp.tiedKeys(root, new Set(tensors.map((t) => t.key))) : new Map<string, string>();
  const pretrained = root && !stop ? interp.pretrainedModules(root) : [];
  return { tensors, lists, symbols: interp.symbols, notes, framework: frameworkOf(model), tied, gaps, pretrained, ...(stopped ? { stopped } : {}) };
}

/** One line for why inference stopped: the JavaScript engine's own limits in the user's terms. */
function stopReason(e: unknown): string {
  if (e instanceof RangeError) return /call stack/i.test(e.message) ? 'the code nests too deeply to follow' : 'a value too large to follow';
  return e instanceof Error ? e.message : String(e);
}

/** The problems lowering met in the files this model read (syntax errors, expressions nested too deep). */
function fileProblems(model: LoadedModel): Gap[] {
  const out = new Map<string, Gap>();
  for (const f of model.files.values()) {
    for (const p of f.problems ?? []) out.set(`${f.path}:${p.line}:${p.message}`, { site: { file: f.path, pos: { line: p.line, column: 0, endLine: p.line, endColumn: 0 } }, message: p.message });
  }
  return [...out.values()];
}

function collect(node: ModNode, prefix: string, out: InferredTensor[], lists: Inferred['lists'], gaps: SourceGap[], path: Set<ModNode>, cond: Cond): void {
  if (path.has(node)) return; // a module registered inside itself: torch would recurse forever too
  path.add(node);
  // Only the gaps of modules the state dict reaches: a layer built and thrown away changes nothing.
  for (const g of node.gaps) gaps.push({ module: g.name ? prefix + g.name : prefix.slice(0, -1), gap: g.gap });
  const condOf = (name: string): Cond => [...cond, ...(node.cond.get(name) ?? [])];
  const withCond = (name: string) => { const c = condText(condOf(name)); return c ? { cond: c } : {}; };
  if (node.count !== undefined && typeof node.count !== 'number') lists.push({ path: prefix.slice(0, -1), count: node.count, site: node.site });
  const unshaped = (name: string, site: Site) => gaps.push({ module: prefix + name, gap: { site, message: `the shape of \`${name}\` could not be followed` } });
  for (const [name, t] of node.params) {
    if (t && !t.shape && !node.gaps.some((g) => g.name === name)) unshaped(name, t.site);
    if (t) out.push({ key: prefix + name, shape: t.shape, dtype: t.dtype, param: true, layout: t.layout, ...(t.layoutWhy ? { layoutWhy: t.layoutWhy } : {}), site: t.site, ...withCond(name) });
  }
  for (const [name, b] of node.buffers) {
    if (b && b.persistent && !b.tensor.shape && !node.gaps.some((g) => g.name === name)) unshaped(name, b.tensor.site);
    if (b && b.persistent) out.push({ key: prefix + name, shape: b.tensor.shape, dtype: b.tensor.dtype, param: false, layout: b.tensor.layout, site: b.tensor.site, ...withCond(name) });
  }
  for (const [name, c] of node.children) if (c) collect(c, `${prefix}${name}.`, out, lists, gaps, path, condOf(name));
  path.delete(node);
}

/** torch or paddle, from the imports of the files that make up the model; TF.js for TypeScript and JavaScript. */
export function frameworkOf(model: LoadedModel): Framework | undefined {
  if (model.language === 'ts') return 'tfjs';
  const seen = new Set<string>();
  for (const f of model.files.values()) {
    for (const i of f.imports) if (i.level === 0) seen.add(i.module.split('.')[0]);
  }
  if (seen.has('paddle') && !seen.has('torch')) return 'paddle';
  if (seen.has('torch') && !seen.has('paddle')) return 'torch';
  // Both or neither: the root file decides.
  const own = new Set(model.root.file.imports.filter((i) => i.level === 0).map((i) => i.module.split('.')[0]));
  return own.has('paddle') ? 'paddle' : own.has('torch') ? 'torch' : undefined;
}
