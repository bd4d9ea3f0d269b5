/**
 * The TF.js Layers graph a model source builds, followed as TF.js builds it (engine/topology.js,
 * container.js, models.js of @tensorflow/tfjs-layers 4.x): layers named by per-class counters, built
 * on their first `apply` with the input's shape (weights named `<scope>/<weight>`), nodes linking
 * them, and a model's layers in TF.js's order — a Sequential's as added; a functional model's by
 * depth from the outputs, ties by traversal order — so `model.weights` (trainable weights of every
 * layer, then the non-trainable ones) comes out as TF.js lists it.
 */
import { Dim } from './dims';
import { LayerKind, Opts, TfShape, WeightSpec } from './tfjsLayers';
import { Pos } from './ir';

/** values.ts's Site and Gap, restated: values.ts holds TF.js objects, so this file cannot import it. */
export interface Site { file: string; pos: Pos }
export interface Gap { site: Site; message: string }

export interface TfWeight { name: string; shape?: Dim[]; dtype: string; trainable: boolean; layout?: string; site: Site; why?: string }

export interface TfNode {
  id: number;
  outbound: TfLayer;
  /** The tensors it was applied to; a gap where an input was no TF.js tensor inference could follow. */
  inputs: (TfTensor | Gap)[];
  outputs: TfTensor[];
}

export interface TfTensor { shape?: TfShape; dtype: string; node: TfNode; index: number }

export class TfLayer {
  readonly inbound: TfNode[] = [];
  built = false;
  readonly trainableW: TfWeight[] = [];
  readonly nonTrainableW: TfWeight[] = [];
  /** What was not followed in building it: its weights may be missing or unshaped. */
  readonly gaps: Gap[] = [];
  trainable = true;
  constructor(
    readonly id: number,
    readonly name: string,
    /** A `tf.layers.*` factory's kind; undefined for a user class (custom) or a factory Tensor Port does not know. */
    readonly kind: LayerKind | undefined,
    readonly opts: Opts,
    readonly site: Site,
    /** Where the input shape comes from the options (`inputShape`, `batchInputShape`, `inputDim`). */
    readonly batchInputShape?: TfShape,
  ) {}

  get trainableWeights(): TfWeight[] { return this.trainable ? this.trainableW.filter((w) => w.trainable) : []; }
  get nonTrainableWeights(): TfWeight[] {
    return this.trainable ? [...this.trainableW.filter((w) => !w.trainable), ...this.nonTrainableW] : [...this.trainableW, ...this.nonTrainableW];
  }
}

export class TfModel extends TfLayer {
  layers: TfLayer[] = [];
  inputs: TfTensor[] = [];
  outputs: TfTensor[] = [];
  /** What the model's graph passes through that inference could not follow. */
  readonly graphGaps: Gap[] = [];
  sequential = false;

  override get trainableWeights(): TfWeight[] { return this.trainable ? this.layers.flatMap((l) => l.trainableWeights) : []; }
  override get nonTrainableWeights(): TfWeight[] {
    const non = this.layers.flatMap((l) => l.nonTrainableWeights);
    return this.trainable ? non : [...this.layers.flatMap((l) => l.trainableWeights), ...non];
  }
}

/** `toSnakeCase` of tfjs-layers' generic_utils: `LayerNormalization` → `layer_normalization`. */
export function toSnakeCase(name: string): string {
  const s = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return s[0] !== '_' ? s : `private${s}`;
}

/**
 * One process's TF.js state, fresh: `getUid`'s counters per prefix and the name-scope stack. TF.js keeps
 * both per process, so a model built after others in the same process gets higher numbers.
 */
export class TfState {
  private readonly uids = new Map<string, number>();
  private readonly scopes: string[] = [];
  private ids = 0;
  private nodes = 0;

  uid(prefix: string): string {
    const n = (this.uids.get(prefix) ?? 0) + 1;
    this.uids.set(prefix, n);
    return `${prefix}${n}`;
  }

  /** The name `new Layer(args)` gives: `args.name`, else `dense_Dense1`; only unnamed layers advance the counter. */
  layerName(cls: string, given?: string): string {
    return given ?? `${toSnakeCase(cls)}_${this.uid(cls)}`;
  }

  nextId(): number { return ++this.ids; }

  scoped(name: string): string { return [...this.scopes, name].join('/'); }

  inScope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try { return fn(); } finally { this.scopes.pop(); }
  }

  node(outbound: TfLayer, inputs: (TfTensor | Gap)[], shapes: (TfShape | undefined)[], dtype: string): TfNode {
    const node: TfNode = { id: ++this.nodes, outbound, inputs, outputs: [] };
    node.outputs = shapes.map((shape, index) => ({ ...(shape ? { shape } : {}), dtype, node, index }));
    outbound.inbound.push(node);
    return node;
  }

  /** `weightSpec` added by `build` under the layer's scope. */
  addWeight(layer: TfLayer, spec: WeightSpec, dtype: string, site: Site, why?: string): void {
    const w: TfWeight = { name: this.scoped(spec.name), shape: spec.shape, dtype, trainable: spec.trainable, site, ...(spec.layout ? { layout: spec.layout } : {}), ...(why ? { why } : {}) };
    (spec.trainable ? layer.trainableW : layer.nonTrainableW).push(w);
  }
}

export const isTensor = (x: TfTensor | Gap): x is TfTensor => 'node' in x;

/**
 * A functional model's layers as Container's constructor orders them: a depth-first map of the graph
 * from each output (layerIndices: first visit order), node depths pushed back from the outputs, then
 * layers by decreasing depth, ties by traversal order. Gaps met on the way are the model's.
 */
export function orderLayers(outputs: TfTensor[], gaps: Gap[]): TfLayer[] {
  const layerIndex = new Map<TfLayer, number>();
  const finished = new Set<TfNode>();
  const decreasing: TfNode[] = [];
  const visit = (node: TfNode) => {
    if (finished.has(node)) return;
    if (!layerIndex.has(node.outbound)) layerIndex.set(node.outbound, layerIndex.size);
    for (const x of node.inputs) {
      if (isTensor(x)) visit(x.node);
      else if (!gaps.includes(x)) gaps.push(x);
    }
    finished.add(node);
    decreasing.push(node);
  };
  for (const t of outputs) visit(t.node);
  const nodeDepth = new Map<TfNode, number>();
  const layerDepth = new Map<TfLayer, number>();
  for (const node of [...decreasing].reverse()) {
    let depth = nodeDepth.get(node) ?? 0;
    depth = Math.max(depth, layerDepth.get(node.outbound) ?? 0);
    layerDepth.set(node.outbound, depth);
    nodeDepth.set(node, depth);
    for (const x of node.inputs) {
      if (!isTensor(x)) continue;
      nodeDepth.set(x.node, Math.max(depth + 1, nodeDepth.get(x.node) ?? 0));
    }
  }
  const byDepth = new Map<number, TfLayer[]>();
  for (const [layer, d] of layerDepth) byDepth.set(d, [...(byDepth.get(d) ?? []), layer]);
  return [...byDepth.keys()].sort((a, b) => b - a).flatMap((d) => byDepth.get(d)!.sort((a, b) => layerIndex.get(a)! - layerIndex.get(b)!));
}
