/**
 * One ONNX parity run, start to finish: read both models, inject the mapping's weights, emulate half
 * precision, mark intermediate values as outputs, pick the execution provider, build the inputs, run
 * both sessions and compare. Runs inside the parity worker (parityWorker.ts), never on an editor's or
 * server's main thread: onnxruntime's `run` blocks the thread it is called on.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { nonRegularReason, readRegularFileSync } from '../formats/openRegular';
import { DEFAULT_TOLERANCE, ParityDtype, Tolerance, compareTensors } from './compare';
import { elemTypes } from './graphInfo';
import { HALF_SUFFIX, emulateHalf } from './halfPrecision';
import { HostTensor, castTensor } from './hostTensor';
import { InputMeta, buildInputs } from './inputs';
import { LayerValue, layerValues, modulePairs, pairLayers, weightsBehind } from './layers';
import { GRAPH, OnnxModel, checkExternalFiles, editModel, externalInitializers, inlineExternalEdit, parseModel, valueInfo } from './onnxModel';
import { ParityError } from './parityError';
import { lenField } from './protobuf';
import { Divergence, LayerResult, OnnxParityRequest, OutputResult, ParityReport, ProgressEvent } from './types';
import { MappingLine, WeightReport, injectWeights } from './weights';

type Progress = (e: ProgressEvent) => void;

const now = () => performance.now();
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * A model as the run sees it: its path while untouched (onnxruntime reads it, external data resolves
 * beside it, and the runner never loads the bytes itself), or edited bytes. Parsed only when an edit
 * or the layer search needs the graph.
 */
class ModelState {
  private parsed?: OnnxModel;

  constructor(readonly file: string, readonly which: string, readonly edited = false, parsed?: OnnxModel) {
    this.parsed = parsed;
  }

  get model(): OnnxModel {
    if (!this.parsed) {
      let buf: Buffer;
      try {
        buf = readRegularFileSync(this.file, 'an ONNX model file');
      } catch (e) {
        throw new ParityError(`${this.which} ${this.file}: ${describe(e)}`);
      }
      this.parsed = parseModel(buf, this.file);
    }
    return this.parsed;
  }
}

function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
}

function load(file: string, which: string): ModelState {
  try {
    // onnxruntime opens the path itself (a plain open, which would block on a named pipe): check first.
    const reason = nonRegularReason(statSync(file), 'an ONNX model file');
    if (reason) throw new ParityError(`${which} ${file}: ${reason}`);
  } catch (e) {
    if (e instanceof ParityError) throw e;
    throw new ParityError(`${which} ${file}: ${describe(e)}`);
  }
  return new ModelState(file, which);
}

function edited(s: ModelState, bytes: Buffer): ModelState {
  return new ModelState(s.file, s.which, true, parseModel(bytes, s.file));
}

/** Before the first edit, external data is copied in: an edited model is loaded from memory. */
function editable(s: ModelState): ModelState {
  if (s.edited || externalInitializers(s.model).length === 0) return s;
  return edited(s, editModel(s.model, inlineExternalEdit(s.model)));
}

