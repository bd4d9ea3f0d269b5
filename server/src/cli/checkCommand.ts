/** `tensorport check FILE… [--json] [--fix]`: the editor's diagnostics for mapping files and model source, as JSON or compiler-style lines. */
import { printable, printableJson } from '../formats/printable';
import { describeFsError } from '../formats/byteSource';
import { readRegularFile } from '../formats/openRegular';
import { lintMaskDtypes } from '../source/maskLint';
import { checkScript } from '../scripts/scriptPairs';
import { CheckpointIndex } from '../index/checkpointIndex';
import { writeFileAtomically } from '../formats/atomicWrite';
import { fixByConvention } from '../mapping/applyFixes';
import { CheckedFile, DEFAULT_MAX_MAPPING_BYTES, MappingTooLarge, analyzeMappingText, checkMappingFile } from '../mapping/checkFile';
import { positionAt } from '../mapping/lineIndex';
import { parseCommandArgs } from './args';
import { EXIT, UsageError } from './exit';

export interface CheckJsonDiagnostic {
  file: string; line: number; column: number; endLine: number; endColumn: number;
  severity: string; code: string; message: string; key?: string;
}

/** Model-source lints (fp16-mask-float32) and conversion-script checks of one file, in the JSON's 1-based positions. */
async function checkSource(file: string, index: CheckpointIndex): Promise<CheckJsonDiagnostic[]> {
  let text: string;
  try {
    text = await readRegularFile(file, 'a source file');
  } catch (e) {
    throw new UsageError(`${file}: ${describeFsError(e)}`);
  }
  const found: { line: number; column: number; endLine: number; endColumn: number; severity: string; code: string; message: string; key?: string }[] = [
    ...(await lintMaskDtypes(file, text)), ...(await checkScript(file, text, index)),
  ];
  return found.sort((a, b) => a.line - b.line || a.column - b.column).map((d) => ({
    file, line: d.line + 1, column: d.column + 1, endLine: d.endLine + 1, endColumn: d.endColumn + 1,
    severity: d.severity, code: d.code, message: d.message, ...(d.key ? { key: d.key } : {}),
  }));
}

/**
 * `--fix`: the preferred quick fixes, pass after pass (a fix can only be seen once the text it depends
 * on is fixed) until none is left, then one atomic write; the report is about the fixed file.
 */
async function fixMapping(file: string, checked: CheckedFile, index: CheckpointIndex): Promise<CheckedFile> {
  const { checked: fixed, applied } = await fixByConvention(checked, (text) => analyzeMappingText(file, text, index));
  if (applied > 0) {
    try {
      await writeFileAtomically(file, fixed.file.text, { overwrite: true });
    } catch (e) {
      throw new UsageError(`${file}: cannot write the fixes: ${describeFsError(e)}`);
    }
    process.stderr.write(`${file}: ${applied} fix${applied === 1 ? '' : 'es'} applied\n`);
  }
  return fixed;
}

export async function runCheck(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { json: { type: 'boolean', default: false }, fix: { type: 'boolean', default: false }, 'max-mapping-mb': { type: 'string' } });
  const files = parsed.positionals;
  if (files.length === 0) throw new UsageError('check takes one or more FILE.tpmap (usage: tensorport check FILE… [--json] [--fix] [--max-mapping-mb N])');
  const maxMb = parsed.values['max-mapping-mb'] === undefined ? undefined : Number(parsed.values['max-mapping-mb']);
  if (maxMb !== undefined && !(maxMb > 0)) throw new UsageError('--max-mapping-mb takes a positive number of MiB');
  const maxBytes = maxMb === undefined ? DEFAULT_MAX_MAPPING_BYTES : maxMb * 2 ** 20;
  for (const f of files) {
    if (!/\.(tpmap|pyi?|ts)$/.test(f)) throw new UsageError(`${f}: check reads .tpmap mapping files and model source (.py, .ts)`);
  }
  const index = new CheckpointIndex();
  const all: CheckJsonDiagnostic[] = [];
  for (const f of files) {
    if (!f.endsWith('.tpmap')) {
      all.push(...(await checkSource(f, index)));
      continue;
    }
    let checked;
    try {
      checked = await checkMappingFile(f, index, maxBytes);
    } catch (e) {
      throw new UsageError(`${f}: ${e instanceof MappingTooLarge ? e.message : describeFsError(e)}`);
    }
    if (parsed.values.fix) checked = await fixMapping(f, checked, index);
    const { lineStarts } = checked.file;
    for (const d of checked.analysis.diagnostics) {
      const s = positionAt(lineStarts, d.start);
      const e = positionAt(lineStarts, d.end);
      all.push({ file: f, line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1,
        severity: d.severity, code: d.code, message: d.message, ...(d.key ? { key: d.key } : {}) });
    }
  }
  const summary = {
    files: files.length,
    errors: all.filter((d) => d.severity === 'error').length,
    warnings: all.filter((d) => d.severity === 'warning').length,
    information: all.filter((d) => d.severity === 'information').length,
  };
  if (parsed.values.json) {
    process.stdout.write(printableJson(JSON.stringify({ diagnostics: all, summary }, null, 1)) + '\n');
  } else {
    for (const d of all) process.stdout.write(`${printable(d.file)}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${printable(d.message)}\n`);
    process.stdout.write(`${summary.files} file${summary.files === 1 ? '' : 's'}: ${summary.errors} errors, ${summary.warnings} warnings, ${summary.information} information\n`);
  }
  return summary.errors > 0 ? EXIT.findings : EXIT.ok;
}
