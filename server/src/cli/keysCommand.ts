/**
 * `tensorport keys FILE [--json]`: the checkpoint's tensors, as JSON (spec'd) or an aligned table for
 * people. `FILE.py::Class` / `FILE.ts::Class` lists what model source will have (server/src/source/).
 */
import { printableJson } from '../formats/printable';
import { readCheckpoint } from '../formats/readCheckpoint';
import { DEFAULT_READ_LIMITS } from '../formats/readLimits';
import { keysDocument } from '../formats/keysDocument';
import { parseCommandArgs } from './args';
import { EXIT, UsageError } from './exit';
import { formatKeysTable } from './keysTable';
import { parseModelSpec, readModelSource } from '../source/readModelSource';
import { formatSourceTable } from '../source/sourceTable';

export async function runKeys(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { json: { type: 'boolean', default: false }, config: { type: 'string' } });
  const files = parsed.positionals;
  if (files.length !== 1) throw new UsageError('keys takes exactly one FILE (usage: tensorport keys FILE [--json] [--config config.json])');
  const source = parseModelSpec(files[0]) !== undefined;
  if (parsed.values.config !== undefined && !source) throw new UsageError('--config applies to model source (FILE.py::Class): a checkpoint lists what it holds');
  const info = source ? await readModelSource(files[0], undefined, { config: parsed.values.config }) : await readCheckpoint(files[0], DEFAULT_READ_LIMITS);
  if (parsed.values.json) {
    process.stdout.write(printableJson(JSON.stringify(keysDocument(info), null, 1)) + '\n');
  } else {
    process.stdout.write((source ? formatSourceTable : formatKeysTable)(info, { color: process.stdout.isTTY === true }));
  }
  return EXIT.ok;
}
