/**
 * Command mode: the user's own script (PyTorch against Paddle on a GPU box, a distributed launcher for
 * a model larger than one GPU) runs as a child process and prints the JSON-lines protocol of
 * ../shared/spec/parity.md on stdout:
 *   {"event":"tensor","name":…,"reference":[…],"candidate":[…]}   nested lists; optional "shape"
 *   {"event":"stat","name":…,"maxAbsDiff":…,"maxRelDiff":…,"cosine":…}   optional "pass", "shape"
 *   {"event":"log","message":…}   shown with the script's stderr
 *   {"event":"done"}   optional "device" (e.g. "cuda:0")
 * Lines that do not start with `{` are the script's own output and go to the log (ranks of a launcher
 * print there too); a line that starts with `{` must be a protocol event, else the run fails on it.
 * The same events may instead go over the event channel named in the script's environment
 * (`TENSORPORT_CHANNEL`, eager/channel.ts; server/python/tensorport_channel.py sends them), where no
 * rank, warning or progress bar can land inside them; stdout stays supported.
 * Python's json module writes NaN/Infinity as bare words: they are accepted.
 *
 * Launchers (`torchrun`, `accelerate launch`, `python -m paddle.distributed.launch`) are run as the
 * command; only rank 0 should print events. The script runs in its own process group, so a timeout
 * or a cancel ends the launcher and every rank it started. Never a hang: a script that dies, prints a
 * malformed event or sends no `done` within the time limit is an error naming what happened.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DEFAULT_TOLERANCE, ParityDtype, Tolerance, compareArrays, shapeMismatch } from './compare';
import { openChannel } from './eager/channel';
import { probeDir } from './eager/probeDir';
import { parseEventLine } from './eventLine';
import { ParityCancelled, ParityError } from './parityError';
import { CommandParityRequest, LayerResult, OutputResult, ParityReport, ProgressEvent } from './types';

export interface CommandRunOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** The script's stderr (and its non-protocol stdout lines), as it arrives. */
  onStderr?: (text: string) => void;
  signal?: AbortSignal;
  /** How long to wait for the script to exit after `done` before ending its process group (default 5 s). */
  exitGraceMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const STDERR_TAIL_LINES = 12;
const LINE_SHOWN = 120;

