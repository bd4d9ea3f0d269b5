/**
 * Checks one mapping file end to end — read, parse, load both sides through the index, analyse — for
 * callers that start from a path (the CLI, tests). The server does the same steps on its open buffers.
 */
import { readRegularFile } from '../formats/openRegular';
import { CheckpointIndex } from '../index/checkpointIndex';
import { Analysis, analyzeMapping } from './analyze';
import { parseMapping } from './parse';
import { loadSides } from './sides';
import { MappingFile } from './syntax';

export interface CheckedFile { file: MappingFile; analysis: Analysis }

/** The default cap on a mapping file: thousands of lines are a few hundred KB; anything near this is not a mapping. */
export const DEFAULT_MAX_MAPPING_BYTES = 20 * 2 ** 20;

/** A mapping file refused for its size, before it is read. */
export class MappingTooLarge extends Error {}

export function tooLargeMessage(bytes: number, limit: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB is more than the ${Math.round(limit / 2 ** 20)} MiB a mapping file may have (tensorport.mapping.maxFileMB, --max-mapping-mb); it was not analysed`;
}

export async function checkMappingFile(path: string, index: CheckpointIndex, maxBytes = DEFAULT_MAX_MAPPING_BYTES): Promise<CheckedFile> {
  // Size checked on the handle that is then read; a named pipe is refused rather than waited on.
  const text = await readRegularFile(path, 'a mapping file', ({ size }) => {
    if (size > maxBytes) throw new MappingTooLarge(tooLargeMessage(size, maxBytes));
  });
  return analyzeMappingText(path, text, index);
}

/** The analysis of a mapping's text as if it were the file at `path` (relative side paths resolve from there). */
export async function analyzeMappingText(path: string, text: string, index: CheckpointIndex): Promise<CheckedFile> {
  const file = parseMapping(text);
  const sides = await loadSides(path, file, index);
  return { file, analysis: analyzeMapping(file, sides) };
}
