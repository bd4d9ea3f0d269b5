/**
 * `map`: a complete mapping proposed between two checkpoints (or model sources). The JSON has one rule
 * per concrete target key; the `.tpmap` text folds layers into `{i}` patterns and is written only when
 * an output path is given (atomically, never over an existing file without `force` — not even one that
 * appeared while the mapping was being proposed).
 */
import * as path from 'node:path';
import { describeFsError } from '../formats/byteSource';
import { exists, writeFileAtomically } from '../formats/atomicWrite';
import { OutputAppeared } from '../formats/publish';
import { ReaderError } from '../formats/readerError';
import { GeneratedMapping, generateMapping } from '../mapping/automap/generate';
import { MappingProposal } from '../mapping/automap/propose';
import { InputError, OptionName, cliOption } from './inputError';

export interface MapInput { source: string; target: string; output?: string; force?: boolean }

export interface MapJson {
  rules: { source: string[]; target: string; transforms: string[]; confidence: number }[];
  unmappedSource: string[];
  unmappedTarget: string[];
}

/** Proposes, and writes the `.tpmap` when `output` is given. */
export async function proposeMappingFor(input: MapInput, option: OptionName = cliOption): Promise<GeneratedMapping> {
  const out = input.output;
  if (out !== undefined && (out === '' || out.endsWith(path.sep) || out.endsWith('/'))) throw new InputError(`${option('output')} needs a file name`);
  if (out !== undefined && !input.force && (await exists(out))) throw new InputError(`${out}: already exists; pass ${option('force')} to replace it`);
  let g: GeneratedMapping;
  try {
    // Written, `source`/`target` are relative to the file's folder; not written, they are as given.
    g = await generateMapping(input.source, input.target, out !== undefined ? path.dirname(path.resolve(out)) : undefined);
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    throw new InputError(e instanceof Error ? e.message : String(e));
  }
  if (out === undefined) return g;
  try {
    await writeFileAtomically(out, g.text, { overwrite: input.force, forceOption: option('force') });
  } catch (e) {
    // Created by someone else while the mapping was being proposed: the publish refused to replace it.
    if (e instanceof OutputAppeared) throw new InputError(e.message);
    throw new InputError(`${out}: cannot write: ${describeFsError(e)}`);
  }
  return g;
}

/** The `map --json` document of cli.md. */
export function mapJson(p: MappingProposal): MapJson {
  return {
    rules: p.rules.map((r) => ({ source: r.sources, target: r.target, transforms: r.transforms, confidence: r.confidence })),
    unmappedSource: p.unmappedSource,
    unmappedTarget: p.unmappedTarget,
  };
}
