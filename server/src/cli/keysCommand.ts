/**
 * `tensorport keys FILE [--json]`: the checkpoint's tensors, as JSON (spec'd) or an aligned table for
 * people. `FILE.py::Class` / `FILE.ts::Class` lists what model source will have (server/src/source/).
 */
import { parseCommandArgs, usePython } from './args';
import { KEYS } from './commandSpecs';
import { EXIT, UsageError } from './exit';
import { keysJsonChunks } from './keysJson';
import { writeChunks } from './writeChunks';
import { keysTableChunks } from './keysTable';
import { formatSourceTable } from '../source/sourceTable';
import { readKeys } from '../tools/keysTool';
import { inCheckpointSpace } from '../source/hfKeySpace';

export async function runKeys(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, KEYS);
  usePython(parsed.values.python);
  const files = parsed.positionals;
  if (files.length !== 1) throw new UsageError('keys takes exactly one FILE (tensorport keys --help)');
  const space = parsed.values['key-space'];
  if (space !== undefined && space !== 'module' && space !== 'checkpoint') throw new UsageError(`--key-space takes module or checkpoint, not ${space}`);
  const read = await readKeys({ file: files[0], config: parsed.values.config });
  const { isSource } = read;
  if (space && !isSource) throw new UsageError('--key-space applies to model source (FILE.py::Class) only');
  // transformers saves some models under other keys than their modules have: the checkpoint's on request.
  const info = space === 'checkpoint' ? inCheckpointSpace(read.info) : read.info;
  if (parsed.values.json) {
    await writeChunks(process.stdout, keysJsonChunks(info));
  } else {
    const color = process.stdout.isTTY === true;
    if (isSource) process.stdout.write(formatSourceTable(info, { color }));
    else await writeChunks(process.stdout, keysTableChunks(info, { color }));
  }
  return EXIT.ok;
}
