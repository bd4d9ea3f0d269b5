/**
 * Checks one mapping file end to end — read, parse, load both sides through the index, analyse — for
 * callers that start from a path (the CLI, tests). The server does the same steps on its open buffers.
 */
import { promises as fs } from 'node:fs';
import { CheckpointIndex } from '../index/checkpointIndex';
import { Analysis, analyzeMapping } from './analyze';
import { parseMapping } from './parse';
import { loadSides } from './sides';
import { MappingFile } from './syntax';

export interface CheckedFile { file: MappingFile; analysis: Analysis }

export async function checkMappingFile(path: string, index: CheckpointIndex): Promise<CheckedFile> {
  const text = await fs.readFile(path, 'utf8');
  const file = parseMapping(text);
  const sides = await loadSides(path, file, index);
  return { file, analysis: analyzeMapping(file, sides) };
}
