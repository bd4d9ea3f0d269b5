/**
 * `tensorport convert MAPPING.tpmap -o OUT [--format F] [--protocol 2|3|4] [--force] [--json]`: writes
 * the target checkpoint the mapping describes, as safetensors, torch.save's zip (`.pt`/`.pth`/`.bin`)
 * or paddle.save's pickle (`.pdparams`) by OUT's extension or `--format`. Exit 0 written; 1 the mapping has errors (listed on stderr) or does not produce
 * the target's tensors; 2 bad usage, an unreadable or unconvertible input, or an I/O error (one line);
 * 130 interrupted (Ctrl-C), with nothing written. Progress goes to stderr on a terminal.
 */
import { printable } from '../formats/printable';
import { ConvertError } from '../mapping/convert/errors';
import { ConvertSummary } from '../mapping/convert/convertMapping';
import { convertErrorLine, convertJson, runConvertTool } from '../tools/convertTool';
import { parseCommandArgs, usePython } from './args';
import { CONVERT } from './commandSpecs';
import { EXIT, UsageError } from './exit';
import { formatBytes } from './keysTable';
import { count } from '../formats/plural';

const INTERRUPTED = 130;
const SHOWN_WARNINGS = 10;

export async function runConvert(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, CONVERT);
  usePython(parsed.values.python);
  const [mapping, ...extra] = parsed.positionals;
  const out = parsed.values.output;
  if (!mapping || extra.length > 0) throw new UsageError('convert takes one MAPPING.tpmap (tensorport convert --help)');
  if (!out) throw new UsageError('convert needs the output file: -o OUT.safetensors (tensorport convert --help)');
  const protocolText = parsed.values.protocol;
  if (protocolText !== undefined && !/^\d+$/.test(protocolText)) throw new UsageError(`--protocol ${protocolText}: paddle.save's pickle protocol is 2, 3 or 4 (4 by default)`);
  const protocol = protocolText === undefined ? undefined : Number(protocolText);
  const input = {
    mapping, output: out, format: parsed.values.format, protocol, force: parsed.values.force,
    maxShardSize: parsed.values['max-shard-size'], metadataFrom: parsed.values['metadata-from'], quantize: parsed.values.quantize,
  };

  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const progress = process.stderr.isTTY ? progressLine() : undefined;
  let summary: ConvertSummary;
  try {
    const onNotice = (line: string) => { progress?.clear(); process.stderr.write(`note: ${printable(line)}\n`); };
    summary = await runConvertTool(input, { signal: controller.signal, onProgress: progress?.update, onNotice });
  } catch (e) {
    progress?.clear();
    if (controller.signal.aborted) {
      process.stderr.write(`tensorport: interrupted; nothing was written to ${out}\n`);
      return INTERRUPTED;
    }
    if (!(e instanceof ConvertError)) throw e;
    if (e.kind === 'mapping') {
      // The message lists one problem a line, each already printable (convert/errors.ts).
      process.stderr.write(`tensorport: ${printable(e.message, { keepNewlines: true })}\n`);
      return EXIT.findings;
    }
    process.stderr.write(`tensorport: ${convertErrorLine(e)}\n`);
    return EXIT.usage;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  progress?.clear();

  if (parsed.values.json) {
    process.stdout.write(JSON.stringify(convertJson(summary)) + '\n');
    return EXIT.ok;
  }
  for (const w of summary.warnings.slice(0, SHOWN_WARNINGS)) process.stderr.write(`warning: ${printable(w)}\n`);
  if (summary.warnings.length > SHOWN_WARNINGS) process.stderr.write(`… and ${count(summary.warnings.length - SHOWN_WARNINGS, 'more warning')} (tensorport check ${mapping})\n`);
  const n = summary.unwritten.length;
  const unwritten = n === 0 ? '' : `; ${n} target key${n === 1 ? '' : 's'} not written: ${summary.unwritten.slice(0, 5).join(', ')}${n > 5 ? ', …' : ''}`;
  process.stdout.write(`wrote ${summary.output}${summary.shards ? ` and ${count(summary.shards, 'shard')}` : ''}: ${summary.tensors} tensor${summary.tensors === 1 ? '' : 's'}, ${formatBytes(summary.bytes)} in ${(summary.ms / 1000).toFixed(1)} s${summary.quantized ? ` (${summary.quantized} as Q8_0)` : ''}${unwritten}\n`);
  return EXIT.ok;
}

/** One self-overwriting line on a terminal, redrawn at most ten times a second. */
function progressLine(): { update(done: number, total: number, key: string): void; clear(): void } {
  let last = 0;
  let shown = false;
  return {
    update(done, total, key) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      shown = true;
      const width = Math.max(20, (process.stderr.columns || 80) - 1);
      process.stderr.write(`\r\x1b[2K${`converting ${done}/${total} ${printable(key)}`.slice(0, width)}`);
    },
    clear() {
      if (shown) process.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}
