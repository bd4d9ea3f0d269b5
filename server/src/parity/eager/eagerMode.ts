/**
 * Eager mode: parity on the user's own PyTorch / Paddle models, in their Python. Node prepares what the
 * converter alone knows — the reference's tensors from the mapping's source, the candidate's made by the
 * rules' transforms (eagerWeights.ts), the expanded rules for pairing — in a private temp folder, then
 * starts the probe shipped in server/python (directly, or under a launcher such as torchrun) with a
 * config file and an event channel (channel.ts). The probe builds both models, loads the weights in
 * memory, runs both with hooks on every module, pairs and compares the module outputs where they are, and
 * sends statistics; gradients come back in a file and are compared here after the rules' transforms
 * (eagerGradients.ts). The child's stdout and stderr are its log, never the protocol.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CheckpointIndex } from '../../index/checkpointIndex';
import { DEFAULT_TOLERANCE, ParityDtype, Tolerance } from '../compare';
import { InputReport } from '../inputs';
import { ParityCancelled, ParityError } from '../parityError';
import { EagerParityRequest, ParityReport, ProgressEvent } from '../types';
import { openChannel } from './channel';
import { GradientFiles, compareGradients } from './eagerGradients';
import { ProbeEvents, buildEagerReport } from './eagerReport';
import { checkEagerRequest, launcherEnv, saveDirOf } from './eagerRequest';
import { EagerMapping, RuleInstance, SideWeights, readCheckpoint, readMapping, writeCheckpointTensors, writeMappedTensors } from './eagerWeights';
import { PROBE, probeDir } from './probeDir';

export interface EagerRunOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** The probe's (and its launcher's) stdout and stderr, as they arrive. */
  onLog?: (text: string) => void;
  signal?: AbortSignal;
  /** The checkpoint index to read the mapping's sides through (the server shares its own). */
  index?: CheckpointIndex;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const LOG_TAIL = 12;

/** `FILE.py::NAME` as an absolute file and a Python name, or why not. */
export function parseModelSpec(spec: string, flag: string, cwd: string): { file: string; name: string } {
  const at = spec.lastIndexOf('::');
  if (at <= 0) throw new ParityError(`${flag} ${spec}: expected FILE.py::NAME (a module class or a function returning a model)`);
  const file = path.resolve(cwd, spec.slice(0, at));
  const name = spec.slice(at + 2);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ParityError(`${flag} ${spec}: \`${name}\` is not a Python name`);
  if (!file.endsWith('.py')) throw new ParityError(`${flag} ${spec}: eager mode builds a model from a Python file (FILE.py::NAME)`);
  if (!existsSync(file) || !statSync(file).isFile()) throw new ParityError(`${flag} ${spec}: no such file ${file}`);
  return { file, name };
}

export function isModelSpec(s: string | undefined): boolean {
  return !!s && /\.py::[A-Za-z_]\w*$/.test(s);
}