export async function executeOnnxParity(req: OnnxParityRequest, progress: Progress = () => {}): Promise<ParityReport> {
  const t0 = now();
  const dtype: ParityDtype = req.dtype ?? 'fp32';
  const tol: Tolerance = { atol: req.atol ?? DEFAULT_TOLERANCE[dtype].atol, rtol: req.rtol ?? DEFAULT_TOLERANCE[dtype].rtol };
  const notes: string[] = [];
  ort.env.logLevel = 'fatal';

  progress({ phase: 'loading', message: 'reading the models' });
  let ref = load(req.reference, 'reference');
  let cand = load(req.candidate, 'candidate');

  let weights: WeightReport | undefined;
  if (req.weights) {
    progress({ phase: 'weights', message: `injecting weights through ${req.weights}` });
    cand = editable(cand);
    const inj = await injectWeights(req.weights, cand.model);
    weights = inj.report;
    cand = edited(cand, editModel(cand.model, inj.edit));
    if (weights.restored.length) notes.push(`${weights.restored.length} target tensor${weights.restored.length === 1 ? ' was' : 's were'} deduplicated by the exporter (an Identity of another initializer) and got their own initializer again: ${list(weights.restored)}`);
    if (weights.skipped.length) notes.push(`${weights.skipped.length} mapping target${weights.skipped.length === 1 ? '' : 's'} could not be written (see weights.skipped)`);
    if (weights.unwritten.length) notes.push(`${weights.unwritten.length} candidate initializer${weights.unwritten.length === 1 ? ' is' : 's are'} written by no rule and keep${weights.unwritten.length === 1 ? 's' : ''} the exported values: ${list(weights.unwritten)}`);
    if (weights.mappingErrors.length) notes.push(`the mapping check reports ${weights.mappingErrors.length} error${weights.mappingErrors.length === 1 ? '' : 's'}, e.g. ${weights.mappingErrors[0]}`);
  }

  // Layers are chosen before the half-precision rewrite, which adds its own casts between them.
  let refLayers: LayerValue[] = [];
  let candLayers: LayerValue[] = [];
  const candForWeights = req.layers ? cand.model : undefined;
  if (req.layers) {
    refLayers = layerValues(ref.model);
    candLayers = layerValues(cand.model);
  }

  if (dtype !== 'fp32') {
    progress({ phase: 'converting', message: `emulating ${dtype} in the candidate` });
    cand = editable(cand);
    const half = emulateHalf(cand.model, dtype);
    if (half.alreadyHalf) notes.push(`the candidate already stores its weights in half precision: it runs as it is, with ${dtype} tolerances`);
    else {
      cand = edited(cand, half.bytes!);
      notes.push(`${dtype}: ${half.rounded.initializers} initializers and ${half.rounded.values} computed values rounded to ${dtype}; operators compute in fp32 between roundings`);
    }
  }

  // The models' own outputs, before --layers adds the intermediate ones.
  const refOutputs = req.layers ? ref.model.outputs.map((o) => o.name) : undefined;
  const candOutputs = req.layers ? cand.model.outputs.map((o) => o.name) : undefined;
  if (req.layers) {
    ref = withOutputs(editable(ref), refLayers);
    cand = withOutputs(editable(cand), candLayers);
  }

  progress({ phase: 'loading', message: 'creating sessions' });
  const tLoad = now();
  const { device, refSession, note } = await openReference(ref, req.device ?? 'auto');
  if (note) notes.push(note);
  let candSession: ort.InferenceSession;
  try {
    candSession = await createSession(cand, device, 'candidate');
  } catch (e) {
    await refSession.release();
    throw e;
  }
  const loadMs = now() - tLoad;

  try {
    const metas: InputMeta[] = refSession.inputMetadata.map((m) => ({ name: m.name, type: m.isTensor ? m.type : 'non-tensor', shape: m.isTensor ? [...m.shape] : [] }));
    const inputs = buildInputs(metas, req.inputs ?? [], req.seed ?? 0);
    notes.push(...inputs.notes);
    const candFeeds = candidateFeeds(inputs.feeds, candSession, notes);

    progress({ phase: 'running', message: `running the reference on ${device}` });
    const tRun = now();
    const refOut = await refSession.run(toOrt(inputs.feeds));
    progress({ phase: 'running', message: `running the candidate on ${device}` });
    const candOut = await runCandidate(candSession, toOrt(candFeeds), cand.file);
    const runMs = now() - tRun;

    progress({ phase: 'comparing', message: 'comparing outputs' });
    const tCmp = now();
    const outputs = compareOutputs(refOutputs ?? refSession.outputNames, candOutputs ?? candSession.outputNames, refOut, candOut, tol, notes);
    const report: ParityReport = {
      pass: outputs.length > 0 && outputs.every((o) => o.pass),
      mode: 'onnx', device, dtype, tolerance: tol, reference: req.reference, candidate: req.candidate,
      inputs: inputs.report, outputs, timings: { loadMs: round2(loadMs), runMs: round2(runMs) }, notes,
    };
    if (weights) report.weights = weights;
    if (req.layers) {
      const { layers, first } = compareLayers(refLayers, candLayers, refOut, candOut, tol, weights, candForWeights!, progress);
      report.layers = layers;
      report.firstDivergence = first;
    }
    report.timings.compareMs = round2(now() - tCmp);
    report.timings.totalMs = round2(now() - t0);
    return report;
  } finally {
    await refSession.release();
    await candSession.release();
  }
}

function list(xs: string[], n = 5): string {
  return xs.slice(0, n).join(', ') + (xs.length > n ? `, … (${xs.length - n} more)` : '');
}

function withOutputs(s: ModelState, values: LayerValue[]): ModelState {
  const have = new Set(s.model.outputs.map((o) => o.name));
  const types = elemTypes(s.model);
  const add = values.filter((v) => !have.has(v.name));
  if (add.length === 0) return s;
  return edited(s, editModel(s.model, { append: add.map((v) => lenField(GRAPH.output, valueInfo(v.name, types.get(v.name)))) }));
}

function sessionOptions(device: 'cpu' | 'cuda'): ort.InferenceSession.SessionOptions {
  return { executionProviders: [device], logSeverityLevel: 4, logVerbosityLevel: 0 };
}

