/**
 * `convert`: a mapping applied to its source checkpoint, the target written in the output's format
 * (streamed, atomic, never over an existing file without `force`). The options are checked here so
 * every face refuses the same combinations with the same reasons.
 */
import { count } from '../formats/plural';
import { printable } from '../formats/printable';
import { CheckpointIndex } from '../index/checkpointIndex';
import { ConvertSummary, convertMapping } from '../mapping/convert/convertMapping';
import { ConvertError } from '../mapping/convert/errors';
import { OUTPUT_FORMATS, OutputFormat, formatOfPath } from '../mapping/convert/outputFormat';
import { parseSize } from '../mapping/convert/shards';
import { InputError, OptionName, cliOption } from './inputError';

export interface ConvertInput {
  mapping: string;
  output: string;
  format?: string;
  protocol?: number;
  /** A size such as 5GB, 500MiB or a number of bytes. */
  maxShardSize?: string;
  metadataFrom?: string;
  quantize?: string;
  force?: boolean;
}

export interface ConvertJson { output: string; tensors: number; bytes: number; unwritten: string[]; ms: number; shards?: number; quantized?: number }

export interface ConvertRunOptions {
  signal?: AbortSignal;
  onProgress?(done: number, total: number, key: string): void;
  /** Lines worth telling that are not the result (stale temporary files removed beside the output). */
  onNotice?(line: string): void;
  index?: CheckpointIndex;
}

/** Converts; rejects with an InputError (bad options), a ConvertError or the signal's reason. */
export async function runConvertTool(input: ConvertInput, run: ConvertRunOptions = {}, option: OptionName = cliOption): Promise<ConvertSummary> {
  const { mapping, output } = input;
  if (!mapping.endsWith('.tpmap')) throw new InputError(`${mapping}: convert reads a .tpmap mapping file`);
  if (!output) throw new InputError(`convert needs the output file (${option('output')} OUT.safetensors)`);
  const named = input.format;
  if (named !== undefined && !OUTPUT_FORMATS.includes(named as OutputFormat)) throw new InputError(`${option('format')} ${named}: one of ${OUTPUT_FORMATS.join(', ')}`);
  const format = (named as OutputFormat | undefined) ?? formatOfPath(output);
  if (!format) throw new InputError(`${output}: convert writes .safetensors, .pdparams (paddle.save), .pt/.pth/.bin (torch.save), .gguf and a TF.js model.json (.json); name the output so, or give ${option('format')}`);
  const { protocol } = input;
  if (protocol !== undefined && protocol !== 2 && protocol !== 3 && protocol !== 4) throw new InputError(`${option('protocol')} ${protocol}: paddle.save's pickle protocol is 2, 3 or 4 (4 by default)`);
  if (protocol !== undefined && format !== 'paddle') throw new InputError(`${option('protocol')} applies to .pdparams output`);
  const shardText = input.maxShardSize;
  const maxShardBytes = shardText === undefined ? undefined : parseSize(shardText);
  if (shardText !== undefined && !maxShardBytes) throw new InputError(`${option('max-shard-size')} ${shardText}: a size such as 5GB, 500MiB or a number of bytes`);
  if (maxShardBytes !== undefined && format !== 'safetensors' && format !== 'tfjs') throw new InputError(`${option('max-shard-size')} applies to .safetensors and TF.js model.json output`);
  if (input.metadataFrom !== undefined && format !== 'gguf') throw new InputError(`${option('metadata-from')} applies to .gguf output`);
  const { quantize } = input;
  if (quantize !== undefined && quantize !== 'q8_0') throw new InputError(`${option('quantize')} ${quantize}: the quantised type written is q8_0`);
  if (quantize !== undefined && format !== 'gguf') throw new InputError(`${option('quantize')} applies to .gguf output`);
  return convertMapping(mapping, output, {
    signal: run.signal, onProgress: run.onProgress, onNotice: run.onNotice, index: run.index, format, protocol, force: input.force, forceOption: option('force'), maxShardBytes, metadataFrom: input.metadataFrom, quantize,
  });
}

/** The `convert --json` document. */
export function convertJson(s: ConvertSummary): ConvertJson {
  return { output: s.output, tensors: s.tensors, bytes: s.bytes, unwritten: s.unwritten, ms: Math.round(s.ms), ...(s.shards ? { shards: s.shards } : {}), ...(s.quantized ? { quantized: s.quantized } : {}) };
}

/** A converter failure as one line: the mapping's problems joined, or the first problem and how many more. */
export function convertErrorLine(e: ConvertError): string {
  if (e.kind === 'mapping') return e.message.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
  const first = e.problems[0] ?? e.message;
  return `${printable(first)}${e.problems.length > 1 ? ` (and ${count(e.problems.length - 1, 'more problem')})` : ''}`;
}
