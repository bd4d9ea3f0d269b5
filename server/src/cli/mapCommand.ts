/**
 * `tensorport map SOURCE TARGET [-o OUT.tpmap] [--force] [--json]`: proposes a complete mapping between
 * two checkpoints. `--json` prints one rule per target key (../shared/spec/cli.md); `-o` writes the
 * folded `.tpmap` atomically (never over an existing file without `--force`) and prints a summary;
 * otherwise the `.tpmap` text goes to stdout.
 */
import { printable, printableJson } from '../formats/printable';
import { mapJson, proposeMappingFor } from '../tools/mapTool';
import { PYTHON_OPTION, parseCommandArgs, usePython } from './args';
import { EXIT, UsageError } from './exit';

const USAGE = 'usage: tensorport map SOURCE TARGET [-o OUT.tpmap] [--force] [--json] [--python PATH]';

export async function runMap(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandArgs(args, { json: { type: 'boolean', default: false }, output: { type: 'string', short: 'o' }, force: { type: 'boolean', default: false }, ...PYTHON_OPTION });
  } catch (e) {
    throw new UsageError((e as Error).message, USAGE);
  }
  usePython(parsed.values.python);
  const files = parsed.positionals;
  if (files.length !== 2) throw new UsageError(`map takes a SOURCE and a TARGET checkpoint (${USAGE})`);
  const out = parsed.values.output;
  const g = await proposeMappingFor({ source: files[0], target: files[1], output: out, force: parsed.values.force });
  const { proposal } = g;
  if (out !== undefined && !parsed.values.json) {
    process.stdout.write(`wrote ${out}: ${proposal.rules.length} target tensors mapped (${g.lowConfidence} with low confidence), ` +
      `${proposal.unmappedSource.length} source tensors dropped, ${proposal.unmappedTarget.length} target tensors unmapped\n`);
  }
  if (parsed.values.json) process.stdout.write(printableJson(JSON.stringify(mapJson(proposal), null, 1)) + '\n');
  else if (out === undefined) process.stdout.write(printable(g.text, { keepNewlines: true }));
  return EXIT.ok;
}