const quote = (s: string) => (process.platform === 'win32' ? `"${s}"` : `'${s.replace(/'/g, `'\\''`)}'`);

export async function runEagerParity(req: EagerParityRequest, opts: EagerRunOptions = {}): Promise<ParityReport> {
  if (!req.trusted) throw new ParityError('eager mode runs your own model code: it is only available in a trusted workspace');
  checkEagerRequest(req);
  const t0 = performance.now();
  const cwd = req.cwd ?? process.cwd();
  const ref = parseModelSpec(req.reference, '--reference', cwd);
  const cand = parseModelSpec(req.candidate, '--candidate', cwd);
  const dtype: ParityDtype = req.dtype ?? 'fp32';
  const tol: Tolerance = { atol: req.atol ?? DEFAULT_TOLERANCE[dtype].atol, rtol: req.rtol ?? DEFAULT_TOLERANCE[dtype].rtol };
  const notes: string[] = [];
  const tmp = mkdtempSync(path.join(tmpdir(), 'tensorport-eager-'));
  try {
    opts.onProgress?.({ phase: 'weights', message: 'preparing weights' });
    const index = opts.index ?? new CheckpointIndex();
    const resolve = (p: string | undefined) => (p === undefined ? undefined : checkpointIn(path.resolve(cwd, p)));
    let mapping: EagerMapping | undefined;
    if (req.weights) {
      mapping = await readMapping(resolve(req.weights)!, index, resolve(req.referenceWeights));
      if (mapping.errors.length) notes.push(`the mapping check reports ${mapping.errors.length} error${mapping.errors.length === 1 ? '' : 's'}: ${mapping.errors.slice(0, 3).join('; ')}${mapping.errors.length > 3 ? '; …' : ''}`);
    }
    let refWeights: SideWeights | undefined;
    let candWeights: SideWeights | undefined;
    if (mapping) refWeights = await writeCheckpointTensors(mapping.source, path.join(tmp, 'reference.bin'), opts.signal);
    else if (req.referenceWeights) refWeights = await writeCheckpointTensors(await readCheckpoint(resolve(req.referenceWeights)!, index), path.join(tmp, 'reference.bin'), opts.signal);
    if (req.candidateWeights) candWeights = await writeCheckpointTensors(await readCheckpoint(resolve(req.candidateWeights)!, index), path.join(tmp, 'candidate.bin'), opts.signal);
    else if (mapping) candWeights = await writeMappedTensors(mapping, path.join(tmp, 'candidate.bin'), opts.signal);
    if (!refWeights) notes.push('the reference keeps the weights its file gave it (no --weights or --reference-weights)');
    if (!candWeights) notes.push('the candidate keeps the weights its file gave it (no --weights or --candidate-weights)');

    const config = {
      reference: { ...ref, weights: refWeights },
      candidate: { ...cand, weights: candWeights },
      inputs: (req.inputs ?? []).map((s) => ('file' in s ? { name: s.name, file: path.resolve(cwd, s.file) } : s)),
      seed: req.seed ?? 0, dtype, device: req.device ?? 'auto', atol: tol.atol, rtol: tol.rtol, backward: !!req.backward,
      gradientsFile: path.join(tmp, 'gradients.bin'),
      rules: mapping?.rules.map((r) => ({ sources: r.sources, target: r.target, ...partOf(r) })) ?? [],
      benchRuns: req.benchRuns ?? 0,
      saveTensors: req.saveTensors ? { modules: req.saveTensors.map((m) => m.trim()), dir: saveDirOf(req, cwd) } : null,
    };
    const configFile = path.join(tmp, 'config.json');
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
    const prepareMs = performance.now() - t0;

    const events = await runProbe(req, configFile, cwd, opts).catch((e: unknown) => { throw withMappingErrors(e, mapping); });
    let backward;
    const grads = events.done?.gradients as GradientFiles | null | undefined;
    if (req.backward && grads) {
      opts.onProgress?.({ phase: 'comparing', message: 'comparing gradients' });
      const order = events.layers.map((l) => String(l.candidate));
      const keys = [...new Set([...(mapping?.rules.map((r) => r.target) ?? []), ...grads.candidate.map((e) => e.key)])];
      const keyOrder = keys.sort((a, b) => ownerRank(a, order) - ownerRank(b, order));
      backward = await compareGradients(grads, mapping?.rules, tol, keyOrder);
    } else if (req.backward && events.error) {
      notes.push('--backward: no gradients, the candidate\'s forward pass raised');
    }
    return buildEagerReport({
      reference: req.reference, candidate: req.candidate, dtype, tolerance: tol, events, rules: renamedRules(mapping?.rules, events.renamed), mapping: req.weights,
      backward, notes, prepareMs, totalMs: performance.now() - t0, savedTensors: events.done?.savedTensors,
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A run the probe refused (a tensor no rule gives a value, a shape the model does not take) under a mapping
 * `check` finds errors in: those errors are the likely cause, so the refusal names their lines too.
 */
function withMappingErrors(e: unknown, mapping: EagerMapping | undefined): unknown {
  if (!(e instanceof ParityError) || e instanceof ParityCancelled || !mapping?.errors.length) return e;
  const n = mapping.errors.length;
  // A rule's own error (a misspelt key) before the unmapped targets it leaves, which only repeat the refusal.
  const consequence = (x: string) => /^line \d+: unmapped-(target|source)-key:/.test(x);
  const shown = [...mapping.errors.filter((x) => !consequence(x)), ...mapping.errors.filter(consequence)].slice(0, 3);
  return new ParityError(`${e.message}\nthe mapping check reports ${n} error${n === 1 ? '' : 's'}: ${shown.join('; ')}${n > 3 ? '; …' : ''}`);
}

/** The names `save_pretrained` (and Paddle's save) give a model's checkpoint in its folder, sharded first. */
const FOLDER_CHECKPOINTS = ['model.safetensors.index.json', 'model.safetensors', 'pytorch_model.bin.index.json', 'pytorch_model.bin', 'model.pdparams'];

/** A folder given as weights (a `save_pretrained` folder, config.json beside the weights) is its checkpoint file. */
function checkpointIn(p: string): string {
  if (!existsSync(p) || !statSync(p).isDirectory()) return p;
  const found = FOLDER_CHECKPOINTS.map((n) => path.join(p, n)).find((f) => existsSync(f));
  if (!found) throw new ParityError(`${p}: a folder without a checkpoint (looked for ${FOLDER_CHECKPOINTS.join(', ')})`);
  return found;
}

/** A `chunk(n, k[, dim])` rule makes the k-th of n parts of its source: the probe compares that part's slice. */
function partOf(r: RuleInstance): { part?: [number, number] } {
  const t = r.rule.transforms.find((x) => x.name.text === 'chunk');
  const [n, k] = t?.args.map((a) => a.value) ?? [];
  return n !== undefined && k !== undefined ? { part: [k, n] } : {};
}

/** The rules as the models name their keys, for the report's module ↔ rule links: a transformers ≥ 5 model
 * holds renamed keys (`layers.0.attention.q_proj`) where the checkpoint and the mapping have
 * `encoder.layer.0.attention.attention.query`. (Gradients keep the checkpoint's names: the probe maps them back.) */
function renamedRules(rules: RuleInstance[] | undefined, renamed: ProbeEvents['renamed']): RuleInstance[] | undefined {
  if (!rules || !renamed) return rules;
  const src = renamed.reference ?? {};
  const tgt = renamed.candidate ?? {};
  return rules.map((r) => ({ ...r, sources: r.sources.map((k) => src[k] ?? k), target: tgt[r.target] ?? r.target }));
}

/** Forward position of the module owning a parameter: its deepest paired module's first call. */
function ownerRank(key: string, order: string[]): number {
  let best = -1;
  let depth = -1;
  order.forEach((m, i) => {
    const name = m.replace(/#\d+$/, '');
    if (key.startsWith(`${name}.`) && name.length > depth) { depth = name.length; best = i; }
  });
  return best;
}

function runProbe(req: EagerParityRequest, configFile: string, cwd: string, opts: EagerRunOptions): Promise<ProbeEvents> {
  const dir = probeDir();
  const probe = path.join(dir, PROBE);
  const events: ProbeEvents = { inputs: [], layers: [], outputs: [], notes: [] };
  const tail: string[] = [];
  return new Promise<ProbeEvents>((resolve, reject) => {
    if (opts.signal?.aborted) { reject(new ParityCancelled()); return; }
    let fatal: string | undefined;
    let settled = false;
    let child: ChildProcess | undefined;
    const group = process.platform !== 'win32';
    const kill = () => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (group && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch { /* gone */ }
    };
    let finish = (_e?: Error) => undefined as void;
    void openChannel({
      onEvent: (ev) => {
        switch (ev.event) {
          case 'started': events.started = ev; opts.onProgress?.({ phase: 'running', message: `running ${String(ev.reference)} and ${String(ev.candidate)} on ${String(ev.device)}` }); break;
          case 'inputs': events.inputs = (ev.inputs as InputReport[]) ?? []; break;
          case 'layer': events.layers.push(ev); if (events.layers.length % 50 === 0) opts.onProgress?.({ phase: 'comparing', message: 'comparing modules', done: events.layers.length }); break;
          case 'output': events.outputs.push(ev); break;
          case 'unpaired':
            events.unpaired = { reference: (ev.reference as string[]) ?? [], candidate: (ev.candidate as string[]) ?? [] };
            events.crossing = (ev.crossing as [string, string][]) ?? [];
            events.notComparable = (ev.notComparable as [string, string][]) ?? [];
            break;
          case 'error': events.error = ev; break;
          case 'renamed': events.renamed = { reference: (ev.reference as Record<string, string>) ?? {}, candidate: (ev.candidate as Record<string, string>) ?? {} }; break;
          case 'note': events.notes.push(String(ev.message)); break;
          case 'log': opts.onLog?.(`${String(ev.message)}\n`); break;
          case 'fatal': fatal = String(ev.message); break;
          case 'done': events.done = ev; break;
          default: break;
        }
      },
      onBadLine: (line) => { fatal = `the probe sent a line that is not an event: ${line.slice(0, 120)}`; },
    }).then((channel) => {
      finish = (e?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        kill();
        channel.close();
        if (e) reject(e); else resolve(events);
      };
      const onAbort = () => finish(new ParityCancelled());
      opts.signal?.addEventListener('abort', onAbort);
      const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => finish(new ParityError(`the probe did not finish within ${Math.round(timeoutMs / 1000)} s; it was stopped`)), timeoutMs);
      const python = req.python ?? (process.platform === 'win32' ? 'python' : 'python3');
      const base = req.launcher ? launcherEnv(process.env, req.python) : process.env;
      const env = { ...base, ...channel.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', TENSORPORT_PYTHON_DIR: dir };
      const what = req.launcher ? `\`${req.launcher}\`` : python;
      try {
        child = req.launcher
          ? spawn(`${req.launcher} ${quote(probe)} ${quote(configFile)}`, { shell: true, cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: group })
          : spawn(python, [probe, configFile], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
      } catch (e) {
        finish(new ParityError(`cannot start ${what}: ${(e as Error).message}`));
        return;
      }
      opts.onProgress?.({ phase: 'loading', message: `building the models in ${what}` });
      const log = (d: string) => {
        opts.onLog?.(d);
        for (const l of d.split('\n')) if (l.trim()) tail.push(l);
        while (tail.length > LOG_TAIL) tail.shift();
      };
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stdout!.on('data', log);
      child.stderr!.on('data', log);
      child.on('error', (e) => finish(new ParityError(`cannot run ${what}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (not found: give --python PATH or set tensorport.python)' : ''}: ${e.message}`)));
      child.on('close', (code, signal) => {
        void channel.settle().then(() => {
          if (fatal) { finish(new ParityError(fatal)); return; }
          if (events.done) { finish(); return; }
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          finish(new ParityError(`${what} ${how} before the probe finished${tail.length ? `\nlast lines of its output:\n${tail.join('\n')}` : ''}`));
        });
      });
    }, (e: Error) => reject(new ParityError(`cannot open the event channel: ${e.message}`)));
  });
}