async function createSession(s: ModelState, device: 'cpu' | 'cuda', which: string): Promise<ort.InferenceSession> {
  // From its path, onnxruntime opens the external files itself: their locations are checked first.
  if (!s.edited) checkExternalFiles(s.model);
  try {
    return s.edited ? await ort.InferenceSession.create(s.model.buf as Uint8Array, sessionOptions(device)) : await ort.InferenceSession.create(s.file, sessionOptions(device));
  } catch (e) {
    throw new ParityError(`${which} ${s.file}: onnxruntime cannot load it${s.edited ? ' (after the runner\'s edits)' : ''}: ${runtimeMessage(e)}`);
  }
}

/** The node a runtime error names, so a type error points at the place in the graph. */
export function nodeInError(message: string): string | undefined {
  return /node \(([^)]+)\)/.exec(message)?.[1] ?? /node with name '([^']+)'/.exec(message)?.[1] ?? /Node:\s*(\S+)/.exec(message)?.[1] ?? /node ([^\s:]+\/[^\s:]+)/.exec(message)?.[1];
}

function runtimeMessage(e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  const node = nodeInError(msg);
  return node ? `node ${node}: ${msg}` : msg;
}

const CUDA_INSTALL = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';

/**
 * onnxruntime-node lists `cuda` on every Linux x64 install, but its CUDA provider is a separate
 * download: without the library there is nothing to try.
 */
