/**
 * `tensorport keys FILE [--json]`: the checkpoint's tensors, as JSON (spec'd) or an aligned table for
 * people. `FILE.py::Class` / `FILE.ts::Class` lists what model source will have (server/src/source/).
 */
import { printableJson } from '../formats/printable';
import { keysDocument } from '../formats/keysDocument';
import { PYTHON_OPTION, parseCommandArgs, usePython } from './args';
import { EXIT, UsageError } from './exit';
import { formatKeysTable } from './keysTable';
import { formatSourceTable } from '../source/sourceTable';
import { readKeys } from '../tools/keysTool';

export async function runKeys(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { json: { type: 'boolean', default: false }, config: { type: 'string' }, ...PYTHON_OPTION });
  usePython(parsed.values.python);
  const files = parsed.positionals;
  if (files.length !== 1) throw new UsageError('keys takes exactly one FILE (usage: tensorport keys FILE [--json] [--config config.json] [--python PATH])');
  const { info, isSource } = await readKeys({ file: files[0], config: parsed.values.config });
  if (parsed.values.json) {
    process.stdout.write(printableJson(JSON.stringify(keysDocument(info), null, 1)) + '\n');
  } else {
    process.stdout.write((isSource ? formatSourceTable : formatKeysTable)(info, { color: process.stdout.isTTY === true }));
  }
  return EXIT.ok;
}
