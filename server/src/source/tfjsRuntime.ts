/**
 * The TF.js Layers API for the interpreter: `tf.layers.*` factories, `tf.sequential`/`model.add`,
 * `tf.input`/`layer.apply`/`tf.model`, user classes extending `tf.layers.Layer` (their `build` runs on
 * first apply, `this.addWeight` adds weights), over one fresh TfState — what a model built first in a
 * new Node process gets. The model a root function returns becomes a module whose parameters are
 * `model.weights`, named and ordered as TF.js does.
 */
import { asDim, asDtype, bindArgs } from './coerce';
import { Dim, symDim } from './dims';
import { TF_WRAPPERS } from './tfjsWrappers';
import { TF_LAYERS, LayerKind, Opt, Opts, TfShape, WeightSpec } from './tfjsLayers';
import { Gap, TfLayer, TfModel, TfState, TfTensor, isTensor, orderLayers } from './tfjsGraph';
import { CallArgs, ModNode, NONE, Site, UNKNOWN, Value } from './values';

export interface TfHost {
  /** A user class's method run on the instance; undefined when the class does not define it. */
  userMethod(self: Value, name: string, args: Value[], site: Site): Value | undefined;
}

/** Options that decide a weight's name or shape, or the layer's name: not following one is a gap. */
const SHAPING = new Set(['units', 'filters', 'kernelSize', 'strides', 'padding', 'dilationRate', 'useBias', 'center', 'scale', 'axis', 'inputDim', 'outputDim',
  'depthMultiplier', 'returnSequences', 'dataFormat', 'targetShape', 'dims', 'n', 'poolSize', 'size', 'inputShape', 'batchInputShape', 'batchSize', 'inputLength',
  'trainable', 'name', 'sharedAxes', 'cropping']);

/** The namespaces of `tf` that hold no layers: their calls make data (initializers, ops, optimizers). */
const DATA = new Set(['initializers', 'regularizers', 'constraints', 'train', 'losses', 'metrics', 'serialization', 'util', 'backend', 'env', 'tensor', 'tensor1d', 'tensor2d',
  'zeros', 'ones', 'randomNormal', 'randomUniform', 'tidy', 'dispose', 'setBackend', 'ready', 'scalar', 'variable', 'memory', 'keep', 'enableProdMode']);

const F32 = 'F32';

export class TfjsRuntime {
  readonly state = new TfState();
  /** What the listing says beside its keys (interpret.ts adds them to its notes). */
  readonly notes: string[] = [];
  /** User layer instances (`new MyLayer(…)`): the interpreter's module for `this`, and the TF.js layer it is. */
  private readonly custom = new WeakMap<ModNode, TfLayer>();
  private readonly selfOf = new WeakMap<TfLayer, Value>();
  /** Layers named by TF.js's counters rather than by the code. */
  private readonly automatic = new WeakSet<TfLayer>();

  constructor(private readonly host: TfHost) {}

  /** `tf.<path>(…)`: `path` is what follows the package (`['layers', 'dense']`, `['sequential']`). */
  call(path: string[], args: CallArgs, site: Site): Value {
    const [ns, name] = path;
    const opts = args.pos[0] ?? NONE;
    if (ns === 'layers' && path.length === 2) {
      const kind = TF_LAYERS[name];
      if (kind) return { t: 'tf', o: this.layer(kind, opts, site) };
      if (TF_WRAPPERS[name]) return { t: 'tf', o: this.wrapper(name, opts, site) };
      return { t: 'tf', o: this.opaque(site, `\`tf.layers.${name}\` is not a layer Tensor Port knows: its weights are not listed`) };
    }
    if (path.length === 1 && ns === 'sequential') return { t: 'tf', o: this.sequential(opts, site) };
    if (path.length === 1 && ns === 'model') return { t: 'tf', o: this.functional(opts, site) };
    if (path.length === 1 && ns === 'input') return { t: 'tf', o: this.input(opts, site) };
    if (DATA.has(ns)) return UNKNOWN;
    return { t: 'unknown', gap: { site, message: `\`tf.${path.join('.')}(…)\` is outside what Tensor Port follows of TF.js (the Layers API)` } };
  }