function cudaProviderInstalled(): boolean {
  if (!ort.listSupportedBackends().some((b) => b.name === 'cuda')) return false;
  try {
    const dir = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(path.join(dir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

async function openReference(ref: ModelState, requested: 'auto' | 'cpu' | 'cuda'): Promise<{ device: 'cpu' | 'cuda'; refSession: ort.InferenceSession; note?: string }> {
  if (requested === 'cpu') return { device: 'cpu', refSession: await createSession(ref, 'cpu', 'reference') };
  if (!cudaProviderInstalled()) {
    if (requested === 'cuda') throw new ParityError(`--device cuda: this onnxruntime-node has no CUDA execution provider installed (${process.platform}/${process.arch}); on Linux x64 with CUDA 12 and cuDNN 9, install it with ${CUDA_INSTALL}`);
    return { device: 'cpu', refSession: await createSession(ref, 'cpu', 'reference') };
  }
  try {
    return { device: 'cuda', refSession: await createSession(ref, 'cuda', 'reference') };
  } catch (e) {
    const msg = (e as Error).message.replace(/^reference [^:]*: onnxruntime cannot load it: /, '');
    if (requested === 'cuda') throw new ParityError(`--device cuda: the CUDA execution provider did not start: ${msg}. It needs CUDA 12 with cuDNN 9 and a GPU`);
    // Whatever failed on CUDA, the CPU attempt reports a model error itself.
    const refSession = await createSession(ref, 'cpu', 'reference');
    return { device: 'cpu', refSession, note: `CUDA was not used (${msg.slice(0, 200)}); ran on cpu` };
  }
}

async function runCandidate(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>, file: string): Promise<ort.InferenceSession.ReturnType> {
  try {
    return await s.run(feeds);
  } catch (e) {
    throw new ParityError(`candidate ${file}: the run failed: ${runtimeMessage(e)}`);
  }
}

function toOrt(feeds: Map<string, HostTensor>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of feeds) out[name] = new ort.Tensor(t.dtype, t.data as ort.Tensor.DataType, t.dims);
  return out;
}

function fromOrt(t: ort.Tensor): HostTensor | undefined {
  if (t.type === 'string') return undefined;
  return { dtype: t.type as HostTensor['dtype'], dims: [...t.dims], data: t.data as HostTensor['data'] };
}

/** The reference's feeds for the candidate: by name, else by position; converted where its input type differs. */
function candidateFeeds(feeds: Map<string, HostTensor>, s: ort.InferenceSession, notes: string[]): Map<string, HostTensor> {
  const refNames = [...feeds.keys()];
  const byName = s.inputNames.every((n) => feeds.has(n));
  if (!byName && s.inputNames.length !== refNames.length) {
    throw new ParityError(`the candidate's inputs (${s.inputNames.join(', ')}) do not match the reference's (${refNames.join(', ')}) by name or by count`);
  }
  if (!byName) notes.push(`inputs paired by position: ${s.inputNames.map((n, i) => `${refNames[i]} → ${n}`).join(', ')}`);
  const out = new Map<string, HostTensor>();
  s.inputMetadata.forEach((m, i) => {
    let t = feeds.get(byName ? m.name : refNames[i])!;
    if (m.isTensor && m.type !== t.dtype) {
      notes.push(`input "${m.name}" converted from ${t.dtype} to the candidate's ${m.type}`);
      t = castTensor(t, m.type as HostTensor['dtype']);
    }
    out.set(m.name, t);
  });
  return out;
}

function compareOutputs(refNames: readonly string[], candNames: readonly string[], refOut: ort.InferenceSession.ReturnType, candOut: ort.InferenceSession.ReturnType,
  tol: Tolerance, notes: string[]): OutputResult[] {
  const byName = refNames.every((n) => candNames.includes(n));
  if (!byName && refNames.length !== candNames.length) notes.push(`the models have ${refNames.length} and ${candNames.length} outputs; the first ${Math.min(refNames.length, candNames.length)} are compared by position`);
  else if (!byName) notes.push(`outputs paired by position: ${refNames.map((n, i) => `${n} → ${candNames[i]}`).join(', ')}`);
  const out: OutputResult[] = [];
  const n = byName ? refNames.length : Math.min(refNames.length, candNames.length);
  for (let i = 0; i < n; i++) {
    const rn = refNames[i];
    const cn = byName ? rn : candNames[i];
    const r = fromOrt(refOut[rn] as ort.Tensor);
    const c = fromOrt(candOut[cn] as ort.Tensor);
    if (!r || !c) { notes.push(`output "${rn}" is not a numeric tensor; not compared`); continue; }
    const cmp = compareTensors(r, c, tol);
    out.push({ name: rn, ...(cn !== rn ? { candidateName: cn } : {}), ...cmp });
  }
  return out;
}

function compareLayers(refLayers: LayerValue[], candLayers: LayerValue[], refOut: ort.InferenceSession.ReturnType, candOut: ort.InferenceSession.ReturnType,
  tol: Tolerance, weights: WeightReport | undefined, candModel: OnnxModel, progress: Progress): { layers: LayerResult[]; first: Divergence | null } {
  const sized = (vs: LayerValue[], out: ort.InferenceSession.ReturnType) => vs.flatMap((v) => {
    const t = out[v.name] as ort.Tensor | undefined;
    return t && (t.type === 'float32' || t.type === 'float16' || t.type === 'float64') && !v.name.includes(HALF_SUFFIX) ? [{ ...v, dims: [...t.dims] }] : [];
  });
  const pairs = pairLayers(sized(refLayers, refOut), sized(candLayers, candOut), modulePairs(weights?.written ?? []));
  const layers: LayerResult[] = [];
  const good = new Set<string>();
  let first: Divergence | null = null;
  pairs.forEach((p, i) => {
    if (i % 64 === 0) progress({ phase: 'layers', message: 'comparing layers', done: i, total: pairs.length });
    const cmp = compareTensors(fromOrt(refOut[p.reference.name] as ort.Tensor)!, fromOrt(candOut[p.candidate.name] as ort.Tensor)!, tol);
    layers.push({ reference: p.reference.name, candidate: p.candidate.name, shape: cmp.shape, maxAbsDiff: cmp.maxAbsDiff, maxRelDiff: cmp.maxRelDiff, cosine: cmp.cosine, pass: cmp.pass, pairedBy: p.pairedBy });
    if (cmp.pass) { good.add(p.candidate.name); return; }
    if (first) return;
    // The weights behind the value since the last agreeing ones, and those of the module computing it.
    const used = [...new Set([...weightsBehind(candModel, p.candidate.name, good), ...moduleWeights(p.candidate.scope, weights)])];
    first = {
      reference: p.reference.name, candidate: p.candidate.name, maxAbsDiff: cmp.maxAbsDiff, maxRelDiff: cmp.maxRelDiff, cosine: cmp.cosine,
      shape: cmp.shape, worstIndex: cmp.worstIndex, pairedBy: p.pairedBy, weights: used,
    };
    if (weights) first.mapping = mappingLines(used, weights);
  });
  progress({ phase: 'layers', message: 'comparing layers', done: pairs.length, total: pairs.length });
  return { layers, first };
}

function moduleWeights(scope: string, weights: WeightReport | undefined): string[] {
  if (!scope || !weights) return [];
  return weights.written.filter((w) => w.target.slice(0, w.target.lastIndexOf('.')) === scope).map((w) => w.target);
}

function mappingLines(used: string[], weights: WeightReport): MappingLine[] {
  const lines = new Map<number, MappingLine>();
  for (const w of weights.written) if (used.includes(w.target)) lines.set(w.mapping.line, w.mapping);
  return [...lines.values()].sort((a, b) => a.line - b.line);
}
