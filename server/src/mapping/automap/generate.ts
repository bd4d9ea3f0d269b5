/**
 * Generate a mapping file end to end — read both checkpoints, propose, fold into a `.tpmap` with paths
 * relative to its folder, write it atomically — for the CLI (`map -o`) and the editor command alike.
 */
import { fetchBeside } from '../../formats/remote/besideFiles';
import { absoluteName, isRemote } from '../../formats/remote/remoteName';
import * as path from 'node:path';
import { readCheckpoint } from '../../formats/readCheckpoint';
import { writeFileAtomically } from '../../formats/atomicWrite';
import { loadModelSide } from '../modelSide';
import { parseModelSpec } from '../../source/readModelSource';
import { parseMapping } from '../parse';
import { frameworkFromOtherSide } from '../otherSideEvidence';
import { SideData, isModelSourceSide, sideFromInfo } from '../sideData';
import { Rule } from '../syntax';
import { MappingProposal, proposeMapping } from './propose';
import { LOW_CONFIDENCE, writeTpmap } from './write';
import { BoundSize, bindSizesFromPairs } from './bindSizes';

export interface GeneratedMapping {
  proposal: MappingProposal;
  text: string;
  lowConfidence: number;
}

/** Reads a checkpoint as a side. */
export async function loadCheckpointSide(file: string): Promise<SideData> {
  const info = await readCheckpoint(file);
  const abs = absoluteName(file, path.resolve);
  await fetchBeside(abs, info.remote?.commit);
  return sideFromInfo(info, abs, file);
}

/**
 * Model source (`FILE.py::Class`) as a side of a proposal. With no rules yet to unify through, its
 * sizes come from a config.json beside the other side's checkpoint, then the constructor's defaults
 * (which loadSidesFor lets the checkpoint overrule).
 */
async function loadModelSourceSide(spec: string, role: 'source' | 'target', other?: SideData): Promise<SideData> {
  const parsed = parseModelSpec(spec);
  if (!parsed) throw new Error(`${spec}: expected FILE.py::Class or FILE.ts::Class`);
  const r = await loadModelSide({ path: path.resolve(parsed.file), className: parsed.className, written: spec, role, file: parseMapping(''), other });
  if (!r.ok) throw new Error(r.message);
  return sideFromInfo(r.info, path.resolve(parsed.file), spec);
}

/**
 * Loads both sides; model-source sides after the checkpoint they bind against, their sizes bound from a
 * first proposal where the constructor's defaults do not fit the checkpoint (bindSizes.ts).
 */
async function loadSidesFor(source: string, target: string): Promise<[SideData, SideData, BoundSize[], BoundSize[]]> {
  const isModel = (f: string) => parseModelSpec(f) !== undefined;
  const src = isModel(source) ? undefined : await loadCheckpointSide(source);
  const tgt = isModel(target) ? undefined : await loadCheckpointSide(target);
  const sides: [SideData, SideData] = [src ?? (await loadModelSourceSide(source, 'source', tgt)), tgt ?? (await loadModelSourceSide(target, 'target', src))];
  const role = src && !tgt ? 'target' : tgt && !src ? 'source' : undefined;
  if (!role) return [...sides, [], []];
  const spec = parseModelSpec(role === 'target' ? target : source)!;
  const model = role === 'target' ? sides[1] : sides[0];
  const bound = await bindSizesFromPairs(model, { file: path.resolve(spec.file), className: spec.className, written: model.written }, role, (src ?? tgt)!);
  if (!bound) return [...sides, [], []];
  return role === 'target' ? [sides[0], bound.side, bound.sets, bound.defaults] : [bound.side, sides[1], bound.sets, bound.defaults];
}

/** The proposal and its `.tpmap` text, with `source`/`target` written relative to `relativeTo` (a folder) when given. */
export async function generateMapping(source: string, target: string, relativeTo?: string): Promise<GeneratedMapping> {
  const loaded = await loadSidesFor(source, target);
  let [src, tgt] = loaded;
  const [, , sets, defaults] = loaded;
  let proposal = proposeMapping(src, tgt);
  // A checkpoint nothing in or beside it decides: the first proposal's pairs with the other side may (otherSideEvidence.ts).
  for (const which of ['source', 'target'] as const) {
    const side = which === 'source' ? src : tgt;
    if (side.framework || isModelSourceSide(side)) continue;
    const rules = parseMapping(writeTpmap(proposal, { sourcePath: 'a', targetPath: 'b' })).items.filter((i): i is Rule => i.kind === 'rule');
    const evidence = frameworkFromOtherSide(which, src, tgt, rules);
    if (!evidence) continue;
    const decided = { ...side, framework: evidence.framework, frameworkWhy: evidence.why };
    if (which === 'source') src = decided; else tgt = decided;
    proposal = proposeMapping(src, tgt);
  }
  const rel = (p: string) => {
    if (!relativeTo || isRemote(p)) return p;
    const spec = parseModelSpec(p);
    const file = spec ? spec.file : p;
    const r = path.relative(relativeTo, path.resolve(file)).split(path.sep).join('/');
    return spec ? `${r}::${spec.className}` : r;
  };
  const text = writeTpmap(proposal, { sourcePath: rel(source), targetPath: rel(target), sets, defaults });
  return { proposal, text, lowConfidence: proposal.rules.filter((r) => r.confidence < LOW_CONFIDENCE).length };
}

/** Generates and writes `out` atomically; refuses to replace an existing file unless `overwrite`. */
export async function generateMappingFile(source: string, target: string, out: string, opts: { overwrite?: boolean } = {}): Promise<GeneratedMapping> {
  const g = await generateMapping(source, target, path.dirname(path.resolve(out)));
  await writeFileAtomically(out, g.text, { overwrite: opts.overwrite });
  return g;
}