  /** A method called on a TF.js value. */
  method(o: TfLayer | TfTensor, name: string, args: CallArgs, site: Site): Value {
    if (!(o instanceof TfLayer)) return UNKNOWN;
    if (name === 'apply') return this.apply(o, args.pos[0] ?? NONE, site, args.pos[1]);
    if (name === 'add' && o instanceof TfModel && o.sequential) { this.add(o, args.pos[0] ?? NONE, site); return NONE; }
    if (name === 'getLayer' && o instanceof TfModel) {
      const n = args.pos[0];
      const found = n?.t === 'str' ? o.layers.find((l) => l.name === n.v) : undefined;
      return found ? { t: 'tf', o: found } : UNKNOWN;
    }
    return UNKNOWN;
  }

  attr(o: TfLayer | TfTensor, name: string): Value | undefined {
    if (!(o instanceof TfLayer)) return name === 'shape' ? shapeValue(o.shape) : undefined;
    if (name === 'name') return { t: 'str', v: o.name };
    if (!(o instanceof TfModel)) return undefined;
    if (name === 'layers') return { t: 'list', items: o.layers.filter((l) => !isInputLayer(l)).map((l) => ({ t: 'tf', o: l })) };
    if (name === 'outputs' || name === 'inputs') return { t: 'list', items: o[name].map((t) => ({ t: 'tf', o: t })) };
    if (name === 'output' || name === 'input') { const t = o[`${name}s`][0]; return t ? { t: 'tf', o: t } : UNKNOWN; }
    return undefined;
  }

  /** `new MyLayer({…})` of a class extending `tf.layers.Layer`: a layer whose `build` is the class's. */
  customLayer(self: { t: 'module'; node: ModNode }, className: string | undefined, classLabel: string, args: CallArgs, site: Site): Value {
    const { opts, unfollowed } = this.options(args.pos[0] ?? NONE);
    const given = typeof opts.get('name') === 'string' ? (opts.get('name') as string) : undefined;
    const layer = new TfLayer(this.state.nextId(), given ?? (className ? this.state.layerName(className) : classLabel), undefined, opts, site, batchShape(opts));
    if (!given) this.automatic.add(layer);
    if (!given && !className) layer.gaps.push({ site, message: `\`${classLabel}\` has no \`static className\`: TF.js cannot name it (its constructor throws without a \`name\`)` });
    this.optionGaps(layer, unfollowed, site);
    if (opts.get('trainable') === false) layer.trainable = false;
    this.custom.set(self.node, layer);
    this.selfOf.set(layer, self);
    return { t: 'tf', o: layer };
  }

  isCustom(node: ModNode): boolean { return this.custom.has(node); }

  /** `this.addWeight(name, shape, dtype, initializer, regularizer, trainable)` inside a user layer's `build`. */
  addWeight(node: ModNode, args: CallArgs, site: Site): Value {
    const layer = this.custom.get(node)!;
    const a = bindArgs(args, ['name', 'shape', 'dtype', 'initializer', 'regularizer', 'trainable', 'constraint']);
    const name = a.get('name');
    if (name?.t !== 'str') { layer.gaps.push({ site, message: '`addWeight` with a name inference cannot follow: the weight is not listed' }); return UNKNOWN; }
    const shape = tfShape(a.get('shape'));
    const sized = shape?.every((d) => d !== null) ? (shape as Dim[]) : undefined;
    const dtype = a.get('dtype');
    const trainable = a.get('trainable');
    const spec: WeightSpec = { name: name.v, ...(sized ? { shape: sized } : {}), trainable: !(trainable?.t === 'bool' && !trainable.v) };
    this.state.addWeight(layer, spec, dtype && dtype.t !== 'none' ? asDtype(dtype) ?? F32 : F32, site, sized ? undefined : `the shape given to \`addWeight('${name.v}', …)\` could not be followed`);
    return sized ? { t: 'tensor', shape: sized, dtype: F32, param: false, site } : UNKNOWN;
  }

