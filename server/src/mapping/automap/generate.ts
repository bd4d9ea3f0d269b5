/**
 * Generate a mapping file end to end — read both checkpoints, propose, fold into a `.tpmap` with paths
 * relative to its folder, write it atomically — for the CLI (`map -o`) and the editor command alike.
 */
import * as path from 'node:path';
import { readCheckpoint } from '../../formats/readCheckpoint';
import { writeFileAtomically } from '../../index/atomicWrite';
import { SideData, sideFromInfo } from '../sides';
import { MappingProposal, proposeMapping } from './propose';
import { LOW_CONFIDENCE, writeTpmap } from './write';

export interface GeneratedMapping {
  proposal: MappingProposal;
  text: string;
  lowConfidence: number;
}

/** Reads a checkpoint as a side; model source as a side arrives with source inference. */
export async function loadCheckpointSide(file: string): Promise<SideData> {
  if (file.includes('::')) throw new Error(`${file}: model source as a side is not supported yet; name a checkpoint`);
  const info = await readCheckpoint(file);
  return sideFromInfo(info, path.resolve(file), file);
}

/** The proposal and its `.tpmap` text, with `source`/`target` written relative to `relativeTo` (a folder) when given. */
export async function generateMapping(source: string, target: string, relativeTo?: string): Promise<GeneratedMapping> {
  const [src, tgt] = [await loadCheckpointSide(source), await loadCheckpointSide(target)];
  const proposal = proposeMapping(src, tgt);
  const rel = (p: string) => (relativeTo ? path.relative(relativeTo, path.resolve(p)).split(path.sep).join('/') : p);
  const text = writeTpmap(proposal, { sourcePath: rel(source), targetPath: rel(target) });
  return { proposal, text, lowConfidence: proposal.rules.filter((r) => r.confidence < LOW_CONFIDENCE).length };
}

/** Generates and writes `out` atomically; refuses to replace an existing file unless `overwrite`. */
export async function generateMappingFile(source: string, target: string, out: string, opts: { overwrite?: boolean } = {}): Promise<GeneratedMapping> {
  const g = await generateMapping(source, target, path.dirname(path.resolve(out)));
  await writeFileAtomically(out, g.text, { overwrite: opts.overwrite });
  return g;
}