export async function runCommandParity(req: CommandParityRequest, opts: CommandRunOptions = {}): Promise<ParityReport> {
  if (!req.trusted) throw new ParityError('command mode runs your own script: it is only available in a trusted workspace');
  if (!req.command.trim()) throw new ParityError('command mode needs a command to run');
  const dtype: ParityDtype = req.dtype ?? 'fp32';
  const tol: Tolerance = { atol: req.atol ?? DEFAULT_TOLERANCE[dtype].atol, rtol: req.rtol ?? DEFAULT_TOLERANCE[dtype].rtol };
  const t0 = performance.now();
  // Events may also come over the channel (TENSORPORT_CHANNEL, see eager/channel.ts), away from stdout.
  let fromChannel: (ev: Record<string, unknown>) => void = () => undefined;
  let badChannelLine: (line: string, why: string) => void = () => undefined;
  // Once the script speaks on the channel, its stdout is only its output.
  let viaChannel = false;
  let channel;
  try {
    channel = await openChannel({ onEvent: (ev) => fromChannel(ev), onBadLine: (l, why) => badChannelLine(l, why), onConnect: () => { viaChannel = true; } });
  } catch (e) {
    throw new ParityError(`cannot open the event channel: ${(e as Error).message}`);
  }
  const ch = channel;

  return new Promise<ParityReport>((resolve, reject) => {
    if (opts.signal?.aborted) { reject(new ParityCancelled()); return; }
    const group = process.platform !== 'win32';
    let child: ChildProcess;
    try {
      child = spawn(req.command, { shell: true, cwd: req.cwd, env: { ...process.env, ...req.env, ...ch.env, TENSORPORT_PYTHON_DIR: probeDir(), PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    } catch (e) {
      reject(new ParityError(`cannot start \`${req.command}\`: ${(e as Error).message}`));
      return;
    }
    opts.onProgress?.({ phase: 'command', message: `running ${req.command}` });
    const outputs: OutputResult[] = [];
    const stderrTail: string[] = [];
    const notes: string[] = [];
    let device = 'unknown';
    let lineNo = 0;
    let done = false;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const kill = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (group && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch { /* already gone */ }
    };
    const cleanup = () => {
      ch.close();
      clearTimeout(timer);
      clearTimeout(graceTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (msg: string, withStderr = true) => {
      if (settled) return;
      settled = true;
      cleanup();
      kill();
      const tail = withStderr && stderrTail.length ? `\nlast lines of its stderr:\n${stderrTail.join('\n')}` : '';
      reject(new ParityError(msg + tail));
    };
    const succeed = () => {
      if (settled) return;
      settled = true;
      cleanup();
      kill();
      if (outputs.length === 0) { reject(new ParityError(`\`${req.command}\` sent done without any tensor or stat event`)); return; }
      resolve(buildReport(req.command, outputs, device, dtype, tol, notes, performance.now() - t0));
    };
    const onAbort = () => {
      if (settled) return;
      settled = true;
      cleanup();
      kill();
      reject(new ParityCancelled());
    };
    opts.signal?.addEventListener('abort', onAbort);
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => fail(`\`${req.command}\` sent no {"event":"done"} within ${Math.round(timeoutMs / 1000)} s; it was stopped`), timeoutMs);

    const log = (text: string) => {
      opts.onStderr?.(text);
      for (const l of text.split('\n')) if (l.trim()) stderrTail.push(l);
      while (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => log(d));
    child.on('error', (e) => fail(`cannot run \`${req.command}\`${req.cwd ? ` in ${req.cwd}` : ''}: ${e.message}`));

    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on('line', (raw) => {
      lineNo++;
      if (settled) return;
      let line = raw.trim();
      if (!line) return;
      if (viaChannel) { log(`${raw}\n`); return; }
      // Under PYTHONUNBUFFERED a print's text and its newline are two writes, so another rank's line
      // can land inside ours: take the event out, keep the rest as that rank's output.
      const mixed = separateInterleaved(line);
      if (mixed) {
        log(`${mixed.text}\n`);
        line = mixed.event;
      }
      // Other ranks may still be talking after rank 0's done: their plain output is kept.
      if (!line.startsWith('{')) { log(`${raw}\n`); return; }
      if (done) {
        if (!notes.some((n) => n.startsWith('events after done'))) notes.push('events after done were ignored');
        return;
      }
      let ev: Record<string, unknown>;
      try {
        ev = parseEventLine(line);
      } catch (e) {
        fail(`\`${req.command}\` printed a line that is not a protocol event (stdout line ${lineNo}: ${(e as Error).message}): ${clip(line)}`);
        return;
      }
      handle(ev, `stdout line ${lineNo}`);
    });
    fromChannel = (ev) => {
      if (settled) return;
      if (done) {
        if (!notes.some((n) => n.startsWith('events after done'))) notes.push('events after done were ignored');
        return;
      }
      handle(ev, 'channel');
    };
    badChannelLine = (line, why) => fail(`\`${req.command}\` sent a line on the channel that is not a protocol event (${why}): ${clip(line)}`);
    function handle(ev: Record<string, unknown>, where: string): void {
      try {
        switch (ev.event) {
          case 'tensor': outputs.push(tensorEvent(ev, tol)); break;
          case 'stat': outputs.push(statEvent(ev, tol)); break;
          case 'log': log(`${String(ev.message ?? '')}\n`); break;
          case 'done':
            done = true;
            if (typeof ev.device === 'string') device = ev.device;
            opts.onProgress?.({ phase: 'comparing', message: 'the script is done' });
            // Ranks and launchers get a moment to exit on their own before the group is ended.
            if (child.exitCode !== null || child.signalCode !== null) succeed();
            else graceTimer = setTimeout(() => { notes.push(`the command was still running ${(opts.exitGraceMs ?? 5000) / 1000} s after done; its process group was ended`); succeed(); }, opts.exitGraceMs ?? 5000);
            break;
          default:
            throw new Error(`unknown event ${JSON.stringify(ev.event)} (expected tensor, stat, log or done)`);
        }
        if (ev.event === 'tensor' || ev.event === 'stat') opts.onProgress?.({ phase: 'command', message: `received ${String(ev.name)}`, done: outputs.length });
      } catch (e) {
        fail(`\`${req.command}\`, ${where}: ${(e as Error).message}`);
      }
    }

    child.on('close', (code, signal) => void ch.settle().then(() => {
      if (settled) return;
      if (done) {
        if (code) notes.push(`the command exited with code ${code} after done`);
        succeed();
        return;
      }
      fail(`\`${req.command}\` ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before sending {"event":"done"}${outputs.length ? ` (after ${outputs.length} event${outputs.length === 1 ? '' : 's'})` : ''}`);
    }));
  });
}

function clip(s: string): string {
  return s.length > LINE_SHOWN ? `${s.slice(0, LINE_SHOWN)}…` : s;
}

/**
 * A protocol event with another process's text before or after it on one line
 * (`[rank 1/2] starting{"event": …}`), or undefined when the line is one thing: plain text, or an
 * event (valid or not) alone. The event ends at its matching brace, outside strings.
 */
export function separateInterleaved(line: string): { event: string; text: string } | undefined {
  const start = line.search(/\{\s*"event"\s*:/);
  if (start < 0) return undefined;
  let depth = 0, inString = false;
  for (let i = start; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      const text = (line.slice(0, start) + line.slice(i + 1)).trim();
      return text ? { event: line.slice(start, i + 1), text } : undefined;
    }
  }
  return undefined;
}

function name(ev: Record<string, unknown>): string {
  if (typeof ev.name !== 'string' || ev.name === '') throw new Error(`a ${String(ev.event)} event needs a "name" string`);
  return ev.name;
}

/** A nested list of numbers: its values in row-major order and its shape. */
export function flatten(v: unknown, what: string): { values: number[]; shape: number[] } {
  if (typeof v === 'number') return { values: [v], shape: [] };
  if (!Array.isArray(v)) throw new Error(`"${what}" must be a number or a nested list of numbers`);
  const shape: number[] = [];
  for (let x: unknown = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  const values: number[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof x !== 'number') throw new Error(`"${what}" holds ${x === null ? 'null' : typeof x} where a number belongs`);
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) throw new Error(`"${what}" is ragged: not every list at depth ${depth} has ${shape[depth]} elements`);
    for (const y of x) walk(y, depth + 1);
  };
  walk(v, 0);
  return { values, shape };
}

function tensorEvent(ev: Record<string, unknown>, tol: Tolerance): OutputResult {
  const n = name(ev);
  const r = flatten(ev.reference, 'reference');
  const c = flatten(ev.candidate, 'candidate');
  let shape = r.shape;
  if (Array.isArray(ev.shape)) {
    shape = ev.shape.map(Number);
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== r.values.length || count !== c.values.length) throw new Error(`tensor "${n}": "shape" [${shape.join(', ')}] holds ${count} elements, reference has ${r.values.length}, candidate ${c.values.length}`);
  } else if (r.shape.join() !== c.shape.join()) {
    return { name: n, ...shapeMismatch(r.shape, c.shape) };
  }
  return { name: n, ...compareArrays(r.values, c.values, shape, tol) };
}

/**
 * A script's own statistics. Without element data the bound is proven only one way or the other:
 * maxAbsDiff ≤ atol, or maxRelDiff ≤ rtol, passes every element; the script may also say "pass".
 */
function statEvent(ev: Record<string, unknown>, tol: Tolerance): OutputResult {
  const n = name(ev);
  const num = (k: string, required: boolean): number => {
    const v = ev[k];
    if (typeof v === 'number') return v;
    if (v === undefined && !required) return NaN;
    throw new Error(`stat "${n}": "${k}" must be a number`);
  };
  const maxAbsDiff = num('maxAbsDiff', true);
  const maxRelDiff = num('maxRelDiff', false);
  const cosine = num('cosine', false);
  const pass = typeof ev.pass === 'boolean' ? ev.pass : maxAbsDiff <= tol.atol || maxRelDiff <= tol.rtol;
  return {
    name: n, shape: Array.isArray(ev.shape) ? ev.shape.map(Number) : [], pass, maxAbsDiff, maxRelDiff, cosine, worstIndex: [],
    mismatches: NaN, elements: NaN, requiredTolerance: { atol: maxAbsDiff, rtol: Number.isNaN(maxRelDiff) ? Infinity : maxRelDiff },
  };
}

function buildReport(command: string, outputs: OutputResult[], device: string, dtype: ParityDtype, tol: Tolerance, notes: string[], totalMs: number): ParityReport {
  const layers: LayerResult[] = outputs.map((o) => ({ reference: o.name, candidate: o.name, shape: o.shape, maxAbsDiff: o.maxAbsDiff, maxRelDiff: o.maxRelDiff, cosine: o.cosine, pass: o.pass, pairedBy: 'command' }));
  const bad = outputs.find((o) => !o.pass);
  return {
    pass: !bad, mode: 'command', device, dtype, tolerance: tol, command, outputs, layers,
    firstDivergence: bad ? { reference: bad.name, candidate: bad.name, maxAbsDiff: bad.maxAbsDiff, maxRelDiff: bad.maxRelDiff, cosine: bad.cosine, shape: bad.shape, worstIndex: bad.worstIndex, pairedBy: 'command' } : null,
    timings: { loadMs: 0, runMs: Math.round(totalMs * 100) / 100, totalMs: Math.round(totalMs * 100) / 100 }, notes,
  };
}

export { parseEventLine };
