/**
 * The sides a script's `# tensorport:` comment names, read as a tpmap's `source`/`target` lines are:
 * the checker analyses its pairs against them, and hover on a key string looks the key up in them.
 */
import { CheckpointIndex } from '../index/checkpointIndex';
import { parseMapping } from '../mapping/parse';
import { Sides, loadSides } from '../mapping/sides';
import { SideData } from '../mapping/sideData';
import { DirectivePath, ScriptDirective, findDirective } from './scriptDirective';

export interface DirectiveSides {
  /** The `source …`/`target …` lines the generated tpmap text starts with. */
  header: string;
  sides: Sides;
}

/** Undefined when the comment lacks a side or a path the tpmap grammar cannot read. */
export async function directiveSides(path: string, directive: ScriptDirective, index: CheckpointIndex): Promise<DirectiveSides | undefined> {
  if (!directive.source || !directive.target) return undefined;
  const header = `source ${sideText(directive.source)}\ntarget ${sideText(directive.target)}\n`;
  const file = parseMapping(header);
  if (file.errors.length) return undefined;
  return { header, sides: await loadSides(path, file, index) };
}

/** The readable sides of a script with a `tensorport:` comment, by role; [] for any other file. */
export async function scriptSides(path: string, text: string, index: CheckpointIndex): Promise<{ role: 'source' | 'target'; side: SideData }[]> {
  const directive = findDirective(text);
  const d = directive && await directiveSides(path, directive, index);
  if (!d) return [];
  return (['source', 'target'] as const).flatMap((role) => {
    const r = d.sides[role];
    return r?.ok ? [{ role, side: r.side }] : [];
  });
}

/** A directive path as a tpmap side: quoted when it has spaces, `::Class` kept outside the quotes. */
function sideText(p: DirectivePath): string {
  const m = /^(.*\.(?:pyi?|ts))::(\w+)$/.exec(p.text);
  const [file, cls] = m ? [m[1], `::${m[2]}`] : [p.text, ''];
  return `${/[\s#"]/.test(file) ? `"${file.replace(/"/g, '')}"` : file}${cls}`;
}
