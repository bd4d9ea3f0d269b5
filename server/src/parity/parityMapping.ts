/**
 * A mapping read for a parity run (`--weights`, ONNX and eager alike): parsed — a syntax error stops
 * the run, naming its line — its sides loaded, and its error diagnostics kept as notes: a mapping the
 * checker doubts is what a parity run exists to settle, so they do not stop it.
 */
import * as path from 'node:path';
import { describeFsError } from '../formats/byteSource';
import { readRegularFileSync } from '../formats/openRegular';
import { CheckpointIndex } from '../index/checkpointIndex';
import { analyzeMapping } from '../mapping/analyze';
import { positionAt } from '../mapping/lineIndex';
import { parseMapping } from '../mapping/parse';
import { Sides, loadSides } from '../mapping/sides';
import { MappingFile } from '../mapping/syntax';
import { ParityError } from './parityError';

export interface ParityMapping {
  file: MappingFile;
  sides: Sides;
  /** Error diagnostics of the mapping check, as `line N: code: message`. */
  errors: string[];
}

export async function readParityMapping(mappingPath: string, index: CheckpointIndex): Promise<ParityMapping> {
  let text: string;
  try {
    text = readRegularFileSync(mappingPath, 'a mapping file').toString('utf8');
  } catch (e) {
    throw new ParityError(`${mappingPath}: ${describeFsError(e)}`);
  }
  const file = parseMapping(text);
  if (file.errors.length > 0) {
    const e = file.errors[0];
    throw new ParityError(`${mappingPath}:${positionAt(file.lineStarts, e.start).line + 1}: ${e.message}${file.errors.length > 1 ? ` (and ${file.errors.length - 1} more syntax errors)` : ''}`);
  }
  const sides = await loadSides(path.resolve(mappingPath), file, index);
  const errors = analyzeMapping(file, sides).diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `line ${positionAt(file.lineStarts, d.start).line + 1}: ${d.code}: ${d.message}`);
  return { file, sides, errors };
}
