/**
 * `tensorport parity`: a forward parity check (docs/parity.md) — two ONNX
 * models (optionally with the candidate's weights pushed through a mapping), or a user's script in
 * command mode. Exit 0 when every output is within tolerance, 1 when one is not, 2 when the check
 * cannot run (a one-line reason on stderr).
 */
import { printable, printableJson } from '../formats/printable';
import { ParityDtype } from '../parity/compare';
import { formatReport, reportJson } from '../parity/formatReport';
import { ParityError } from '../parity/parityError';
import { Device, ParityReport, ProgressEvent } from '../parity/types';
import { runParityTool } from '../tools/parityTool';
import { parseCommandArgs } from './args';
import { PARITY } from './commandSpecs';
import { EXIT, UsageError } from './exit';

function number(flag: string, v: string | undefined, check: (x: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`--${flag} ${v}: expected ${what}`);
  return x;
}

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${flag} ${v}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

export async function runParity(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, PARITY, { positionals: false });
  const v = parsed.values;
  const atol = number('atol', v.atol, (x) => x >= 0, 'a tolerance ≥ 0');
  const rtol = number('rtol', v.rtol, (x) => x >= 0, 'a tolerance ≥ 0');
  const dtype = oneOf<ParityDtype>('dtype', v.dtype, ['fp32', 'fp16', 'bf16']);

  const device = oneOf<Device>('device', v.device, ['auto', 'cpu', 'cuda']);
  const timeout = number('timeout', v.timeout, (x) => x > 0, 'seconds > 0');
  const seed = number('seed', v.seed, (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer');
  // On a terminal, one self-erasing status line while an ONNX run works.
  const tty = process.stderr.isTTY === true && !v.json && v.command === undefined;
  const onProgress = tty ? (e: ProgressEvent) => process.stderr.write(`\r\x1b[K${e.message}${e.total ? ` ${e.done}/${e.total}` : ''}…`) : undefined;
  let report: ParityReport;
  try {
    report = await runParityTool({
      reference: v.reference, candidate: v.candidate, weights: v.weights, inputs: v.input, seed, atol, rtol, dtype, device,
      layers: v.layers || undefined, command: v.command, cwd: v.cwd, timeout,
      referenceWeights: v['reference-weights'], candidateWeights: v['candidate-weights'], backward: v.backward || undefined,
      python: v.python, launcher: v.launcher,
      saveTensors: v['save-tensors']?.flatMap((s) => s.split(',')), saveDir: v['save-dir'],
    }, {
      // The CLI is its own process with nothing else to keep responsive, so onnxruntime runs right
      // here: a worker process would add a second Node start to every run (the editor uses one).
      inProcess: true,
      // Command mode runs what the user typed.
      commands: { allowed: true },
      onProgress,
      onStderr: (t) => process.stderr.write(t),
    });
    if (tty) process.stderr.write('\r\x1b[K');
  } catch (e) {
    if (!(e instanceof ParityError)) throw e;
    if (tty) process.stderr.write('\r\x1b[K');
    // Cannot run: one line per reason (the weights' problems, the mapping check's errors, the script's
    // stderr tail), each escaped but kept on its own line, exit 2.
    process.stderr.write(`tensorport: ${printable(e.message, { keepNewlines: true })}\n`);
    return EXIT.usage;
  }
  process.stdout.write(v.json ? printableJson(reportJson(report)) + '\n' : printable(formatReport(report), { keepNewlines: true }));
  return report.pass ? EXIT.ok : EXIT.findings;
}