  /**
   * The root function's model as a module: its parameters are `model.weights` by their TF.js names
   * (`dense_Dense1/kernel`), and what was not followed is a gap under the layer it concerns.
   */
  rootNode(model: TfLayer, site: Site): ModNode {
    if (!(model instanceof TfModel)) throw new Error(`returns the layer \`${model.name}\`, not a model: TF.js makes a layer's weights when it is applied (name a function that builds a model)`);
    const node = new ModNode('LayersModel', site, 'tfjs');
    for (const w of [...model.trainableWeights, ...model.nonTrainableWeights]) {
      node.params.set(w.name, { t: 'tensor', shape: w.shape, dtype: w.dtype, param: true, site: w.site, ...(w.layout ? { layout: w.layout } : {}) });
      if (!w.shape) node.gaps.push({ name: w.name, gap: { site: w.site, message: w.why ?? `the shape of \`${w.name}\` could not be followed` } });
    }
    const seen = new Set<TfLayer>();
    const walk = (m: TfModel) => {
      for (const g of m.graphGaps) node.gaps.push({ gap: g });
      for (const l of m.layers) {
        if (seen.has(l)) continue;
        seen.add(l);
        for (const g of l.gaps) node.gaps.push(l.name ? { name: l.name, gap: g } : { gap: g });
        if (l instanceof TfModel) walk(l);
      }
    };
    walk(model);
    const auto = [...seen].find((l) => this.automatic.has(l) && (l.trainableW.length || l.nonTrainableW.length));
    if (auto) this.notes.push(`automatic layer names (\`${auto.name}\`) are those of this model built first in a fresh process: TF.js numbers unnamed layers per class across the whole process, so a model built after others gets higher numbers (give layers a \`name\` to fix them)`);
    return node;
  }

  private layer(kind: LayerKind, v: Value, site: Site): TfLayer {
    const { opts, unfollowed } = this.options(v);
    const given = typeof opts.get('name') === 'string' ? (opts.get('name') as string) : undefined;
    const layer = new TfLayer(this.state.nextId(), this.state.layerName(kind.cls, given), kind, opts, site, batchShape(opts, kind.cls));
    if (!given) this.automatic.add(layer);
    this.optionGaps(layer, unfollowed, site);
    if (opts.get('trainable') === false) layer.trainable = false;
    return layer;
  }

  /** `tf.layers.timeDistributed({layer})` / `bidirectional({layer})`: known only around a `tf.layers.*` layer. */
  private wrapper(name: string, v: Value, site: Site): TfLayer {
    const inner = v.t === 'dict' ? v.entries.get('layer') : undefined;
    const layer = inner?.t === 'tf' && inner.o instanceof TfLayer && !(inner.o instanceof TfModel) && inner.o.kind ? inner.o : undefined;
    if (!layer?.kind) return this.opaque(site, `the layer \`tf.layers.${name}\` wraps could not be followed (Tensor Port follows a \`tf.layers.*\` layer there): its weights are not listed`);
    return this.layer(TF_WRAPPERS[name]({ kind: layer.kind, opts: layer.opts, name: layer.name }), v, site);
  }

  private optionGaps(layer: TfLayer, unfollowed: string[], site: Site): void {
    for (const k of unfollowed.filter((x) => SHAPING.has(x))) layer.gaps.push({ site, message: `its option \`${k}\` could not be followed: what it decides is taken as TF.js's default` });
  }

  /** A layer Tensor Port cannot follow: applied, it hands on a tensor of unknown shape; the gap is the model's. */
  private opaque(site: Site, message: string): TfLayer {
    const l = new TfLayer(this.state.nextId(), '', undefined, new Map(), site);
    l.gaps.push({ site, message });
    return l;
  }

  /** A value in place of a layer that is none inference can follow (a helper's result it could not read). */
  private asLayer(v: Value, site: Site): TfLayer {
    if (v.t === 'tf' && v.o instanceof TfLayer) return v.o;
    return this.opaque(v.t === 'unknown' && v.gap ? v.gap.site : site, v.t === 'unknown' && v.gap ? v.gap.message : 'a layer here could not be followed: what it holds is not listed');
  }

  private options(v: Value): { opts: Map<string, Opt>; unfollowed: string[] } {
    const opts = new Map<string, Opt>();
    const unfollowed: string[] = [];
    if (v.t !== 'dict') return { opts, unfollowed: v.t === 'none' ? [] : ['name', 'units'] };
    for (const [k, x] of v.entries) {
      const o = toOpt(x);
      if (o === undefined && x.t !== 'ref' && x.t !== 'func' && x.t !== 'lambda') unfollowed.push(k);
      opts.set(k, o);
    }
    return { opts, unfollowed };
  }

  private input(v: Value, site: Site): TfTensor {
    const { opts } = this.options(v);
    const layer = new TfLayer(this.state.nextId(), typeof opts.get('name') === 'string' ? (opts.get('name') as string) : this.state.uid('input'), undefined, opts, site);
    const shape = tfShapeOpt(opts.get('batchShape')) ?? (tfShapeOpt(opts.get('shape')) ? [null, ...tfShapeOpt(opts.get('shape'))!] : undefined);
    if (!shape) layer.gaps.push({ site, message: 'the shape given to `tf.input` could not be followed' });
    layer.built = true;
    return this.state.node(layer, [], [shape], F32).outputs[0];
  }

