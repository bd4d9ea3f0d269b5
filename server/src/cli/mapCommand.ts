/**
 * `tensorport map SOURCE TARGET [-o OUT.tpmap] [--force] [--json]`: proposes a complete mapping between
 * two checkpoints. `--json` prints one rule per target key (../shared/spec/cli.md); `-o` writes the
 * folded `.tpmap` atomically (never over an existing file without `--force`) and prints a summary;
 * otherwise the `.tpmap` text goes to stdout.
 */
import { printable, printableJson } from '../formats/printable';
import * as path from 'node:path';
import { describeFsError } from '../formats/byteSource';
import { ReaderError } from '../formats/readerError';
import { exists, writeFileAtomically } from '../formats/atomicWrite';
import { generateMapping } from '../mapping/automap/generate';
import { MappingProposal } from '../mapping/automap/propose';
import { parseCommandArgs } from './args';
import { EXIT, UsageError } from './exit';

const USAGE = 'usage: tensorport map SOURCE TARGET [-o OUT.tpmap] [--force] [--json]';

export async function runMap(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandArgs(args, { json: { type: 'boolean', default: false }, output: { type: 'string', short: 'o' }, force: { type: 'boolean', default: false } });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const files = parsed.positionals;
  if (files.length !== 2) throw new UsageError(`map takes a SOURCE and a TARGET checkpoint (${USAGE})`);
  const out = parsed.values.output;
  if (out !== undefined && (out === '' || out.endsWith(path.sep))) throw new UsageError(`-o needs a file name (${USAGE})`);
  if (out !== undefined && !parsed.values.force && (await exists(out))) {
    throw new UsageError(`${out}: already exists; pass --force to replace it`);
  }

  let g;
  try {
    // To stdout, the paths are as given: they are relative to wherever the user saves the text.
    g = await generateMapping(files[0], files[1], out !== undefined ? path.dirname(path.resolve(out)) : undefined);
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    // A side that does not load (a class that is not there, a file that is not a checkpoint) is the input's fault, not the output's.
    throw new UsageError((e as Error).message);
  }
  if (out !== undefined) {
    try {
      await writeFileAtomically(out, g.text, { overwrite: parsed.values.force });
    } catch (e) {
      throw new UsageError(`${out}: cannot write: ${describeFsError(e)}`);
    }
  }
  const { proposal } = g;
  if (out !== undefined && !parsed.values.json) {
    process.stdout.write(`wrote ${out}: ${proposal.rules.length} target tensors mapped (${g.lowConfidence} with low confidence), ` +
      `${proposal.unmappedSource.length} source tensors dropped, ${proposal.unmappedTarget.length} target tensors unmapped\n`);
  }
  if (parsed.values.json) process.stdout.write(printableJson(JSON.stringify(mapJson(proposal), null, 1)) + '\n');
  else if (out === undefined) process.stdout.write(printable(g.text, { keepNewlines: true }));
  return EXIT.ok;
}

/** The `map --json` document of cli.md: one rule per concrete target key. */
export function mapJson(p: MappingProposal): object {
  return {
    rules: p.rules.map((r) => ({ source: r.sources, target: r.target, transforms: r.transforms, confidence: r.confidence })),
    unmappedSource: p.unmappedSource,
    unmappedTarget: p.unmappedTarget,
  };
}
