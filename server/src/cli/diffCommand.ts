/** `tensorport diff A B [--json]`: the model diff of two checkpoints (keys only in one, dtype/shape changes). */
import { printable, printableJson } from '../formats/printable';
import { formatDiff } from '../index/diff';
import { diffJson, differs } from '../tools/diffTool';
import { parseCommandArgs } from './args';
import { DIFF } from './commandSpecs';
import { EXIT, UsageError } from './exit';

export async function runDiff(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, DIFF);
  const [a, b, ...extra] = parsed.positionals;
  if (!a || !b || extra.length) throw new UsageError('diff takes two checkpoints (tensorport diff --help)');
  const d = await diffJson({ a, b });
  process.stdout.write(parsed.values.json ? printableJson(JSON.stringify(d, null, 1)) + '\n' : printable(formatDiff(a, b, d), { keepNewlines: true }));
  // Like diff(1): 1 when the checkpoints differ, so scripts can gate on it.
  return differs(d) ? EXIT.findings : EXIT.ok;
}
