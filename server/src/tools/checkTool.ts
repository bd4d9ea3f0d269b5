/**
 * `check`: the editor's diagnostics for mapping files, model source and conversion scripts, in the
 * `check --json` document of cli.md (1-based positions, `file` as given).
 */
import { describeFsError } from '../formats/byteSource';
import { writeFileAtomically } from '../formats/atomicWrite';
import { readRegularFile } from '../formats/openRegular';
import { CheckpointIndex } from '../index/checkpointIndex';
import { fixByConvention } from '../mapping/applyFixes';
import { CheckedFile, DEFAULT_MAX_MAPPING_BYTES, MappingTooLarge, analyzeMappingText, checkMappingFile } from '../mapping/checkFile';
import { Severity } from '../mapping/diagnostics';
import { positionAt } from '../mapping/lineIndex';
import { checkScript } from '../scripts/scriptPairs';
import { lintMaskDtypes } from '../source/maskLint';
import { InputError } from './inputError';

export interface CheckJsonDiagnostic {
  file: string; line: number; column: number; endLine: number; endColumn: number;
  severity: Severity; code: string; message: string; key?: string;
}

/** A mapping's model-source side: whether inference understood it entirely, and where it did not (1-based). */
export interface CheckJsonSide {
  file: string; role: 'source' | 'target'; side: string; complete: boolean;
  incomplete: { module: string; message: string; file: string; line: number; column: number }[];
}

export interface CheckJson {
  diagnostics: CheckJsonDiagnostic[];
  /** Present when a checked mapping names model source. */
  sides?: CheckJsonSide[];
  summary: { files: number; errors: number; warnings: number; information: number };
}

export interface CheckOptions {
  /** Reuse an index (the language server's); a fresh one otherwise. */
  index?: CheckpointIndex;
  maxMappingBytes?: number;
  /** Apply the fixes the layout conventions dictate, and report on the fixed files (`check --fix`). */
  fix?: boolean;
  /** After a file's fixes were written. */
  onFixed?(file: string, applied: number, refused?: number): void;
}

export const CHECKED_FILE = /\.(tpmap|pyi?|ts)$/;

export async function checkJson(files: string[], opts: CheckOptions = {}): Promise<CheckJson> {
  for (const f of files) {
    if (!CHECKED_FILE.test(f)) throw new InputError(`${f}: check reads .tpmap mapping files and model source (.py, .ts)`);
  }
  const index = opts.index ?? new CheckpointIndex();
  const all: CheckJsonDiagnostic[] = [];
  const sides: CheckJsonSide[] = [];
  for (const f of files) {
    if (!f.endsWith('.tpmap')) {
      all.push(...(await checkSource(f, index)));
      continue;
    }
    let checked;
    try {
      checked = await checkMappingFile(f, index, opts.maxMappingBytes ?? DEFAULT_MAX_MAPPING_BYTES);
    } catch (e) {
      throw new InputError(`${f}: ${e instanceof MappingTooLarge ? e.message : describeFsError(e)}`);
    }
    if (opts.fix) checked = await fixMapping(f, checked, index, opts.onFixed);
    for (const m of checked.analysis.models) {
      sides.push({ file: f, role: m.role, side: m.side, complete: m.complete,
        incomplete: m.incomplete.map((g) => ({ module: g.module, message: g.message, file: g.at.file, line: g.at.line + 1, column: g.at.column + 1 })) });
    }
    const { lineStarts } = checked.file;
    for (const d of checked.analysis.diagnostics) {
      const s = positionAt(lineStarts, d.start);
      const e = positionAt(lineStarts, d.end);
      all.push({ file: f, line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1,
        severity: d.severity, code: d.code, message: d.message, ...(d.key ? { key: d.key } : {}) });
    }
  }
  const count = (severity: Severity) => all.filter((d) => d.severity === severity).length;
  return { diagnostics: all, ...(sides.length ? { sides } : {}), summary: { files: files.length, errors: count('error'), warnings: count('warning'), information: count('information') } };
}

/** Model-source lints (fp16-mask-float32) and conversion-script checks of one file, in the JSON's 1-based positions. */
async function checkSource(file: string, index: CheckpointIndex): Promise<CheckJsonDiagnostic[]> {
  let text: string;
  try {
    text = await readRegularFile(file, 'a source file');
  } catch (e) {
    throw new InputError(`${file}: ${describeFsError(e)}`);
  }
  const found: Omit<CheckJsonDiagnostic, 'file'>[] = [...(await lintMaskDtypes(file, text)), ...(await checkScript(file, text, index))];
  return found.sort((a, b) => a.line - b.line || a.column - b.column).map((d) => ({
    file, line: d.line + 1, column: d.column + 1, endLine: d.endLine + 1, endColumn: d.endColumn + 1,
    severity: d.severity, code: d.code, message: d.message, ...(d.key ? { key: d.key } : {}),
  }));
}

/**
 * The preferred quick fixes, pass after pass (a fix can only be seen once the text it depends on is
 * fixed) until none is left, then one atomic write; the report is about the fixed file.
 */
async function fixMapping(file: string, checked: CheckedFile, index: CheckpointIndex, onFixed?: (file: string, applied: number, refused?: number) => void): Promise<CheckedFile> {
  const { checked: fixed, applied, refused } = await fixByConvention(checked, (text) => analyzeMappingText(file, text, index));
  if (applied > 0) {
    try {
      await writeFileAtomically(file, fixed.file.text, { overwrite: true });
    } catch (e) {
      throw new InputError(`${file}: cannot write the fixes: ${describeFsError(e)}`);
    }
    onFixed?.(file, applied, refused);
  } else if (refused > 0) onFixed?.(file, 0, refused);
  return fixed;
}
