/**
 * `tensorport keys FILE [--json]`: the checkpoint's tensors, as JSON (spec'd) or an aligned table for
 * people. `FILE.py::Class` / `FILE.ts::Class` lists what model source will have (server/src/source/).
 */
import { readCheckpoint } from '../formats/readCheckpoint';
import { CheckpointInfo } from '../formats/tensorInfo';
import { parseCommandArgs } from './args';
import { EXIT, UsageError } from './exit';
import { formatKeysTable } from './keysTable';
import { parseModelSpec, readModelSource } from '../source/readModelSource';
import { formatSourceTable } from '../source/sourceTable';

export async function runKeys(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
  const files = parsed.positionals;
  if (files.length !== 1) throw new UsageError('keys takes exactly one FILE (usage: tensorport keys FILE [--json])');
  const source = parseModelSpec(files[0]) !== undefined;
  const info = source ? await readModelSource(files[0]) : await readCheckpoint(files[0]);
  if (parsed.values.json) {
    process.stdout.write(JSON.stringify(keysJson(info), null, 1) + '\n');
  } else {
    process.stdout.write((source ? formatSourceTable : formatKeysTable)(info, { color: process.stdout.isTTY === true }));
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
    // Model source: an open dimension is the string naming it; where each tensor is defined (1-based) and its layout.
    tensors: info.tensors.map((t) => ({
      key: t.key, dtype: t.dtype, shape: t.dims ?? t.shape,
      ...(t.layout ? { layout: t.layout } : {}),
      // ONNX: a Constant node's value, and the subgraph (If/Loop/Scan body) a tensor lives in.
      ...(t.constant ? { constant: true } : {}),
      ...(t.graph ? { graph: t.graph } : {}),
      ...(t.definition ? { definition: { line: t.definition.line + 1, column: t.definition.column + 1 } } : {}),
    })),
    ...(info.bindings ? { config: Object.fromEntries(Object.entries(info.bindings).map(([k, b]) => [k, b.value])) } : {}),
    ...(info.metadata ? { metadata: info.metadata } : {}),
    ...(info.notes.length ? { notes: info.notes } : {}),
  };
}
