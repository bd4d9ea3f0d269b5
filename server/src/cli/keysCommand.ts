/** `tensorport keys FILE [--json]`: the checkpoint's tensors, as JSON (spec'd) or an aligned table for people. */
import { parseArgs } from 'node:util';
import { readCheckpoint } from '../formats/readCheckpoint';
import { CheckpointInfo } from '../formats/tensorInfo';
import { EXIT, UsageError } from './exit';
import { formatKeysTable } from './keysTable';

export async function runKeys(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
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