  /**
   * `layer.apply(x, kwargs)`: built on its first call with x's shape, under its name's scope; a new node.
   * An RNN's `initialState` (and `constants`) tensors are inputs of the node too (RNN.apply appends them),
   * so the layers that make them come first in `model.weights`; they shape no weight.
   */
  private apply(layer: TfLayer, v: Value, site: Site, kwargs?: Value): Value {
    const items = v.t === 'list' ? v.items : [v];
    const tensor = (x: Value): TfTensor | Gap => (x.t === 'tf' && !(x.o instanceof TfLayer) ? x.o : {
      site, message: x.t === 'unknown' && x.gap ? x.gap.message : `the input given to \`${layer.name || 'a layer'}\` here could not be followed: the layers before it are not listed`,
    });
    const inputs = items.map(tensor);
    const shapes = inputs.map((x) => (isTensor(x) ? x.shape : undefined));
    const extra: (TfTensor | Gap)[] = [];
    if (kwargs?.t === 'dict') {
      for (const key of ['initialState', 'constants']) {
        const given = kwargs.entries.get(key);
        if (given === undefined || given.t === 'none') continue;
        extra.push(...(given.t === 'list' ? given.items : [given]).map(tensor));
      }
    } else if (kwargs && kwargs.t !== 'none') extra.push({ site, message: `the options given to \`${layer.name || 'a layer'}\`'s \`apply\` here could not be followed: the layers that make its state may be missing or out of order` });
    if (!layer.built) this.build(layer, shapes, v.t === 'list', site);
    let out: TfShape | undefined;
    if (shapes.every((s) => s !== undefined)) {
      const given = shapes as TfShape[];
      if (layer instanceof TfModel) out = layer.outputs[0]?.shape;
      else if (layer.kind) out = layer.kind.output ? layer.kind.output(layer.opts, given) : given[0];
      else if (this.selfOf.has(layer)) {
        const r = this.host.userMethod(this.selfOf.get(layer)!, 'computeOutputShape', [v.t === 'list' ? { t: 'list', items: given.map(shapeValue) } : shapeValue(given[0])], site);
        out = r === undefined ? given[0] : tfShape(r);
      }
    }
    const node = this.state.node(layer, [...inputs, ...extra], [out], F32);
    return { t: 'tf', o: node.outputs[0] };
  }

  private build(layer: TfLayer, shapes: (TfShape | undefined)[], multi: boolean, site: Site): void {
    layer.built = true;
    const unknownInput = shapes.some((s) => s === undefined);
    this.state.inScope(layer.name, () => {
      if (layer.kind) {
        for (const spec of layer.kind.weights?.(layer.opts, shapes as TfShape[]) ?? []) {
          this.state.addWeight(layer, spec, F32, layer.site, spec.shape ? undefined : unknownInput ? `the input shape of \`${layer.name}\` could not be followed` : `a size of \`${spec.name}\` is unknown (null in the input shape, or an option not followed)`);
        }
      } else if (this.selfOf.has(layer)) {
        const arg: Value = multi ? { t: 'list', items: shapes.map(shapeValue) } : shapeValue(shapes[0]);
        this.host.userMethod(this.selfOf.get(layer)!, 'build', [arg], site);
      }
    });
  }

  private sequential(v: Value, site: Site): TfModel {
    const { opts } = this.options(v);
    this.state.uid('Sequential'); // Layer's constructor counts the class before Sequential names itself.
    const model = new TfModel(this.state.nextId(), typeof opts.get('name') === 'string' ? (opts.get('name') as string) : this.state.uid('sequential_'), undefined, opts, site);
    model.sequential = true;
    model.built = true;
    const layers = v.t === 'dict' ? v.entries.get('layers') : undefined;
    if (layers?.t === 'list') {
      for (const l of layers.items) this.add(model, l, site);
      if (layers.partial) model.graphGaps.push(layers.partial);
    } else if (layers && layers.t !== 'none') model.graphGaps.push({ site, message: 'the layers given to `tf.sequential` could not be listed' });
    return model;
  }

