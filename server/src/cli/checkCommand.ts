/** `tensorport check FILE… [--json] [--fix]`: the editor's diagnostics for mapping files and model source, as JSON or compiler-style lines. */
import { printable, printableJson } from '../formats/printable';
import { DEFAULT_MAX_MAPPING_BYTES } from '../mapping/checkFile';
import { checkJson } from '../tools/checkTool';
import { parseCommandArgs, usePython } from './args';
import { CHECK } from './commandSpecs';
import { EXIT, UsageError } from './exit';
import { count } from '../formats/plural';

export async function runCheck(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, CHECK);
  usePython(parsed.values.python);
  const files = parsed.positionals;
  if (files.length === 0) throw new UsageError('check takes one or more FILE.tpmap (tensorport check --help)');
  const maxMb = parsed.values['max-mapping-mb'] === undefined ? undefined : Number(parsed.values['max-mapping-mb']);
  if (maxMb !== undefined && !(maxMb > 0)) throw new UsageError('--max-mapping-mb takes a positive number of MiB');
  const { diagnostics, sides, summary } = await checkJson(files, {
    maxMappingBytes: maxMb === undefined ? DEFAULT_MAX_MAPPING_BYTES : maxMb * 2 ** 20,
    fix: parsed.values.fix,
    onFixed: (file, applied, refused) => process.stderr.write(`${file}: ${applied} fix${applied === 1 ? '' : 'es'} applied${refused ? `; ${refused} refused: applied, ${refused === 1 ? 'it' : 'they'} would raise the number of errors` : ''}\n`),
  });
  if (parsed.values.json) {
    process.stdout.write(printableJson(JSON.stringify({ diagnostics, ...(sides ? { sides } : {}), summary }, null, 1)) + '\n');
  } else {
    for (const d of diagnostics) process.stdout.write(`${printable(d.file)}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${printable(d.message)}\n`);
    process.stdout.write(`${count(summary.files, 'file')}: ${count(summary.errors, 'error')}, ${count(summary.warnings, 'warning')}, ${summary.information} information\n`);
  }
  return summary.errors > 0 ? EXIT.findings : EXIT.ok;
}
