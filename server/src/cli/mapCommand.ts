/**
 * `tensorport map SOURCE TARGET [-o OUT.tpmap] [--force] [--json]`: proposes a complete mapping between
 * two checkpoints. `--json` prints one rule per target key (docs/cli.md); `-o` writes the
 * folded `.tpmap` atomically (never over an existing file without `--force`) and prints a summary;
 * otherwise the `.tpmap` text goes to stdout.
 */
import { printable, printableJson } from '../formats/printable';
import { mapJson, proposeMappingFor } from '../tools/mapTool';
import { parseCommandArgs, usePython } from './args';
import { MAP } from './commandSpecs';
import { EXIT, UsageError } from './exit';
import { count } from '../formats/plural';

export async function runMap(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, MAP);
  usePython(parsed.values.python);
  const files = parsed.positionals;
  if (files.length !== 2) throw new UsageError('map takes a SOURCE and a TARGET checkpoint (tensorport map --help)');
  const out = parsed.values.output;
  const g = await proposeMappingFor({ source: files[0], target: files[1], output: out, force: parsed.values.force });
  const { proposal } = g;
  if (out !== undefined && !parsed.values.json) {
    process.stdout.write(`wrote ${out}: ${count(proposal.rules.length, 'target tensor')} mapped (${g.lowConfidence} with low confidence), ` +
      `${count(proposal.unmappedSource.length, 'source tensor')} dropped, ${count(proposal.unmappedTarget.length, 'target tensor')} unmapped\n`);
  }
  if (parsed.values.json) process.stdout.write(printableJson(JSON.stringify(mapJson(proposal), null, 1)) + '\n');
  else if (out === undefined) process.stdout.write(printable(g.text, { keepNewlines: true }));
  return EXIT.ok;
}
