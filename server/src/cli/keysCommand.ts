/** `tensorport keys FILE [--json]`: the checkpoint's tensors, as JSON (spec'd) or an aligned table for people. */
import { readCheckpoint } from '../formats/readCheckpoint';
import { CheckpointInfo } from '../formats/tensorInfo';
import { parseCommandArgs } from './args';
import { EXIT, UsageError } from './exit';
import { formatKeysTable } from './keysTable';

export async function runKeys(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
  const files = parsed.positionals;
  if (files.length !== 1) throw new UsageError('keys takes exactly one FILE (usage: tensorport keys FILE [--json])');
  const info = await readCheckpoint(files[0]);
  if (parsed.values.json) {
    process.stdout.write(JSON.stringify(keysJson(info), null, 1) + '\n');
  } else {
    process.stdout.write(formatKeysTable(info, { color: process.stdout.isTTY === true }));
  }
  return EXIT.ok;
}

/** The `keys --json` document: spec fields first, then what a porting script may also want. */
export function keysJson(info: CheckpointInfo): object {
  return {
    file: info.file,
    format: info.format,
    ...(info.framework ? { framework: info.framework } : {}),
    ...(info.shapeOrder === 'ggml' ? { shapeOrder: 'ggml' } : {}),
    tensors: info.tensors.map((t) => ({ key: t.key, dtype: t.dtype, shape: t.shape })),
    ...(info.metadata ? { metadata: info.metadata } : {}),
    ...(info.notes.length ? { notes: info.notes } : {}),
  };
}
