/**
 * Test support in pyright's fourslash style: a mapping text with named markers (`/*name*\/`) is parsed,
 * its sides loaded from real checkpoints through an in-thread index, and analysed — so a feature test
 * asks the core directly "what does completion/hover/a code action give at marker X?" without a server.
 */
import * as path from 'node:path';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { Analysis, analyzeMapping } from '../../server/src/mapping/analyze';
import { parseMapping } from '../../server/src/mapping/parse';
import { Sides, loadSides } from '../../server/src/mapping/sides';
import { MappingFile } from '../../server/src/mapping/syntax';

export interface Fourslash {
  file: MappingFile;
  sides: Sides;
  analysis: Analysis;
  /** Offset of each marker in the text with the markers removed. */
  markers: Map<string, number>;
  at(name: string): number;
}

const MARKER = /\/\*([A-Za-z0-9_]+)\*\//g;

export function stripMarkers(marked: string): { text: string; markers: Map<string, number> } {
  const markers = new Map<string, number>();
  let text = '';
  let last = 0;
  for (const m of marked.matchAll(MARKER)) {
    text += marked.slice(last, m.index);
    if (markers.has(m[1])) throw new Error(`marker ${m[1]} appears twice`);
    markers.set(m[1], text.length);
    last = m.index! + m[0].length;
  }
  return { text: text + marked.slice(last), markers };
}

/** `marked`'s `source`/`target` paths resolve from `dir`, as if the mapping were saved there. */
export async function fourslash(marked: string, dir: string, index = new CheckpointIndex()): Promise<Fourslash> {
  const { text, markers } = stripMarkers(marked);
  const file = parseMapping(text);
  const sides = await loadSides(path.join(dir, 'fourslash.tpmap'), file, index);
  const analysis = analyzeMapping(file, sides);
  return {
    file, sides, analysis, markers,
    at(name) {
      const o = markers.get(name);
      if (o === undefined) throw new Error(`no marker ${name}`);
      return o;
    },
  };
}
