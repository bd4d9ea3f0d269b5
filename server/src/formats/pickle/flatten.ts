/**
 * Turns whatever object a checkpoint pickled (a state dict, `{"state_dict": …, "epoch": 3}`, a
 * DeepSpeed `{"module": …}`, nested dicts and lists) into dotted tensor keys, and says in notes what
 * it stripped or skipped so nothing is dropped silently.
 */
import { unreadable } from '../readerError';
import { type PyValue, isObj, kindOf } from './values';

export type LeafKind = 'descend' | 'ignore';

export interface FlatLeaf<T> {
  key: string;
  path: string[];
  value: T;
}

export interface Flattened<T> {
  leaves: FlatLeaf<T>[];
  notes: string[];
}

const MAX_DEPTH = 64;
const MAX_VISITS = 5_000_000;
/**
 * Each entry of a real pickle costs at least a byte of opcodes; only shared references (BINGET, two
 * bytes) let one object stand in many places, as tied weights do a few times. So the walk may visit at
 * most this many entries per pickle byte (plus a floor): an 8 KB pickle naming one tensor four million
 * times stops at once instead of listing it four million times.
 */
const VISITS_PER_BYTE = 16;
const MIN_VISITS = 100_000;

/**
 * Walks dicts, lists and tuples depth-first in file order. `classify` decides what is a tensor;
 * other values are counted as ignored. A shared object is listed under every key that reaches it
 * (tied weights), but a cycle is cut and the total walk is capped, so a pickle whose memo
 * references fan out exponentially cannot hang the reader.
 */
export function flattenTensors<T>(file: string, root: PyValue, classify: (v: PyValue) => T | LeafKind, pickleBytes = Infinity): Flattened<T> {
  const maxVisits = Math.min(MAX_VISITS, MIN_VISITS + VISITS_PER_BYTE * pickleBytes);
  const leaves: { path: string[]; value: T }[] = [];
  const ignoredExamples: string[] = [];
  let ignored = 0;
  const onPath = new Set<object>();
  let visits = 0;
  let tooDeep = 0;
  let cycles = 0;

  const ignore = (path: string[], seg: string | undefined, v: PyValue) => {
    ignored++;
    if (ignoredExamples.length < 5) ignoredExamples.push([...path, ...(seg === undefined ? [] : [seg])].join('.') || kindOf(v));
  };
  // Children are classified before a path is built for them, so long lists of plain numbers cost no allocations.
  const visit = (v: PyValue, path: string[], seg: string | undefined): void => {
    if (++visits > maxVisits) throw unreadable(file, `the pickled object expands to more than ${maxVisits} entries through shared references (${VISITS_PER_BYTE} per byte of pickle at most): refusing to list it`);
    const c = classify(v);
    if (c === 'ignore' || (c === 'descend' && !isObj(v))) { ignore(path, seg, v); return; }
    const here = seg === undefined ? path : [...path, seg];
    if (c !== 'descend') { leaves.push({ path: here, value: c }); return; }
    if (!isObj(v)) return;
    if (here.length >= MAX_DEPTH) { tooDeep++; return; }
    if (onPath.has(v)) { cycles++; return; }
    onPath.add(v);
    if (v.kind === 'dict') {
      for (const [k, x] of v.entries.values()) visit(x, here, keyText(k));
    } else if (v.kind === 'list' || v.kind === 'tuple') {
      for (let i = 0; i < v.items.length; i++) visit(v.items[i], here, String(i));
    } else {
      ignore(path, seg, v);
    }
    onPath.delete(v);
  };
  visit(root, [], undefined);

  const notes: string[] = [];
  const prefix = commonPrefix(leaves.map((l) => l.path));
  if (prefix.length > 0) {
    notes.push(`tensors found under ${JSON.stringify(prefix.join('.'))}; keys are listed without that prefix`);
  }
  const out = leaves.map((l) => ({ key: l.path.slice(prefix.length).join('.'), path: l.path, value: l.value }));
  if (ignored > 0) {
    const shown = ignoredExamples.map((p) => `\`${p}\``).join(', ');
    notes.push(`ignored ${ignored} non-tensor value${ignored === 1 ? '' : 's'} (${shown}${ignored > 5 ? ', …' : ''})`);
  }
  if (tooDeep > 0) notes.push(`${tooDeep} container${tooDeep === 1 ? '' : 's'} nested deeper than ${MAX_DEPTH} levels were not listed`);
  if (cycles > 0) notes.push(`the pickled object refers to itself; ${cycles} circular reference${cycles === 1 ? ' was' : 's were'} not followed`);
  const seen = new Set<string>();
  const dups = out.filter((l) => (seen.has(l.key) ? true : (seen.add(l.key), false)));
  if (dups.length > 0) notes.push(`${dups.length} key${dups.length === 1 ? '' : 's'} appear more than once after flattening (first: \`${dups[0].key}\`)`);
  return { leaves: out, notes };
}

/** The longest path prefix shared by every leaf and shorter than each (a wrapping container, not a key). */
function commonPrefix(paths: string[][]): string[] {
  if (paths.length === 0) return [];
  let n = paths.reduce((m, p) => Math.min(m, p.length), Infinity) - 1;
  for (let i = 0; i < n; i++) {
    const seg = paths[0][i];
    if (!paths.every((p) => p[i] === seg)) { n = i; break; }
  }
  return n > 0 ? paths[0].slice(0, n) : [];
}

function keyText(k: PyValue): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  if (k === null) return 'None';
  if (k.kind === 'bytes') return k.data.toString('latin1');
  return `<${kindOf(k)}>`;
}