  /** `Sequential.add`: the first layer makes the input from its `inputShape`; each next one is applied to the last output. */
  private add(model: TfModel, v: Value, site: Site): void {
    const layer = this.asLayer(v, site);
    if (model.outputs.length === 0) {
      if (layer.inbound.length === 0) {
        let shape = layer.batchInputShape;
        if (!shape && layer instanceof TfModel) shape = layer.inputs[0]?.shape;
        if (!shape && layer.name) model.graphGaps.push({ site: layer.site, message: `\`${layer.name}\`, the first layer of a Sequential model, has no \`inputShape\`: TF.js refuses the model` });
        const input = new TfLayer(this.state.nextId(), `${layer.name}_input`, undefined, new Map(), layer.site);
        input.built = true;
        this.apply(layer, { t: 'tf', o: this.state.node(input, [], [shape], F32).outputs[0] }, site);
      }
      model.outputs = layer instanceof TfModel ? layer.outputs : [layer.inbound[0].outputs[0]];
      model.inputs = model.outputs;
    } else {
      const out = this.apply(layer, { t: 'tf', o: model.outputs[0] }, site);
      model.outputs = [(out as { o: TfTensor }).o];
    }
    model.layers.push(layer);
  }

  /** `tf.model({inputs, outputs})`: its layers in Container's order. */
  private functional(v: Value, site: Site): TfModel {
    const { opts } = this.options(v);
    this.state.uid('Model'); // the Layer constructor's count, as for Sequential
    const model = new TfModel(this.state.nextId(), typeof opts.get('name') === 'string' ? (opts.get('name') as string) : this.state.uid('model'), undefined, opts, site);
    model.built = true;
    const get = (k: string): Value[] => {
      const x = v.t === 'dict' ? v.entries.get(k) : undefined;
      return x?.t === 'list' ? x.items : x ? [x] : [];
    };
    const tensors = (k: string) => get(k).flatMap((x) => {
      if (x.t === 'tf' && !(x.o instanceof TfLayer)) return [x.o];
      model.graphGaps.push(x.t === 'unknown' && x.gap ? x.gap : { site, message: `an \`${k}\` tensor of \`tf.model\` could not be followed: the layers it comes from are not listed` });
      return [];
    });
    model.inputs = tensors('inputs');
    model.outputs = tensors('outputs');
    model.layers = orderLayers(model.outputs, model.graphGaps);
    return model;
  }
}

const isInputLayer = (l: TfLayer) => !l.kind && l.inbound.length === 1 && l.inbound[0].inputs.length === 0;

function toOpt(v: Value): Opt {
  switch (v.t) {
    case 'num': return v.d;
    case 'sym': return symDim(v.name);
    case 'str': return v.v;
    case 'bool': return v.v;
    case 'none': return null;
    case 'list': {
      const xs = v.items.map(toOpt);
      return v.partial || xs.some((x) => x === undefined) ? undefined : xs;
    }
    default: return undefined;
  }
}

/** A shape as a value: sizes, `null` for TF.js's unknown ones. */
function shapeValue(s: TfShape | undefined): Value {
  return s ? { t: 'list', items: s.map((d) => (d === null ? NONE : { t: 'num', d })) } : UNKNOWN;
}

function tfShape(v: Value | undefined): TfShape | undefined {
  if (v?.t !== 'list' || v.partial) return undefined;
  const ds = v.items.map((x) => (x.t === 'none' ? null : asDim(x)));
  return ds.every((d) => d !== undefined) ? (ds as TfShape) : undefined;
}

function tfShapeOpt(o: Opt): TfShape | undefined {
  return Array.isArray(o) && o.every((d) => d === null || typeof d === 'number' || (typeof d === 'object' && !Array.isArray(d))) ? (o as TfShape) : undefined;
}

/** The input shape a layer's options give (Layer's constructor; Dense's `inputDim`, Embedding's `inputLength`). */
function batchShape(o: Opts, cls?: string): TfShape | undefined {
  const batch = tfShapeOpt(o.get('batchInputShape'));
  if (batch) return batch;
  const size = o.get('batchSize');
  const b = typeof size === 'number' ? size : null;
  const shape = tfShapeOpt(o.get('inputShape'));
  if (shape) return [b, ...shape];
  const inputDim = o.get('inputDim');
  if (cls === 'Dense' && (typeof inputDim === 'number' || (typeof inputDim === 'object' && inputDim !== null && !Array.isArray(inputDim)))) return [b, inputDim];
  if (cls === 'Embedding') {
    const len = o.get('inputLength');
    return [b, ...(len === undefined || len === null ? [null] : Array.isArray(len) ? (tfShapeOpt(len) ?? [null]) : [len as Dim])];
  }
  return undefined;
}
